# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller heartbeat: job_status refreshes it, the run's watcher cancels the run once it is stale."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._errors import HeartbeatError
from ansible_collections.bosun.compose.plugins.module_utils._executor import Executor, RunOptions
from ansible_collections.bosun.compose.plugins.module_utils._heartbeat import (
    ControllerWatch,
    touch_heartbeat,
    watch_controller,
)
from ansible_collections.bosun.compose.plugins.module_utils._planner import resolve_job
from ansible_collections.bosun.compose.plugins.module_utils._state import heartbeat_path
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    PROJECT,
    RUN_ID,
    WORKER,
    FakeEngine,
    WorkerScript,
    build_shop,
)


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def set_mtime(path: str, ns: int) -> None:
    os.utime(path, ns=(ns, ns))


@pytest.fixture
def reasons() -> list[str]:
    return []


@pytest.fixture
def watch(tmp_path, reasons) -> tuple[ControllerWatch, Clock]:
    clock = Clock()
    touch_heartbeat(str(tmp_path), RUN_ID, create=True)
    w = ControllerWatch(str(tmp_path), RUN_ID, 8, reasons.append, clock=clock)
    w.check()  # the first look records the heartbeat as it is
    return w, clock


def test_the_path_is_under_the_state_dir_by_run_id(tmp_path):
    assert heartbeat_path(str(tmp_path), RUN_ID) == os.path.join(str(tmp_path), "heartbeat", RUN_ID)


def test_a_poll_refreshes_an_existing_heartbeat_and_never_creates_one(tmp_path):
    path = heartbeat_path(str(tmp_path), RUN_ID)
    assert touch_heartbeat(str(tmp_path), RUN_ID) is False
    assert not os.path.exists(path)  # a run with finish watches none: no file left behind per run
    assert touch_heartbeat(str(tmp_path), RUN_ID, create=True) is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    set_mtime(path, 1_000_000_000)
    assert touch_heartbeat(str(tmp_path), RUN_ID) is True
    assert os.stat(path).st_mtime_ns > 1_000_000_000


@pytest.mark.parametrize("run_id", ["../../etc/passwd", "short", "", None])
def test_a_run_id_that_is_no_run_id_is_refused_with_its_value(tmp_path, run_id):
    with pytest.raises(HeartbeatError, match="run_id") as exc:
        touch_heartbeat(str(tmp_path), run_id, create=True)
    assert repr(run_id) in exc.value.message
    assert not (tmp_path / "heartbeat").exists()


