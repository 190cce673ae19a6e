# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the executor's transaction against the in-memory FakeEngine (no Docker, no sleeps)."""

from __future__ import annotations

import json
import os
import time
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._errors import DockerUnavailableError, EngineError
from ansible_collections.bosun.compose.plugins.module_utils._executor import RunResult
from ansible_collections.bosun.compose.plugins.module_utils._lease import (
    LEASE_RUN_ID,
    Owner,
    acquire_lease,
    lease_name,
    read_lease,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    LABEL_WORKER_JOB,
    LABEL_WORKER_RUN_ID,
    ContainerRecord,
)
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    run_backup as run,
    PROJECT,
    RUN_ID,
    STOP_ORDER,
    WORKER,
    Call,
    FakeClock,
    FakeEngine,
    FakeEvent,
    WorkerScript,
    build_shop,
)

LEASE = lease_name(PROJECT)
SHOP_RUNNING = ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]
START_ORDER = [sorted(level) for level in reversed(STOP_ORDER)]


@pytest.fixture
def engine(clock: FakeClock) -> FakeEngine:
    return build_shop(FakeEngine(clock))


def levels(names: list[str], order: list[list[str]]) -> list[list[str]]:
    """``names`` (a call log, parallel within a level) cut into the levels of ``order``, each sorted."""
    out, rest = [], list(names)
    for level in order:
        wanted = [n for n in level if n in rest]
        if not wanted:
            continue
        head, rest = rest[: len(wanted)], rest[len(wanted) :]
        out.append(sorted(head))
    return out + ([rest] if rest else [])


def stack_stops(engine: FakeEngine) -> list[str]:
    return engine.names("stop_container", "shop-*")


def stack_starts(engine: FakeEngine) -> list[str]:
    return engine.names("start_container", "shop-*")


def steps(result: RunResult) -> list[tuple[str, str]]:
    return [(s.type, s.status) for s in result.steps]


def names(briefs: list[dict[str, t.Any]]) -> list[str]:
    return sorted(b["name"] for b in briefs)


def assert_restored(engine: FakeEngine) -> None:
    """The stack runs as before, the lease is gone, no worker is left, nothing else was touched."""
    assert engine.running(PROJECT) == SHOP_RUNNING
    assert engine.state_of("shop-adminer-1") == "exited"
    assert "shop-adminer-1" not in engine.names("start_container")
    assert engine.find(LEASE) is None
    assert engine.workers() == []
    assert not [c for c in engine.mutations() if c.target.startswith("other-")]


def live_lease(engine: FakeEngine, run_id: str = "f" * 32, **owner: t.Any) -> None:
    """A lease held by another run whose owner is this (live) process, unless ``owner`` says otherwise."""
    stack = [engine.get("shop-web-1").record()]
    who = Owner(**owner) if owner else Owner.current()
    acquire_lease(engine, PROJECT, run_id, "other-job", stack, 3600, who, engine.get("shop-web-1").image_id)
    engine.calls.clear()


def dead_lease(engine: FakeEngine, stopped: t.Sequence[str], run_id: str = "d" * 32) -> None:
    """A lease of a killed run (same host and boot, a pid start time that does not match) that stopped some."""
    here = Owner.current()
    dead = Owner(here.hostname, here.boot_id, here.pid, (here.pid_start or 0) + 12345)
    records = [engine.get(n).record() for n in stopped]
    acquire_lease(engine, PROJECT, run_id, "backup", records, 3600, dead, records[0].image_id)
    for n in stopped:
        engine.get(n).state = "exited"
    engine.calls.clear()


# Success


def test_success_stops_dependents_first_runs_the_worker_and_starts_dependencies_first(engine, tmp_path):
    engine.worker_script = WorkerScript(exit_code=0, exits_after_waits=3, logs=b"dumped 3 tables\nok\n")
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert steps(result) == [("stop_containers", "ok"), ("run_worker", "ok"), ("start_containers", "ok")]
    assert levels(stack_stops(engine), STOP_ORDER) == STOP_ORDER
    assert levels(stack_starts(engine), START_ORDER) == START_ORDER
    assert names(result.stopped) == SHOP_RUNNING and names(result.restarted) == SHOP_RUNNING
    # The worker runs only between the last stop and the first start.
    order = [c.target for c in engine.calls if c.method in ("stop_container", "start_container")]
    assert order.index(WORKER) == len(SHOP_RUNNING)
    assert result.worker is not None and result.worker.exit_code == 0 and result.worker.removed
    assert result.worker.log_tail == ["dumped 3 tables", "ok"]
    assert_restored(engine)
    # Two wait slices of 0.5 s passed before the exit on the third: the only time that went by.
    assert result.downtime_seconds == 1.0
    assert result.changed and result.ok
    # Checked on the Engine at the end: the lease is gone, so the role's safety net has nothing to do.
    assert result.lease_kept is False and result.to_dict()["lease_kept"] is False


