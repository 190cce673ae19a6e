"""job_cancel and the cancel playbook: another play really cancels a running job."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

from harness import VENV_BIN, TaskResult, run

pytestmark = pytest.mark.docker


def running_ids(project) -> set[str]:
    return set(project.compose("ps", "-q", "--no-trunc", "--status", "running").stdout.split())


@pytest.mark.podman
def test_cancel_playbook_stops_the_worker_and_the_run_restarts_the_stack(
    compose_project, ansible, ansible_playbook, tmp_path
):
    p = compose_project("run_stack.yml")
    before = running_ids(p)
    state = str(tmp_path / "state")
    d, env = ansible._prepare()  # pylint: disable=protected-access
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
                                "state_dir": state,
                                "job": {"command": ["sleep", "120"]},
                            },
                            "async": 600,
                            "poll": 1,
                        }
                    ],
                }
            ]
        )
    )
    job = subprocess.Popen(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(d / "hosts.ini"), str(pb)],
        cwd=d,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        end = time.monotonic() + 60
        while not run(
            ["docker", "ps", "-q", "--filter", f"label=bosun.worker.stack={p.name}", "--filter", "status=running"]
        ).stdout:
            assert time.monotonic() < end, "the worker never started"
            time.sleep(0.3)
        t0 = time.monotonic()
        cancel = ansible_playbook(
            [{"ansible.builtin.import_playbook": "bosun.compose.cancel"}],
            extra_vars={"project": p.name, "target": "localhost"},
        )
        elapsed = time.monotonic() - t0
        out = job.communicate(timeout=120)[0]
    finally:
        if job.poll() is None:
            job.kill()
    assert cancel.rc == 0, cancel
    c = cancel.task("Cancel the run").result
    assert c["action"] == "cancelled" and c["lease"]["project"] == p.name, c
    assert elapsed < 40, elapsed  # not the 120 s the worker would have slept
    lines = (d / "results.jsonl").read_text().splitlines()
    r = TaskResult(**json.loads(lines[-1])).result
    assert job.returncode == 2, out
    assert r["outcome"] == "cancelled" and r["msg"].startswith("cancelled: received SIGTERM"), r
    assert running_ids(p) == before
    assert run(["docker", "ps", "-aq", "--filter", f"label=bosun.worker.stack={p.name}"]).stdout == ""
    # Nothing holds the stack any more: a second cancel has nothing to do.
    again = ansible_playbook(
        [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [{"name": "again", "bosun.compose.job_cancel": {"project": p.name}}],
            }
        ]
    )
    assert (again.task("again").status, again.task("again").result["action"]) == ("ok", "none")


def test_cancel_refuses_a_lease_without_a_process(compose_project, ansible_playbook):
    p = compose_project("run_stack.yml")
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "hold",
                    "bosun.compose.stack": {
                        "project": p.name,
                        "state": "stopped",
                        "services": ["web"],
                        "run_id": "holder-run-0002",
                    },
                },
                {"name": "cancel", "bosun.compose.job_cancel": {"project": p.name}, "ignore_errors": True},
                {
                    "name": "release",
                    "bosun.compose.stack": {"project": p.name, "state": "started", "run_id": "holder-run-0002"},
                },
            ],
        }
    ]
    result = ansible_playbook(play)
    cancel = result.task("cancel")
    assert cancel.status == "failed"
    assert "has no process to signal" in cancel.result["msg"] and "holder-run-0002" in cancel.result["msg"]
    assert result.task("release").status == "changed"
