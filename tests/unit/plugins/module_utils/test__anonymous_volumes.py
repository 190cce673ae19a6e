# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Workers and leases go with their anonymous volumes; the lease is made from an image without volumes."""

from __future__ import annotations

import time

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._lease import (
    Owner,
    acquire_lease,
    lease_image,
    lease_name,
    release_lease,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import LABEL_WORKER_JOB, LABEL_WORKER_RUN_ID
from ansible_collections.bosun.compose.plugins.module_utils._worker_runner import WorkerRunner, stop_workers
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    PROJECT,
    FakeClock,
    FakeEngine,
    build_shop,
)

RUN = "a" * 32


@pytest.fixture
def engine() -> FakeEngine:
    return build_shop(FakeEngine(FakeClock(time.time())))


def with_volumes(engine: FakeEngine, ref: str) -> None:
    engine.images[ref]["Config"] = {"Volumes": {"/var/lib/data": {}}}


def records(engine: FakeEngine, *names: str):
    return [engine.get(n).record() for n in names]


def test_lease_image_skips_images_that_declare_volumes(engine):
    with_volumes(engine, "app:1")
    stop_set = records(engine, "shop-web-1", "shop-api-1", "shop-api-2", "shop-db-1", "shop-cache-1")
    engine.calls.clear()
    assert lease_image(engine, stop_set) == engine.images["postgres:16"]["Id"]
    # One inspect per distinct image, up to the first without volumes (web and api share app:1).
    assert engine.names("inspect_image") == [engine.images["app:1"]["Id"], engine.images["postgres:16"]["Id"]]
    assert engine.mutations() == []


def test_lease_image_falls_back_to_the_first_when_every_image_has_volumes(engine):
    for ref in ("app:1", "postgres:16"):
        with_volumes(engine, ref)
    stop_set = records(engine, "shop-web-1", "shop-api-1", "shop-db-1")
    assert lease_image(engine, stop_set) == engine.images["app:1"]["Id"]
    assert lease_image(engine, []) == ""


def test_release_removes_the_lease_with_its_anonymous_volumes(engine):
    stop_set = records(engine, "shop-web-1")
    lease = acquire_lease(engine, PROJECT, RUN, "backup", stop_set, 60, Owner.current(), stop_set[0].image_id)
    engine.calls.clear()
    assert release_lease(engine, lease) is True
    assert [(c.target, c.args) for c in engine.calls if c.method == "remove_container"] == [
        (lease_name(PROJECT), {"volumes": True})
    ]


def worker(engine: FakeEngine, state: str = "running") -> str:
    cid = engine.create_container(
        "worker",
        "tools:1",
        name="bosun-worker-backup-aaaaaaaa",
        labels={LABEL_WORKER_RUN_ID: RUN, LABEL_WORKER_JOB: "x"},
    )
    engine.get(cid).state = state
    engine.calls.clear()
    return cid


def test_stop_workers_removes_with_anonymous_volumes(engine):
    worker(engine)
    assert stop_workers(engine, run_id=RUN) == ["bosun-worker-backup-aaaaaaaa"]
    assert [c.args for c in engine.calls if c.method == "remove_container"] == [{"volumes": True}]
    assert engine.workers() == []


def test_discarded_worker_is_removed_with_anonymous_volumes(engine, tmp_path):
    cid = worker(engine, state="created")
    WorkerRunner(engine, str(tmp_path)).discard(cid)
    assert [c.args for c in engine.calls if c.method == "remove_container"] == [{"volumes": True}]
    assert engine.workers() == []