def test_success_writes_the_run_record_and_the_full_log(engine, tmp_path):
    engine.worker_script = WorkerScript(logs=b"line 1\nline 2")
    result = run(engine, tmp_path, tail_lines=1)
    assert result.record_path == os.path.join(str(tmp_path), "runs", "backup", f"{RUN_ID}.json")
    with open(result.record_path, encoding="utf-8") as f:
        record = json.load(f)
    assert record["outcome"] == "success" and record["run_id"] == RUN_ID and record["stack"] == PROJECT
    assert record["downtime_seconds"] == result.downtime_seconds
    with open(record["log_path"], encoding="utf-8") as f:
        assert f.read() == "line 1\nline 2\n"
    assert result.worker is not None and result.worker.log_tail == ["line 2"]


def test_the_lease_records_the_stop_set_before_the_first_stop(engine, tmp_path):
    seen: list[t.Any] = []
    engine.on("stop_container", "shop-web-1", lambda e, _c: seen.append(read_lease(e, PROJECT)))
    run(engine, tmp_path)
    (lease,) = seen
    assert lease is not None and lease.run_id == RUN_ID and lease.owner.pid == os.getpid()
    assert sorted(e["name"] for e in lease.stop_set) == SHOP_RUNNING
    created = engine.names("create_container")
    assert created == [LEASE, WORKER]  # the lease first, then the worker, both before any stop
    assert engine.calls.index(next(c for c in engine.calls if c.method == "stop_container")) > max(
        i for i, c in enumerate(engine.calls) if c.method == "create_container"
    )


def test_the_worker_gets_the_job_mounts_labels_and_pinned_image(engine, tmp_path):
    run(engine, tmp_path)
    create = next(c for c in engine.calls if c.method == "create_container" and c.target == WORKER)
    assert create.args["image"] == engine.images["tools:1"]["Id"]
    assert create.args["labels"][LABEL_WORKER_RUN_ID] == RUN_ID and create.args["labels"][LABEL_WORKER_JOB] == "backup"
    mounts = create.args["host_config"]["mounts"]
    assert [(m["Source"], m["Target"], m["ReadOnly"]) for m in mounts] == [("shop_data", "/data", True)]


def test_each_container_is_stopped_with_its_own_stop_timeout(engine, tmp_path):
    run(engine, tmp_path)
    timeouts = {
        c.target: c.args["timeout"]
        for c in engine.calls
        if c.method == "stop_container" and c.target.startswith("shop-")
    }
    assert timeouts == {"shop-web-1": 10, "shop-api-1": 10, "shop-api-2": 10, "shop-cache-1": 10, "shop-db-1": 30}


def test_the_job_stop_timeout_wins_over_the_containers_own(clock, tmp_path):
    engine = build_shop(FakeEngine(clock), job={"stop_timeout": "3s"})
    run(engine, tmp_path)
    assert {
        c.args["timeout"] for c in engine.calls if c.method == "stop_container" and c.target.startswith("shop-")
    } == {3}


# A failed stop


def test_stop_failure_half_way_restarts_exactly_what_was_stopped(engine, tmp_path):
    engine.fail_on("stop_container", "shop-api-1", EngineError("cannot stop: boom", status=500, explanation="boom"))
    result = run(engine, tmp_path)
    assert result.outcome == "stop_failed"
    assert "shop-api-1" in result.message and "boom" in result.message
    assert steps(result) == [("stop_containers", "failed"), ("start_containers", "ok")]
    assert result.steps[0].detail and "boom" in result.steps[0].detail
    # Level 1 stopped, level 2 stopped but for the failed one, level 3 untouched.
    assert levels(stack_stops(engine), STOP_ORDER) == [["shop-web-1"], ["shop-api-1", "shop-api-2"]]
    assert names(result.stopped) == ["shop-api-2", "shop-web-1"]
    assert stack_starts(engine) == ["shop-api-2", "shop-web-1"]  # the dependency first
    # The one whose stop failed is in the restart too (its stop may have taken effect); it still runs.
    assert names(result.restarted) == ["shop-api-1", "shop-api-2", "shop-web-1"]
    assert WORKER not in engine.names("start_container")
    assert_restored(engine)


