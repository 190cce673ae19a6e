"""Reliability (issue 5, item 6): partial failures of the stop and the start.

A container of the stop-set removed under the run (while the worker runs, or while it is being stopped), and
a container whose start errors (its network was removed while it was stopped): every other container is
started again, the outcome is start_failed and names what failed, nothing else is left down. A container that
still exists but failed to start keeps the lease, so recovery can retry; a vanished one does not.

A `docker stop` that fails needs a container that cannot die (a paused one is stopped normally, and one removed
while `docker stop` waits for it makes the stop succeed): test_reliability_stop_failure.py uses a test runtime.
"""

from __future__ import annotations

import json
import time

import pytest
import yaml

from harness import FIXTURES, project_workers, run
from stackcheck import lease, release_worker, running_workers, snapshot, wait_for, job_run_result, start_job_run

pytestmark = pytest.mark.docker

QUICK = ["sh", "-c", "sleep 1; echo done"]


def stack_spec(**changes) -> dict:
    """rel_stack.yml with per-service changes merged in."""
    spec = yaml.safe_load((FIXTURES / "rel_stack.yml").read_text(encoding="utf-8"))
    for service, change in changes.items():
        spec["services"][service].update(change)
    return spec


def name_of(before, service: str) -> str:
    return next(n for n in before if n.rsplit("-", 2)[-2] == service)


def test_container_removed_while_the_worker_runs(compose_project, ansible, ansible_playbook, tmp_path):
    p = compose_project("rel_stack.yml")
    before = snapshot(p)
    web = name_of(before, "web")
    job = start_job_run(ansible, p.name, tmp_path / "state")
    try:
        wait_for(lambda: running_workers(p.name), 120, "the worker")
        run(["docker", "rm", "-f", web])  # someone removes a stopped container of the stack under the run
    finally:
        release_worker(p)
    rc, r = job_run_result(job)
    # The compose file is on the host: Compose creates exactly the removed service again (a new container).
    assert rc == 0 and r["outcome"] == "success", r
    assert any(web in w and "created them again" in w for w in r["warnings"]), r["warnings"]
    assert sorted(c["service"] for c in r["restarted"]) == ["app", "db", "web"]
    assert r["worker"]["exit_code"] == 0
    after = snapshot(p)
    assert {n: v for n, v in after.items() if n != web} == {n: v for n, v in before.items() if n != web}
    assert after[web][1] == "running" and after[web][0] != before[web][0]  # the one-shot stays exited
    # Nothing to retry: the lease is released and recovery is idle.
    assert lease(p.name) is None and project_workers(p.name) == []
    rec = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.recover"}], extra_vars={"project": p.name}
    )
    assert rec.task("Recover the stacks").result["results"][0]["recover"]["action"] == "none"


def test_container_removed_while_it_is_being_stopped(compose_project, ansible, tmp_path):
    # web (stopped first) ignores SIGTERM, so its stop takes its 8 s grace: the test removes it meanwhile.
    p = compose_project(
        stack_spec(web={"command": ["sh", "-c", "trap '' TERM; sleep 3600 & wait"], "stop_grace_period": "8s"})
    )
    before = snapshot(p)
    web = name_of(before, "web")
    job = start_job_run(ansible, p.name, tmp_path / "state", job={"command": QUICK})
    wait_for(lambda: lease(p.name), 120, "the run to take the lease and start stopping")
    time.sleep(1)
    assert snapshot(p)[web][1] == "running", "web stopped before the test could remove it"
    run(["docker", "rm", "-f", web])
    rc, r = job_run_result(job)
    # Docker reports the stop of a container removed meanwhile as a success, so the loss shows at the start, where
    # Compose creates exactly that service again.
    assert rc == 0 and r["outcome"] == "success", r
    assert any(web in w and "created them again" in w for w in r["warnings"]), r["warnings"]
    assert sorted(c["service"] for c in r["restarted"]) == ["app", "db", "web"]
    after = snapshot(p)
    assert {n: v for n, v in after.items() if n != web} == {n: v for n, v in before.items() if n != web}
    assert after[web][1] == "running" and after[web][0] != before[web][0]
    assert lease(p.name) is None and project_workers(p.name) == []


def test_container_whose_start_errors_is_named_and_the_rest_restarts(
    compose_project, ansible, ansible_playbook, tmp_path
):
    # db, the dependency of app and web, is on a network of its own; removing it while db is stopped makes
    # db's start fail ("network ... not found") for good.
    spec = stack_spec(db={"network_mode": None, "networks": ["side"]})
    del spec["services"]["db"]["network_mode"]
    spec["networks"] = {"side": {}}
    p = compose_project(spec)
    before = snapshot(p)
    db = name_of(before, "db")
    job = start_job_run(ansible, p.name, tmp_path / "state")
    try:
        wait_for(lambda: running_workers(p.name), 120, "the worker")
        run(["docker", "network", "rm", f"{p.name}_side"])
    finally:
        release_worker(p)
    rc, r = job_run_result(job)
    assert rc == 2 and r["outcome"] == "start_failed", r
    assert r["msg"].startswith(
        f"start_failed: restart of stack '{p.name}': 2/3 started; failed: '{db}': cannot start container '{db}'"
    ), r["msg"]
    assert "not found" in r["msg"]
    # Its dependents are still started: a stack left stopped is worse than one started out of order.
    assert sorted(c["service"] for c in r["restarted"]) == ["app", "web"]
    after = snapshot(p)
    assert after[db] == (before[db][0], "exited")
    assert {n: v for n, v in after.items() if n != db} == {n: v for n, v in before.items() if n != db}
    # db still exists, so the lease stays with the full stop-set: recovery can retry once the cause is fixed.
    held = lease(p.name)
    assert held is not None and r["lease_kept"] is True  # so the role's safety net runs (and retries)
    assert sorted(e["service"] for e in json.loads(held["bosun.lease.stop-set"])) == ["app", "db", "web"]
    assert project_workers(p.name) == []
    # A retry (the recover playbook) starts nothing else and keeps the lease while db cannot start.
    rec = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.recover"}], extra_vars={"project": p.name}
    )
    task = rec.task("Recover the stacks")
    recover = task.result["results"][0].get("recover") or {}
    assert recover.get("action") == "recovered" and recover.get("released") is False, task.result
    assert snapshot(p) == after
    assert lease(p.name) is not None
