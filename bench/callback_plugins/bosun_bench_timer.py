# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bench-only callback: when each task starts and ends on each host, as JSON lines in BENCH_TIMER_FILE."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bosun_bench_timer
type: aggregate
short_description: Record when each task starts and ends on each host (bench/run.py only)
description:
  - Appends one JSON object per task result to the file named by the E(BENCH_TIMER_FILE) environment variable
    with C(task), C(action), C(host), C(status), C(start) and C(end) (wall seconds), and one C(task_start) line
    per task when the strategy hands it out. The controller's own time between tasks is the gap between them.
requirements:
  - enable in configuration (E(ANSIBLE_CALLBACKS_ENABLED))
"""


def _get(obj, public, private):
    value = getattr(obj, public, None)
    return value if value is not None else getattr(obj, private)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bosun_bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("BENCH_TIMER_FILE")
        self._started = {}

    def _write(self, line):
        if self._path:
            with open(self._path, "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")

    def v2_playbook_on_start(self, playbook):
        self._write({"event": "playbook_start", "t": time.time()})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._write({"event": "task_start", "task": task.get_name(), "t": time.time()})

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.time()  # pylint: disable=protected-access

    def _end(self, result, status):
        task, host = _get(result, "task", "_task"), _get(result, "host", "_host")
        key = (host.get_name(), task._uuid)  # pylint: disable=protected-access
        self._write(
            {
                "event": "task_end",
                "task": task.get_name(),
                "action": task.action,
                "host": host.get_name(),
                "status": status,
                "start": self._started.pop(key, None),
                "end": time.time(),
            }
        )

    def v2_runner_on_ok(self, result):
        self._end(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._end(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._end(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._end(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._write({"event": "playbook_end", "t": time.time()})