def test_a_container_whose_failed_stop_took_effect_is_started_again(engine, tmp_path):
    # Found by this suite: 0.1.0's restart took only the containers whose stop call succeeded.
    engine.fail_on("stop_container", "shop-api-1", DockerUnavailableError("read timed out"), effect=True)
    result = run(engine, tmp_path)
    assert result.outcome == "stop_failed"
    assert engine.running(PROJECT) == SHOP_RUNNING


def test_engine_lost_while_listing_between_levels_restarts_the_whole_stop_set(engine, tmp_path):
    # The stop lists the project once per level; the third list (level 2) fails, once.
    engine.fail_on(
        "list_containers",
        "com.docker.compose.project=shop",
        DockerUnavailableError("connection reset"),
        after=2,
        times=1,
    )
    result = run(engine, tmp_path)
    assert result.outcome == "stop_failed" and "connection reset" in result.message
    assert steps(result) == [("stop_containers", "failed"), ("start_containers", "ok")]
    assert stack_stops(engine) == ["shop-web-1"]
    # Any container of the stop-set may be down: all are asked for, only the stopped one is started.
    assert stack_starts(engine) == ["shop-web-1"]
    assert names(result.restarted) == SHOP_RUNNING
    assert_restored(engine)


def test_engine_lost_for_good_during_the_stop_keeps_the_lease(engine, tmp_path):
    gone = DockerUnavailableError("cannot connect to the Docker daemon")
    engine.fail_on("stop_container", "shop-api-*", gone)
    engine.fail_on("list_containers", None, gone, after=4)  # from the restart on, nothing answers
    result = run(engine, tmp_path)
    assert result.outcome == "start_failed"
    assert "lease is kept" in result.message and "before that" in result.message
    assert steps(result) == [("stop_containers", "failed"), ("start_containers", "failed")]
    assert levels(stack_stops(engine), STOP_ORDER) == [["shop-web-1"], ["shop-api-1", "shop-api-2"]]
    assert stack_starts(engine) == []
    assert engine.find(LEASE) is not None and read_lease(engine, PROJECT).run_id == RUN_ID
    assert engine.state_of("shop-web-1") == "exited"  # what recovery will restart


# Cancellation


def test_cancel_while_waiting_for_the_lease_touches_nothing(engine, tmp_path):
    live_lease(engine)
    cancel = Cancellation()
    cancel.event = FakeEvent(engine.clock, on_wait=lambda n: cancel.event.set() if n == 2 else None)
    result = run(engine, tmp_path, cancel)
    assert result.outcome == "cancelled" and "waiting for the lease" in result.message
    assert cancel.event.waits == 2 and engine.clock.elapsed == 1.0  # one full wait of 1 s, then the cancel
    assert result.steps == [] and engine.mutations() == []
    assert read_lease(engine, PROJECT).run_id == "f" * 32  # the other run's lease is left alone


def test_cancel_before_the_stop_stops_nothing_and_takes_no_lease(engine, tmp_path):
    cancel = Cancellation()
    cancel.event.set()
    result = run(engine, tmp_path, cancel)
    assert result.outcome == "cancelled" and "before anything was stopped" in result.message
    assert steps(result) == []
    # No lease, no worker, nothing stopped or started (test__executor_cancel.py: the later windows).
    assert engine.mutations() == []
    assert_restored(engine)


def test_cancel_between_stop_levels_restarts_what_was_stopped(engine, tmp_path):
    cancel = Cancellation()
    engine.on("stop_container", "shop-web-1", lambda _e, _c: cancel.event.set())
    result = run(engine, tmp_path, cancel)
    assert result.outcome == "cancelled"
    assert steps(result) == [("stop_containers", "cancelled"), ("start_containers", "ok")]
    assert stack_stops(engine) == ["shop-web-1"] and stack_starts(engine) == ["shop-web-1"]
    assert names(result.stopped) == ["shop-web-1"]
    assert WORKER not in engine.names("start_container")
    assert_restored(engine)


