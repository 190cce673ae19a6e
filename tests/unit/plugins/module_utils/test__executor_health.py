# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The executor's restart, against the in-memory FakeEngine: health after the start (outcome start_unhealthy)
and containers that were up but not running (restarting, paused) before the stop."""

from __future__ import annotations

import typing as t


from ansible_collections.bosun.compose.plugins.module_utils._errors import EngineError
from ansible_collections.bosun.compose.plugins.module_utils._executor import RunResult
from ansible_collections.bosun.compose.plugins.module_utils._lease import lease_name, read_lease
from ansible_collections.bosun.compose.plugins.module_utils._planner import plan_job, resolve_job
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    run_backup as run,
    PROJECT,
    RUN_ID,
    FakeEngine,
    WorkerScript,
    build_shop,
)

LEASE = lease_name(PROJECT)
ALL = ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]


def start_step(result: RunResult) -> t.Any:
    (step,) = [s for s in result.steps if s.type == "start_containers"]
    return step


def starts(engine: FakeEngine) -> list[str]:
    return engine.names("start_container", "shop-*")


# Health after the restart


def test_a_container_that_comes_back_unhealthy_is_start_unhealthy_and_everything_runs(clock, tmp_path):
    # The fake's health sequence restarts with each start: starting, then unhealthy.
    engine = build_shop(FakeEngine(clock), health={"db": ["starting", "unhealthy"]})
    result = run(engine, tmp_path)
    assert result.outcome == "start_unhealthy", result.message
    assert "came back unhealthy: 'shop-db-1' unhealthy" in result.message
    assert "the stack is left running" in result.message and not result.ok
    step = start_step(result)
    assert step.status == "failed" and "'shop-db-1' unhealthy" in step.detail
    # Its dependents were started anyway, and nothing was stopped again.
    assert engine.running(PROJECT) == ALL
    assert engine.names("stop_container", "shop-*").count("shop-db-1") == 1
    assert sorted(b["name"] for b in result.restarted) == ALL
    assert engine.find(LEASE) is None  # everything runs: the lease is released


def test_a_gate_still_starting_when_the_start_timeout_runs_out_is_named(clock, tmp_path):
    engine = build_shop(FakeEngine(clock), job={"start_timeout": "3s"}, health={"db": ["starting"]})
    result = run(engine, tmp_path)
    assert result.outcome == "start_unhealthy", result.message
    assert "the start timeout (3s) ran out: 'shop-db-1' health: starting" in result.message
    assert "what depends on them was started without waiting" in result.message
    assert "'shop-db-1' health: starting" in start_step(result).detail
    # The dependents (api, then web) were still started: a stack is never left down.
    assert starts(engine)[-1] == "shop-web-1" and engine.running(PROJECT) == ALL
    assert engine.find(LEASE) is None


def test_a_gate_that_becomes_healthy_in_time_is_success(clock, tmp_path):
    engine = build_shop(FakeEngine(clock), health={"db": ["starting", "starting", "healthy"]})
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert start_step(result).status == "ok" and "unhealthy" not in start_step(result).detail


def test_a_worker_failure_followed_by_an_unhealthy_restart_names_both(clock, tmp_path):
    engine = build_shop(FakeEngine(clock), health={"db": ["unhealthy"]})
    engine.worker_script = WorkerScript(exit_code=3)
    result = run(engine, tmp_path)
    assert result.outcome == "start_unhealthy"
    assert "'shop-db-1' unhealthy" in result.message and "before that: worker" in result.message
    assert "exited with code 3" in result.message


def test_a_failed_start_wins_over_an_unhealthy_one_and_keeps_the_lease(clock, tmp_path):
    engine = build_shop(FakeEngine(clock), health={"db": ["unhealthy"]})
    engine.fail_on("start_container", "shop-web-1", EngineError("boom", status=500, explanation="boom"))
    result = run(engine, tmp_path)
    assert result.outcome == "start_failed"
    assert "boom" in result.message and "'shop-db-1' unhealthy" in result.message
    assert read_lease(engine, PROJECT) is not None


# Up, but not running: restarting (crash-looping) and paused


def test_restarting_and_paused_containers_are_planned_with_their_state(clock):
    engine = build_shop(FakeEngine(clock))
    engine.get("shop-cache-1").state = "restarting"
    engine.get("shop-api-2").state = "paused"
    job, secret = resolve_job(engine, "backup", PROJECT, None)
    plan = plan_job(engine, job, secret_env=secret, run_id=RUN_ID)
    shown = {c["name"]: c.get("state") for level in plan.to_dict()["steps"][0]["levels"] for c in level}
    assert shown == {n: None for n in ALL} | {"shop-cache-1": "restarting", "shop-api-2": "paused"}
    assert "(1 paused, 1 restarting: returned to that state)" in plan.stop_step.description
    assert "has 5 running of 6 container(s)" in plan.preflight[0].message


def test_a_crash_looping_container_is_stopped_and_started_again_without_waiting(clock, tmp_path):
    engine = build_shop(FakeEngine(clock))
    crash = engine.get("shop-cache-1")
    crash.state = "restarting"
    # After its start it crashes at once (and Docker would restart it): not waited for, not a failure.
    engine.on("start_container", "shop-cache-1", lambda e, _c: setattr(crash, "crashes_on_start", True))
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert "shop-cache-1" in engine.names("stop_container") and "shop-cache-1" in starts(engine)
    # It was stopped before the worker started, and started only after it.
    order = [c.target for c in engine.calls if c.method in ("stop_container", "start_container")]
    worker = next(n for n in order if n.startswith("bosun-worker-"))
    assert order.index("shop-cache-1") < order.index(worker) < len(order) - 1 - order[::-1].index("shop-cache-1")
    assert "1 left to its restart policy" in start_step(result).detail
    assert engine.find(LEASE) is None


def test_a_paused_container_is_unpaused_to_stop_it_and_paused_again_after_its_start(clock, tmp_path):
    engine = build_shop(FakeEngine(clock))
    engine.get("shop-api-2").state = "paused"
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    calls = [(c.method, c.target) for c in engine.calls if c.target == "shop-api-2" and c.method != "list_containers"]
    mutating = [
        m for m, _n in calls if m in ("unpause_container", "stop_container", "start_container", "pause_container")
    ]
    assert mutating == ["unpause_container", "stop_container", "start_container", "pause_container"]
    assert engine.state_of("shop-api-2") == "paused"
    assert "1 paused again" in start_step(result).detail
    assert engine.find(LEASE) is None


def test_a_paused_container_that_cannot_be_paused_again_is_start_failed_but_runs(clock, tmp_path):
    engine = build_shop(FakeEngine(clock))
    engine.get("shop-api-2").state = "paused"
    engine.fail_on("pause_container", "shop-api-2", EngineError("nope", status=500, explanation="nope"))
    result = run(engine, tmp_path)
    assert result.outcome == "start_failed" and "could not pause it again" in result.message
    assert engine.state_of("shop-api-2") == "running"
    assert engine.find(LEASE) is None  # a retry of the start could not do better


def test_start_of_a_lease_entry_with_a_paused_state_pauses_it_again(clock):
    engine = build_shop(FakeEngine(clock))
    api2 = engine.get("shop-api-2")
    api2.state = "exited"
    start = StackControl(engine, PROJECT, clock=clock.monotonic, sleep=clock.sleep).start(
        [{"id": api2.id, "name": api2.name, "service": "api", "state": "paused"}]
    )
    assert start.ok and start.healthy and [c.name for c in start.paused] == ["shop-api-2"]
    assert engine.state_of("shop-api-2") == "paused"
