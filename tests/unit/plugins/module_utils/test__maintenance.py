# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the stack module's core (stop, start, recover a maintenance window) against the FakeEngine."""

from __future__ import annotations

import threading
import time
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    DockerUnavailableError,
    EngineError,
    LeaseError,
    LeaseHeldError,
)
from ansible_collections.bosun.compose.plugins.module_utils._lease import (
    LEASE_OWNER,
    LEASE_RUN_ID,
    LEASE_STOP_SET,
    Owner,
    acquire_lease,
    lease_name,
    read_lease,
)
from ansible_collections.bosun.compose.plugins.module_utils._maintenance import (
    WindowResult,
    recover_run,
    recover_stack,
    start_stop_set,
    stop_for_maintenance,
)
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    PROJECT,
    STOP_ORDER,
    FakeClock,
    FakeEngine,
    build_shop,
)

LEASE = lease_name(PROJECT)
RUN = "m" * 32
ALL = sorted(n for level in STOP_ORDER for n in level)


@pytest.fixture
def engine() -> FakeEngine:
    return build_shop(FakeEngine(FakeClock(time.time())))


def control_of(engine: FakeEngine) -> StackControl:
    return StackControl(engine, PROJECT, clock=engine.clock.monotonic, sleep=engine.clock.sleep)


def stop(engine: FakeEngine, **kw: t.Any) -> WindowResult:
    return stop_for_maintenance(control_of(engine), run_id=RUN, job="maint", lease_ttl=600, start_timeout=30, **kw)


def start(engine: FakeEngine, **kw: t.Any) -> WindowResult:
    kw.setdefault("run_id", None)
    kw.setdefault("containers", None)
    return start_stop_set(control_of(engine), start_timeout=30, **kw)


def briefs(items: list[dict[str, t.Any]]) -> list[str]:
    return sorted(str(b["name"]) for b in items)


# stop_for_maintenance


def test_stop_takes_a_lease_without_pid_and_stops_dependents_first(engine):
    result = stop(engine)
    assert result.error is None and result.changed and result.summary == "5/5 stopped"
    stops = engine.names("stop_container")
    assert stops[0] == "shop-web-1" and sorted(stops[1:3]) == STOP_ORDER[1] and sorted(stops[3:]) == STOP_ORDER[2]
    assert engine.running(PROJECT) == [] and engine.running("other") == ["other-app-1"]
    lease = read_lease(engine, PROJECT)
    assert lease is not None and lease.run_id == RUN and lease.owner.pid is None
    assert sorted(e["name"] for e in lease.stop_set) == ALL
    assert engine.calls.index(next(c for c in engine.calls if c.method == "create_container")) < engine.calls.index(
        next(c for c in engine.calls if c.method == "stop_container")
    )
    assert result.diff == {"before": dict.fromkeys(ALL, "running"), "after": dict.fromkeys(ALL, "stopped")}


def test_stop_of_services_adds_dependents_and_leaves_the_rest_running(engine):
    result = stop(engine, services=["api"])
    assert result.added_services == ["web"]
    assert briefs(result.stopped) == ["shop-api-1", "shop-api-2", "shop-web-1"]
    assert engine.running(PROJECT) == ["shop-cache-1", "shop-db-1"]


def test_stop_in_check_mode_touches_nothing(engine):
    result = stop(engine, check=True)
    assert result.changed and result.summary == "would stop 5 container(s)"
    assert engine.mutations() == []


def test_stop_with_nothing_running_takes_no_lease(engine):
    for n in ALL:
        engine.get(n).state = "exited"
    result = stop(engine)
    assert not result.changed and result.stopped == [] and engine.mutations() == []


def test_stop_refuses_a_held_stack(engine):
    web = engine.get("shop-web-1")
    acquire_lease(engine, PROJECT, "h" * 32, "job", [web.record()], 600, Owner.current(), web.image_id)
    engine.calls.clear()
    with pytest.raises(LeaseHeldError):
        stop(engine)
    assert engine.names("stop_container") == []


def test_failed_stop_is_rolled_back_and_the_lease_released(engine):
    engine.fail_on("stop_container", "shop-api-1", EngineError("no", status=500, explanation="device busy"))
    result = stop(engine)
    assert result.error is not None and "device busy" in result.error and "started again" in result.error
    assert briefs(result.stopped) == ["shop-api-2", "shop-web-1"]
    assert engine.names("start_container") == ["shop-api-2", "shop-web-1"]
    assert engine.running(PROJECT) == ALL and engine.find(LEASE) is None and result.released
    assert engine.state_of("shop-adminer-1") == "exited"


