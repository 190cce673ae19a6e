# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The stack comes back whatever gets in the way (fake engine): restart policies held while down and given back,
the lease journal on the host, an Engine that goes away during the restart, containers a prune deleted."""

from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._compose_cli import ComposeProject, RecreateResult
from ansible_collections.bosun.compose.plugins.module_utils._errors import DockerUnavailableError, EngineError
from ansible_collections.bosun.compose.plugins.module_utils._executor import Executor, RunOptions, RunResult
from ansible_collections.bosun.compose.plugins.module_utils._lease import (
    LEASE_EXPIRES,
    LEASE_RUN_ID,
    Owner,
    acquire_lease,
    lease_name,
    list_leases,
    read_lease,
    release_lease,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import RestartPolicy
from ansible_collections.bosun.compose.plugins.module_utils._planner import resolve_job
from ansible_collections.bosun.compose.plugins.module_utils._recovery import recover
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    run_backup as run,
    PROJECT,
    RUN_ID,
    WORKER,
    FakeClock,
    FakeEngine,
    build_shop,
)

LEASE = lease_name(PROJECT)
SHOP_RUNNING = ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]
# What the shop's containers had before the job: one already host-proof, one unless-stopped, the rest none.
BEFORE = {"shop-db-1": "always", "shop-cache-1": "unless-stopped"}


@pytest.fixture
def engine(clock: FakeClock) -> FakeEngine:
    e = build_shop(FakeEngine(clock))
    for name, policy in BEFORE.items():
        e.get(name).host_config["RestartPolicy"] = {"Name": policy, "MaximumRetryCount": 0}
    return e


class Compose:
    """Stands in for the Compose CLI: creates each asked-for service again in the fake engine."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine
        self.asked: list[tuple[ComposeProject, list[str]]] = []
        self.project: ComposeProject | None = None

    def __call__(self, project: ComposeProject) -> Compose:
        self.project = project
        return self

    def recreate(self, services: t.Sequence[str], timeout: float) -> RecreateResult:
        assert self.project is not None
        self.asked.append((self.project, list(services)))
        for s in services:
            self.engine.add_service(PROJECT, s, state="running")
        return RecreateResult(True, "docker compose up " + " ".join(services))

    def manual_command(self, services: t.Sequence[str]) -> str:
        return "docker compose up " + " ".join(services)


def stack_starts(engine: FakeEngine) -> list[str]:
    """The stack's starts before the run's own first stop (what a recovery started)."""
    calls = [
        c for c in engine.calls if c.method in ("start_container", "stop_container") and c.target.startswith("shop-")
    ]
    first_stop = next((i for i, c in enumerate(calls) if c.method == "stop_container"), len(calls))
    return [c.target for c in calls[:first_stop] if c.method == "start_container"]


def policies(engine: FakeEngine) -> dict[str, str]:
    return {n: engine.restart_policy(n) for n in SHOP_RUNNING}


def original() -> dict[str, str]:
    return {n: BEFORE.get(n, "no") for n in SHOP_RUNNING}


def updates(engine: FakeEngine) -> list[tuple[str, str]]:
    return [(c.target, c.args["policy"]) for c in engine.calls if c.method == "update_restart_policy"]


def test_the_stop_set_is_host_proof_while_down_and_gets_its_policies_back(engine, tmp_path):
    seen: dict[str, str] = {}
    engine.on("start_container", WORKER, lambda e, _c: seen.update(policies(e)))
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    # While the worker ran, every stop-set container had "always": a daemon restart would have started it.
    assert seen == {n: "always" for n in SHOP_RUNNING}
    assert policies(engine) == original()
    # Set before the first stop, given back after the last start; the one that had "always" is never touched.
    calls = [
        c.method for c in engine.calls if c.method in ("update_restart_policy", "stop_container", "start_container")
    ]
    first_stop, last_start = calls.index("stop_container"), len(calls) - 1 - calls[::-1].index("start_container")
    assert set(calls[:first_stop]) == {"update_restart_policy"} and len(calls[:first_stop]) == 4
    assert set(calls[last_start + 1 :]) == {"update_restart_policy"} and len(calls[last_start + 1 :]) == 4
    assert "shop-db-1" not in {n for n, _p in updates(engine)}
    stop_step = result.plan.stop_step if result.plan else None
    assert stop_step is not None and "4 of them have restart policy always" in stop_step.description


