# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of restart_and_release() and recover() against the in-memory FakeEngine."""

from __future__ import annotations

import time
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    DockerUnavailableError,
    EngineError,
    LeaseError,
)
from ansible_collections.bosun.compose.plugins.module_utils._lease import (
    Lease,
    Owner,
    acquire_lease,
    lease_name,
    read_lease,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import LABEL_WORKER_JOB, LABEL_WORKER_RUN_ID
from ansible_collections.bosun.compose.plugins.module_utils._recovery import recover, restart_and_release
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    PROJECT,
    FakeClock,
    FakeEngine,
    build_shop,
)

LEASE = lease_name(PROJECT)
DEAD_RUN = "d" * 32
STOPPED = ["shop-api-1", "shop-api-2", "shop-web-1"]


@pytest.fixture
def engine() -> FakeEngine:
    return build_shop(FakeEngine(FakeClock(time.time())))


def control_of(engine: FakeEngine) -> StackControl:
    return StackControl(engine, PROJECT, clock=engine.clock.monotonic, sleep=engine.clock.sleep)


def take(
    engine: FakeEngine, owner: Owner, run_id: str = DEAD_RUN, stopped: t.Sequence[str] | None = None, **kw: t.Any
) -> Lease:
    """A lease on the stop-set (default STOPPED), whose containers are then down."""
    stopped = STOPPED if stopped is None else stopped
    records = [engine.get(n).record() for n in stopped]
    lease = acquire_lease(
        engine, PROJECT, run_id, "backup", records, kw.pop("ttl", 3600), owner, records[0].image_id, **kw
    )
    for n in stopped:
        engine.get(n).state = "exited"
    engine.calls.clear()
    return lease


def dead_owner() -> Owner:
    here = Owner.current()
    return Owner(here.hostname, here.boot_id, here.pid, (here.pid_start or 0) + 999)


def add_worker(engine: FakeEngine, run_id: str, state: str = "running") -> str:
    cid = engine.create_container(
        "worker",
        "tools:1",
        name=f"bosun-worker-backup-{run_id[:8]}",
        labels={LABEL_WORKER_RUN_ID: run_id, LABEL_WORKER_JOB: "backup"},
    )
    engine.get(cid).state = state
    engine.calls.clear()
    return cid


# restart_and_release


def test_restart_and_release_starts_the_stop_set_and_releases(engine):
    lease = take(engine, Owner.current())
    start, released = restart_and_release(control_of(engine), list(lease.stop_set), 30, lease)
    assert start.ok and released and engine.find(LEASE) is None
    starts = engine.names("start_container")
    assert sorted(starts[:2]) == ["shop-api-1", "shop-api-2"] and starts[2:] == ["shop-web-1"]
    assert engine.names("remove_container") == [LEASE]


def test_restart_and_release_keeps_the_lease_when_an_existing_container_fails(engine):
    lease = take(engine, Owner.current())
    engine.fail_on("start_container", "shop-api-2", EngineError("no", status=500, explanation="no"))
    start, released = restart_and_release(control_of(engine), list(lease.stop_set), 30, lease)
    assert not start.ok and not released
    assert read_lease(engine, PROJECT) is not None and engine.names("remove_container") == []
    assert engine.state_of("shop-web-1") == "running"  # the others still start


def test_restart_and_release_releases_when_the_only_failure_is_a_gone_container(engine):
    lease = take(engine, Owner.current())
    engine.remove_container(engine.get("shop-api-2").id)
    start, released = restart_and_release(control_of(engine), list(lease.stop_set), 30, lease)
    assert [f.gone for f in start.failed] == [True] and released and engine.find(LEASE) is None


def test_restart_and_release_without_a_lease_releases_nothing(engine):
    take(engine, Owner.current())
    start, released = restart_and_release(control_of(engine), STOPPED, 30, None)
    assert start.ok and not released and engine.find(LEASE) is not None


def test_restart_and_release_leaves_another_runs_lease_alone(engine):
    mine = take(engine, Owner.current(), run_id="a" * 32)
    engine.remove_container(LEASE)  # pruned; another run took the stack since
    db = engine.get("shop-db-1")
    acquire_lease(engine, PROJECT, "b" * 32, "other", [db.record()], 3600, Owner.current(), db.image_id)
    start, released = restart_and_release(control_of(engine), list(mine.stop_set), 30, mine)
    assert start.ok and not released
    assert read_lease(engine, PROJECT).run_id == "b" * 32


def test_an_exception_from_the_start_leaves_the_lease_in_place(engine):
    lease = take(engine, Owner.current())
    engine.fail_on("list_containers", None, DockerUnavailableError("gone"))
    with pytest.raises(DockerUnavailableError):
        restart_and_release(control_of(engine), list(lease.stop_set), 30, lease)
    assert engine.find(LEASE) is not None and engine.names("start_container") == []


# recover


def test_recover_without_a_lease_is_none(engine):
    result = recover(engine, PROJECT)
    assert (result.action, result.changed, result.ok) == ("none", False, True)
    assert engine.mutations() == []


def test_recover_of_another_run_id_is_other_run(engine):
    take(engine, dead_owner())
    result = recover(engine, PROJECT, run_id="x" * 32)
    assert result.action == "other_run" and not result.changed and engine.mutations() == []
    assert result.lease is not None and result.lease.run_id == DEAD_RUN


