"""Reliability (issue 5, item 4): the transaction's own process on the host is SIGKILLed mid-worker.

Nothing in that process runs any more (no finally, no release): the stack stays down, the lease on the
daemon still names the stop-set and its dead owner, and the worker runs on. Then the recover playbook, the
next run of any job on that stack, or the role's own safety net restores the stack from that record, exactly:
the dead run's worker is stopped and removed first, exactly the stop-set starts (the exited one-shot does not),
and the lease is released. (The dockerd restart is tests/integration/test_zz_dockerd_restart.py.)
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from harness import FIXTURES, TEST_IMAGE, ComposeProject, project_workers
from stackcheck import lease, module_pid, running_workers, snapshot, states, wait_for

pytestmark = pytest.mark.docker

STACK = "rel_stack.yml"


def kill_mid_worker(project: ComposeProject, ansible, tmp_path, run_id: str) -> dict:
    """job_run (synchronous, no safety net) of job rel-a; SIGKILL its module process while the worker runs."""
    task = {"name": "rel-a", "project": project.name, "run_id": run_id, "state_dir": str(tmp_path / "state")}
    job = ansible.start(
        [{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "run", "bosun.compose.job_run": task}]}],
        env={"BOSUN_TEST_RUN": run_id},
    )
    try:
        wait_for(lambda: running_workers(project.name) or job.proc.poll() is not None, 120, "the worker to run")
        pid = wait_for(lambda: module_pid(run_id), 10, "the module process")
        os.kill(pid, signal.SIGKILL)
    finally:
        done = job.finish(60)
    assert done.rc != 0, done
    time.sleep(1)
    held = lease(project.name)
    assert held is not None, "the lease vanished with the killed run"
    assert held["bosun.lease.run-id"] == run_id
    stop_set = json.loads(held["bosun.lease.stop-set"])
    assert sorted(e["service"] for e in stop_set) == ["app", "db", "web"], stop_set
    assert set(states(project).values()) == {"exited"}
    assert running_workers(project.name), "the worker of the killed run should still run"
    return held


@pytest.mark.podman
def test_sigkilled_transaction_is_restored_exactly_by_the_recover_playbook(
    compose_project, ansible, ansible_playbook, tmp_path
):
    p = compose_project(STACK)
    before = snapshot(p)
    run_id = f"crashrec{os.getpid():08d}abcdef"
    kill_mid_worker(p, ansible, tmp_path, run_id)
    info = ansible_playbook(
        [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [{"name": "info", "bosun.compose.job_info": {"project": p.name}}],
            }
        ]
    )
    leases = [x for x in info.task("info").result["leases"] if x["project"] == p.name]
    assert [(x["run_id"], x["owner_alive"]) for x in leases] == [(run_id, False)], leases

    result = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.recover"}], extra_vars={"project": p.name}
    )
    assert result.rc == 0, str(result)
    rec = result.task("Recover the stacks").result["results"][0]["recover"]
    assert rec["action"] == "recovered" and rec["released"] is True, rec
    assert rec["workers_stopped"] == [f"bosun-worker-rel-a-{run_id[:8]}"], rec
    assert rec["start"]["summary"] == "3/3 started", rec
    assert snapshot(p) == before
    assert project_workers(p.name) == [] and lease(p.name) is None


def test_sigkilled_transaction_is_restored_by_the_next_run_of_another_job(
    compose_project, ansible, ansible_playbook, tmp_path
):
    p = compose_project(STACK)
    before = snapshot(p)
    run_id = f"crashnxt{os.getpid():08d}abcdef"
    kill_mid_worker(p, ansible, tmp_path, run_id)
    # The next run, of the stack's other job, through the role (the way operators run jobs).
    result = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}],
        extra_vars={
            "job": "rel-b",
            "project": p.name,
            "run_job_poll": 1,
            "run_job_state_dir": str(tmp_path / "state"),
            "run_job_overrides": {"command": ["sh", "-c", "echo b-ran"]},
        },
    )
    assert snapshot(p) == before, f"the next run did not restore the stack left by the dead run\n{result}"
    assert result.rc == 0, str(result)
    assert project_workers(p.name) == [] and lease(p.name) is None


@pytest.mark.podman
@pytest.mark.parametrize("chosen_by", ["project", "job name only"])
def test_sigkilled_async_transaction_is_restored_by_the_role_safety_net(compose_project, ansible, tmp_path, chosen_by):
    """By job name only, no result names the stack of the killed run: the safety net finds it by the run's lease."""
    name = "rel-a" if chosen_by == "project" else f"rel-n{os.getpid()}"  # unique on the host: no other stack has it
    p = compose_project((FIXTURES / STACK).read_text(encoding="utf-8").replace("rel-a", name))
    before = snapshot(p)
    run_id = f"crashnet{os.getpid():08d}abcdef"
    where = {"project": p.name} if chosen_by == "project" else {}
    job = ansible.start(
        [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}],
        extra_vars={
            "job": name,
            **where,
            "run_job_poll": 1,
            "run_job_run_id": run_id,
            "run_job_state_dir": str(tmp_path / "state"),
        },
        env={"BOSUN_TEST_RUN": run_id},
    )
    try:
        wait_for(lambda: running_workers(p.name) or job.proc.poll() is not None, 120, "the worker to run")
        pid = wait_for(lambda: module_pid(run_id), 10, "the async module process")
        os.kill(pid, signal.SIGKILL)
    finally:
        done = job.finish(120)
    assert done.rc == 2, done
    assert snapshot(p) == before, done
    assert project_workers(p.name) == [] and lease(p.name) is None
    net = [x for x in done.results if x.task.endswith("Safety net - restart the stack if this run left it down")]
    assert len(net) == 1 and net[0].result["recover"]["action"] == "recovered", net
    assert net[0].result["project"] == p.name, net
    assert net[0].result["recover"]["workers_stopped"] == [f"bosun-worker-{name}-{run_id[:8]}"], net
    assert TEST_IMAGE  # the worker image of the fixture
