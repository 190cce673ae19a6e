# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of StackControl (stop and start by dependency level) against the in-memory FakeEngine."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    DockerUnavailableError,
    EngineError,
    NotFoundError,
    StackControlError,
)
from ansible_collections.bosun.compose.plugins.module_utils._compose_cli import RecreateResult
from ansible_collections.bosun.compose.plugins.module_utils._model import ContainerRecord, RestartPolicy
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    PROJECT,
    STOP_ORDER,
    FakeClock,
    FakeEngine,
    build_shop,
)


@pytest.fixture
def engine() -> FakeEngine:
    return build_shop(FakeEngine(FakeClock(time.time())))


def control_of(engine: FakeEngine) -> StackControl:
    return StackControl(engine, PROJECT, clock=engine.clock.monotonic, sleep=engine.clock.sleep)


def records(engine: FakeEngine, order: list[list[str]] | None = None) -> list[list[ContainerRecord]]:
    return [[engine.get(n).record() for n in level] for level in (STOP_ORDER if order is None else order)]


def flat(order: list[list[str]]) -> list[str]:
    return [n for level in order for n in level]


def stop_all(engine: FakeEngine) -> None:
    for n in flat(STOP_ORDER):
        engine.get(n).state = "exited"
    engine.calls.clear()


def names(items: list[ContainerRecord]) -> list[str]:
    return sorted(c.name for c in items)


# plan_stop


def test_plan_stop_orders_running_containers_dependents_first(engine):
    levels, added = control_of(engine).plan_stop()
    assert [names(level) for level in levels] == STOP_ORDER and added == []


def test_plan_stop_of_a_service_adds_its_dependents_only(engine):
    levels, added = control_of(engine).plan_stop(["api"])
    assert [names(level) for level in levels] == [["shop-web-1"], ["shop-api-1", "shop-api-2"]]
    assert added == ["web"]


def test_plan_stop_of_an_unknown_project_is_an_error(engine):
    with pytest.raises(StackControlError, match="no containers of Compose project 'nope'"):
        StackControl(engine, "nope").plan_stop()


# stop


def test_stop_goes_level_by_level_and_reports_what_it_stopped(engine):
    result = control_of(engine).stop(records(engine), None, {})
    assert result.ok and not result.cancelled and result.skipped == []
    assert names(result.stopped) == sorted(flat(STOP_ORDER))
    stops = engine.names("stop_container")
    assert stops[0] == "shop-web-1" and sorted(stops[1:3]) == STOP_ORDER[1] and sorted(stops[3:]) == STOP_ORDER[2]
    assert engine.running(PROJECT) == []
    assert engine.running("other") == ["other-app-1"]


def test_stop_runs_the_containers_of_one_level_in_parallel(engine):
    barrier = threading.Barrier(2, timeout=5)
    engine.on("stop_container", "shop-api-*", lambda _e, _c: barrier.wait(), times=None)
    result = control_of(engine).stop(records(engine), 10)
    # Both api stops were in flight at once; sequential stops would break the barrier (a failure, not a hang).
    assert result.ok, [f.error for f in result.failed]
    assert names(result.stopped) == sorted(flat(STOP_ORDER))


def test_stop_and_start_look_up_the_states_of_their_own_containers_by_id(engine):
    # A label-filtered list makes the Engine walk every container on the host; inside the downtime window the
    # stop and the start ask only for the containers of the level at hand, by id.
    control = control_of(engine)
    stopped = control.stop(records(engine), 10).stopped
    lists = [c for c in engine.calls if c.method == "list_containers"]
    ids = {n: engine.get(n).id for n in flat(STOP_ORDER)}
    assert [sorted(c.args["ids"]) for c in lists] == [sorted(ids[n] for n in level) for level in STOP_ORDER]
    engine.calls.clear()
    result = control.start(stopped)
    assert result.ok and names(result.started) == sorted(flat(STOP_ORDER))
    lists = [c for c in engine.calls if c.method == "list_containers"]
    # One list of the whole project for the start order, then the wait of each level by id.
    assert "ids" not in lists[0].args
    assert [sorted(c.args["ids"]) for c in lists[1:]] == [sorted(ids[n] for n in level) for level in STOP_ORDER[::-1]]


