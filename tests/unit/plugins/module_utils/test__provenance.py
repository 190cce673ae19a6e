# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Provenance of a plan (pure), and the run record and result that carry it (FakeEngine)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time

from ansible_collections.bosun.compose.plugins.module_utils import _worker_runner
from ansible_collections.bosun.compose.plugins.module_utils._executor import Executor, RunOptions
from ansible_collections.bosun.compose.plugins.module_utils._model import ContainerRecord, Job
from ansible_collections.bosun.compose.plugins.module_utils._planner import Check, Plan, build_plan, resolve_job
from ansible_collections.bosun.compose.plugins.module_utils._provenance import plan_hash, plan_provenance
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    PROJECT,
    RUN_ID,
    FakeClock,
    FakeEngine,
    build_shop,
)

RUN = "0123456789abcdef0123456789abcdef"
OTHER_RUN = "fedcba9876543210fedcba9876543210"
FILES = "/srv/shop/compose.yaml,/srv/shop/compose.prod.yaml"


def c(service: str, depends: str = "", *, image: str = "app:1", files: str = FILES, **labels: str) -> ContainerRecord:
    return ContainerRecord(
        id=f"id-{service}",
        name=f"shop-{service}-1",
        state="running",
        image=image,
        image_id="sha256:" + hashlib.sha256(image.encode()).hexdigest(),
        labels={
            "com.docker.compose.project": "shop",
            "com.docker.compose.service": service,
            "com.docker.compose.container-number": "1",
            "com.docker.compose.depends_on": depends,
            "com.docker.compose.config-hash": f"hash-of-{service}",
            "com.docker.compose.project.config_files": files,
            "com.docker.compose.project.working_dir": "/srv/shop",
            **labels,
        },
    )


STACK = (c("db", image="postgres:16"), c("web", "db:service_started:false"))


def job(**kw) -> Job:
    return Job(**{"name": "nightly", "stack": "shop", "image": "tools:1", "timeout": 600, **kw})


def plan(
    j: Job | None = None,
    stack: tuple[ContainerRecord, ...] | list[ContainerRecord] = STACK,
    run_id: str = RUN,
    created_at: str = "2026-03-01T02:00:00+00:00",
) -> Plan:
    return build_plan(
        j or job(), stack, run_id=run_id, secret_env={}, container_stop_timeouts={}, created_at=created_at
    )


def test_provenance_names_each_stopped_container_in_stop_order_with_its_image_and_config_hash() -> None:
    p = plan_provenance(plan()).to_dict()
    assert p["containers"] == [
        {
            "name": "shop-web-1",
            "service": "web",
            "image": "app:1",
            "image_id": STACK[1].image_id,
            "config_hash": "hash-of-web",
        },
        {
            "name": "shop-db-1",
            "service": "db",
            "image": "postgres:16",
            "image_id": STACK[0].image_id,
            "config_hash": "hash-of-db",
        },
    ]
    assert p["project"] == {
        "config_files": ["/srv/shop/compose.yaml", "/srv/shop/compose.prod.yaml"],
        "working_dir": "/srv/shop",
    }
    assert list(p) == ["plan_hash", "project", "worker", "after", "containers"]
    assert p["plan_hash"].startswith("sha256:") and len(p["plan_hash"]) == len("sha256:") + 64


def test_worker_and_after_phase_images_carry_the_pinned_image_id() -> None:
    pl = plan(job(after_command=["true"], after_image="check:2"))
    assert plan_provenance(pl).to_dict()["worker"] == {"image": "tools:1", "image_id": None}  # not yet pinned
    # The preflight pins the image id on the worker spec (plan_job); the provenance reads it from there.
    for step in pl.steps:
        if step.worker is not None:
            step.worker = dataclasses.replace(step.worker, image_id=f"sha256:{step.worker.image}")
    p = plan_provenance(pl).to_dict()
    assert p["worker"] == {"image": "tools:1", "image_id": "sha256:tools:1"}
    assert p["after"] == {"image": "check:2", "image_id": "sha256:check:2"}
    assert plan_provenance(plan()).after is None


def test_a_stop_scope_that_stops_nothing_still_tells_where_the_project_came_from() -> None:
    p = plan_provenance(plan(job(stop_scope="none"))).to_dict()
    assert p["containers"] == []
    assert p["project"]["working_dir"] == "/srv/shop"


