# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A cancel before any downtime stops nothing; one during the restart is absorbed (FakeEngine, no Docker)."""

from __future__ import annotations


import pytest

from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._lease import Owner, acquire_lease, lease_name
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    run_backup as run,
    PROJECT,
    WORKER,
    FakeClock,
    FakeEngine,
    build_shop,
)

LEASE = lease_name(PROJECT)
ALL = ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]


@pytest.fixture
def engine(clock: FakeClock) -> FakeEngine:
    return build_shop(FakeEngine(clock))


def stack_calls(engine: FakeEngine) -> list[str]:
    return [c.target for c in engine.calls if c.method in ("stop_container", "start_container")]


def test_a_cancel_as_the_lease_is_taken_releases_it_and_creates_no_worker(engine, tmp_path):
    cancel = Cancellation()
    engine.on("create_container", LEASE, lambda _e, _c: cancel.event.set())
    result = run(engine, tmp_path, cancel)
    assert result.outcome == "cancelled", result.message
    assert result.message == "cancelled before anything was stopped; the lease was released"
    assert engine.names("create_container") == [LEASE] and engine.names("remove_container") == [LEASE]
    assert stack_calls(engine) == [] and result.steps == [] and result.stopped == []
    assert engine.running(PROJECT) == ALL


def test_a_cancel_while_the_worker_is_created_removes_it_and_stops_nothing(engine, tmp_path):
    cancel = Cancellation()
    engine.on("create_container", WORKER, lambda _e, _c: cancel.event.set())
    result = run(engine, tmp_path, cancel)
    assert result.outcome == "cancelled", result.message
    assert "before anything was stopped; the unused worker was removed and the lease released" in result.message
    assert engine.names("remove_container") == [WORKER, LEASE]
    assert stack_calls(engine) == [] and engine.workers() == [] and engine.find(LEASE) is None


def test_a_cancel_during_a_dead_runs_recovery_lets_it_finish_then_takes_nothing(engine, tmp_path):
    here = Owner.current()
    dead = Owner(here.hostname, here.boot_id, here.pid, (here.pid_start or 0) + 12345)
    web = engine.get("shop-web-1")
    acquire_lease(engine, PROJECT, "d" * 32, "backup", [web.record()], 3600, dead, web.image_id)
    web.state = "exited"
    engine.calls.clear()
    cancel = Cancellation()
    # The signal comes while the recovery restarts what the dead run stopped.
    engine.on("start_container", "shop-web-1", lambda _e, _c: cancel.event.set())
    result = run(engine, tmp_path, cancel)
    assert result.outcome == "cancelled", result.message
    assert "the dead run's stack was recovered and the lease was never taken" in result.message
    assert stack_calls(engine) == ["shop-web-1"]  # the recovery's start, nothing of this run
    assert engine.names("create_container") == [] and engine.find(LEASE) is None
    assert engine.running(PROJECT) == ALL


def test_a_cancel_during_the_restart_is_absorbed_and_the_outcome_is_what_the_job_did(engine, tmp_path):
    cancel = Cancellation()
    engine.on("start_container", "shop-db-1", lambda _e, _c: cancel.event.set())
    result = run(engine, tmp_path, cancel)
    assert result.outcome == "success", result.message
    assert [(s.type, s.status) for s in result.steps][-1] == ("start_containers", "ok")
    assert sorted(b["name"] for b in result.restarted) == ALL and engine.running(PROJECT) == ALL
    assert cancel.is_set  # it was seen, and ignored: the restart is never interrupted


def test_a_triggered_cancel_reports_its_reason_and_a_later_signal_does_not_replace_it():
    cancel = Cancellation()
    assert not cancel.is_set and cancel.reason == "cancelled"
    cancel.trigger("controller lost: no poll for 61s")
    cancel._handle(15, None)  # pylint: disable=protected-access
    assert cancel.is_set
    assert cancel.reason == "controller lost: no poll for 61s"
    assert cancel.signal is None


def test_a_signal_first_keeps_its_reason_over_a_later_trigger():
    cancel = Cancellation()
    cancel._handle(15, None)  # pylint: disable=protected-access
    cancel.trigger("controller lost")
    assert cancel.reason == "received SIGTERM"
