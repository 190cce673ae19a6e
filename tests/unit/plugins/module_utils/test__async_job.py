# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""job_status's long poll of an async job's result file (a temporary async dir, a fake clock)."""

from __future__ import annotations

import json
import os
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._async_job import read_result, wait_for_result
from ansible_collections.bosun.compose.plugins.module_utils._errors import AsyncJobError

JID = "j894715364103.4242"
RUNNING = {"started": True, "finished": False, "ansible_job_id": JID}
# What ansible-core >= 2.19 writes for a module's warnings and deprecations.
WARNINGS = [{"event": {"msg": "ping failed", "__ansible_type": "Event"}, "__ansible_type": "WarningSummary"}]
DEPRECATIONS = [{"event": {"msg": "old option", "__ansible_type": "Event"}, "version": "9", "__ansible_type": "X"}]


class Clock:
    """monotonic() and sleep() for wait_for_result; `on_sleep(n)` runs before the n-th sleep returns."""

    def __init__(self, on_sleep: t.Callable[[int], None] | None = None) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


def write(async_dir, data: t.Any) -> str:
    path = os.path.join(str(async_dir), JID)
    with open(path, "w", encoding="utf-8") as f:
        f.write(data if isinstance(data, str) else json.dumps(data))
    return path


def poll(async_dir, wait: int, clock: Clock, ticks: list[float] | None = None):
    tick = (lambda: ticks.append(clock.now)) if ticks is not None else None
    # A quarter-second look keeps the fake clock's sums exact; the default looks every 0.05 s (the test below).
    return wait_for_result(str(async_dir), JID, wait, tick=tick, clock=clock, sleep=clock.sleep, interval=0.25)


def test_by_default_the_result_file_is_looked_at_every_50_ms(tmp_path):
    write(tmp_path, RUNNING)
    clock = Clock()
    wait_for_result(str(tmp_path), JID, 1, clock=clock, sleep=clock.sleep)
    assert clock.sleeps and max(clock.sleeps) == pytest.approx(0.05) and len(clock.sleeps) >= 19


def test_a_finished_job_is_returned_at_once_as_async_status_returns_it_and_collected(tmp_path):
    path = write(
        tmp_path, {"changed": True, "outcome": "success", "message": "done", "steps": [{"type": "run_worker"}]}
    )
    clock = Clock()
    ticks: list[float] = []
    p = poll(tmp_path, 5, clock, ticks)
    assert p.finished and not p.failed and clock.sleeps == [] and ticks == [100.0]
    out = p.to_dict()
    assert out == {
        "changed": True,
        "outcome": "success",
        "message": "done",
        "steps": [{"type": "run_worker"}],
        "ansible_job_id": JID,
        "started": True,
        "finished": True,
        "results_file": path,
    }
    assert not os.path.exists(path)  # returned once, like async_status mode=cleanup


def test_a_running_job_is_waited_for_wait_seconds_with_the_heartbeat_every_second(tmp_path):
    path = write(tmp_path, RUNNING)
    clock = Clock()
    ticks: list[float] = []
    p = poll(tmp_path, 5, clock, ticks)
    assert not p.finished and p.to_dict() == {
        "ansible_job_id": JID,
        "started": True,
        "finished": False,
        "results_file": path,
    }
    assert clock.now == pytest.approx(105.0) and max(clock.sleeps) <= 0.25
    assert ticks == pytest.approx([100.0, 101.0, 102.0, 103.0, 104.0, 105.0])  # the last one as it returns
    assert os.path.exists(path)


def test_a_job_that_ends_during_the_wait_is_returned_as_soon_as_it_ends(tmp_path):
    write(tmp_path, RUNNING)

    def ends(n: int) -> None:
        if n == 6:  # 1.5 s into the wait
            write(
                tmp_path, {"changed": True, "failed": True, "msg": "worker_failed: exit 1", "outcome": "worker_failed"}
            )

    clock = Clock(ends)
    p = poll(tmp_path, 30, clock)
    assert p.finished and p.failed and clock.now == pytest.approx(101.5)
    assert p.to_dict()["outcome"] == "worker_failed" and p.to_dict()["msg"] == "worker_failed: exit 1"