def test_cancel_during_the_worker_stops_it_and_restarts_the_stack(engine, tmp_path):
    engine.worker_script = WorkerScript(exits_after_waits=None)
    cancel = Cancellation()
    engine.on("wait_container", WORKER, lambda _e, _c: cancel.event.set(), after=2)
    result = run(engine, tmp_path, cancel)
    assert result.outcome == "cancelled" and "worker" in result.message
    assert steps(result) == [("stop_containers", "ok"), ("run_worker", "cancelled"), ("start_containers", "ok")]
    assert result.worker is not None and result.worker.cancelled and result.worker.exit_code == 143
    worker_calls = [c.method for c in engine.calls if c.target == WORKER]
    assert worker_calls.index("stop_container") < worker_calls.index("remove_container")
    assert levels(stack_starts(engine), START_ORDER) == START_ORDER
    assert_restored(engine)


# The worker


def test_worker_non_zero_exit_is_worker_failed_and_the_stack_restarts(engine, tmp_path):
    engine.worker_script = WorkerScript(exit_code=3, exits_after_waits=1, logs=b"disk full\n")
    result = run(engine, tmp_path)
    assert result.outcome == "worker_failed" and "exited with code 3" in result.message
    assert steps(result) == [("stop_containers", "ok"), ("run_worker", "failed"), ("start_containers", "ok")]
    assert result.worker is not None and result.worker.exit_code == 3 and result.worker.log_tail == ["disk full"]
    assert "stop_container" not in [c.method for c in engine.calls if c.target == WORKER]
    assert_restored(engine)


def test_worker_failure_with_keep_on_failure_keeps_the_worker(engine, tmp_path):
    engine.worker_script = WorkerScript(exit_code=1)
    result = run(engine, tmp_path, keep="on_failure")
    assert result.outcome == "worker_failed"
    assert [w.name for w in engine.workers()] == [WORKER] and engine.state_of(WORKER) == "exited"
    assert engine.running(PROJECT) == SHOP_RUNNING and engine.find(LEASE) is None


def test_worker_timeout_stops_the_worker_and_restarts_the_stack(clock, tmp_path):
    engine = build_shop(FakeEngine(clock), job={"timeout": "5s"})
    engine.worker_script = WorkerScript(exits_after_waits=None)
    result = run(engine, tmp_path)
    assert result.outcome == "timeout" and "timed out" in result.message
    assert steps(result) == [("stop_containers", "ok"), ("run_worker", "failed"), ("start_containers", "ok")]
    assert result.worker is not None and result.worker.timed_out and result.worker.exit_code == 143
    assert engine.names("wait_container", WORKER) == [WORKER] * 10  # 5 s in slices of 0.5 s
    stop = next(c for c in engine.calls if c.method == "stop_container" and c.target == WORKER)
    assert stop.args["timeout"] == 10
    assert result.worker.duration == 5.0 and result.downtime_seconds == 5.0
    assert_restored(engine)


def test_engine_lost_while_waiting_for_the_worker_is_worker_failed_and_restarts(engine, tmp_path):
    engine.worker_script = WorkerScript(exits_after_waits=None)
    engine.fail_on("wait_container", WORKER, DockerUnavailableError("connection aborted"), after=1, times=1)
    result = run(engine, tmp_path)
    assert result.outcome == "worker_failed" and "connection aborted" in result.message
    assert steps(result) == [("stop_containers", "ok"), ("run_worker", "failed"), ("start_containers", "ok")]
    assert "stop_container" in [c.method for c in engine.calls if c.target == WORKER]
    assert_restored(engine)


def test_worker_create_failure_is_preflight_failed_and_stops_nothing(engine, tmp_path):
    engine.fail_on(
        "create_container",
        "bosun-worker-*",
        EngineError("cannot create: invalid mount", status=400, explanation="invalid mount config"),
    )
    result = run(engine, tmp_path)
    assert result.outcome == "preflight_failed" and "nothing was stopped" in result.message
    assert "invalid mount config" in result.message
    assert result.steps == [] and stack_stops(engine) == [] and stack_starts(engine) == []
    assert engine.names("remove_container") == [LEASE]
    assert result.record_path is not None and os.path.exists(result.record_path)
    assert_restored(engine)


def test_missing_worker_image_is_image_missing_before_any_lease(engine, tmp_path):
    del engine.images["tools:1"]
    result = run(engine, tmp_path)
    assert result.outcome == "image_missing" and engine.mutations() == []