def test_failed_stop_that_took_effect_is_rolled_back_too(engine):
    # The daemon stopped shop-api-1 but the answer was lost; the rollback starts the whole stop-set.
    engine.fail_on("stop_container", "shop-api-1", DockerUnavailableError("read timed out"), effect=True)
    result = stop(engine)
    assert result.error is not None and "read timed out" in result.error
    assert sorted(engine.names("start_container")) == ["shop-api-1", "shop-api-2", "shop-web-1"]
    assert engine.running(PROJECT) == ALL and engine.find(LEASE) is None


def test_cancelled_stop_is_rolled_back(engine):
    cancel = threading.Event()
    engine.on("stop_container", "shop-web-1", lambda _e, _c: cancel.set())
    result = stop(engine, cancel=cancel)
    assert result.error is not None and "interrupted" in result.error
    assert engine.names("stop_container") == ["shop-web-1"] and engine.names("start_container") == ["shop-web-1"]
    assert engine.running(PROJECT) == ALL and engine.find(LEASE) is None


def test_stop_interrupted_by_a_lost_engine_starts_the_whole_stop_set(engine):
    engine.fail_on(
        "list_containers", "com.docker.compose.project=shop", DockerUnavailableError("reset"), after=2, times=1
    )  # plan, level 1, then the list of level 2 fails
    result = stop(engine)
    assert result.error is not None and "reset" in result.error and result.summary.startswith("stop interrupted")
    assert engine.names("stop_container") == ["shop-web-1"] and engine.names("start_container") == ["shop-web-1"]
    assert result.start is not None and result.start["summary"] == "5/5 started"
    assert engine.running(PROJECT) == ALL and engine.find(LEASE) is None


# start_stop_set


def test_start_from_the_lease_starts_its_stop_set_and_releases(engine):
    stop(engine)
    engine.calls.clear()
    result = start(engine)
    assert result.error is None and result.released and result.changed and result.run_id == RUN
    starts = engine.names("start_container")
    assert sorted(starts[:2]) == STOP_ORDER[2] and sorted(starts[2:4]) == STOP_ORDER[1] and starts[4] == "shop-web-1"
    assert engine.running(PROJECT) == ALL and engine.find(LEASE) is None
    assert "shop-adminer-1" not in starts


def test_start_of_given_containers_with_the_lease_run_id_releases(engine):
    stop(engine, services=["web"])
    result = start(engine, run_id=RUN, containers=["shop-web-1"])
    assert result.error is None and result.released and engine.find(LEASE) is None


def test_start_of_given_containers_without_run_id_keeps_the_lease(engine):
    stop(engine)
    engine.calls.clear()
    result = start(engine, containers=["shop-db-1"])
    assert engine.names("start_container") == ["shop-db-1"] and not result.released
    assert engine.find(LEASE) is not None


def test_start_refuses_a_live_processs_lease_without_run_id(engine):
    web = engine.get("shop-web-1")
    acquire_lease(engine, PROJECT, "j" * 32, "backup", [web.record()], 600, Owner.current(), web.image_id)
    web.state = "exited"
    engine.calls.clear()
    result = start(engine)
    assert result.error is not None and "live process" in result.error
    assert engine.mutations() == [] and engine.state_of("shop-web-1") == "exited"
    ok = start(engine, run_id="j" * 32)
    assert ok.error is None and ok.released and engine.state_of("shop-web-1") == "running"


def test_start_of_another_runs_lease_is_refused(engine):
    stop(engine)
    engine.calls.clear()
    result = start(engine, run_id="z" * 32)
    assert result.error is not None and "not by run" in result.error and engine.mutations() == []


def test_start_without_lease_or_containers_does_nothing(engine):
    result = start(engine)
    assert not result.changed and "nothing to start" in result.summary and engine.mutations() == []


def test_start_in_check_mode_touches_nothing(engine):
    stop(engine)
    engine.calls.clear()
    result = start(engine, check=True)
    assert result.changed and result.summary == "would start 5 of 5" and engine.mutations() == []


def test_start_failure_keeps_the_lease_and_says_so(engine):
    stop(engine)
    engine.fail_on("start_container", "shop-db-1", EngineError("no", status=500, explanation="disk full"))
    result = start(engine)
    assert result.error is not None and "disk full" in result.error and "lease is kept" in result.error
    assert not result.released and engine.find(LEASE) is not None