def test_a_job_the_async_wrapper_killed_at_its_limit_is_finished_and_failed(tmp_path):
    write(tmp_path, {"msg": "Timeout exceeded", "failed": True, "child_pid": 4243})
    p = poll(tmp_path, 5, Clock())
    assert p.finished and p.failed and p.to_dict()["msg"] == "Timeout exceeded"


def test_wait_zero_looks_once(tmp_path):
    write(tmp_path, RUNNING)
    clock = Clock()
    assert not poll(tmp_path, 0, clock).finished and clock.sleeps == []


def test_a_file_still_being_started_is_a_running_job(tmp_path):
    write(tmp_path, "")
    assert read_result(str(tmp_path), JID) is None


def test_no_such_job_is_an_error_naming_the_jid_and_the_async_dir(tmp_path):
    with pytest.raises(AsyncJobError) as exc:
        poll(tmp_path, 5, Clock())
    assert JID in exc.value.message and str(tmp_path) in exc.value.message
    assert "already collected" in exc.value.message
    assert exc.value.context == {"jid": JID, "async_dir": str(tmp_path)}


@pytest.mark.parametrize(("text", "words"), [("{not json", "is not JSON"), ("[1, 2]", "a JSON list, not an object")])
def test_a_result_that_is_no_result_is_an_error_naming_the_file(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(AsyncJobError, match=words) as exc:
        poll(tmp_path, 5, Clock())
    assert path in exc.value.message and os.path.exists(path)


@pytest.mark.parametrize("jid", ["../../etc/passwd", "", ".hidden", None, 42])
def test_a_jid_that_is_no_job_id_is_refused_before_any_file_is_read(tmp_path, jid):
    with pytest.raises(AsyncJobError, match="is not an async job id") as exc:
        wait_for_result(str(tmp_path), jid, 5)
    assert repr(jid) in exc.value.message


@pytest.mark.parametrize("wait", [-1, 3601, True, "5"])
def test_a_wait_out_of_range_is_refused(tmp_path, wait):
    write(tmp_path, RUNNING)
    with pytest.raises(AsyncJobError, match="from 0 to 3600"):
        wait_for_result(str(tmp_path), JID, wait)


def test_the_jobs_warnings_become_text_and_leave_the_result(tmp_path):
    write(tmp_path, {"changed": False, "outcome": "success", "warnings": WARNINGS, "deprecations": DEPRECATIONS})
    p = poll(tmp_path, 5, Clock())
    assert p.warnings == ["ping failed", "deprecated: old option"]
    assert "warnings" not in p.to_dict() and "deprecations" not in p.to_dict()
    write(tmp_path, {"outcome": "success", "warnings": ["plain text, as ansible-core 2.17 writes it"]})
    assert poll(tmp_path, 5, Clock()).warnings == ["plain text, as ansible-core 2.17 writes it"]


def test_the_shape_the_role_reports_from_is_job_runs_result_plus_the_async_keys(tmp_path):
    """roles/run_job registers this as _run_job_result; report.yml and run_report read job_run's own keys."""
    job_run = {
        "changed": True,
        "outcome": "cancelled",
        "message": "controller lost: no poll from the controller for 8s (controller_timeout 8s): worker stopped",
        "run_id": "0123456789abcdef0123456789abcdef",
        "job": "rel-a",
        "stack": "shop",
        "steps": [],
        "stopped": [{"name": "shop-db-1"}],
        "restarted": [{"name": "shop-db-1"}],
        "record_path": "/var/lib/bosun/runs/rel-a/0123456789abcdef0123456789abcdef.json",
        "failed": True,
        "msg": "cancelled: controller lost",
    }
    write(tmp_path, job_run)
    out = poll(tmp_path, 5, Clock()).to_dict()
    assert {k: out[k] for k in job_run} == job_run
    assert out["finished"] is True and out["ansible_job_id"] == JID