def test_the_lease_records_the_policies_to_give_back(engine, tmp_path):
    recorded: dict[str, t.Any] = {}

    def look(e: FakeEngine, _c: t.Any) -> None:
        lease = read_lease(e, PROJECT)
        assert lease is not None
        recorded.update({entry["name"]: p.name for entry, p in lease.held_policies})

    engine.on("start_container", WORKER, look)
    assert run(engine, tmp_path).outcome == "success"
    assert recorded == {n: p for n, p in original().items() if n != "shop-db-1"}


def test_keep_stopped_gives_the_policies_back_too(engine, tmp_path):
    result = run(engine, tmp_path, keep_stopped=True)
    assert result.outcome == "success", result.message
    assert engine.running(PROJECT) == [] or set(engine.running(PROJECT)).isdisjoint(SHOP_RUNNING)
    assert policies(engine) == original()  # a later daemon restart must not start what was kept stopped


def test_a_container_that_refuses_the_policy_is_a_warning_and_the_job_runs(engine, tmp_path):
    engine.fail_on("update_restart_policy", "shop-web-1", EngineError("conflicting options: auto-remove", status=400))
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert any(
        "'shop-web-1'" in w and "daemon restart during the job would leave it stopped" in w for w in result.warnings
    )
    assert engine.running(PROJECT) == SHOP_RUNNING


def test_a_recovery_gives_back_the_policies_a_dead_run_recorded(engine, tmp_path):
    here = Owner.current()
    dead = Owner(here.hostname, here.boot_id, here.pid, (here.pid_start or 0) + 12345)
    stack = [engine.get(n).record() for n in SHOP_RUNNING]
    held = {c.id: RestartPolicy(BEFORE.get(c.name, "no")) for c in stack if c.name != "shop-db-1"}
    acquire_lease(engine, PROJECT, "d" * 32, "backup", stack, 3600, dead, stack[0].image_id, restart_policies=held)
    for c in stack:  # the daemon restarted and started them (policy always), then the run died
        engine.get(c.name).host_config["RestartPolicy"] = {"Name": "always", "MaximumRetryCount": 0}
    rec = recover(
        engine, PROJECT, control=StackControl(engine, PROJECT, sleep=engine.clock.sleep), sleep=engine.clock.sleep
    )
    assert rec.action == "recovered" and rec.released, rec.message
    assert policies(engine) == original()
    assert engine.find(LEASE) is None


def test_a_pruned_lease_lives_on_in_its_journal_and_a_second_run_is_refused(engine, tmp_path):
    outcome: dict[str, RunResult] = {}

    def prune_then_run_again(e: FakeEngine, _c: t.Any) -> None:
        e.remove_container(LEASE)  # docker container prune while the worker runs
        journal = json.loads((tmp_path / "leases" / f"{PROJECT}.json").read_text(encoding="utf-8"))
        assert journal[LEASE_RUN_ID] == RUN_ID
        job, secret = resolve_job(e, "backup", PROJECT, None)
        second = Executor(e, str(tmp_path), wall=e.clock.wall, clock=e.clock.monotonic, sleep=e.clock.sleep)
        outcome["second"] = second.run(job, RunOptions(secret_env=secret, run_id="e" * 32, lock_timeout=0))

    engine.on("start_container", WORKER, prune_then_run_again)
    result = run(engine, tmp_path)
    second = outcome["second"]
    assert second.outcome == "locked" and RUN_ID in second.message, second.message
    assert result.outcome == "success", result.message
    assert engine.running(PROJECT) == SHOP_RUNNING
    assert not (tmp_path / "leases" / f"{PROJECT}.json").exists()


def test_a_dead_runs_journal_is_recovered_when_its_lease_was_pruned(engine, tmp_path):
    here = Owner.current()
    dead = Owner(here.hostname, here.boot_id, here.pid, (here.pid_start or 0) + 12345)
    stack = [engine.get(n).record() for n in SHOP_RUNNING]
    acquire_lease(engine, PROJECT, "d" * 32, "backup", stack, 3600, dead, stack[0].image_id, state_dir=str(tmp_path))
    for c in stack:
        engine.get(c.name).state = "exited"
    engine.remove_container(LEASE)
    assert read_lease(engine, PROJECT) is None
    lease = read_lease(engine, PROJECT, str(tmp_path))
    assert lease is not None and lease.source == "journal" and lease.run_id == "d" * 32
    result = run(engine, tmp_path)  # the next run recovers the dead run's stack from the journal, then runs
    assert result.outcome == "success", result.message
    assert sorted(stack_starts(engine)) == SHOP_RUNNING  # the recovery started the dead run's stop-set
    assert engine.running(PROJECT) == SHOP_RUNNING
    assert not (tmp_path / "leases" / f"{PROJECT}.json").exists()


