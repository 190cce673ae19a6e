"""Reliability (issue 14, item 2): a cleanup job prunes while a job has the stack down (Dokploy#3392).

``docker container prune`` deletes every stopped container: the lease (created, never started) and the stack's
stopped containers. The run keeps going from its journal on the host (a second run is still refused), and its
restart creates exactly the deleted services again with Compose (``up --no-deps --no-recreate``), never the
exited one-shot. When Compose cannot (the project's files are gone), the outcome is ``start_failed`` naming each
deleted container and the command that brings it back; that command works. A paused container is not pruned.

The prunes here are filtered by the test project's labels: an unfiltered prune would delete other tests' stopped
containers on this shared daemon. What they delete is what an unfiltered prune deletes of this project.
"""

from __future__ import annotations

import json
import os
import shlex

import pytest

from harness import FIXTURES, ComposeProject, project_workers, run
from stackcheck import lease, release_worker, running_workers, snapshot, wait_for, job_run_result, start_job_run

pytestmark = pytest.mark.docker

JOB = "prune-job"
SERVICES = ["app", "db", "web"]


@pytest.fixture
def stack(compose_project):
    """The prune stack with a job name of its own: while a prune has deleted one test's containers, its volumes
    (which carry the job name) would attach to the only other stack that declares that name, a parallel test's."""
    job = f"prune-{os.urandom(3).hex()}"
    text = (FIXTURES / "prune_stack.yml").read_text(encoding="utf-8").replace(JOB, job)
    project = compose_project(text)
    project.job = job  # type: ignore[attr-defined]
    return project


def prune(project: ComposeProject, what: str = "container") -> None:
    """``docker <what> prune`` of this project's objects and of its lease (the lease has no Compose label).

    The daemon runs one prune at a time ("a prune operation is already running"): retried then."""
    for label in (f"com.docker.compose.project={project.name}", f"bosun.lease.project={project.name}"):
        argv = ["docker", what, "prune", "--force", "--filter", f"label={label}"]
        wait_for(lambda argv=argv: run(argv, check=False).returncode == 0, 60, f"{' '.join(argv)} to run")


def services(project: ComposeProject) -> dict[str, list[tuple[str, str]]]:
    """service -> [(container id, state)] of every container of the project."""
    out: dict[str, list[tuple[str, str]]] = {}
    ids = project.container_ids()
    for c in json.loads(run(["docker", "inspect", *ids]).stdout) if ids else []:
        out.setdefault(c["Config"]["Labels"]["com.docker.compose.service"], []).append((c["Id"], c["State"]["Status"]))
    return out


def policies(project: ComposeProject) -> dict[str, str]:
    docs = json.loads(run(["docker", "inspect", *project.container_ids()]).stdout)
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c["HostConfig"]["RestartPolicy"]["Name"] for c in docs}


def test_a_container_prune_mid_job_loses_nothing_and_compose_recreates_exactly_the_deleted_services(
    stack, ansible, ansible_playbook, tmp_path
):
    p = stack
    wait_for(lambda: services(p)["oneshot"][0][1] == "exited", 30, "the one-shot to exit")
    before, policies_before = services(p), policies(p)
    state_dir = str(tmp_path / "state")
    job = start_job_run(ansible, p.name, state_dir, p.job)
    wait_for(lambda: running_workers(p.name) or job.proc.poll() is not None, 120, "the worker to run")
    assert job.proc.poll() is None, job_run_result(job)
    prune(p)
    assert lease(p.name) is None and sorted(services(p)) == []  # the cleanup job deleted the lease and the stack
    journal = json.loads((tmp_path / "state" / "leases" / f"{p.name}.json").read_text(encoding="utf-8"))
    assert journal["bosun.lease.job"] == p.job
    # The jobs' labels went with the containers, so no second run can find a job here; what could still act on the
    # stack is a recovery (the role's safety net, the recover playbook): the journal tells it the run lives.
    second = ansible_playbook(
        [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {
                        "name": "recover",
                        "bosun.compose.stack": {"project": p.name, "state": "recovered", "state_dir": state_dir},
                    }
                ],
            }
        ]
    )
    refused = second.task("recover").result
    assert refused["recover"]["action"] == "in_progress" and refused["changed"] is False, refused
    assert journal["bosun.lease.run-id"] in refused["recover"]["message"] and services(p) == {}, refused
    release_worker(p)
    result = job_run_result(job)[1]
    assert result["outcome"] == "success", result["message"]
    after = services(p)
    # Exactly the deleted services again, one container each, running; the exited one-shot is not brought back.
    assert sorted(after) == SERVICES, after
    assert all(len(cs) == 1 and cs[0][1] == "running" for cs in after.values()), after
    assert all(after[s][0][0] != before[s][0][0] for s in SERVICES)  # new containers
    start = next(s for s in result["steps"] if s["type"] == "start_containers")
    assert "3 deleted while down and created again by Compose" in start["detail"], start
    assert any("deleted while it was down" in w for w in result.get("warnings", [])), result.get("warnings")
    assert policies(p) == {s: v for s, v in policies_before.items() if s in SERVICES}  # Compose's own, from the file
    assert policies_before["db"] == "unless-stopped"
    assert lease(p.name) is None and project_workers(p.name) == []
    assert not (tmp_path / "state" / "leases" / f"{p.name}.json").exists()


def test_a_system_prune_with_the_compose_files_gone_is_start_failed_naming_each_container_and_the_command(
    stack, ansible, tmp_path
):
    p = stack
    state_dir = str(tmp_path / "state")
    job = start_job_run(ansible, p.name, state_dir, p.job)
    wait_for(lambda: running_workers(p.name) or job.proc.poll() is not None, 120, "the worker to run")
    assert job.proc.poll() is None, job_run_result(job)
    moved = p.file.with_suffix(".away")
    p.file.rename(moved)  # the deploy folder is gone: Compose cannot recreate anything
    prune(p, "system")
    release_worker(p)
    result = job_run_result(job)[1]
    assert result["outcome"] == "start_failed", result["message"]
    message = result["message"]
    for service in SERVICES:
        assert f"'{p.name}-{service}-1' (service '{service}')" in message, message
    assert "cannot be read here" in message and str(p.file) in message
    command = message.split("bring it back with: ", 1)[1].split(";", 1)[0]
    assert command.startswith("docker compose --project-name " + p.name) and "--no-deps" in command
    assert lease(p.name) is None and not (tmp_path / "state" / "leases" / f"{p.name}.json").exists()
    # The command the message gives brings the stack back, exactly those services.
    moved.rename(p.file)
    run(shlex.split(command))
    after = services(p)
    assert sorted(after) == SERVICES and all(cs[0][1] == "running" for cs in after.values()), after


def test_pause_mode_is_immune_to_a_prune(stack, ansible, tmp_path):
    p = stack
    before = snapshot(p)
    state_dir = str(tmp_path / "state")
    job = start_job_run(ansible, p.name, state_dir, p.job, job={"stop_mode": "pause"})
    wait_for(lambda: running_workers(p.name) or job.proc.poll() is not None, 120, "the worker to run")
    assert job.proc.poll() is None, job_run_result(job)
    prune(p)
    assert {s for s, cs in services(p).items() for _i, st in cs if st == "paused"} == set(SERVICES)
    release_worker(p)
    result = job_run_result(job)[1]
    assert result["outcome"] == "success", result["message"]
    after = snapshot(p)
    # The same containers run again (a paused one is not pruned); only the exited one-shot went with the prune.
    assert after == {n: v for n, v in before.items() if not n.endswith("-oneshot-1")}, (before, after)
    assert lease(p.name) is None
