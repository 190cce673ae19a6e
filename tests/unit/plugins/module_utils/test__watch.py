# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""StackWatch: what counts as someone else starting the stack while it is down (FakeEngine events, no Docker)."""

from __future__ import annotations

import dataclasses
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._errors import DockerUnavailableError
from ansible_collections.bosun.compose.plugins.module_utils._model import COMPOSE_ONEOFF, ContainerRecord
from ansible_collections.bosun.compose.plugins.module_utils._watch import Interference, StackWatch
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    PROJECT,
    FakeEngine,
    build_shop,
    compose_labels,
)


@pytest.fixture
def engine() -> FakeEngine:
    return build_shop(FakeEngine())


def stop_set(engine: FakeEngine, *names: str, state: str = "running") -> list[ContainerRecord]:
    return [dataclasses.replace(engine.get(n).record(), state=state) for n in names]


def down(engine: FakeEngine, *names: str, to: str = "exited") -> None:
    for n in names:
        engine.get(n).state = to


def add_container(engine: FakeEngine, name: str, labels: t.Mapping[str, str]) -> str:
    return engine.create_container("create", "app:1", name=name, labels=labels)


def test_a_start_of_a_stopped_container_of_the_stop_set_is_seen_and_cancels_the_run(engine):
    cancel = Cancellation()
    members = stop_set(engine, "shop-db-1", "shop-web-1")
    with StackWatch(engine, PROJECT, members, cancel) as watch:
        down(engine, "shop-db-1", "shop-web-1")
        engine.start_container("shop-db-1")  # an operator's `docker start`
    assert watch.seen == [Interference("started", members[0].id, "shop-db-1", "db")]
    assert cancel.is_set and cancel.reason == "'shop-db-1' was started by someone else while the stack was down"
    assert watch.summary == cancel.reason == watch.reason and watch.error is None


def test_the_runs_own_stop_pause_and_the_unpause_before_a_stop_are_not_interference(engine):
    cancel = Cancellation()
    members = stop_set(engine, "shop-db-1", "shop-web-1")
    with StackWatch(engine, PROJECT, members, cancel, {members[0].id: "stop", members[1].id: "stop"}) as watch:
        engine.pause_container("shop-web-1")
        engine.unpause_container("shop-web-1")  # stop mode: a paused container is thawed before its stop
        engine.stop_container("shop-web-1", 10)
        engine.stop_container("shop-db-1", 10)
        engine.start_container("shop-api-1")  # running already: Docker's 304, no event
    assert watch.seen == [] and not cancel.is_set


def test_an_unpause_of_a_container_the_run_froze_is_seen(engine):
    cancel = Cancellation()
    members = stop_set(engine, "shop-db-1")
    with StackWatch(engine, PROJECT, members, cancel, {members[0].id: "pause"}) as watch:
        engine.pause_container("shop-db-1")
        engine.unpause_container("shop-db-1")
    assert [i.kind for i in watch.seen] == ["unpaused"]
    assert cancel.reason == "'shop-db-1' was unpaused by someone else while the stack was frozen"


def test_a_recreated_service_is_named_with_its_new_container_under_its_final_name(engine):
    cancel = Cancellation()
    db = engine.get("shop-db-1")
    members = stop_set(engine, "shop-db-1")
    with StackWatch(engine, PROJECT, members, cancel) as watch:
        down(engine, "shop-db-1")
        # Compose creates the replacement under a temporary name, removes the old one, renames the new one.
        new = add_container(engine, f"{db.id[:12]}_shop-db-1", compose_labels(PROJECT, "db", 1))
        engine.remove_container(db.id)
        engine.start_container(new)
    assert watch.seen == [Interference("recreated", new, "shop-db-1", "db", replaces=db.id)]
    assert watch.replaced == {db.id}
    assert cancel.reason == f"service 'db' was recreated as 'shop-db-1' (id {new[:12]}) while the stack was down"