def test_an_engine_that_goes_away_during_the_restart_is_waited_for_and_the_run_completes(engine, tmp_path):
    gone = DockerUnavailableError("cannot list containers: connection refused")

    def daemon_restarts(e: FakeEngine, _c: t.Any) -> None:  # while the worker runs: the restart meets it
        e.fail_on("list_containers", None, gone, times=1)
        e.fail_on("ping", None, gone, times=2)

    engine.on("start_container", WORKER, daemon_restarts)
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert engine.names("ping") == ["engine"] * 3  # refused twice, then the Engine answered
    assert engine.running(PROJECT) == SHOP_RUNNING
    assert policies(engine) == original()
    assert engine.find(LEASE) is None


def test_containers_a_prune_deleted_are_recreated_by_compose_from_the_lease(engine, tmp_path):
    compose = Compose(engine)

    def prune(e: FakeEngine, _c: t.Any) -> None:
        for n in ("shop-web-1", "shop-api-1"):
            e.remove_container(e.get(n).id)

    engine.on("start_container", WORKER, prune)
    result = run(engine, tmp_path, recreator=compose)
    assert result.outcome == "success", result.message
    assert [services for _p, services in compose.asked] == [["api", "web"]]
    assert compose.asked[0][0].project == PROJECT
    assert sorted(engine.running(PROJECT)) == SHOP_RUNNING
    assert any("deleted while it was down" in w and "'shop-web-1'" in w for w in result.warnings)
    restart = next(s for s in result.steps if s.type == "start_containers")
    assert "created again by Compose" in restart.detail


def test_list_leases_shows_a_pruned_lease_from_its_journal_once(engine, tmp_path):
    stack = [engine.get("shop-web-1").record()]
    acquire_lease(
        engine, PROJECT, "a" * 32, "backup", stack, 3600, Owner.current(), stack[0].image_id, state_dir=str(tmp_path)
    )
    assert [(x.project, x.source) for x in list_leases(engine, str(tmp_path)).leases] == [(PROJECT, "daemon")]
    engine.remove_container(LEASE)
    assert list_leases(engine).leases == ()
    assert [(x.project, x.source, x.run_id) for x in list_leases(engine, str(tmp_path)).leases] == [
        (PROJECT, "journal", "a" * 32)
    ]


def test_list_leases_sets_broken_leases_apart_and_lists_the_others(engine, tmp_path):
    stack = [engine.get("shop-web-1").record()]
    acquire_lease(engine, PROJECT, "a" * 32, "backup", stack, 3600, Owner.current(), stack[0].image_id)
    other = [engine.get("other-app-1").record()]
    acquire_lease(
        engine, "other", "b" * 32, "backup", other, 3600, Owner.current(), other[0].image_id, state_dir=str(tmp_path)
    )
    engine.get(lease_name("other")).labels[LEASE_EXPIRES] = "soon"
    listing = list_leases(engine, str(tmp_path))
    assert [x.project for x in listing.leases] == [PROJECT]
    # The broken lease container hides its journal: the journal of a lease whose container is there is not read.
    assert [(e.context["project"], e.context["label"], e.context["run_id"]) for e in listing.broken] == [
        ("other", LEASE_EXPIRES, "b" * 32)
    ]
    (problem,) = listing.problems()
    assert problem.to_dict() == {
        "severity": "error",
        "kind": "container",
        "object": "bosun-lease-other",
        "label": LEASE_EXPIRES,
        "value": "soon",
        "message": "container 'bosun-lease-other': " + listing.broken[0].message,
        "job": None,
    }
    assert listing.problems(PROJECT) == [] and listing.problems("other") == [problem]


@pytest.mark.parametrize("pruned", [False, True], ids=["lease container", "pruned: journal only"])
def test_of_two_releases_at_once_exactly_one_counts_itself_the_releaser(engine, tmp_path, monkeypatch, pruned):
    stack = [engine.get("shop-web-1").record()]
    args = ("a" * 32, "backup", stack, 3600, Owner.current(), stack[0].image_id)
    lease = acquire_lease(engine, PROJECT, *args, state_dir=str(tmp_path))
    if pruned:
        engine.remove_container(LEASE)
    others: list[bool] = []
    real_remove = engine.remove_container_settled

    def remove_then_the_other_release(cid: str, **kw: t.Any) -> bool:
        removed = real_remove(cid, **kw)
        if cid in (LEASE, lease.container_id) and not others:
            others.append(release_lease(engine, lease))  # a second recovery arrives right after the removal
        return removed

    monkeypatch.setattr(engine, "remove_container_settled", remove_then_the_other_release)
    first = release_lease(engine, lease)
    if not others:  # pruned: nothing to remove, the second release comes after the first
        others.append(release_lease(engine, lease))
    assert [first, *others].count(True) == 1, (first, others)
    assert engine.find(LEASE) is None and not (tmp_path / "leases" / f"{PROJECT}.json").exists()


