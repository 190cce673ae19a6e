# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Someone else starts the stack while a run has it down: outcome interfered (FakeEngine, no Docker)."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._errors import DockerUnavailableError
from ansible_collections.bosun.compose.plugins.module_utils._lease import read_lease
from ansible_collections.bosun.compose.plugins.module_utils._model import LABEL_NAME
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    run_backup as run,
    PROJECT,
    WORKER,
    Call,
    FakeClock,
    FakeEngine,
    WorkerScript,
    build_shop,
)

ALL = ["shop-api-1", "shop-api-2", "shop-cache-1", "shop-db-1", "shop-web-1"]


@pytest.fixture
def engine(clock: FakeClock) -> FakeEngine:
    engine = build_shop(FakeEngine(clock))
    engine.worker_script = WorkerScript(exits_after_waits=None)  # runs until it is stopped
    web = engine.get("shop-web-1")
    web.labels[LABEL_NAME] = "backup"
    for phase in ("post", "error", "finally"):
        web.labels[f"bosun.job.hook.{phase}"] = f"{phase} web"
    return engine


def someone_starts(name: str) -> t.Callable[[FakeEngine, Call], None]:
    return lambda engine, _call: engine.start_container(name)


def test_a_start_by_someone_else_during_the_worker_stops_it_and_ends_the_run_interfered(engine, tmp_path):
    engine.on("wait_container", WORKER, someone_starts("shop-db-1"), after=2)
    result = run(engine, tmp_path)
    assert result.outcome == "interfered", result.message
    assert result.message == (
        "'shop-db-1' was started by someone else while the stack was down; "
        "the run stopped there and restarted what it had stopped"
    )
    assert result.worker is not None and result.worker.cancelled  # stopped at once, as a cancel does
    assert engine.names("stop_container", WORKER) == [WORKER] and engine.workers() == []
    # The restart starts what is still down, never touches db again (running: Docker's 304), no stop after it.
    starts = engine.names("start_container", "shop-*")
    assert starts.count("shop-db-1") == 1  # the third party's start only
    assert sorted(b["name"] for b in result.restarted) == ALL and engine.running(PROJECT) == ALL
    worker_stopped = next(i for i, c in enumerate(engine.calls) if c.method == "stop_container" and c.target == WORKER)
    assert [c.target for c in engine.calls[worker_stopped + 1 :] if c.method == "stop_container"] == []
    # A failure: error hooks, not post; finally always, with the outcome.
    phases = [(e.env["BOSUN_PHASE"], e.env.get("BOSUN_OUTCOME")) for e in engine.execs]
    assert phases == [("error", "interfered"), ("finally", "interfered")]
    assert [(s.type, s.status) for s in result.steps if s.type != "run_hook"] == [
        ("stop_containers", "ok"),
        ("run_worker", "cancelled"),
        ("start_containers", "ok"),
    ]
    assert read_lease(engine, PROJECT) is None and [s.closed for s in engine.streams] == [True]


def test_a_start_by_someone_else_during_the_stop_leaves_the_deeper_levels_running(engine, tmp_path):
    # web (level 1) is stopped; as the api replicas stop someone starts web again: db and cache are never stopped.
    engine.on("stop_container", "shop-api-1", someone_starts("shop-web-1"))
    result = run(engine, tmp_path)
    assert result.outcome == "interfered", result.message
    assert result.message.startswith("'shop-web-1' was started by someone else while the stack was down")
    assert engine.names("stop_container", "shop-*") in (
        ["shop-web-1", "shop-api-1", "shop-api-2"],
        ["shop-web-1", "shop-api-2", "shop-api-1"],
    )
    assert result.worker is None and engine.workers() == []
    assert engine.running(PROJECT) == ALL


def test_a_signal_before_the_interference_stays_cancelled_and_names_both(engine, tmp_path):
    cancel = Cancellation()

    def signal_then_start(e: FakeEngine, _call: Call) -> None:
        cancel._handle(15, None)  # pylint: disable=protected-access
        e.start_container("shop-db-1")

    engine.on("wait_container", WORKER, signal_then_start, after=1)
    result = run(engine, tmp_path, cancel)
    assert result.outcome == "cancelled", result.message
    assert result.message.startswith("received SIGTERM: worker ")
    assert result.message.endswith("; also: 'shop-db-1' was started by someone else while the stack was down")
    assert engine.running(PROJECT) == ALL


def test_a_recreated_service_is_named_and_its_stale_container_is_never_started(engine, tmp_path):
    stale = engine.get("shop-cache-1").id

    def recreate_cache(e: FakeEngine, _call: Call) -> None:  # what `docker compose up -d` does
        new = e.create_container("c", "redis:7", name=f"{stale[:12]}_shop-cache-1", labels=dict(e.get(stale).labels))
        e.remove_container(stale)
        e.get(new).name = "shop-cache-1"
        e.start_container(new)

    engine.on("wait_container", WORKER, recreate_cache, after=1)
    result = run(engine, tmp_path)
    new = engine.get("shop-cache-1")
    assert result.outcome == "interfered", result.message
    assert result.message.startswith(
        f"service 'cache' was recreated as 'shop-cache-1' (id {new.id[:12]}) while the stack was down; "
    ), result.message
    assert result.worker is not None and result.worker.cancelled
    # The stale container is neither started nor counted as a failed start; the new one is never stopped.
    cache_calls = [(c.method, c.target) for c in engine.calls if c.method in ("start_container", "stop_container")]
    assert [x for x in cache_calls if x[1] == "shop-cache-1"] == [
        ("stop_container", "shop-cache-1"),
        ("start_container", "shop-cache-1"),
    ]
    assert engine.names("stop_container", "shop-cache-1") == ["shop-cache-1"]  # the stale one, before the worker
    assert sorted(b["name"] for b in result.restarted) == [n for n in ALL if n != "shop-cache-1"]
    assert engine.running(PROJECT) == ALL and new.id != stale and engine.find(stale) is None


def test_without_interference_the_run_succeeds_and_the_watch_is_closed_before_the_restart(engine, tmp_path):
    engine.worker_script = WorkerScript()
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    [stream] = engine.streams
    assert stream.closed
    calls = [c.method for c in engine.calls]
    first_stop, first_start = calls.index("stop_container"), calls.index("start_container")
    assert calls.index("events") < first_stop < first_start


def test_a_watch_that_cannot_subscribe_is_a_warning_and_the_run_goes_on(engine, tmp_path):
    engine.worker_script = WorkerScript()
    engine.fail_on("events", None, DockerUnavailableError("cannot read the Engine's events: gone"))
    result = run(engine, tmp_path)
    assert result.outcome == "success", result.message
    assert result.warnings == ["the stack was not watched for third parties: cannot read the Engine's events: gone"]