def test_stop_timeouts_come_from_the_plan_then_the_container(engine):
    control_of(engine).stop(records(engine), None, {engine.get("shop-web-1").id: 42})
    timeouts = {c.target: c.args["timeout"] for c in engine.calls if c.method == "stop_container"}
    assert timeouts == {"shop-web-1": 42, "shop-api-1": 10, "shop-api-2": 10, "shop-cache-1": 10, "shop-db-1": 30}
    assert sorted(engine.names("stop_timeout")) == ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1"]


def test_stop_with_an_explicit_timeout_asks_nothing(engine):
    control_of(engine).stop(records(engine), 7, {engine.get("shop-web-1").id: 42})
    assert {c.args["timeout"] for c in engine.calls if c.method == "stop_container"} == {7}
    assert engine.names("stop_timeout") == []


def test_stop_skips_containers_that_no_longer_run(engine):
    planned = records(engine)
    engine.get("shop-api-2").state = "exited"
    engine.calls.clear()
    result = control_of(engine).stop(planned, 10)
    assert result.ok and names(result.skipped) == ["shop-api-2"]
    assert "shop-api-2" not in engine.names("stop_container")
    assert "shop-api-2" not in names(result.stopped)


def test_stop_failure_leaves_deeper_levels_alone(engine):
    engine.fail_on("stop_container", "shop-api-2", EngineError("boom", status=500, explanation="boom"))
    result = control_of(engine).stop(records(engine), 10)
    assert not result.ok and not result.cancelled
    assert [f.container.name for f in result.failed] == ["shop-api-2"] and not result.failed[0].gone
    assert "shop-api-2" in result.failed[0].error and "boom" in result.failed[0].error
    assert names(result.stopped) == ["shop-api-1", "shop-web-1"]
    assert names(result.skipped) == ["shop-cache-1", "shop-db-1"]
    assert engine.running(PROJECT) == ["shop-api-2", "shop-cache-1", "shop-db-1"]


def test_a_container_gone_during_the_stop_does_not_block_deeper_levels(engine):
    engine.fail_on("stop_container", "shop-web-1", NotFoundError("gone", status=404, explanation="No such container"))
    result = control_of(engine).stop(records(engine), 10)
    assert [f.gone for f in result.failed] == [True]
    assert names(result.stopped) == ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1"]


def test_cancel_between_levels_stops_no_deeper_level(engine):
    cancel = threading.Event()
    engine.on("stop_container", "shop-web-1", lambda _e, _c: cancel.set())
    result = control_of(engine).stop(records(engine), 10, cancel=cancel)
    assert result.cancelled and result.ok
    assert names(result.stopped) == ["shop-web-1"] and engine.names("stop_container") == ["shop-web-1"]
    assert names(result.skipped) == ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1"]


# start


def test_start_goes_dependencies_first_and_never_outside_the_stop_set(engine):
    stop_all(engine)
    result = control_of(engine).start(flat(STOP_ORDER), timeout=30)
    assert result.ok and result.summary == "5/5 started"
    starts = engine.names("start_container")
    assert sorted(starts[:2]) == STOP_ORDER[2] and sorted(starts[2:4]) == STOP_ORDER[1] and starts[4] == "shop-web-1"
    assert "shop-adminer-1" not in starts and engine.state_of("shop-adminer-1") == "exited"
    assert engine.names("start_container", "other-*") == []


def test_start_of_a_subset_starts_only_that_subset(engine):
    stop_all(engine)
    result = control_of(engine).start(["shop-web-1", "shop-db-1"])
    assert engine.names("start_container") == ["shop-db-1", "shop-web-1"]
    assert names(result.started) == ["shop-db-1", "shop-web-1"]
    assert engine.running(PROJECT) == ["shop-db-1", "shop-web-1"]


def test_start_counts_running_containers_as_already_running(engine):
    engine.get("shop-web-1").state = "exited"
    engine.calls.clear()
    result = control_of(engine).start(flat(STOP_ORDER))
    assert engine.names("start_container") == ["shop-web-1"]
    assert names(result.started) == ["shop-web-1"] and len(result.already_running) == 4


