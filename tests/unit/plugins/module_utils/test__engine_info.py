# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which engine answers (Docker or Podman) from the version endpoint, and the label match the Engine client uses
to give Podman's volume label filter Docker's meaning."""

from __future__ import annotations

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._docker_api import engine_info, has_labels

# GET /version, trimmed, as Docker 20.10.24 (Debian 12) and Podman 4.3.1's compat service answered on this machine.
DOCKER_VERSION = {
    "Platform": {"Name": ""},
    "Components": [{"Name": "Engine", "Version": "20.10.24+dfsg1"}, {"Name": "containerd", "Version": "1.6.20~ds1"}],
    "Version": "20.10.24+dfsg1",
    "ApiVersion": "1.41",
}
PODMAN_VERSION = {
    "Platform": {"Name": "linux/amd64/debian-12"},
    "Components": [
        {"Name": "Podman Engine", "Version": "4.3.1"},
        {"Name": "Conmon", "Version": "conmon version 2.1.6, commit: unknown"},
        {"Name": "OCI Runtime (runc)", "Version": "runc version 1.1.5+ds1"},
    ],
    "Version": "4.3.1",
    "ApiVersion": "1.41",
}


def test_docker_is_docker_and_can_update_a_restart_policy() -> None:
    info = engine_info(DOCKER_VERSION)
    assert (info.kind, info.version, info.api_version) == ("docker", "20.10.24+dfsg1", "1.41")
    assert info.can_update_restart_policy is True


def test_podman_is_named_by_its_component_and_cannot_update_a_restart_policy() -> None:
    info = engine_info(PODMAN_VERSION)
    assert info.as_dict() == {
        "kind": "podman",
        "version": "4.3.1",
        "api_version": "1.41",
        "can_update_restart_policy": False,
    }


def test_an_answer_without_components_is_docker() -> None:
    assert engine_info({"Version": "1.13.1"}).kind == "docker"


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [("a", True), ("a=1", True), ("a=2", False), (["a=1", "b"], True), (["a=1", "c"], False), ("b=", True)],
)
def test_has_labels_means_every_label(wanted: str | list[str], expected: bool) -> None:
    assert has_labels({"a": "1", "b": ""}, wanted) is expected
