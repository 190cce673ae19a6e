# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the job lifecycle (hooks, stop scope, pause, after-phase, keep_stopped, exit 75) on the FakeEngine."""

from __future__ import annotations

import time
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._executor import Executor, RunOptions
from ansible_collections.bosun.compose.plugins.module_utils._lease import (
    Owner,
    acquire_lease,
    lease_name,
    read_lease,
)
from ansible_collections.bosun.compose.plugins.module_utils._hooks import hook_entries
from ansible_collections.bosun.compose.plugins.module_utils._maintenance import start_stop_set
from ansible_collections.bosun.compose.plugins.module_utils._model import LABEL_NAME
from ansible_collections.bosun.compose.plugins.module_utils._planner import plan_job, resolve_job
from ansible_collections.bosun.compose.plugins.module_utils._recovery import recover
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    run_backup as run,
    PROJECT,
    RUN_ID,
    FakeClock,
    FakeEngine,
    HookScript,
    WorkerScript,
    build_shop,
)

SHOP_RUNNING = ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]


@pytest.fixture
def engine(clock: FakeClock) -> FakeEngine:
    engine = build_shop(FakeEngine(clock))
    # db writes shop_data, api reads it; cache and web mount nothing.
    engine.get("shop-db-1").volumes = (("shop_data", True),)
    for api in ("shop-api-1", "shop-api-2"):
        engine.get(api).volumes = (("shop_data", False),)
    return engine


def label(engine: FakeEngine, container: str, **labels: str) -> None:
    """Make ``container`` a member of job backup carrying ``labels`` (keys with '_' for '-' and '__' for '.')."""
    c = engine.get(container)
    c.labels[LABEL_NAME] = "backup"
    for key, value in labels.items():
        c.labels["bosun.job." + key.replace("__", ".").replace("_", "-")] = value


def hook_log(engine: FakeEngine) -> list[tuple[str, str]]:
    """(container, first argument) of each exec, in order."""
    return [(e.container, e.argv[-1]) for e in engine.execs]


def mutations(engine: FakeEngine, *methods: str) -> list[tuple[str, str]]:
    return [(c.method, c.target) for c in engine.calls if c.method in methods]


