"""The integration test bed itself: real daemon, real Compose, real ansible-playbook."""

from __future__ import annotations

import pytest

from harness import leftover_projects, run

pytestmark = pytest.mark.docker


def test_compose_project_runs_both_services(compose_project):
    project = compose_project("two_sleepers.yml")
    containers = project.ps()
    assert sorted(c["Service"] for c in containers) == ["alpha", "beta"]
    assert {c["State"] for c in containers} == {"running"}
    assert {c["Project"] for c in containers} == {project.name}


def test_playbook_result_holds_both_container_ids(compose_project, ansible_playbook):
    project = compose_project("two_sleepers.yml")
    play = {
        "name": "inspect the stack",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "list container ids",
                "ansible.builtin.command": {
                    "argv": ["docker", "compose", "-p", project.name, "-f", str(project.file), "ps", "-q"]
                },
                "changed_when": False,
            }
        ],
    }
    result = ansible_playbook([play])
    assert result.rc == 0, result
    listed = result.task("list container ids")
    assert (listed.host, listed.status, listed.play) == ("localhost", "ok", "inspect the stack")
    ids = listed.result["stdout_lines"]
    assert len(ids) == 2
    full_ids = project.container_ids()
    assert sorted(next(f for f in full_ids if f.startswith(i)) for i in ids) == sorted(full_ids)


def test_failed_and_skipped_tasks_are_recorded(ansible_playbook):
    result = ansible_playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: skipped on purpose
      ansible.builtin.command: "false"
      when: false
    - name: fails on purpose
      ansible.builtin.command: "false"
    - name: never reached
      ansible.builtin.debug:
        msg: unreachable code
""")
    assert result.rc == 2, result
    assert result.task("skipped on purpose").status == "skipped"
    failed = result.task("fails on purpose")
    assert failed.status == "failed" and failed.result["rc"] == 1
    assert result.tasks("never reached") == []


def test_adhoc_and_check_mode(compose_project, ansible_adhoc):
    project = compose_project("two_sleepers.yml")
    result = ansible_adhoc("ansible.builtin.command", f"docker compose -p {project.name} ps -q --status running")
    assert result.rc == 0, result
    assert len(result.task("ansible.builtin.command").result["stdout_lines"]) == 2
    # In check mode the command module does not run, so no container ids come back.
    checked = ansible_adhoc("ansible.builtin.command", f"docker compose -p {project.name} ps -q", check=True)
    assert checked.rc == 0, checked
    assert checked.task("ansible.builtin.command").status == "skipped"


def test_project_teardown_removes_containers_and_workers(compose_project):
    project = compose_project("two_sleepers.yml")
    # A stand-in worker container, labelled the way the collection labels its workers.
    run(
        [
            "docker",
            "run",
            "-d",
            "--init",
            "--network",
            "none",
            "--label",
            "bosun.worker.job=backup",
            "--label",
            f"bosun.stack={project.name}",
            "--name",
            f"{project.name}-worker",
            "bosun-test/busybox:latest",
            "sleep",
            "3600",
        ]
    )
    project.down()
    assert run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project.name}"]).stdout == ""
    assert run(["docker", "ps", "-aq", "--filter", f"name={project.name}-worker"]).stdout == ""
    assert project.name not in leftover_projects()


def test_leftover_projects_sees_a_live_project_only_without_an_age_floor(compose_project):
    project = compose_project("two_sleepers.yml")
    assert project.name in leftover_projects()
    assert project.name not in leftover_projects(min_age=3600)