def test_start_waits_for_health_before_the_next_level(engine):
    stop_all(engine)
    engine.get("shop-db-1").health = ["starting", "starting", "healthy"]
    seen: list[str | None] = []
    engine.on("start_container", "shop-api-1", lambda e, _c: seen.append(e.get("shop-db-1").current_health()))
    result = control_of(engine).start(flat(STOP_ORDER), timeout=30)
    assert result.ok and result.unhealthy == [] and result.timed_out == []
    assert seen == ["healthy"]
    assert engine.clock.sleeps == [0.25, 0.25]


def test_start_reports_an_unhealthy_container_and_goes_on(engine):
    stop_all(engine)
    engine.get("shop-db-1").health = ["unhealthy"]
    result = control_of(engine).start(flat(STOP_ORDER), timeout=30)
    assert names(result.unhealthy) == ["shop-db-1"] and result.ok
    assert engine.running(PROJECT) == sorted(flat(STOP_ORDER)) and engine.clock.sleeps == []


def test_start_times_out_waiting_for_health_then_starts_the_rest_without_waiting(engine):
    stop_all(engine)
    engine.get("shop-db-1").health = ["starting"]
    engine.get("shop-web-1").health = ["starting"]
    result = control_of(engine).start(flat(STOP_ORDER), timeout=1)
    assert names(result.timed_out) == ["shop-db-1", "shop-web-1"]
    assert engine.clock.sleeps == [0.25] * 4  # one second of polls; nothing waited for after that
    assert engine.running(PROJECT) == sorted(flat(STOP_ORDER))


def test_a_container_that_exits_right_after_its_start_is_a_failure(engine):
    stop_all(engine)
    engine.get("shop-cache-1").crashes_on_start = True
    result = control_of(engine).start(flat(STOP_ORDER))
    assert [(f.container.name, f.gone) for f in result.failed] == [("shop-cache-1", False)]
    assert "stopped right after its start" in result.failed[0].error
    assert "shop-cache-1" not in names(result.started) and not result.ok


def test_a_failed_start_of_an_existing_container_is_not_gone(engine):
    stop_all(engine)
    engine.fail_on(
        "start_container",
        "shop-db-1",
        NotFoundError("network x not found", status=404, explanation="network x not found"),
    )
    result = control_of(engine).start(flat(STOP_ORDER))
    assert [(f.container.name, f.gone) for f in result.failed] == [("shop-db-1", False)]
    assert engine.running(PROJECT) == ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-web-1"]


PODMAN_RACE = "generating dependency graph for container 89845a: container b8c87c depends on container 4947a1 not found in input list"


def test_starts_refused_in_a_level_are_tried_again_one_by_one(engine):
    # Podman refuses some of the starts made at once of containers that require each other, and leaves them exited.
    stop_all(engine)
    engine.fail_on("start_container", "shop-api-*", EngineError(PODMAN_RACE, status=500), times=2)
    result = control_of(engine).start(flat(STOP_ORDER))
    assert result.ok and result.failed == [] and result.summary == "5/5 started"
    assert engine.running(PROJECT) == sorted(flat(STOP_ORDER))
    assert engine.names("start_container", "shop-api-*") == ["shop-api-1", "shop-api-2"] * 2
    assert engine.names("start_container")[-1] == "shop-web-1"  # the next level only once both run


def test_a_start_refused_again_is_reported_with_the_engines_last_words(engine):
    stop_all(engine)
    engine.fail_on("start_container", "shop-db-1", EngineError("port is already allocated", status=500), times=1)
    engine.fail_on(
        "start_container", "shop-db-1", EngineError("container state improper", status=500), after=1, times=1
    )
    result = control_of(engine).start(flat(STOP_ORDER))
    assert [f.container.name for f in result.failed] == ["shop-db-1"]
    assert "container state improper" in result.failed[0].error and "shop-db-1" in result.failed[0].error
    assert engine.names("start_container", "shop-db-1") == ["shop-db-1", "shop-db-1"]
    assert engine.running(PROJECT) == ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-web-1"]


