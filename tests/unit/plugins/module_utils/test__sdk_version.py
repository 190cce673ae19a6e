# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Docker SDK floor: which docker / requests pairs the modules refuse at connect time, and what they say."""

from __future__ import annotations

import pytest

from ansible_collections.bosun.compose.plugins.module_utils import _docker_api
from ansible_collections.bosun.compose.plugins.module_utils._docker_api import sdk_version_problem
from ansible_collections.bosun.compose.plugins.module_utils._errors import DockerUnavailableError


@pytest.mark.parametrize(
    ("sdk", "req"),
    [
        ("7.1.0", "2.32.3"),
        ("7.1.0", "2.31.0"),
        ("7.2.0", "2.34.2"),
        ("8.0.0", "3.0.0"),
        ("7.1.1.dev3+g1a2b3c", "2.32.0"),
        ("7.10.0", "2.32.0"),  # compared as numbers, not as text ("7.10" < "7.1" as strings)
        ("unknown", "2.32.3"),  # an unreadable version is not refused
    ],
)
def test_supported_pairs_pass(sdk, req):
    assert sdk_version_problem(sdk, req) is None


def test_sdk_7_0_with_requests_2_32_names_both_versions_the_scheme_and_the_fix():
    msg = sdk_version_problem("7.0.0", "2.32.3", "/opt/py/bin/python")
    assert msg == (
        "Docker SDK for Python 7.0.0 with requests 2.32.3 cannot talk to the Engine "
        "(requests 2.32 dropped the http+docker scheme it uses); install docker>=7.1.0 for /opt/py/bin/python"
    )


@pytest.mark.parametrize(("sdk", "req"), [("7.0.0", "2.32.0"), ("7.0.1", "2.34.2"), ("6.1.3", "2.32.3")])
def test_old_sdk_with_new_requests_is_the_scheme_clash(sdk, req):
    msg = sdk_version_problem(sdk, req)
    assert msg is not None
    assert f"{sdk} with requests {req}" in msg and "http+docker" in msg and msg.endswith("install docker>=7.1.0")


@pytest.mark.parametrize(("sdk", "req"), [("5.0.3", "2.28.1"), ("7.0.0", "2.31.0"), ("7.0.99", "2.31.99")])
def test_old_sdk_with_old_requests_is_below_the_floor(sdk, req):
    msg = sdk_version_problem(sdk, req)
    assert msg == (
        f"Docker SDK for Python {sdk} (with requests {req}) is older than the supported 7.1.0; install docker>=7.1.0"
    )


def test_connect_refuses_an_old_sdk_before_any_engine_call(monkeypatch):
    monkeypatch.setattr(_docker_api.docker, "__version__", "7.0.0")
    monkeypatch.setattr(_docker_api.requests, "__version__", "2.32.3")

    def no_client(*args, **kwargs):
        raise AssertionError("no client may be created with a refused SDK")

    monkeypatch.setattr(_docker_api, "_Client", no_client)
    with pytest.raises(DockerUnavailableError) as e:
        _docker_api.DockerApi.connect(_docker_api.ConnectionOptions(docker_host="unix:///nonexistent.sock"))
    assert "7.0.0 with requests 2.32.3" in e.value.message
    assert e.value.context == {"docker_version": "7.0.0", "requests_version": "2.32.3"}


def test_connect_lets_the_installed_sdk_through(monkeypatch):
    """The dev venv's pins (docker 7.2.0) pass the check: connect gets as far as creating the client."""
    created = []

    def fake_client(**kwargs):
        created.append(kwargs)
        raise _docker_api.docker.errors.DockerException("stop here")

    monkeypatch.setattr(_docker_api, "_Client", fake_client)
    with pytest.raises(DockerUnavailableError, match="stop here"):
        _docker_api.DockerApi.connect(_docker_api.ConnectionOptions(docker_host="unix:///nonexistent.sock"))
    assert created and created[0]["base_url"] == "unix:///nonexistent.sock"