def test_another_container_or_a_one_off_of_a_stop_set_service_is_seen(engine):
    cancel = Cancellation()
    members = stop_set(engine, "shop-api-1", "shop-api-2")
    with StackWatch(engine, PROJECT, members, cancel) as watch:
        third = add_container(engine, "shop-api-3", compose_labels(PROJECT, "api", 3))
        oneoff = add_container(engine, "shop-api-run-1", {**compose_labels(PROJECT, "api", 1), COMPOSE_ONEOFF: "True"})
    assert [(i.kind, i.container_id) for i in watch.seen] == [("added", third), ("added", oneoff)]
    assert (
        cancel.reason == f"service 'api' got another container 'shop-api-3' (id {third[:12]}) while the stack was down"
    )
    assert watch.summary.count("got another container") == 2


def test_other_services_other_projects_and_bosuns_own_containers_are_ignored(engine):
    cancel = Cancellation()
    members = stop_set(engine, "shop-web-1")
    with StackWatch(engine, PROJECT, members, cancel) as watch:
        down(engine, "shop-adminer-1")
        engine.start_container("shop-adminer-1")  # a service outside the stop-set (stays as it is)
        engine.start_container("other-app-1")
        add_container(engine, "other-web-1", compose_labels("other", "web", 1))
        add_container(
            engine,
            "bosun-worker-x",
            {**compose_labels(PROJECT, "web", 1), "bosun.worker.run-id": "r", "bosun.worker.job": "j"},
        )
    assert watch.seen == [] and not cancel.is_set


def test_a_container_that_was_restarting_may_be_started_by_its_restart_policy(engine):
    cancel = Cancellation()
    members = stop_set(engine, "shop-cache-1", state="restarting")
    with StackWatch(engine, PROJECT, members, cancel) as watch:
        down(engine, "shop-cache-1")
        engine.start_container("shop-cache-1")
    assert watch.seen == [] and not cancel.is_set


def test_each_container_is_reported_once_and_the_first_cause_stays_the_reason(engine):
    cancel = Cancellation()
    members = stop_set(engine, "shop-db-1", "shop-web-1")
    with StackWatch(engine, PROJECT, members, cancel) as watch:
        down(engine, "shop-db-1", "shop-web-1")
        engine.start_container("shop-web-1")
        down(engine, "shop-web-1")
        engine.start_container("shop-web-1")
        engine.start_container("shop-db-1")
    assert [i.name for i in watch.seen] == ["shop-web-1", "shop-db-1"]
    assert cancel.reason == "'shop-web-1' was started by someone else while the stack was down"


def test_nothing_is_seen_after_close_and_close_ends_the_stream(engine):
    cancel = Cancellation()
    watch = StackWatch(engine, PROJECT, stop_set(engine, "shop-db-1"), cancel)
    watch.start()
    watch.close()
    down(engine, "shop-db-1")
    engine.start_container("shop-db-1")  # the run's own restart
    assert watch.seen == [] and not cancel.is_set
    assert [s.closed for s in engine.streams] == [True]
    assert watch._thread is not None and not watch._thread.is_alive()  # pylint: disable=protected-access


def test_the_subscription_asks_the_engine_for_the_projects_starts_creates_and_unpauses(engine):
    with StackWatch(engine, PROJECT, stop_set(engine, "shop-db-1"), Cancellation()):
        [stream] = engine.streams
    assert stream.filters == {
        "type": ["container"],
        "label": [f"com.docker.compose.project={PROJECT}"],
        "event": ["create", "start", "unpause"],
    }


def test_an_empty_stop_set_is_not_watched(engine):
    with StackWatch(engine, PROJECT, [], Cancellation()) as watch:
        pass
    assert engine.streams == [] and watch.error is None


def test_a_watch_that_cannot_subscribe_says_so_and_cancels_nothing(engine):
    engine.fail_on("events", None, DockerUnavailableError("cannot read the Engine's events: connection refused"))
    cancel = Cancellation()
    with StackWatch(engine, PROJECT, stop_set(engine, "shop-db-1"), cancel) as watch:
        pass
    assert (
        watch.error
        == "the stack was not watched for third parties: cannot read the Engine's events: connection refused"
    )
    assert not cancel.is_set and watch.seen == []
