"""Health after the restart (issue items 2 and 3): a stack that comes back unhealthy, or whose health gates
outlast the start budget, is still started completely but never reported as a success."""

from __future__ import annotations

import pytest

from harness import project_workers, run
from stackcheck import job_task, lease_exists, role_task, shown_report, stack_with_lease_cleanup, states, wait_for

pytestmark = pytest.mark.docker

NET = "Safety net - restart the stack if this run left it down"
STATS = "Publish the run report as bosun_run.<host> (AWX artifacts)"


@pytest.fixture
def stack(compose_project):
    yield from stack_with_lease_cleanup(compose_project, "health_unhealthy.yml")


def health(project, service: str) -> str:
    cid = project.compose("ps", "-aq", "--no-trunc", service).stdout.strip()
    return run(["docker", "inspect", "-f", "{{.State.Health.Status}}", cid]).stdout.strip()


def job_run_play(project, job: str, **overrides):
    task = {"bosun.compose.job_run": {"name": job, "project": project.name}}
    if overrides:
        task["bosun.compose.job_run"]["job"] = overrides
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "run", **task}]}]


def test_a_stack_that_comes_back_unhealthy_is_start_unhealthy_and_left_running(stack, ansible_playbook, monkeypatch):
    project = stack("health_unhealthy.yml")
    assert health(project, "app") == "healthy"
    monkeypatch.setenv("ANSIBLE_SHOW_CUSTOM_STATS", "1")
    result = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}],
        extra_vars={"job": "break-health", "project": project.name, "run_job_poll": 1},
    )
    assert result.rc == 2, str(result)
    r = job_task(result)
    assert r.status == "failed" and r.result["outcome"] == "start_unhealthy", r.result
    app = f"{project.name}-app-1"
    assert f"'{app}' unhealthy" in r.result["msg"], r.result["msg"]
    start = r.result["steps"][-1]
    assert start["type"] == "start_containers" and start["status"] == "failed", start
    assert f"'{app}' unhealthy" in start["detail"], start
    # Everything runs (web was started although its dependency is unhealthy); nothing was stopped again.
    assert set(states(project).values()) == {"running"}, states(project)
    assert health(project, "app") == "unhealthy"
    assert sorted(c["name"] for c in r.result["restarted"]) == sorted(c["name"] for c in r.result["stopped"])
    assert len(r.result["restarted"]) == 3
    # The lease is released (everything runs) and the safety net has nothing to do.
    assert not lease_exists(project.name) and project_workers(project.name) == []
    assert role_task(result, NET).status == "skipped"  # job_run returned lease_kept false: nothing to recover
    rep = role_task(result, STATS).result["ansible_stats"]["data"]["bosun_run"]["localhost"]
    assert rep["outcome"] == "start_unhealthy" and f"'{app}' unhealthy" in rep["message"], rep
    lines = shown_report(result)
    assert lines[0].endswith(": start_unhealthy"), lines


def test_a_start_budget_that_runs_out_names_the_gate_and_still_starts_everything(stack, ansible_playbook):
    project = stack("health_slow.yml")
    assert health(project, "app") == "healthy"
    result = ansible_playbook(job_run_play(project, "quick", start_timeout="3s"))
    assert result.rc == 2, str(result)
    r = result.task("run")
    assert r.status == "failed" and r.result["outcome"] == "start_unhealthy", r.result
    app = f"{project.name}-app-1"
    assert f"'{app}' health: starting" in r.result["msg"], r.result["msg"]
    assert "start timeout (3s) ran out" in r.result["msg"], r.result["msg"]
    assert f"'{app}' health: starting" in r.result["steps"][-1]["detail"], r.result["steps"][-1]
    # web was started anyway, out of health order: never leave a stack down.
    assert set(states(project).values()) == {"running"}, states(project)
    assert len(r.result["restarted"]) == 3 and not lease_exists(project.name)
    # The gate does become healthy later on: the stack was only reported, not touched again.
    wait_for(lambda: health(project, "app") == "healthy", 30, "app to become healthy")


def test_a_slow_gate_within_the_budget_is_waited_for_and_succeeds(stack, ansible_playbook):
    project = stack("health_slow.yml")
    result = ansible_playbook(job_run_play(project, "quick", start_timeout="40s"))
    assert result.rc == 0, str(result)
    r = result.task("run").result
    assert r["outcome"] == "success", r
    assert health(project, "app") == "healthy" and set(states(project).values()) == {"running"}
