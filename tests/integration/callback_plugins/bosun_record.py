# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: one JSON line per task result, appended to the file named by BOSUN_RECORD_FILE."""

from __future__ import annotations

DOCUMENTATION = r"""
name: bosun_record
type: aggregate
short_description: Record every task result as a JSON line (test harness only)
description:
  - Appends one JSON object per task result to the file named by the E(BOSUN_RECORD_FILE) environment variable.
  - Each line has C(task), C(action), C(play), C(host), C(status) (ok, changed, failed, skipped or unreachable),
    C(ignored) and the full C(result) dictionary.
requirements:
  - enable in configuration (E(ANSIBLE_CALLBACKS_ENABLED))
"""

import json
import os

from ansible.plugins.callback import CallbackBase


def _get(obj, public, private):
    # ansible-core 2.19 made result.host/task/result public; older releases only have the underscored names.
    value = getattr(obj, public, None)
    return value if value is not None else getattr(obj, private)


def _jsonable(value):
    # Results hold native types (strings are str subclasses); sets, bytes, dates and the like become text.
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bosun_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("BOSUN_RECORD_FILE")
        self._play = None

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def _record(self, result, status, ignored=False):
        if not self._path:
            return
        task = _get(result, "task", "_task")
        line = {
            "task": task.get_name(),
            "action": task.action,
            "play": self._play,
            "host": _get(result, "host", "_host").get_name(),
            "status": status,
            "ignored": ignored,
            "result": dict(_get(result, "result", "_result")),
        }
        with open(self._path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, default=_jsonable) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if _get(result, "result", "_result").get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed", ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")