def test_missing_image_is_pulled_with_pull_missing(engine, tmp_path):
    del engine.images["tools:1"]
    engine.pullable["tools:1"] = "tools:1"
    result = run(engine, tmp_path, pull="missing")
    assert result.outcome == "success"
    assert engine.names("pull_image") == ["tools:1"]
    assert engine.calls.index(next(c for c in engine.calls if c.method == "pull_image")) < engine.calls.index(
        next(c for c in engine.calls if c.method == "stop_container")
    )


# The restart


def test_failed_restart_of_an_existing_container_is_start_failed_and_keeps_the_lease(engine, tmp_path):
    engine.fail_on(
        "start_container",
        "shop-api-1",
        EngineError("cannot start: port in use", status=500, explanation="port is already allocated"),
    )
    result = run(engine, tmp_path)
    assert result.outcome == "start_failed" and "port is already allocated" in result.message
    assert steps(result) == [("stop_containers", "ok"), ("run_worker", "ok"), ("start_containers", "failed")]
    # Starting goes on after the failure: everything else runs again, dependencies first; the refused start was
    # tried once more.
    starts = stack_starts(engine)
    assert starts.count("shop-api-1") == 2
    assert levels(list(dict.fromkeys(starts)), START_ORDER) == START_ORDER
    assert engine.running(PROJECT) == ["shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]
    lease = read_lease(engine, PROJECT)
    assert lease is not None and lease.run_id == RUN_ID  # kept, so a later run or recovery can retry
    assert sorted(e["name"] for e in lease.stop_set) == SHOP_RUNNING
    assert engine.workers() == []
    assert result.lease_kept is True  # the role's safety net runs and retries the start


def test_lease_kept_is_unknown_when_the_engine_cannot_be_asked_at_the_end(engine, tmp_path):
    # The last lease read (after the release) fails: the result must not claim the lease is gone.
    def gone_after_release(e: FakeEngine, _c: t.Any) -> None:
        e.fail_on("inspect_container", LEASE, DockerUnavailableError("the Engine went away"))

    engine.on("remove_container", LEASE, gone_after_release)
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert engine.find(LEASE) is None
    assert result.lease_kept is None


def test_container_removed_during_the_run_counts_as_gone_and_the_lease_is_released(engine, tmp_path):
    engine.on("start_container", WORKER, lambda e, _c: e.remove_container(e.get("shop-web-1").id))
    result = run(engine, tmp_path)
    assert result.outcome == "start_failed"  # the stack is not what it was: reported, but nothing to retry
    assert "'shop-web-1' (service 'web')" in result.message and "was deleted while the stack was down" in result.message
    # The fake engine is not local, so Compose is not run: the message gives the command that brings it back.
    assert "bring it back with: docker compose --project-name shop up --detach --no-deps" in result.message
    assert engine.find(LEASE) is None
    assert engine.running(PROJECT) == ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1"]
    assert "shop-web-1" not in stack_starts(engine)


def test_lease_pruned_mid_run_still_restarts_the_stack(engine, tmp_path):
    engine.on("start_container", WORKER, lambda e, _c: e.remove_container(LEASE))
    result = run(engine, tmp_path)
    assert result.outcome == "success"
    assert levels(stack_starts(engine), START_ORDER) == START_ORDER
    assert_restored(engine)


def test_a_container_stopped_before_the_run_is_not_started(engine, tmp_path):
    engine.get("shop-cache-1").state = "exited"
    result = run(engine, tmp_path)
    assert result.outcome == "success"
    assert "shop-cache-1" not in stack_stops(engine) + stack_starts(engine)
    assert engine.state_of("shop-cache-1") == "exited"
    assert names(result.stopped) == ["shop-api-1", "shop-api-2", "shop-db-1", "shop-web-1"]


# Overlap with another run


def test_live_lease_with_policy_skip_is_skipped(clock, tmp_path):
    engine = build_shop(FakeEngine(clock), job={"overlap_policy": "skip"})
    live_lease(engine)
    result = run(engine, tmp_path)
    assert result.outcome == "skipped" and "overlap policy skip" in result.message and result.ok
    assert engine.mutations() == [] and read_lease(engine, PROJECT).run_id == "f" * 32
    assert result.record_path is not None


def test_live_lease_with_queue_and_lock_timeout_zero_is_locked(engine, tmp_path):
    live_lease(engine)
    result = run(engine, tmp_path, lock_timeout=0)
    assert result.outcome == "locked" and "gave up waiting 0s" in result.message
    assert engine.mutations() == [] and read_lease(engine, PROJECT).run_id == "f" * 32


def test_queue_waits_for_the_holder_then_runs(engine, tmp_path):
    live_lease(engine)
    cancel = Cancellation()
    cancel.event = FakeEvent(engine.clock, on_wait=lambda n: engine.remove_container(LEASE) if n == 3 else None)
    result = run(engine, tmp_path, cancel, lock_timeout=60)
    assert result.outcome == "success" and cancel.event.waits == 3
    assert engine.clock.elapsed >= 2.0
    assert_restored(engine)


def test_queue_gives_up_after_the_lock_timeout(engine, tmp_path):
    live_lease(engine)
    cancel = Cancellation()
    cancel.event = FakeEvent(engine.clock)
    result = run(engine, tmp_path, cancel, lock_timeout=5)
    assert result.outcome == "locked" and cancel.event.waits == 5
    assert engine.mutations() == []


def test_dead_runs_lease_is_recovered_first_then_the_job_runs(engine, tmp_path):
    dead_lease(engine, ["shop-web-1"])
    leftover = engine.create_container(
        "leftover worker",
        "tools:1",
        name="bosun-worker-backup-dddddddd",
        labels={LABEL_WORKER_RUN_ID: "d" * 32, LABEL_WORKER_JOB: "backup"},
    )
    engine.start_container(leftover)
    engine.calls.clear()
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    starts = stack_starts(engine)
    # Recovery: the dead run's worker goes, then web starts; then the run itself.
    assert starts[0] == "shop-web-1"
    first_start = engine.calls.index(next(c for c in engine.calls if c.method == "start_container"))
    assert engine.calls.index(Call("remove_container", "bosun-worker-backup-dddddddd", {"volumes": True})) < first_start
    assert engine.calls.index(next(c for c in engine.calls if c.method == "create_container")) > first_start
    assert levels(starts[1:], START_ORDER) == START_ORDER
    assert names(result.stopped) == SHOP_RUNNING
    assert_restored(engine)


def test_an_expired_lease_without_a_pid_is_recovered(engine, tmp_path):
    records = [engine.get("shop-db-1").record()]
    acquire_lease(
        engine, PROJECT, "e" * 32, "backup", records, 1, Owner("elsewhere"), records[0].image_id, now=time.time() - 100
    )
    engine.get("shop-db-1").state = "exited"
    result = run(engine, tmp_path)
    assert result.outcome == "success"
    assert_restored(engine)


# Check mode


def test_check_mode_touches_nothing(engine, tmp_path):
    result = run(engine, tmp_path, check_mode=True)
    assert result.outcome == "success" and result.changed and "nothing was touched" in result.message
    assert engine.mutations() == []
    assert result.record_path is None and not os.path.exists(os.path.join(str(tmp_path), "runs"))
    assert result.plan is not None and sorted(c.name for c in result.plan.stop_set) == SHOP_RUNNING
    assert result.lease_kept is False


def test_check_mode_never_pulls(engine, tmp_path):
    del engine.images["tools:1"]
    engine.pullable["tools:1"] = "tools:1"
    result = run(engine, tmp_path, check_mode=True, pull="missing")
    assert result.outcome == "success" and engine.mutations() == []


def test_plan_levels_match_the_stop_order(engine, tmp_path):
    result = run(engine, tmp_path, check_mode=True)
    assert result.plan is not None
    planned = [sorted(c.name for c in level) for level in result.plan.stop_step.levels]
    assert planned == STOP_ORDER
    assert all(isinstance(c, ContainerRecord) for level in result.plan.stop_step.levels for c in level)


def test_lease_label_carries_the_run_id(engine, tmp_path):
    engine.on("start_container", WORKER, lambda e, _c: seen.append(e.get(LEASE).labels[LEASE_RUN_ID]))
    seen: list[str] = []
    run(engine, tmp_path)
    assert seen == [RUN_ID]


def test_worker_that_cannot_start_is_worker_failed_without_exit_code(engine, tmp_path):
    engine.fail_on("start_container", WORKER, EngineError("cannot start", status=500, explanation="no such volume"))
    result = run(engine, tmp_path)
    assert result.outcome == "worker_failed" and "no such volume" in result.message
    assert result.worker is not None and result.worker.exit_code is None and result.worker.removed
    assert_restored(engine)


def test_worker_removed_by_someone_else_is_worker_failed_and_restarts(engine, tmp_path):
    engine.worker_script = WorkerScript(exits_after_waits=None)
    engine.on("wait_container", WORKER, lambda e, c: e.remove_container(c.target), after=1)
    result = run(engine, tmp_path)
    assert result.outcome == "worker_failed" and "removed by someone else" in result.message
    assert steps(result) == [("stop_containers", "ok"), ("run_worker", "failed"), ("start_containers", "ok")]
    assert_restored(engine)


def test_a_container_removed_before_its_stop_level_is_skipped_and_the_run_succeeds(engine, tmp_path):
    engine.on("stop_container", "shop-web-1", lambda e, _c: e.remove_container(e.get("shop-api-2").id))
    result = run(engine, tmp_path)
    assert result.outcome == "success"
    assert "shop-api-2" not in stack_stops(engine) + stack_starts(engine)
    assert engine.running(PROJECT) == ["shop-api-1", "shop-cache-1", "shop-db-1", "shop-web-1"]
    assert engine.find(LEASE) is None and engine.workers() == []


def test_a_container_vanishing_during_its_stop_aborts_the_run_and_restarts_the_rest(engine, tmp_path):
    engine.on("stop_container", "shop-api-2", lambda e, c: e.remove_container(c.target))
    result = run(engine, tmp_path)
    # The stop goes on past a vanished container (deeper levels stopped), but the run does not start its worker.
    assert result.outcome == "stop_failed" and "shop-api-2" in result.message
    assert sorted(stack_stops(engine)) == ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]
    assert WORKER not in engine.names("start_container")
    assert engine.running(PROJECT) == ["shop-api-1", "shop-cache-1", "shop-db-1", "shop-web-1"]
    assert engine.find(LEASE) is None and engine.workers() == []