@pytest.mark.parametrize(
    "error",
    [DockerUnavailableError("connection reset"), NotFoundError("no such container", status=404)],
    ids=["unavailable", "not-found"],
)
def test_a_start_that_cannot_succeed_is_not_tried_again(engine, error):
    stop_all(engine)
    engine.fail_on("start_container", "shop-db-1", error, times=1)
    result = control_of(engine).start(flat(STOP_ORDER))
    assert [f.container.name for f in result.failed] == ["shop-db-1"]
    assert engine.names("start_container", "shop-db-1") == ["shop-db-1"]


def test_a_recreated_container_is_not_the_one_that_was_stopped_and_is_left_alone(engine):
    stopped = engine.get("shop-web-1").record()
    engine.remove_container(stopped.id)
    (new,) = engine.add_service(PROJECT, "web", depends_on=["api"], state="exited")
    engine.calls.clear()
    result = control_of(engine).start([stopped.brief()], recreator=RecordingRecreator(engine))
    assert result.failed == [] and result.recreated == []
    assert [(r.gone["id"], r.now.id) for r in result.replaced] == [(stopped.id, new.id)]
    assert "service 'web' was recreated as 'shop-web-1'" in result.replaced[0].describe()
    assert engine.names("start_container") == [] and result.summary == "0/1 started"


class RecordingRecreator:
    """Stands in for Compose: creates each asked-for service again in the fake engine (or fails)."""

    def __init__(self, engine, ok: bool = True) -> None:
        self.engine, self.ok, self.asked = engine, ok, []

    def recreate(self, services, timeout):
        self.asked.append(list(services))
        if self.ok:
            for s in services:
                self.engine.add_service(PROJECT, s, state="running")
        return RecreateResult(self.ok, "docker compose up " + " ".join(services), "" if self.ok else "no such file")

    def manual_command(self, services):
        return "docker compose up " + " ".join(services)


def test_deleted_containers_are_recreated_by_compose_exactly_their_services_and_first(engine):
    gone = [engine.get(n).record() for n in ("shop-db-1", "shop-cache-1")]
    stop_all(engine)
    for c in gone:
        engine.remove_container(c.id)
    engine.calls.clear()
    compose = RecordingRecreator(engine)
    rest = [engine.get(n).record() for n in ("shop-api-1", "shop-api-2", "shop-web-1")]
    result = control_of(engine).start([c.brief() for c in gone] + rest, recreator=compose)
    assert compose.asked == [["cache", "db"]]
    assert result.ok and sorted(c.name for c in result.recreated) == ["shop-cache-1", "shop-db-1"]
    assert result.summary == "5/5 started"
    assert engine.running(PROJECT) == ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]


def test_a_deleted_container_compose_cannot_recreate_fails_with_the_command_that_brings_it_back(engine):
    gone = engine.get("shop-web-1").record()
    stop_all(engine)
    engine.remove_container(gone.id)
    result = control_of(engine).start([gone.brief()], recreator=RecordingRecreator(engine, ok=False))
    assert [(f.container.name, f.gone) for f in result.failed] == [("shop-web-1", True)]
    assert (
        "could not create it again: no such file; bring it back with: docker compose up web" in result.failed[0].error
    )
    assert engine.running(PROJECT) == []


def test_set_restart_policies_reports_each_container_that_refused(engine):
    db, web = engine.get("shop-db-1").record(), engine.get("shop-web-1").record()
    engine.fail_on("update_restart_policy", "shop-web-1", EngineError("cannot update: auto-remove", status=400))
    failed = control_of(engine).set_restart_policies(
        [(db, RestartPolicy("always")), (web.brief(), RestartPolicy("always"))]
    )
    assert engine.restart_policy("shop-db-1") == "always" and engine.restart_policy("shop-web-1") == "no"
    assert len(failed) == 1 and "'shop-web-1' to 'always'" in failed[0] and "auto-remove" in failed[0]


def test_resolve_matches_names_full_ids_and_long_prefixes(engine):
    control = control_of(engine)
    db, cache = engine.get("shop-db-1"), engine.get("shop-cache-1")
    found, unknown = control.resolve(["shop-web-1", db.id, cache.id[:12], "abc", "other-app-1"], control.containers())
    assert names(found) == ["shop-cache-1", "shop-db-1", "shop-web-1"]
    assert unknown == ["abc", "other-app-1"]
