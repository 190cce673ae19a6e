"""Cancellation: SIGTERM, SIGINT and SIGHUP delivered to the job_run module process itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
import yaml

from harness import VENV_BIN, TaskResult, run
from stackcheck import module_pid

pytestmark = pytest.mark.docker


def wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.mark.podman
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_signal_to_the_module_cancels_and_restarts(compose_project, ansible, tmp_path, sig):
    p = compose_project("run_stack.yml")
    before = set(p.compose("ps", "-q", "--no-trunc", "--status", "running").stdout.split())
    run_id = f"sig{sig.name.lower()}{os.getpid()}0000"
    d, env = ansible._prepare()  # pylint: disable=protected-access
    env["BOSUN_TEST_RUN"] = run_id  # the module process inherits it: that is how the test finds it
    pb = d / "playbook.yml"
    pb.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "run",
                            "bosun.compose.job_run": {
                                "name": "backup",
                                "project": p.name,
                                "run_id": run_id,
                                "state_dir": str(tmp_path / "state"),
                                "job": {"command": ["sleep", "120"]},
                            },
                        }
                    ],
                }
            ]
        )
    )
    proc = subprocess.Popen(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(d / "hosts.ini"), str(pb)],
        cwd=d,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        worker = f"bosun-worker-backup-{run_id[:8]}"

        def worker_running() -> str:
            if proc.poll() is not None:
                raise AssertionError(
                    f"the play ended (rc {proc.returncode}) before {worker} ran:\n{proc.communicate()[0]}"
                )
            return run(["docker", "ps", "-q", "--filter", f"name={worker}", "--filter", "status=running"]).stdout

        try:
            wait_for(worker_running, 60, f"worker {worker} to run")
        except AssertionError as exc:
            if proc.poll() is None:
                proc.kill()
                seen = run(["docker", "ps", "-a", "--format", "{{.Names}} {{.Status}}"]).stdout
                raise AssertionError(f"{exc}; containers:\n{seen}\nthe play so far:\n{proc.communicate()[0]}") from exc
            raise
        pid = wait_for(lambda: module_pid(run_id), 10, "the module process")
        t0 = time.monotonic()
        os.kill(pid, sig)
        out = proc.communicate(timeout=90)[0]
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = (d / "results.jsonl").read_text().splitlines()
    task = next(TaskResult(**json.loads(line)) for line in lines)
    r = task.result
    assert proc.returncode == 2, out
    assert r["outcome"] == "cancelled", r
    assert r["msg"].startswith(f"cancelled: received {sig.name}: worker 'bosun-worker-backup-"), r["msg"]
    assert r["worker"]["cancelled"] is True and r["worker"]["removed"] is True
    assert elapsed < 30, elapsed  # not the 120 s the worker would have slept
    assert set(p.compose("ps", "-q", "--no-trunc", "--status", "running").stdout.split()) == before
    assert run(["docker", "ps", "-aq", "--filter", f"label=bosun.worker.run-id={run_id}"]).stdout == ""
    assert run(["docker", "ps", "-aq", "--filter", f"name=bosun-lease-{p.name}"]).stdout == ""