# Fencing: a run touches the stack only while it holds the lease it took


def take_over(engine: FakeEngine) -> None:
    """Another run takes the stack: this run's lease is gone, a live one of another run id is there."""
    engine.remove_container(LEASE)
    records = [engine.get("shop-web-1").record()]
    acquire_lease(engine, PROJECT, "a" * 32, "other-job", records, 3600, Owner.current(), records[0].image_id)


def test_a_run_whose_stack_another_run_took_mid_worker_starts_nothing(engine, tmp_path):
    engine.on("start_container", WORKER, lambda e, _c: take_over(e))
    result = run(engine, tmp_path)
    assert result.outcome == "lease_lost", result.message
    assert "held by run 'aaaaaaaa" in result.message and "started nothing" in result.message
    assert steps(result)[-1] == ("start_containers", "skipped")
    assert stack_starts(engine) == []
    assert (read_lease(engine, PROJECT) or pytest.fail("lease gone")).run_id == "a" * 32


def test_a_run_whose_stack_another_run_took_between_stop_levels_stops_no_further_level(engine, tmp_path):
    engine.on("stop_container", "shop-web-1", lambda e, _c: take_over(e))
    result = run(engine, tmp_path)
    assert result.outcome == "lease_lost", result.message
    assert stack_stops(engine) == ["shop-web-1"] and stack_starts(engine) == []
    assert steps(result) == [("stop_containers", "failed"), ("start_containers", "skipped")]
    assert WORKER not in engine.names("start_container")


def test_a_lease_pruned_between_stop_levels_lives_on_in_its_journal_and_the_run_completes(engine, tmp_path):
    engine.on("stop_container", "shop-web-1", lambda e, _c: e.remove_container(LEASE))
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert sorted(stack_stops(engine)) == SHOP_RUNNING and sorted(stack_starts(engine)) == SHOP_RUNNING
    assert_restored(engine)
    assert read_lease(engine, PROJECT, str(tmp_path)) is None  # the release removed the journal too
    assert not (tmp_path / "leases" / f"{PROJECT}.json").exists()


def test_a_lease_pruned_without_a_journal_ends_the_stop_and_restarts_what_was_stopped(engine, tmp_path):
    engine.on("stop_container", "shop-web-1", lambda e, _c: e.remove_container(LEASE))
    (tmp_path / "leases").write_text("not a folder", encoding="utf-8")  # the journal cannot be written
    result = run(engine, tmp_path)
    assert result.outcome == "lease_lost" and "is gone" in result.message, result.message
    assert stack_stops(engine) == ["shop-web-1"] and stack_starts(engine) == ["shop-web-1"]
    assert_restored(engine)
