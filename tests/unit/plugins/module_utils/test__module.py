# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Ansible edge: every exception becomes fail_json with msg, error and exception."""

from __future__ import annotations

import typing as t

import docker.errors
import pytest

from ansible_collections.bosun.compose.plugins.module_utils._errors import LeaseHeldError
from ansible_collections.bosun.compose.plugins.module_utils._module import guard


class Failed(SystemExit):
    pass


class RecordingModule:
    """Stands in for AnsibleModule: fail_json records its arguments and exits, as the real one does."""

    def __init__(self) -> None:
        self.failed: dict[str, t.Any] | None = None

    def fail_json(self, **kwargs: t.Any) -> t.NoReturn:
        self.failed = kwargs
        raise Failed(1)


def fail_inside(exc: BaseException, **result: t.Any) -> dict[str, t.Any]:
    module = RecordingModule()
    with pytest.raises(Failed), guard(module, **result):  # type: ignore[arg-type]
        raise exc
    assert module.failed is not None
    return module.failed


def test_a_core_error_puts_its_context_under_error() -> None:
    failed = fail_inside(
        LeaseHeldError("stack 'shop' is held by run 'r1'", project="shop", owner_alive=True), changed=False
    )
    assert failed["msg"] == "stack 'shop' is held by run 'r1'"
    assert failed["error"] == {"type": "LeaseHeldError", "project": "shop", "owner_alive": True}
    assert failed["changed"] is False
    assert "Traceback" in failed["exception"] and "LeaseHeldError" in failed["exception"]


def test_an_unexpected_sdk_error_fails_the_task_too() -> None:
    failed = fail_inside(docker.errors.APIError("500 Server Error: boom"))
    assert failed["msg"] == "unexpected APIError: 500 Server Error: boom"
    assert failed["error"] == {"type": "APIError"}
    assert "docker.errors.APIError" in failed["exception"]


def test_a_bug_fails_the_task_with_its_type() -> None:
    failed = fail_inside(KeyError("plan"))
    assert failed["msg"] == "unexpected KeyError: 'plan'"
    assert failed["error"] == {"type": "KeyError"}


def test_no_exception_leaves_the_module_alone() -> None:
    module = RecordingModule()
    with guard(module):  # type: ignore[arg-type]
        pass
    assert module.failed is None
