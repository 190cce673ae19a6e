"""Containers that are up but not running (issue item 4): a crash-looping (`restarting`) and a paused container
are part of the stop-set, stopped, and afterwards returned to the state they had."""

from __future__ import annotations

import json
import time

import pytest

from harness import event_log, run
from stackcheck import event_action, lease_exists, stack_with_lease_cleanup, wait_for

pytestmark = pytest.mark.docker


@pytest.fixture
def stack(compose_project):
    yield from stack_with_lease_cleanup(compose_project, "restarting_stack.yml")


def inspect(project, service: str) -> dict:
    cid = project.compose("ps", "-aq", "--no-trunc", service).stdout.strip()
    return json.loads(run(["docker", "inspect", cid]).stdout)[0]


def play(project):
    return [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "run", "bosun.compose.job_run": {"name": "tidy", "project": project.name}}],
        }
    ]


def restarting_with_long_backoff(project) -> bool:
    """crash is between two crashes, with Docker's back-off long enough (>= 6.4 s) for a whole plan to see it."""
    state = inspect(project, "crash")["State"]
    return state["Restarting"] and inspect(project, "crash")["RestartCount"] >= 7


def test_a_crash_looping_container_is_stopped_for_the_worker_and_left_to_its_restart_policy(stack, ansible_playbook):
    project = stack()
    wait_for(lambda: restarting_with_long_backoff(project), 60, "crash to be restarting with a long back-off", 0.1)
    crash = f"{project.name}-crash-1"
    crash_id = inspect(project, "crash")["Id"]
    planned = ansible_playbook(play(project), check=True)
    assert planned.rc == 0, str(planned)
    levels = planned.task("run").result["plan"]["steps"][0]["levels"]
    shown = {c["name"]: c.get("state", "running") for level in levels for c in level}
    assert shown.get(crash) == "restarting", levels

    wait_for(lambda: restarting_with_long_backoff(project), 60, "crash to be restarting with a long back-off", 0.1)
    since = time.time()
    result = ansible_playbook(play(project))
    assert result.rc == 0, str(result)
    r = result.task("run").result
    assert r["outcome"] == "success", r
    assert crash in [c["name"] for c in r["stopped"]], r["stopped"]
    assert crash in [c["name"] for c in r["restarted"]], r["restarted"]
    # Docker did not restart it beside the worker: no start of crash between the worker's start and its end.
    evs = event_log().since(since)
    worker = [e for e in evs if e["Actor"]["Attributes"].get("name", "").startswith("bosun-worker-tidy-")]
    w_start = min(e["timeNano"] for e in worker if event_action(e) == "start")
    w_die = max(e["timeNano"] for e in worker if event_action(e) == "die")
    crash_starts = [e["timeNano"] for e in evs if e["Actor"]["ID"] == crash_id and event_action(e) == "start"]
    assert not [ts for ts in crash_starts if w_start <= ts <= w_die], (w_start, w_die, crash_starts)
    # Afterwards it is started again and keeps crash-looping under its policy (not waited for, not failed).
    assert [ts for ts in crash_starts if ts > w_die], crash_starts
    wait_for(lambda: inspect(project, "crash")["RestartCount"] >= 1, 30, "crash to crash-loop again")
    assert inspect(project, "crash")["State"]["Status"] in ("running", "restarting")
    assert not lease_exists(project.name)


def test_a_paused_container_is_stopped_and_paused_again(stack, ansible_playbook):
    project = stack()
    idle = f"{project.name}-idle-1"
    run(["docker", "pause", idle])
    started_before = inspect(project, "idle")["State"]["StartedAt"]
    planned = ansible_playbook(play(project), check=True)
    assert planned.rc == 0, str(planned)
    levels = planned.task("run").result["plan"]["steps"][0]["levels"]
    assert {c["name"]: c.get("state", "running") for level in levels for c in level}.get(idle) == "paused", levels

    result = ansible_playbook(play(project))
    assert result.rc == 0, str(result)
    r = result.task("run").result
    assert r["outcome"] == "success", r
    assert idle in [c["name"] for c in r["stopped"]] and idle in [c["name"] for c in r["restarted"]], r
    state = inspect(project, "idle")["State"]
    # Stopped and started again (a new StartedAt), then paused again: the state it had.
    assert state["StartedAt"] != started_before and state["Status"] == "paused", state
    assert not lease_exists(project.name)