def test_a_state_dir_that_cannot_be_written_fails_the_watch_before_the_run(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    watch = ControllerWatch(str(blocker), RUN_ID, 8, lambda _r: None)
    with pytest.raises(HeartbeatError, match="cannot create the controller heartbeat"):
        watch.__enter__()
    assert watch._thread is None  # pylint: disable=protected-access


@pytest.mark.parametrize("timeout", [0, -5, "soon", True, 8 * 86400])
def test_a_controller_timeout_that_is_not_a_positive_duration_is_refused(tmp_path, timeout):
    with pytest.raises(HeartbeatError, match="controller_timeout") as exc:
        ControllerWatch(str(tmp_path), RUN_ID, timeout, lambda _r: None)
    assert repr(timeout) in exc.value.message


def test_a_fresh_heartbeat_keeps_the_run_and_a_stale_one_cancels_it_once(watch, reasons):
    w, clock = watch
    clock.now += 7.9
    assert w.check() is False and reasons == []
    clock.now += 0.2
    assert w.check() is True
    assert reasons == ["controller lost: no poll from the controller for 8s (controller_timeout 8s)"]
    clock.now += 30
    assert w.check() is True and len(reasons) == 1


def test_each_refresh_restarts_the_count(watch, reasons):
    w, clock = watch
    for second in range(1, 40):
        clock.now += 5
        set_mtime(w.path, second * 1_000_000_000)  # job_status touched it
        assert w.check() is False, second
    assert reasons == []
    clock.now += 8
    assert w.check() is True and len(reasons) == 1


def test_only_a_change_counts_so_a_wall_clock_step_neither_cancels_nor_keeps_alive(watch, reasons):
    w, clock = watch
    # The wall clock jumped a day ahead, then back: the mtime changed, so the controller polled.
    set_mtime(w.path, int((time.time() + 86400) * 1e9))
    clock.now += 6
    assert w.check() is False
    set_mtime(w.path, int((time.time() - 86400) * 1e9))
    clock.now += 6
    assert w.check() is False
    # A heartbeat in the future that is no longer refreshed is stale all the same.
    clock.now += 8
    assert w.check() is True and reasons


def test_a_heartbeat_that_disappears_is_one_no_longer_refreshed(watch, reasons):
    w, clock = watch
    os.unlink(w.path)
    clock.now += 7
    assert w.check() is False
    clock.now += 1
    assert w.check() is True and "controller lost" in reasons[0]


def test_the_watch_creates_the_heartbeat_watches_it_from_a_thread_and_removes_it(tmp_path):
    cancelled = threading.Event()
    clock = Clock()
    path = heartbeat_path(str(tmp_path), RUN_ID)
    with ControllerWatch(str(tmp_path), RUN_ID, 8, lambda _r: cancelled.set(), clock=clock, interval=0.01) as w:
        assert os.path.exists(path)  # the grace before the first poll
        assert w._thread is not None and w._thread.daemon  # pylint: disable=protected-access
        clock.now += 60  # no poll for a minute
        assert cancelled.wait(10), "the watcher thread never cancelled the run"
    assert not os.path.exists(path)
    assert not w._thread.is_alive()  # pylint: disable=protected-access


def test_finish_watches_nothing_and_writes_nothing(tmp_path):
    with watch_controller("finish", str(tmp_path), RUN_ID, 60, lambda _r: None) as nothing:
        assert nothing is None
        assert not (tmp_path / "heartbeat").exists()


def test_cancel_needs_the_run_id_the_poll_finds_the_heartbeat_by(tmp_path):
    with pytest.raises(HeartbeatError, match="needs a run_id"):
        watch_controller("cancel", str(tmp_path), None, 60, lambda _r: None)
    with pytest.raises(HeartbeatError, match="on_controller_loss 'abort' must be one of finish, cancel"):
        watch_controller("abort", str(tmp_path), RUN_ID, 60, lambda _r: None)
    with pytest.raises(HeartbeatError, match="controller_timeout"):
        watch_controller("finish", str(tmp_path), RUN_ID, 0, lambda _r: None)
    assert isinstance(watch_controller("cancel", str(tmp_path), RUN_ID, 60, lambda _r: None), ControllerWatch)


# What the run does with it (FakeEngine: the executor, its run record)


def test_a_lost_controller_mid_worker_stops_it_restarts_the_stack_and_records_cancelled(clock, tmp_path):
    engine = build_shop(FakeEngine(clock))
    engine.worker_script = WorkerScript(exits_after_waits=None)  # a worker that would run for ever
    state_dir = str(tmp_path)
    cancel = Cancellation()
    touch_heartbeat(state_dir, RUN_ID, create=True)
    watch = ControllerWatch(state_dir, RUN_ID, 8, cancel.trigger, clock=clock.monotonic)
    # The watcher looks while the worker runs; each wait of the worker advances the fake clock, nobody polls.
    engine.on("wait_container", WORKER, lambda _e, _c: watch.check(), times=None)
    job, secret = resolve_job(engine, "backup", PROJECT, None)
    executor = Executor(engine, state_dir, wall=clock.wall, clock=clock.monotonic, sleep=clock.sleep)
    result = executor.run(job, RunOptions(secret_env=secret, run_id=RUN_ID), cancel)
    assert result.outcome == "cancelled", result.message
    assert result.message.startswith("controller lost: no poll from the controller for "), result.message
    assert [(s.type, s.status) for s in result.steps] == [
        ("stop_containers", "ok"),
        ("run_worker", "cancelled"),
        ("start_containers", "ok"),
    ]
    assert result.worker is not None and result.worker.cancelled
    assert engine.workers() == [] and engine.running(PROJECT) == sorted(b["name"] for b in result.restarted)
    with open(os.path.join(state_dir, "runs", "backup", f"{RUN_ID}.json"), encoding="utf-8") as f:
        record: dict[str, t.Any] = json.load(f)
    assert record["outcome"] == "cancelled" and "controller lost" in record["message"]
