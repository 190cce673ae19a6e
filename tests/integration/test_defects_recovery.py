"""Defects real stacks exposed (issue 11, items 6, 8, 9): a stop still in progress when its run died, a sidecar
whose network parent was stopped before the job, and a run that resumes after its lease expired.

Each test runs the real job_run module through real ansible-playbook against the real daemon and fails on 0.1.0.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from harness import TEST_IMAGE
from stackcheck import lease, running_workers, snapshot, states, wait_for
from stackcheck import module_pid

pytestmark = pytest.mark.docker


def service(command: str = "sleep 3600", grace: str = "1s", **extra) -> dict:
    return {
        "image": TEST_IMAGE,
        "init": True,
        "command": command,
        "network_mode": "none",
        "stop_grace_period": grace,
        **extra,
    }


def job_labels(name: str, command: str, **extra: str) -> dict:
    return {
        "bosun.job.name": name,
        "bosun.job.worker.image": TEST_IMAGE,
        "bosun.job.worker.command": command,
        "bosun.job.worker.network": "none",
        **extra,
    }


def run_play(project, tmp_path, name: str, run_id: str, **options) -> list[dict]:
    task = {
        "name": "run",
        "bosun.compose.job_run": {
            "name": name,
            "project": project.name,
            "run_id": run_id,
            "state_dir": str(tmp_path / "state"),
            **options,
        },
        "ignore_errors": True,
    }
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]


def recover_play(project) -> list[dict]:
    task = {"name": "recover", "bosun.compose.stack": {"project": project.name, "state": "recovered"}}
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]


def test_recovery_waits_out_a_stop_the_dead_run_left_in_progress(compose_project, ansible, ansible_playbook, tmp_path):
    # web ignores SIGTERM (sleep as PID 1, no init) and has an 8 s grace: Docker kills it 8 s after the stop
    # began, even when the run that asked for the stop was SIGKILLed meanwhile.
    spec = {
        "services": {
            "db": service(labels=job_labels("inflight", '["sh", "-c", "sleep 30"]', **{"bosun.job.timeout": "60s"})),
            "web": service(grace="8s", init=False, depends_on=["db"]),
        }
    }
    p = compose_project(spec)
    before = snapshot(p)
    run_id = f"inflight{os.getpid():08d}abcdef"
    proc = ansible.start(run_play(p, tmp_path, "inflight", run_id), env={"BOSUN_TEST_RUN": run_id}).proc
    try:
        wait_for(lambda: lease(p.name) is not None, 60, "the run's lease")
        pid = wait_for(lambda: module_pid(run_id), 10, "the module process")
        time.sleep(1.5)  # web's stop has begun; its grace runs 8 s
        assert states(p)[f"{p.name}-web-1"] == "running"
        os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    result = ansible_playbook(recover_play(p))
    assert result.rc == 0, str(result)
    rec = result.task("recover").result["recover"]
    assert rec["action"] == "recovered" and rec["released"] is True, rec
    # 0.1.0 counted web as already running, released the lease, and Docker killed web seconds later.
    time.sleep(2)
    assert snapshot(p) == before
    assert lease(p.name) is None and running_workers(p.name) == []


def test_a_sidecar_whose_network_parent_is_stopped_is_refused_before_anything_stops(
    compose_project, ansible_playbook, tmp_path
):
    spec = {
        "services": {
            "app": service(labels=job_labels("netparent", '["true"]')),
            "sidecar": {**service(), "network_mode": "service:app"},
            "db": service(),
        }
    }
    p = compose_project(spec)
    p.compose("stop", "app")  # the operator stopped app; the sidecar keeps running in app's old namespace
    before = snapshot(p)
    r = ansible_playbook(run_play(p, tmp_path, "netparent", "netparent0000000000000001")).task("run").result
    assert r["outcome"] == "preflight_failed", r
    assert f"{p.name}-sidecar-1" in r["msg"] and f"{p.name}-app-1" in r["msg"], r["msg"]
    assert "nothing was stopped" in r["msg"]
    assert r["stopped"] == [] and snapshot(p) == before and lease(p.name) is None


def test_a_run_that_resumes_after_another_run_took_the_stack_touches_nothing(
    compose_project, ansible, ansible_playbook, tmp_path
):
    # Short bounds so the lease expires soon (about 90 s): stop 1 s per level, worker timeout 5 s, start 2 s.
    short = {"bosun.job.stop-timeout": "1s", "bosun.job.timeout": "5s", "bosun.job.start-timeout": "2s"}
    spec = {
        "services": {
            "db": service(labels=job_labels("fenced", '["sh", "-c", "sleep 600"]', **short)),
            "app": service(depends_on=["db"], labels=job_labels("second", '["sh", "-c", "sleep 20"]')),
        }
    }
    p = compose_project(spec)
    before = snapshot(p)
    first = f"fenced01{os.getpid():08d}abcdef"
    proc = ansible.start(run_play(p, tmp_path, "fenced", first), env={"BOSUN_TEST_RUN": first}).proc
    try:
        wait_for(lambda: running_workers(p.name) or proc.poll() is not None, 120, "the first run's worker")
        assert proc.poll() is None, proc.communicate()[0]
        pid = wait_for(lambda: module_pid(first), 10, "the module process")
        os.kill(pid, signal.SIGSTOP)  # frozen mid-worker, past its lease's expiry
        expires = int(lease(p.name)["bosun.lease.expires"])
        wait_for(lambda: time.time() > expires + 1, expires - time.time() + 30, "the first lease to expire")
        second = f"fenced02{os.getpid():08d}abcdef"
        proc2 = ansible.start(run_play(p, tmp_path, "second", second), env={"BOSUN_TEST_RUN": second}).proc
        wait_for(
            lambda: (lease(p.name) or {}).get("bosun.lease.run-id") == second and running_workers(p.name),
            60,
            "the second run's worker",
        )
        assert set(states(p).values()) == {"exited"}
        os.kill(pid, signal.SIGCONT)
        out = proc.communicate(timeout=60)[0]
        # The first run must not have started anything while the second run's worker runs.
        assert set(states(p).values()) == {"exited"}, out
        assert (lease(p.name) or {}).get("bosun.lease.run-id") == second
        out2 = proc2.communicate(timeout=120)[0]
    finally:
        for pr in (proc, locals().get("proc2")):
            if pr is not None and pr.poll() is None:
                os.killpg(pr.pid, signal.SIGKILL)
    records = tmp_path / "state" / "runs"
    assert json.loads((records / "fenced" / f"{first}.json").read_text())["outcome"] == "lease_lost", out
    assert json.loads((records / "second" / f"{second}.json").read_text())["outcome"] == "success", out2
    assert snapshot(p) == before and lease(p.name) is None