def test_a_policy_that_cannot_be_given_back_keeps_the_lease_and_the_recovery_gives_it_back(engine, tmp_path):
    engine.fail_on(
        "update_restart_policy", "shop-web-1", DockerUnavailableError("connection refused"), after=1, times=1
    )
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert any("'shop-web-1'" in w and "the lease is kept" in w for w in result.warnings), result.warnings
    assert engine.restart_policy("shop-web-1") == "always" and engine.running(PROJECT) == SHOP_RUNNING
    held = read_lease(engine, PROJECT)
    assert held is not None and held.run_id == RUN_ID
    rec = recover(
        engine,
        PROJECT,
        now=held.expires + 1,
        control=StackControl(engine, PROJECT, sleep=engine.clock.sleep),
        sleep=engine.clock.sleep,
    )
    assert rec.action == "recovered" and rec.released, rec.message
    assert policies(engine) == original()


def test_on_podman_no_restart_policy_is_touched(engine, tmp_path):
    engine.engine_kind = "podman"  # no daemon whose restart stops containers, and no policy update (HTTP 404)
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert updates(engine) == [] and policies(engine) == original()
    assert result.plan is not None and result.plan.stop_step.restart_policies == {}
    assert "restart policy always" not in result.plan.stop_step.description


def test_a_worker_left_by_a_lost_engine_is_stopped_and_removed_before_the_restart(engine, tmp_path):
    gone = DockerUnavailableError("cannot wait for the worker: connection reset")
    engine.fail_on("wait_container", WORKER, gone, times=1)
    engine.fail_on("remove_container", WORKER, gone, times=1)  # the runner's own clean-up meets the same outage
    engine.fail_on("stop_container", WORKER, gone, times=1)
    result = run(engine, tmp_path)
    assert result.outcome == "worker_failed", result.message
    assert engine.workers() == [] and engine.running(PROJECT) == SHOP_RUNNING
    calls = [(c.method, c.target) for c in engine.calls]
    first_start = next(i for i, (m, n) in enumerate(calls) if m == "start_container" and n.startswith("shop-"))
    last_removal = max(i for i, (m, n) in enumerate(calls) if m == "remove_container" and n == WORKER)
    assert last_removal < first_start  # the stack never ran beside the worker


def test_a_worker_left_by_a_lost_engine_is_removed_when_the_stack_is_kept_stopped(engine, tmp_path):
    gone = DockerUnavailableError("cannot wait for the worker: connection reset")
    engine.fail_on("wait_container", WORKER, gone, times=1)
    engine.fail_on("remove_container", WORKER, gone, times=1)
    result = run(engine, tmp_path, keep_stopped=True)
    assert result.outcome == "worker_failed", result.message
    assert engine.workers() == []  # nothing is restarted, but the worker does not stay behind
    assert engine.running(PROJECT) == [] and engine.find(LEASE) is None


def test_starts_refused_by_a_daemon_shutting_down_are_tried_again_once_it_answers(engine, tmp_path):
    # A daemon that restarts still lists containers, then refuses the starts (its socket is gone).
    engine.fail_on("start_container", "shop-db-1", DockerUnavailableError("connection aborted"), times=1)
    engine.fail_on("ping", None, DockerUnavailableError("no socket"), times=2)
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert engine.running(PROJECT) == SHOP_RUNNING and engine.find(LEASE) is None
    assert engine.names("start_container", "shop-db-1") == ["shop-db-1", "shop-db-1"]


def test_a_failed_start_keeps_the_lease_and_the_policies_until_the_retry(engine, tmp_path):
    # Refused twice: at the restart and when it is tried again right after.
    engine.fail_on("start_container", "shop-web-1", EngineError("OCI runtime create failed", status=500), times=2)
    result = run(engine, tmp_path)
    assert result.outcome == "start_failed", result.message
    held = read_lease(engine, PROJECT)
    assert held is not None and held.run_id == RUN_ID
    # Still host-proof: a daemon restart may yet start what failed; the retry gives the policies back.
    assert engine.restart_policy("shop-web-1") == "always"
    rec = recover(
        engine,
        PROJECT,
        now=held.expires + 1,
        control=StackControl(engine, PROJECT, sleep=engine.clock.sleep),
        sleep=engine.clock.sleep,
    )
    assert rec.action == "recovered" and rec.released, rec.message
    assert engine.running(PROJECT) == SHOP_RUNNING and policies(engine) == original()
