"""Cancelling a run (issue item 10): before any downtime nothing is stopped, during the stop no further level
is stopped, and during the start the signal is absorbed (the restart is never interrupted)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import typing as t

import pytest
import yaml

from harness import VENV_BIN, TaskResult, event_log
from stackcheck import event_action, lease_exists, module_pid, stack_with_lease_cleanup, states, wait_for

pytestmark = pytest.mark.docker


@pytest.fixture
def stack(compose_project):
    yield from stack_with_lease_cleanup(compose_project, "slow_stop.yml")


class Run:
    """One `ansible-playbook` of a job_run task, in the background; its module process can be signalled."""

    def __init__(self, ansible, project, run_id: str, state_dir: str, job_name: str = "backup", **job: t.Any) -> None:
        self.run_id = run_id
        self.dir, env = ansible._prepare()  # pylint: disable=protected-access
        env["BOSUN_TEST_RUN"] = run_id
        args: dict[str, t.Any] = {"name": job_name, "project": project.name, "run_id": run_id, "state_dir": state_dir}
        if job:
            args["job"] = job
        pb = self.dir / "playbook.yml"
        play = {"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "run", "bosun.compose.job_run": args}]}
        pb.write_text(yaml.safe_dump([play]))
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "ansible-playbook"), "-i", str(self.dir / "hosts.ini"), str(pb)],
            cwd=self.dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def signal(self, sig: int) -> None:
        os.kill(wait_for(lambda: module_pid(self.run_id), 20, "the module process", 0.05), sig)

    def result(self, timeout: float = 120) -> dict:
        try:
            out = self.proc.communicate(timeout=timeout)[0]
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        lines = (self.dir / "results.jsonl").read_text().splitlines()
        assert lines, out
        return TaskResult(**json.loads(lines[0])).result


def kill_event(name: str, since: float, signum: int = 15):
    """The first `kill` event (`docker stop` sends the stop signal) of container `name` since `since`."""
    found = [
        e
        for e in event_log().since(since, name=name, settle=0)
        if event_action(e) == "kill" and e["Actor"]["Attributes"].get("signal") == str(signum)
    ]
    return found[0] if found else None


def actions(project, service: str, since: float) -> list[str]:
    name = f"{project.name}-{service}-1"
    # Without "update": the run's own restart policy changes (always while down, the container's own after).
    return [event_action(e) for e in event_log().since(since, name=name) if event_action(e) != "update"]


def test_a_cancel_before_the_lease_is_taken_stops_nothing(stack, ansible, tmp_path):
    """A run that is recovering a dead run's stack when the signal comes: the recovery finishes (the dead
    run's worker is stopped, its stop-set started), then the cancelled run takes no lease, creates no worker
    and stops nothing."""
    project = stack()
    state = str(tmp_path / "state")
    dead = Run(ansible, project, "dead" + "a" * 28, state, command=["sh", "-c", "trap '' TERM; sleep 300"])
    dead_worker = f"bosun-worker-backup-{dead.run_id[:8]}"
    wait_for(lambda: states(project).get(f"{project.name}-db-1") == "exited", 60, "the dead run to stop the stack")
    wait_for(
        lambda: [e for e in event_log().since(0, name=dead_worker, settle=0) if event_action(e) == "start"],
        60,
        "the dead run's worker to start",
    )
    dead.signal(signal.SIGKILL)
    dead.proc.wait(timeout=60)
    assert lease_exists(project.name)

    t0 = time.time()
    late = Run(ansible, project, "late" + "b" * 28, state)
    # Its recovery stops the dead run's worker, which ignores SIGTERM: 10 s before the SIGKILL.
    wait_for(lambda: kill_event(dead_worker, t0), 60, "the recovery to stop the dead run's worker", 0.1)
    late.signal(signal.SIGTERM)
    r = late.result()
    assert r["outcome"] == "cancelled", r
    assert "before anything was stopped" in r["msg"], r["msg"]
    assert r["stopped"] == [] and r["restarted"] == [], r
    # The recovery finished (the stack runs), and this run took no lease and created no worker.
    created = [e["Actor"]["Attributes"]["name"] for e in event_log().since(t0) if event_action(e) == "create"]
    assert f"bosun-lease-{project.name}" not in created and f"bosun-worker-backup-{late.run_id[:8]}" not in created
    assert set(states(project).values()) == {"running"}, states(project)
    assert not lease_exists(project.name)
    # It stopped nothing: after the recovery started them, no container of the stack died again.
    started = max(e["timeNano"] for e in event_log().since(t0, project=project.name) if event_action(e) == "start")
    assert not [e for e in event_log().since(started / 1e9, project=project.name) if event_action(e) in ("kill", "die")]


def test_a_cancel_during_the_stop_stops_no_further_level(stack, ansible, tmp_path):
    project = stack()
    t0 = time.time()
    job = Run(ansible, project, "stop" + "c" * 28, str(tmp_path / "state"))
    web = f"{project.name}-web-1"
    wait_for(lambda: kill_event(web, t0), 60, "the stop of web to begin", 0.05)
    job.signal(signal.SIGTERM)  # web's stop lasts its 5 s grace period
    r = job.result()
    assert r["outcome"] == "cancelled" and "while stopping" in r["msg"], r
    assert [c["name"] for c in r["stopped"]] == [web] and [c["name"] for c in r["restarted"]] == [web], r
    assert [s["type"] for s in r["steps"]] == ["stop_containers", "start_containers"], r["steps"]
    # The deeper levels were never stopped; web was started again; the worker never ran.
    assert "die" not in actions(project, "api", t0) and "die" not in actions(project, "db", t0)
    assert actions(project, "web", t0)[-1] == "start"
    assert set(states(project).values()) == {"running"} and not lease_exists(project.name)
    worker = f"bosun-worker-backup-{job.run_id[:8]}"
    assert not [e for e in event_log().since(t0, name=worker) if event_action(e) == "start"]


def test_a_signal_during_the_start_is_absorbed_and_the_outcome_is_what_the_job_did(compose_project, ansible, tmp_path):
    project = compose_project("health_slow.yml")
    t0 = time.time()
    job = Run(ansible, project, "strt" + "d" * 28, str(tmp_path / "state"), "quick", start_timeout="40s")
    app = f"{project.name}-app-1"
    # app takes 6 s to become healthy after its start; the start waits for it before web.
    wait_for(lambda: "start" in actions(project, "app", t0), 60, "app to be started again", 0.05)
    job.signal(signal.SIGTERM)
    r = job.result()
    assert r["outcome"] == "success", r
    assert len(r["restarted"]) == 3 and set(states(project).values()) == {"running"}, r
    assert not lease_exists(project.name)
    assert app in [c["name"] for c in r["restarted"]]
