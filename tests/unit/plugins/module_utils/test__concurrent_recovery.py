# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two recoveries of one dead lease at once: the other one's removals (HTTP 409) and its release are not failures."""

from __future__ import annotations

import time

import pytest

from ansible_collections.bosun.compose.plugins.module_utils import _docker_api
from ansible_collections.bosun.compose.plugins.module_utils._errors import ConflictError, LeaseError
from ansible_collections.bosun.compose.plugins.module_utils._lease import read_lease
from ansible_collections.bosun.compose.plugins.module_utils._recovery import recover
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    PROJECT,
    Call,
    FakeClock,
    FakeEngine,
    build_shop,
)
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.test__recovery import (
    DEAD_RUN,
    LEASE,
    add_worker,
    control_of,
    dead_owner,
    take,
)

WORKER = "bosun-worker-backup-dddddddd"
ALL = ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]


def in_progress(name: str) -> ConflictError:
    text = f"removal of container {name} is already in progress"
    return ConflictError(f"cannot remove container: {text}", status=409, explanation=text)


@pytest.fixture
def engine(monkeypatch) -> FakeEngine:
    e = build_shop(FakeEngine(FakeClock(time.time())))
    # remove_container_settled waits on the fake clock, not the real one.
    monkeypatch.setattr(_docker_api, "time", e.clock.time_module(), raising=False)
    return e


def test_worker_removal_already_in_progress_counts_as_removed(engine):
    take(engine, dead_owner())
    add_worker(engine, DEAD_RUN)
    # The other recovery removes the worker: our removal gets 409, then the worker is gone.
    engine.fail_on("remove_container", WORKER, in_progress(WORKER), times=1, effect=True)
    result = recover(engine, PROJECT, control=control_of(engine))
    assert (result.action, result.ok, result.released) == ("recovered", True, True), result.message
    assert result.workers_stopped == [WORKER] and engine.workers() == []
    assert engine.running(PROJECT) == ALL and read_lease(engine, PROJECT) is None


def test_worker_stop_conflict_then_removed_elsewhere_counts_as_removed(engine):
    take(engine, dead_owner())
    add_worker(engine, DEAD_RUN)
    engine.fail_on("stop_container", WORKER, in_progress(WORKER), times=1, effect=True)
    engine.fail_on("remove_container", WORKER, in_progress(WORKER), times=1, effect=True)
    result = recover(engine, PROJECT, control=control_of(engine))
    assert (result.action, result.ok, result.released) == ("recovered", True, True), result.message
    assert engine.workers() == [] and engine.running(PROJECT) == ALL


def test_lease_removal_already_in_progress_reports_recovered_concurrently(engine):
    take(engine, dead_owner())
    # The other recovery releases the lease at the same moment: 409 for us, then the lease is gone.
    engine.fail_on("remove_container", LEASE, in_progress(LEASE), times=1, effect=True)
    result = recover(engine, PROJECT, control=control_of(engine))
    assert result.action == "recovered_concurrently" and result.ok and not result.released
    assert "another recovery, running at the same time" in result.message and "3/3 started here" in result.message
    assert result.changed  # this recovery started the stop-set too
    assert engine.running(PROJECT) == ALL and engine.find(LEASE) is None


def test_lease_released_by_the_other_recovery_before_our_start_starts_nothing(engine):
    take(engine, dead_owner())
    add_worker(engine, DEAD_RUN)

    def other_recovery_finishes(e: FakeEngine, _call: Call) -> None:
        # While we stop the worker, the other recovery has started the stop-set and released the lease.
        for name in ("shop-api-1", "shop-api-2", "shop-web-1"):
            e.get(name).state = "running"
        e.remove_container(LEASE)

    engine.on("stop_container", WORKER, other_recovery_finishes)
    result = recover(engine, PROJECT, control=control_of(engine))
    assert result.action == "recovered_concurrently" and result.ok and result.start is None
    assert engine.names("start_container") == []
    assert engine.running(PROJECT) == ALL and engine.workers() == []


def test_a_new_run_holding_the_stack_after_the_other_recovery_is_left_alone(engine):
    take(engine, dead_owner())
    add_worker(engine, DEAD_RUN)

    def other_recovery_then_new_run(e: FakeEngine, _call: Call) -> None:
        e.remove_container(LEASE)
        take(e, dead_owner(), run_id="e" * 32, stopped=["shop-web-1"])

    engine.on("stop_container", WORKER, other_recovery_then_new_run)
    result = recover(engine, PROJECT, control=control_of(engine))
    assert result.action == "recovered_concurrently" and engine.names("start_container") == []
    assert read_lease(engine, PROJECT).run_id == "e" * 32
    assert engine.state_of("shop-web-1") == "exited"


def test_a_conflict_that_does_not_settle_is_still_an_error(engine):
    take(engine, dead_owner())
    add_worker(engine, DEAD_RUN)
    engine.fail_on("remove_container", WORKER, in_progress(WORKER))  # never goes away
    with pytest.raises(LeaseError, match="cannot stop the workers"):
        recover(engine, PROJECT, control=control_of(engine))
    assert engine.names("start_container") == [] and engine.find(LEASE) is not None
