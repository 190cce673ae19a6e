"""Reliability (issue 14, item 5): someone else acts on the stack while a run has it down.

An operator's `docker start` of a stopped container of the stop-set, or a deploy tool's `docker compose up -d`
recreating a service: the worker must not run beside the live service. The run stops its worker at once (as a
cancel does), starts what it stopped and is still down, never starts the stale container of a recreated service,
never stops what the other party started, and ends `interfered`, naming each container and what happened.
"""

from __future__ import annotations

import json
import time

import pytest

from harness import event_log, project_workers, run
from stackcheck import (
    event_action,
    lease,
    release_worker,
    running_workers,
    snapshot,
    snapshot_started,
    wait_for,
    job_run_result,
    start_job_run,
)

pytestmark = pytest.mark.docker


def name_of(snap: dict, service: str) -> str:
    return next(n for n in snap if n.rsplit("-", 2)[-2] == service)


def inspect(ref: str) -> dict:
    return json.loads(run(["docker", "inspect", ref]).stdout)[0]


def touched(since: float, project: str, *names: str) -> set[tuple[str, str]]:
    """(name, action) of the stop, kill, die and start events of those containers since ``since``."""
    return {
        (e["Actor"]["Attributes"].get("name"), event_action(e))
        for e in event_log().since(since, project=project)
        if e["Actor"]["Attributes"].get("name") in names and event_action(e) in ("kill", "stop", "die", "start")
    }


def stopped_for_the_worker(project, before: dict) -> None:
    wait_for(lambda: running_workers(project.name), 120, "the worker")
    stack = {n: s for n, (_i, s) in snapshot(project).items()}
    assert all(s == "exited" for s in stack.values()), stack


def test_a_docker_start_while_the_worker_runs_ends_the_run_interfered(compose_project, ansible, tmp_path):
    p = compose_project("rel_stack.yml")
    before = snapshot(p)
    db = name_of(before, "db")
    job = start_job_run(ansible, p.name, tmp_path / "state")
    try:
        stopped_for_the_worker(p, before)
        run(["docker", "start", db])  # an operator starts the database by hand
        started_at = inspect(db)["State"]["StartedAt"]
        t_start = time.time()
        # The worker does not keep running beside the live database.
        wait_for(lambda: not running_workers(p.name), 30, "the worker to be stopped")
    except BaseException:
        release_worker(p)  # do not leave the run waiting for its timeout
        raise
    rc, r = job_run_result(job)
    assert rc == 2 and r["outcome"] == "interfered", (r.get("outcome"), r.get("msg"))
    assert r["msg"].startswith(f"interfered: '{db}' was started by someone else while the stack was down"), r["msg"]
    assert r["worker"]["cancelled"] is True and project_workers(p.name) == []
    # Everything of the stop-set runs again, exactly the containers from before; the one-shot stays exited.
    assert snapshot(p) == before
    # The container the operator started was never stopped or started again by the run.
    assert inspect(db)["State"]["StartedAt"] == started_at
    assert touched(t_start, p.name, db) == set()
    assert lease(p.name) is None


def test_a_compose_up_recreating_a_service_leaves_only_the_new_container(compose_project, ansible, tmp_path):
    p = compose_project("rel_stack.yml")
    before = snapshot_started(p)
    db = name_of(before, "db")
    stale = before[db][0]
    job = start_job_run(ansible, p.name, tmp_path / "state")
    try:
        stopped_for_the_worker(p, before)
        # A deploy tool rolls out db while the job has the stack down (same file, same project).
        p.compose("up", "-d", "--no-deps", "--force-recreate", db.rsplit("-", 2)[-2])
        new = inspect(db)
        t_up = time.time()
        wait_for(lambda: not running_workers(p.name), 30, "the worker to be stopped")
    except BaseException:
        release_worker(p)
        raise
    rc, r = job_run_result(job)
    assert new["Id"] != stale
    assert r["outcome"] == "interfered", (r.get("outcome"), r.get("msg"))
    assert f"service 'db' was recreated as '{db}' (id {new['Id'][:12]}) while the stack was down" in r["msg"], r["msg"]
    assert r["worker"]["cancelled"] is True and project_workers(p.name) == []
    # Exactly one container of db: the new one, not killed or restarted since the compose up; the stale one is gone.
    db_containers = [c for c in p.ps() if c["Service"] == "db"]
    assert [c["ID"] for c in db_containers] == [new["Id"][:12]], db_containers
    assert inspect(db)["State"]["StartedAt"] == new["State"]["StartedAt"]
    assert touched(t_up, p.name, db) == set()
    assert run(["docker", "inspect", stale], check=False).returncode != 0
    # The rest of the stop-set runs again (the same containers); the one-shot stays exited.
    after = snapshot(p)
    assert {n: v for n, v in after.items() if n != db} == {n: (i, s) for n, (i, s, _at) in before.items() if n != db}
    assert after[db] == (new["Id"], "running")
    assert lease(p.name) is None