@pytest.mark.parametrize("run_id, words", [(None, "its owner is alive"), (DEAD_RUN, "still in progress")])
def test_recover_of_a_live_run_is_in_progress_and_touches_nothing(engine, run_id, words):
    take(engine, Owner.current())
    result = recover(engine, PROJECT, run_id=run_id)
    assert result.action == "in_progress" and words in result.message and not result.changed
    assert engine.mutations() == [] and engine.find(LEASE) is not None


def test_recover_in_check_mode_would_recover_and_touches_nothing(engine):
    take(engine, dead_owner())
    add_worker(engine, DEAD_RUN)
    result = recover(engine, PROJECT, check=True)
    assert result.action == "would_recover" and result.changed
    assert result.workers_stopped == ["bosun-worker-backup-dddddddd"]
    assert engine.mutations() == []


def test_recover_stops_the_dead_runs_worker_then_starts_the_stop_set_and_releases(engine):
    take(engine, dead_owner())
    add_worker(engine, DEAD_RUN)
    add_worker(engine, "c" * 32)  # another run's worker: not ours to stop
    result = recover(engine, PROJECT, control=control_of(engine))
    assert result.action == "recovered" and result.ok and result.released
    assert result.workers_stopped == ["bosun-worker-backup-dddddddd"]
    order = [(c.method, c.target) for c in engine.mutations()]
    assert order[:2] == [
        ("stop_container", "bosun-worker-backup-dddddddd"),
        ("remove_container", "bosun-worker-backup-dddddddd"),
    ]
    starts = [n for m, n in order if m == "start_container"]
    assert sorted(starts[:2]) == ["shop-api-1", "shop-api-2"] and starts[2:] == ["shop-web-1"]
    assert order[-1] == ("remove_container", LEASE)
    assert engine.running(PROJECT) == ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]
    assert engine.state_of("bosun-worker-backup-cccccccc") == "running"


def test_recover_of_an_expired_lease_without_pid(engine):
    take(engine, Owner("other-host"), ttl=1, now=time.time() - 10)
    result = recover(engine, PROJECT)
    assert result.action == "recovered" and result.released and engine.find(LEASE) is None


def test_recover_keeps_the_lease_when_a_container_cannot_start(engine):
    take(engine, dead_owner())
    engine.fail_on("start_container", "shop-web-1", EngineError("no", status=500, explanation="no"))
    result = recover(engine, PROJECT, control=control_of(engine))
    assert result.action == "recovered" and not result.ok and not result.released
    assert "lease is kept" in result.message and engine.find(LEASE) is not None


def test_recover_starts_nothing_when_the_worker_cannot_be_stopped(engine):
    take(engine, dead_owner())
    add_worker(engine, DEAD_RUN)
    engine.fail_on("stop_container", "bosun-worker-*", EngineError("stuck", status=500, explanation="stuck"))
    with pytest.raises(LeaseError, match="never run beside"):
        recover(engine, PROJECT)
    assert engine.names("start_container") == [] and engine.find(LEASE) is not None


def test_recovery_waits_until_every_stop_the_dead_run_began_has_ended() -> None:
    engine = build_shop(FakeEngine(FakeClock(time.time())))
    here = Owner.current()
    dead = Owner(here.hostname, here.boot_id, here.pid, (here.pid_start or 0) + 12345)
    record = engine.get("shop-web-1").record()
    acquire_lease(engine, PROJECT, "d" * 32, "backup", [record], 3600, dead, record.image_id, stop_budget=30)
    # web still runs: Docker is still stopping it for the dead run (its stop ends during the wait)
    slept: list[tuple[float, list[str]]] = []

    def wait(seconds: float) -> None:
        slept.append((seconds, engine.names("start_container")))
        engine.get("shop-web-1").state = "exited"

    result = recover(engine, PROJECT, sleep=wait)
    assert result.action == "recovered" and result.released
    [(seconds, started_before)] = slept
    assert 25 < seconds <= 30  # until created + stop budget, measured from now
    assert started_before == [] and engine.names("start_container") == ["shop-web-1"]


def test_recovery_does_not_wait_when_no_container_of_the_stop_set_still_runs() -> None:
    engine = build_shop(FakeEngine(FakeClock(time.time())))
    here = Owner.current()
    dead = Owner(here.hostname, here.boot_id, here.pid, (here.pid_start or 0) + 12345)
    record = engine.get("shop-web-1").record()
    acquire_lease(engine, PROJECT, "d" * 32, "backup", [record], 3600, dead, record.image_id, stop_budget=30)
    engine.get("shop-web-1").state = "exited"  # the dead run's stop has ended
    slept: list[float] = []
    assert recover(engine, PROJECT, sleep=slept.append).action == "recovered"
    assert slept == [] and engine.names("start_container") == ["shop-web-1"]


def test_recovery_does_not_wait_once_the_stop_budget_has_passed() -> None:
    engine = build_shop(FakeEngine(FakeClock(time.time())))
    here = Owner.current()
    dead = Owner(here.hostname, here.boot_id, here.pid, (here.pid_start or 0) + 12345)
    record = engine.get("shop-web-1").record()
    acquire_lease(
        engine, PROJECT, "d" * 32, "backup", [record], 3600, dead, record.image_id, stop_budget=30, now=time.time() - 60
    )
    slept: list[float] = []
    assert recover(engine, PROJECT, sleep=slept.append).action == "recovered"
    assert slept == []