def test_hooks_run_in_their_phases_and_order_with_the_run_env(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-db-1", hook__pre="dump db", hook__post="post db", hook__finally="fin db")
    label(engine, "shop-web-1", hook__pre="maint on", hook__finally="maint off", hook__error="err web")
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    # pre in stop order (web before db), post/finally in start order (db before web); no error hook on success
    assert hook_log(engine) == [
        ("shop-web-1", "on"),
        ("shop-db-1", "db"),
        ("shop-db-1", "db"),
        ("shop-db-1", "db"),
        ("shop-web-1", "off"),
    ]
    phases = [e.env["BOSUN_PHASE"] for e in engine.execs]
    assert phases == ["pre", "pre", "post", "finally", "finally"]
    fin = engine.execs[-1].env
    assert fin == {
        "BOSUN_JOB_NAME": "backup",
        "BOSUN_RUN_ID": RUN_ID,
        "BOSUN_STACK": PROJECT,
        "BOSUN_PHASE": "finally",
        "BOSUN_OUTCOME": "success",
    }
    assert "BOSUN_OUTCOME" not in engine.execs[0].env
    # the pre hooks ran before the first stop, the post hooks after the last start
    first_stop = next(i for i, c in enumerate(engine.calls) if c.method == "stop_container")
    last_start = max(i for i, c in enumerate(engine.calls) if c.method == "start_container")
    creates = [i for i, c in enumerate(engine.calls) if c.method == "exec_create"]
    assert creates[1] < first_stop < last_start < creates[2]
    steps = [(s.type, s.phase, s.status) for s in result.steps if s.type == "run_hook"]
    assert steps == [
        ("run_hook", "pre", "ok"),
        ("run_hook", "pre", "ok"),
        ("run_hook", "post", "ok"),
        ("run_hook", "finally", "ok"),
        ("run_hook", "finally", "ok"),
    ]
    assert read_lease(engine, PROJECT) is None


def test_a_failing_pre_hook_stops_nothing_and_still_runs_error_and_finally(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-db-1", hook__pre="dump db", hook__error="err db", hook__finally="fin db")
    engine.hook_scripts["shop-db-1"] = HookScript(exit_code=3, output=b"pg_dump: connection refused\n")
    result = run(engine, tmp_path)
    assert result.outcome == "hook_failed"
    assert "pre hook in 'shop-db-1' exited with code 3" in result.message
    assert mutations(engine, "stop_container", "pause_container", "start_container") == []
    assert [e.env["BOSUN_PHASE"] for e in engine.execs] == ["pre", "error", "finally"]
    assert engine.execs[-1].env["BOSUN_OUTCOME"] == "hook_failed"
    pre = next(s for s in result.steps if s.type == "run_hook")
    assert (pre.exit_code, pre.output_tail) == (3, ["pg_dump: connection refused"])
    assert engine.workers() == [] and read_lease(engine, PROJECT) is None
    assert sorted(engine.running(PROJECT)) == SHOP_RUNNING


def test_a_failing_pre_hook_with_on_error_continue_lets_the_run_go_on(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-db-1", hook__pre="dump db", hook__pre__on_error="continue")
    engine.hook_scripts["shop-db-1"] = HookScript(exit_code=1)
    result = run(engine, tmp_path)
    assert result.outcome == "success"
    assert [s.status for s in result.steps if s.type == "run_hook"] == ["failed"]
    assert ("stop_container", "shop-db-1") in mutations(engine, "stop_container")


def test_a_pre_hook_that_outlives_its_timeout_is_a_failure(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-db-1", hook__pre="dump db", hook__pre__timeout="30s", hook__finally="fin")
    engine.hook_scripts["shop-db-1"] = HookScript(ends_after_inspects=None)
    result = run(engine, tmp_path)
    assert result.outcome == "hook_failed" and "timed out after 30s" in result.message
    assert mutations(engine, "stop_container") == []
    assert [e.env["BOSUN_PHASE"] for e in engine.execs] == ["pre", "finally"]


def test_a_failed_worker_runs_the_error_hooks_after_the_restart(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-db-1", hook__post="post", hook__error="err", hook__finally="fin")
    engine.worker_script = WorkerScript(exit_code=2)
    result = run(engine, tmp_path)
    assert result.outcome == "worker_failed"
    assert [e.env["BOSUN_PHASE"] for e in engine.execs] == ["error", "finally"]
    assert [e.env["BOSUN_OUTCOME"] for e in engine.execs] == ["worker_failed", "worker_failed"]
    assert sorted(engine.running(PROJECT)) == SHOP_RUNNING


def test_a_hook_whose_container_is_down_when_its_phase_comes_is_skipped_with_the_reason(
    engine: FakeEngine, tmp_path: t.Any
) -> None:
    label(engine, "shop-db-1", hook__finally="fin")
    engine.get("shop-db-1").crashes_on_start = True
    result = run(engine, tmp_path)
    assert result.outcome == "start_failed"
    fin = next(h for h in result.hooks if h.hook.phase == "finally")
    assert fin.skipped == "container 'shop-db-1' is exited, not running"
    assert engine.execs == []


def test_a_pre_hook_in_a_stopped_container_fails_preflight(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-adminer-1", hook__pre="x")
    result = run(engine, tmp_path)
    assert result.outcome == "preflight_failed"
    assert "pre hook in 'shop-adminer-1' cannot run: the container is exited, not running" in result.message
    assert engine.mutations() == []


def test_check_mode_runs_no_hook_and_shows_every_phase(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-db-1", hook__pre="dump", hook__post="p", hook__error="e", hook__finally="f")
    result = run(engine, tmp_path, check_mode=True)
    assert result.outcome == "success" and engine.execs == [] and engine.mutations() == []
    plan = t.cast(t.Any, result.plan).to_dict()
    assert [(s["type"], s.get("phase")) for s in plan["steps"]] == [
        ("run_hooks", "pre"),
        ("stop_containers", None),
        ("run_worker", None),
        ("start_containers", None),
        ("run_hooks", "post"),
        ("run_hooks", "error"),
        ("run_hooks", "finally"),
    ]
    assert "no hook ran" in result.message


def test_scope_writers_stops_the_writer_and_its_dependents_only(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", stop_scope="writers")
    result = run(engine, tmp_path)
    assert result.outcome == "success"
    stopped = sorted(n for _m, n in mutations(engine, "stop_container"))
    # db writes shop_data; api depends on db, web on api; cache stays up, untouched.
    assert stopped == ["shop-api-1", "shop-api-2", "shop-db-1", "shop-web-1"]
    plan = t.cast(t.Any, result.plan)
    assert [c.name for c in plan.stays_up] == ["shop-cache-1"]
    assert ("start_container", "shop-cache-1") not in mutations(engine, "start_container")


def test_scope_none_stops_nothing_and_still_runs_the_worker(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-db-1", stop_scope="none", hook__pre="dump")
    result = run(engine, tmp_path)
    assert result.outcome == "success" and result.worker is not None and result.worker.ok
    assert mutations(engine, "stop_container", "start_container", "pause_container") == [
        ("start_container", "bosun-worker-backup-01234567")
    ]
    assert result.downtime_seconds == 0.0  # nothing was down
    assert "start_containers" not in [s.type for s in result.steps]


def test_a_cancel_before_the_pre_hooks_runs_none_of_them_but_error_and_finally(
    engine: FakeEngine, tmp_path: t.Any
) -> None:
    label(engine, "shop-db-1", hook__pre="on", hook__error="err", hook__finally="off")
    cancel = Cancellation()
    engine.on("create_container", "bosun-worker-*", lambda e, c: cancel.event.set())
    job, secret = resolve_job(engine, "backup", PROJECT, None)
    executor = Executor(
        engine, str(tmp_path), wall=engine.clock.wall, clock=engine.clock.monotonic, sleep=engine.clock.sleep
    )
    result = executor.run(job, RunOptions(secret_env=secret, run_id=RUN_ID), cancel)
    assert result.outcome == "cancelled" and result.message.endswith("; no pre hook ran")
    assert [e.env["BOSUN_PHASE"] for e in engine.execs] == ["error", "finally"]
    assert engine.execs[-1].env["BOSUN_OUTCOME"] == "cancelled"
    assert mutations(engine, "stop_container") == [] and read_lease(engine, PROJECT) is None


def test_pause_mode_freezes_and_thaws_instead_of_stopping(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", stop_mode="pause")
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert mutations(engine, "stop_container") == []
    assert sorted(n for _m, n in mutations(engine, "pause_container")) == SHOP_RUNNING
    assert sorted(n for _m, n in mutations(engine, "unpause_container")) == SHOP_RUNNING
    assert [s for s in mutations(engine, "start_container") if s[1].startswith("shop-")] == []
    plan = t.cast(t.Any, result.plan)
    assert plan.stop_budget == 3 * 5  # no grace periods: only the per-level margin
    assert set(plan.stop_step.actions.values()) == {"pause"}
    assert "unpaused" in next(s.detail for s in result.steps if s.type == "start_containers")


def test_the_after_phase_runs_with_the_stack_up_and_its_failure_is_after_failed(
    engine: FakeEngine, tmp_path: t.Any
) -> None:
    label(engine, "shop-web-1", after__command="upload", hook__finally="fin")
    engine.add_image("tools:1")
    order: list[str] = []
    engine.on("start_container", "bosun-after-*", lambda e, c: order.append(",".join(sorted(e.running(PROJECT)))))
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert order == [",".join(SHOP_RUNNING)]  # the whole stack ran while the after-phase started
    assert result.after is not None and result.after.name == "bosun-after-backup-01234567"
    types = [s.type for s in result.steps]
    assert types.index("start_containers") < types.index("run_after") < len(types) - 1
    assert result.steps[-1].phase == "finally"


def test_a_failed_after_phase_leaves_the_stack_up(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", after__command="upload", hook__finally="fin")

    def fail_after(e: FakeEngine, call: t.Any) -> None:
        container = e.find(call.target)
        if container is not None:
            container.script = WorkerScript(exit_code=4)

    engine.on("start_container", "bosun-after-*", fail_after)
    result = run(engine, tmp_path)
    assert result.outcome == "after_failed" and "exited with code 4" in result.message
    assert sorted(engine.running(PROJECT)) == SHOP_RUNNING
    assert engine.execs[-1].env["BOSUN_OUTCOME"] == "after_failed"


def test_keep_stopped_leaves_exactly_the_stop_set_stopped(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", stop_scope="writers", hook__pre="on", hook__post="p", hook__finally="off")
    result = run(engine, tmp_path, keep_stopped=True)
    assert result.outcome == "success"
    assert sorted(c["name"] for c in result.kept_stopped) == ["shop-api-1", "shop-api-2", "shop-db-1", "shop-web-1"]
    assert engine.running(PROJECT) == ["shop-cache-1"]
    assert [e.env["BOSUN_PHASE"] for e in engine.execs] == ["pre"]  # finally's container (web) is stopped now
    assert [h.skipped for h in result.hooks if h.hook.phase == "finally"] == [
        "container 'shop-web-1' is exited, not running"
    ]
    assert read_lease(engine, PROJECT) is None
    assert "left 4 container(s) stopped on purpose" in result.message


def test_worker_exit_75_is_skipped_not_a_failure(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", hook__post="p", hook__error="e")
    engine.worker_script = WorkerScript(exit_code=75)
    result = run(engine, tmp_path)
    assert result.outcome == "skipped" and result.ok
    assert "nothing to do this time" in result.message
    assert [e.env["BOSUN_PHASE"] for e in engine.execs] == ["post"]
    assert sorted(engine.running(PROJECT)) == SHOP_RUNNING


def test_the_lease_records_the_pending_hooks_and_recovery_runs_them_once(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-db-1", hook__error="err", hook__finally="fin", hook__post="never")
    job, _secret = resolve_job(engine, "backup", PROJECT, None)
    plan = plan_job(engine, job, run_id=RUN_ID)
    dead = Owner("elsewhere", None, None)
    lease = acquire_lease(
        engine,
        PROJECT,
        RUN_ID,
        "backup",
        plan.stop_set,
        60,
        dead,
        "app:1",
        actions=plan.stop_step.actions,
        hooks=hook_entries(plan.hooks("error") + plan.hooks("finally")),
        now=time.time() - 3600,
    )
    assert [h["phase"] for h in lease.hooks] == ["error", "finally"]
    engine.get("shop-web-1").state = "exited"  # the dead run had stopped it
    rec = recover(engine, PROJECT, sleep=engine.clock.sleep)
    assert rec.action == "recovered" and rec.released
    assert [(h.hook.phase, h.ok) for h in rec.hooks] == [("error", True), ("finally", True)]
    assert [e.env["BOSUN_OUTCOME"] for e in engine.execs] == ["interrupted", "interrupted"]
    assert engine.get("shop-web-1").state == "running"
    assert recover(engine, PROJECT).action == "none"
    assert len(engine.execs) == 2
    assert lease_name(PROJECT) not in [c.name for c in engine.containers.values()]


def test_starting_a_dead_runs_stop_set_by_hand_runs_its_pending_hooks(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-db-1", hook__finally="fin")
    job, _secret = resolve_job(engine, "backup", PROJECT, None)
    plan = plan_job(engine, job, run_id=RUN_ID)
    acquire_lease(
        engine,
        PROJECT,
        RUN_ID,
        "backup",
        plan.stop_set,
        60,
        Owner("elsewhere", None, None),
        "app:1",
        hooks=hook_entries(plan.hooks("finally")),
        now=time.time() - 3600,
    )
    control = StackControl(engine, PROJECT, clock=engine.clock.monotonic, sleep=engine.clock.sleep)
    window = start_stop_set(control, run_id=RUN_ID, containers=None, start_timeout=5)
    assert window.released and [h["phase"] for h in window.hooks] == ["finally"]
    assert [e.env["BOSUN_OUTCOME"] for e in engine.execs] == ["interrupted"]


def test_recovery_thaws_what_a_dead_pause_run_froze(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", stop_mode="pause")
    job, _secret = resolve_job(engine, "backup", PROJECT, None)
    plan = plan_job(engine, job, run_id=RUN_ID)
    acquire_lease(
        engine,
        PROJECT,
        RUN_ID,
        "backup",
        plan.stop_set,
        60,
        Owner("elsewhere", None, None),
        "app:1",
        actions=plan.stop_step.actions,
        now=time.time() - 3600,
    )
    for name in SHOP_RUNNING:
        engine.get(name).state = "paused"
    rec = recover(engine, PROJECT, sleep=engine.clock.sleep)
    assert rec.action == "recovered" and rec.start is not None
    assert sorted(c.name for c in rec.start.unpaused) == SHOP_RUNNING
    assert sorted(engine.running(PROJECT)) == SHOP_RUNNING


def test_a_failing_finally_hook_makes_a_good_run_hook_failed_and_names_it(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", hook__post="notify", hook__finally="maint off")
    engine.hook_scripts["shop-web-1"] = HookScript(exit_code=9)
    result = run(engine, tmp_path)
    assert result.outcome == "hook_failed" and not result.ok
    assert result.message == (
        "post hook in 'shop-web-1' exited with code 9; finally hook in 'shop-web-1' exited with code 9; "
        "the job itself succeeded and the stack is up"
    )
    assert [e.env.get("BOSUN_OUTCOME") for e in engine.execs] == ["success", "success"]
    assert sorted(engine.running(PROJECT)) == SHOP_RUNNING and read_lease(engine, PROJECT) is None


def test_a_failing_error_hook_keeps_the_runs_own_outcome(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", hook__error="alert")
    engine.hook_scripts["shop-web-1"] = HookScript(exit_code=1)
    engine.worker_script = WorkerScript(exit_code=2)
    result = run(engine, tmp_path)
    assert result.outcome == "worker_failed"
    assert result.message.endswith("; also: error hook in 'shop-web-1' exited with code 1")


def test_a_pre_hook_skipped_at_run_time_aborts_like_a_failed_one(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-db-1", hook__pre="dump")
    engine.on("inspect_container", "shop-db-1", lambda e, c: setattr(e.get("shop-db-1"), "state", "exited"))
    result = run(engine, tmp_path)
    assert result.outcome == "hook_failed"
    assert "pre hook in 'shop-db-1' was skipped: container 'shop-db-1' is exited, not running" in result.message
    assert mutations(engine, "stop_container") == [] and engine.execs == []


def test_keep_stopped_stops_even_a_pause_job(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", stop_mode="pause")
    result = run(engine, tmp_path, keep_stopped=True)
    assert result.outcome == "success"
    assert mutations(engine, "pause_container") == []
    assert engine.running(PROJECT) == [] and len(result.kept_stopped) == 5
    assert t.cast(t.Any, result.plan).to_dict()["stop_mode"] == "stop"


def test_a_scope_that_chooses_nothing_says_so_in_preflight(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", stop_scope="writers")
    engine.get("shop-db-1").volumes = (("shop_data", False),)
    result = run(engine, tmp_path, check_mode=True)
    plan = t.cast(t.Any, result.plan)
    (scope,) = [c for c in plan.preflight if c.name == "scope"]
    assert scope.ok and scope.message == (
        "stop scope writers: no running container of stack 'shop' mounts read-write one of the job's volumes "
        "('shop_data'); nothing stops"
    )


def test_the_after_phase_keeps_its_own_log_beside_the_workers(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", after__command="upload")
    engine.worker_script = WorkerScript(logs=b"snapshot done\n")
    result = run(engine, tmp_path)
    assert result.worker is not None and result.after is not None
    assert result.worker.log_path == str(tmp_path / "logs" / "backup" / f"{RUN_ID}.log")
    assert result.after.log_path == str(tmp_path / "logs" / "backup" / f"{RUN_ID}.after.log")
    assert (tmp_path / "logs" / "backup" / f"{RUN_ID}.log").read_text() == "snapshot done\n"


def test_pause_mode_freezes_and_thaws_the_whole_stop_set_in_one_batch(engine: FakeEngine, tmp_path: t.Any) -> None:
    label(engine, "shop-web-1", stop_mode="pause")
    assert run(engine, tmp_path).outcome == "success"
    methods = [c.method for c in engine.calls]
    pauses = [i for i, m in enumerate(methods) if m == "pause_container"]
    thaws = [i for i, m in enumerate(methods) if m == "unpause_container"]
    # no level-by-level container list or lease check between the freezes, nor between the thaws
    between = methods[pauses[0] : pauses[-1]] + methods[thaws[0] : thaws[-1]]
    assert "list_containers" not in between and "inspect_container" not in between


def test_the_workers_log_is_read_and_it_is_removed_after_the_restart(engine: FakeEngine, tmp_path: t.Any) -> None:
    engine.worker_script = WorkerScript(logs=b"done\n")
    result = run(engine, tmp_path)
    assert result.outcome == "success" and result.worker is not None
    assert result.worker.log_tail == ["done"] and result.worker.removed
    calls = [(c.method, c.target) for c in engine.calls]
    last_start = max(i for i, (m, n) in enumerate(calls) if m == "start_container" and n.startswith("shop-"))
    logs = calls.index(("container_logs", "bosun-worker-backup-01234567"))
    removed = calls.index(("remove_container", "bosun-worker-backup-01234567"))
    assert last_start < logs < removed


@pytest.mark.parametrize(
    "unit, refused",
    [("db.service", True), ("podman-compose@shop.service", False), ("podman-compose@elsewhere.service", True)],
)
def test_a_container_run_by_a_systemd_unit_is_refused_and_nothing_stops(
    engine: FakeEngine, tmp_path: t.Any, unit: str, refused: bool
) -> None:
    engine.get("shop-db-1").labels["PODMAN_SYSTEMD_UNIT"] = unit
    result = run(engine, tmp_path)
    if refused:
        assert result.outcome == "preflight_failed" and not result.ok
        assert f"container 'shop-db-1' is run by the systemd unit {unit!r}" in result.message
        assert "removes it" in result.message
        assert not [c for c in engine.calls if c.method == "stop_container"]
        assert sorted(engine.running(PROJECT)) == SHOP_RUNNING
    else:  # podman-compose's own label on every container: its template unit neither removes nor restarts
        assert result.outcome == "success", result.message


def test_a_systemd_unit_outside_the_stop_scope_does_not_refuse_the_job(engine: FakeEngine, tmp_path: t.Any) -> None:
    engine.get("shop-cache-1").labels["PODMAN_SYSTEMD_UNIT"] = "cache.service"  # cache mounts nothing
    label(engine, "shop-web-1", stop_scope="writers")
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert "shop-cache-1" in engine.running(PROJECT)


def test_a_run_that_can_outlast_its_max_duration_fails_preflight_and_stops_nothing(
    engine: FakeEngine, tmp_path: t.Any
) -> None:
    label(engine, "shop-db-1", hook__pre="dump", hook__finally="fin")
    bound = plan_job(engine, resolve_job(engine, "backup", PROJECT, None)[0], run_id=RUN_ID).max_duration
    result = run(engine, tmp_path, max_duration=bound - 1)
    assert result.outcome == "preflight_failed" and not result.ok
    assert f"the whole run of job 'backup' takes at most {bound} s" in result.message
    assert f"more than the limit of {bound - 1} s (option max_duration" in result.message
    assert engine.mutations() == [] and engine.execs == []
    assert sorted(engine.running(PROJECT)) == SHOP_RUNNING


def test_a_run_within_its_max_duration_runs_and_its_plan_says_so(engine: FakeEngine, tmp_path: t.Any) -> None:
    bound = plan_job(engine, resolve_job(engine, "backup", PROJECT, None)[0], run_id=RUN_ID).max_duration
    result = run(engine, tmp_path, max_duration=bound)
    assert result.outcome == "success", result.message
    assert result.plan is not None
    [check] = [c for c in result.plan.preflight if c.name == "max_duration"]
    assert check.ok and check.message.endswith(f"within the limit of {bound} s")
    # Without the option there is no such check.
    assert not [
        c
        for c in plan_job(engine, resolve_job(engine, "backup", PROJECT, None)[0]).preflight
        if c.name == "max_duration"
    ]