# recover_stack


def test_recover_stack_restarts_an_expired_window(engine):
    records = [engine.get(n).record() for n in ALL]
    acquire_lease(
        engine,
        PROJECT,
        RUN,
        "maint",
        records,
        1,
        Owner.current(with_pid=False),
        records[0].image_id,
        now=time.time() - 60,
    )
    for n in ALL:
        engine.get(n).state = "exited"
    result = recover_stack(control_of(engine), run_id=None, start_timeout=30)
    assert result.error is None and result.released and result.changed and result.run_id == RUN
    assert engine.running(PROJECT) == ALL and engine.find(LEASE) is None
    assert briefs(result.stop_set) == ALL


def test_recover_stack_leaves_an_open_window_alone(engine):
    stop(engine)
    engine.calls.clear()
    result = recover_stack(control_of(engine), run_id=None, start_timeout=30)
    assert not result.changed and result.recover is not None and result.recover["action"] == "in_progress"
    assert engine.mutations() == [] and engine.running(PROJECT) == []


# recover_run: the stack found by the run id of its lease


def expired_lease(engine: FakeEngine, project: str, run_id: str, names: t.Sequence[str], **kw: t.Any) -> None:
    """What a dead run leaves: an expired lease of ``project`` on ``names``, which are down."""
    records = [engine.get(n).record() for n in names]
    owner = Owner.current(with_pid=False)
    acquire_lease(engine, project, run_id, "maint", records, 1, owner, records[0].image_id, now=time.time() - 60, **kw)
    for n in names:
        engine.get(n).state = "exited"


def by_run(engine: FakeEngine, run_id: str = RUN, **kw: t.Any) -> WindowResult:
    return recover_run(engine, run_id, start_timeout=30, **kw)


def test_recover_run_without_a_lease_of_the_run_touches_nothing(engine):
    expired_lease(engine, PROJECT, "o" * 32, ["shop-web-1"])  # another run's lease: not this run's to recover
    engine.calls.clear()
    result = by_run(engine)
    assert result.error is None and not result.changed and not result.released
    assert result.project is None and result.run_id == RUN and result.lease is None and result.stop_set == []
    assert result.recover is not None and result.recover["action"] == "none" and not result.recover["changed"]
    assert result.summary == f"no lease of run {RUN!r} on this Docker host: nothing to recover"
    assert result.recover["message"] == result.summary
    assert engine.mutations() == [] and engine.find(LEASE) is not None and engine.state_of("shop-web-1") == "exited"
    assert result.to_dict()["project"] is None


def test_recover_run_restarts_the_stop_set_of_its_lease_and_releases_it(engine):
    expired_lease(engine, PROJECT, RUN, ALL)
    engine.calls.clear()
    result = by_run(engine)
    assert result.error is None and result.changed and result.released and result.project == PROJECT
    assert result.recover is not None and result.recover["action"] == "recovered"
    assert result.run_id == RUN and briefs(result.stop_set) == ALL
    assert sorted(engine.names("start_container")) == ALL and "shop-adminer-1" not in engine.names("start_container")
    assert engine.running(PROJECT) == ALL and engine.find(LEASE) is None


def test_recover_run_leaves_another_runs_lease_on_another_project_alone(engine):
    expired_lease(engine, PROJECT, RUN, ["shop-web-1", "shop-api-1"])
    expired_lease(engine, "other", "o" * 32, ["other-app-1"])
    engine.calls.clear()
    result = by_run(engine)
    assert result.error is None and result.released and result.project == PROJECT
    assert sorted(engine.names("start_container")) == ["shop-api-1", "shop-web-1"]
    assert engine.running(PROJECT) == ALL and engine.find(LEASE) is None
    other = read_lease(engine, "other")
    assert other is not None and other.run_id == "o" * 32 and engine.state_of("other-app-1") == "exited"


def test_recover_run_in_check_mode_is_what_the_recovery_of_its_stack_would_do(engine):
    expired_lease(engine, PROJECT, RUN, ALL)
    engine.calls.clear()
    result = by_run(engine, check=True)
    assert result.changed and result.project == PROJECT and engine.mutations() == []
    assert result.recover is not None and result.recover["action"] == "would_recover"
    expected = recover_stack(control_of(engine), run_id=RUN, start_timeout=30, check=True)
    assert result.to_dict() == expected.to_dict()