def test_the_project_files_are_those_most_containers_carry_and_unlabelled_containers_give_none() -> None:
    odd = [c("db"), c("web", "db:service_started:false"), c("cron", files="/tmp/other.yaml")]
    assert plan_provenance(plan(stack=odd)).config_files == ("/srv/shop/compose.yaml", "/srv/shop/compose.prod.yaml")
    bare = [dataclasses.replace(x, labels={k: v for k, v in x.labels.items() if "config" not in k}) for x in STACK]
    p = plan_provenance(plan(stack=bare))
    assert (p.config_files, p.working_dir) == ((), "/srv/shop")
    assert [x.config_hash for x in p.containers] == [None, None]


def test_the_plan_hash_is_the_same_for_the_same_plan_whatever_the_run_id_time_and_checks() -> None:
    first, again = plan(), plan(run_id=OTHER_RUN, created_at="2026-03-02T02:00:00+00:00")
    again.preflight = [Check("lease", "shop", True, "stack 'shop' is held by run x; this run waits for it")]
    assert first.worker.name != again.worker.name  # the worker's name carries the run id
    assert plan_hash(first) == plan_hash(again)


def test_the_plan_hash_is_the_sha256_of_the_canonical_json_without_the_run_id() -> None:
    pl = plan()
    d = {k: v for k, v in pl.to_dict().items() if k not in ("run_id", "created_at", "preflight", "ok")}
    canonical = (
        json.dumps(d, sort_keys=True, separators=(",", ":")).replace(RUN, "<run_id>").replace(RUN[:8], "<run_id>")
    )
    assert plan_hash(pl) == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def test_the_plan_hash_changes_with_what_the_run_does() -> None:
    base = plan_hash(plan())
    recreated = (dataclasses.replace(STACK[0], id="id-db-new"), STACK[1])
    assert plan_hash(plan(stack=recreated)) != base
    assert plan_hash(plan(job(image="tools:2"))) != base
    assert plan_hash(plan(job(timeout=601))) != base
    assert plan_hash(plan(job(stop_mode="pause"))) != base
    assert plan_hash(plan(job(env={"KEEP": "7"}))) != base


def test_a_secret_value_never_reaches_the_plan_hash() -> None:
    def with_secret(value: str) -> Plan:
        return build_plan(job(), STACK, run_id=RUN, secret_env={"TOKEN": value}, container_stop_timeouts={})

    assert plan_hash(with_secret("s3cr3t-a")) == plan_hash(with_secret("s3cr3t-b"))


def test_a_run_records_and_returns_the_provenance_of_its_plan(tmp_path, monkeypatch) -> None:
    clock = FakeClock(time.time())
    monkeypatch.setattr(_worker_runner, "time", clock.time_module())
    engine = build_shop(FakeEngine(clock))
    web = engine.get("shop-web-1")
    web.labels["com.docker.compose.config-hash"] = "abc123"
    j, secret = resolve_job(engine, "backup", PROJECT, None)
    executor = Executor(engine, str(tmp_path), wall=clock.wall, clock=clock.monotonic, sleep=clock.sleep)
    result = executor.run(j, RunOptions(secret_env=secret, run_id=RUN_ID))
    assert result.outcome == "success", result.message
    returned = result.to_dict()["provenance"]
    assert result.plan is not None and returned == plan_provenance(result.plan).to_dict()
    assert returned["worker"] == {"image": "tools:1", "image_id": engine.images["tools:1"]["Id"]}
    assert [x["name"] for x in returned["containers"]] == [x["name"] for x in result.stopped]
    [shown] = [x for x in returned["containers"] if x["name"] == "shop-web-1"]
    assert (shown["image_id"], shown["config_hash"]) == (web.image_id, "abc123")
    with open(str(result.record_path), encoding="utf-8") as f:
        assert json.load(f)["provenance"] == returned


def test_a_run_without_a_plan_has_no_provenance(tmp_path) -> None:
    engine = build_shop(FakeEngine())
    result = Executor(engine, str(tmp_path)).run(Job(name="ghost"), RunOptions(run_id=RUN_ID))
    assert result.outcome == "invalid" and result.plan is None
    assert result.to_dict()["provenance"] is None and result.record()["provenance"] is None