def test_recover_run_finds_a_pruned_lease_by_its_journal(engine, tmp_path):
    expired_lease(engine, PROJECT, RUN, ALL, state_dir=str(tmp_path))
    engine.remove_container(LEASE)
    journal = tmp_path / "leases" / f"{PROJECT}.json"
    assert journal.exists()
    assert by_run(engine).project is None  # without the state dir the pruned lease is out of sight
    result = by_run(engine, state_dir=str(tmp_path))
    assert result.error is None and result.released and result.project == PROJECT
    assert result.lease is not None and result.lease["source"] == "journal"
    assert engine.running(PROJECT) == ALL and not journal.exists()


def test_recover_run_refuses_a_run_that_holds_two_stacks(engine):
    expired_lease(engine, PROJECT, RUN, ["shop-web-1"])
    expired_lease(engine, "other", RUN, ["other-app-1"])
    engine.calls.clear()
    with pytest.raises(LeaseError, match="holds the leases of 2 stacks, 'other', 'shop'"):
        by_run(engine)
    assert engine.mutations() == []


# One lease whose labels cannot be read must not keep recover_run from the run's own lease, nor be touched by it.

OTHER = "o" * 32


def break_lease(engine: FakeEngine, project: str, label: str, value: str | None) -> None:
    labels = engine.get(lease_name(project)).labels
    if value is None:
        del labels[label]
    else:
        labels[label] = value


def test_recover_run_leaves_a_broken_lease_of_another_run_alone_and_warns(engine):
    expired_lease(engine, PROJECT, RUN, ["shop-web-1", "shop-api-1"])
    expired_lease(engine, "other", OTHER, ["other-app-1"])
    break_lease(engine, "other", LEASE_OWNER, "not json")
    engine.calls.clear()
    result = by_run(engine)
    assert result.error is None and result.released and result.project == PROJECT
    assert engine.running(PROJECT) == ALL and engine.find(LEASE) is None
    assert engine.find(lease_name("other")) is not None and engine.state_of("other-app-1") == "exited"
    assert not [c for c in engine.mutations() if "other" in c.target]
    assert len(result.warnings) == 1 and result.warnings[0].startswith(
        "the lease of stack 'other': label 'bosun.lease.owner' has value 'not json', which is not valid"
    )
    assert result.warnings[0].endswith(f"(it is not the lease of run {RUN!r}, so it was left alone)")


def test_recover_run_without_a_lease_of_its_own_warns_of_another_runs_broken_lease(engine):
    expired_lease(engine, "other", OTHER, ["other-app-1"])
    break_lease(engine, "other", LEASE_STOP_SET, "{}")
    engine.calls.clear()
    result = by_run(engine)
    assert result.error is None and not result.changed and result.project is None
    assert result.recover is not None and result.recover["action"] == "none"
    assert [w.split(":")[0] for w in result.warnings] == ["the lease of stack 'other'"]
    assert engine.mutations() == []


@pytest.mark.parametrize(
    "label, value, where",
    [
        pytest.param(LEASE_STOP_SET, "[", PROJECT, id="its-own-lease"),
        pytest.param(LEASE_RUN_ID, None, "other", id="a-lease-that-names-no-run"),
    ],
)
def test_recover_run_refuses_a_broken_lease_that_is_or_may_be_its_own(engine, label, value, where):
    if where == PROJECT:
        expired_lease(engine, PROJECT, RUN, ALL)
    else:
        expired_lease(engine, "other", RUN, ["other-app-1"])
    break_lease(engine, where, label, value)
    engine.calls.clear()
    with pytest.raises(LeaseError, match=f"the lease of stack '{where}': label '{label}'") as info:
        by_run(engine)
    assert info.value.context["container"] == lease_name(where)
    assert engine.mutations() == []


def test_recover_run_finds_its_lease_beside_a_broken_one_that_names_no_run(engine):
    expired_lease(engine, PROJECT, RUN, ALL)
    expired_lease(engine, "other", OTHER, ["other-app-1"])
    break_lease(engine, "other", LEASE_RUN_ID, None)
    result = by_run(engine)
    assert result.error is None and result.released and result.project == PROJECT
    assert engine.running(PROJECT) == ALL and engine.state_of("other-app-1") == "exited"
    assert [w.split(":")[:2] for w in result.warnings] == [
        ["the lease of stack 'other'", " label 'bosun.lease.run-id' is missing; allowed"]
    ]
