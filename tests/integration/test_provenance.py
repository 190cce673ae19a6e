"""Provenance and history against the real daemon, through real ansible-playbook: job_run's result and run
record name what the run stopped as Docker itself sees it; job_info returns the last runs; the role's report
and list_jobs show them."""

from __future__ import annotations

import json
import re

import pytest

from harness import TEST_IMAGE, run
from stackcheck import role_task, shown_report, stack_with_lease_cleanup

pytestmark = pytest.mark.docker

COMPOSE_CONFIG_HASH = "com.docker.compose.config-hash"


def job_run(ansible_playbook, project, state_dir, **args) -> dict:
    """The registered result of one job_run task of job 'backup' (run_stack.yml)."""
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "run",
                    "bosun.compose.job_run": {
                        "name": "backup",
                        "project": project.name,
                        "state_dir": state_dir,
                        **args,
                    },
                    "ignore_errors": True,
                }
            ],
        }
    ]
    return ansible_playbook(play).task("run").result


def job_info(ansible_adhoc, project, state_dir, **args):
    return ansible_adhoc(
        "bosun.compose.job_info", {"name": "backup", "project": project.name, "state_dir": state_dir, **args}
    ).task("bosun.compose.job_info")


def inspect(ids: list[str]) -> dict[str, dict]:
    """name -> docker inspect document."""
    return {c["Name"].lstrip("/"): c for c in json.loads(run(["docker", "inspect", *ids]).stdout)}


def test_job_run_result_and_record_carry_the_provenance_of_the_real_containers(
    compose_project, ansible_playbook, tmp_path
):
    p = compose_project("run_stack.yml")
    docker = inspect(p.container_ids())
    state_dir = str(tmp_path / "state")
    r = job_run(ansible_playbook, p, state_dir)
    assert r["outcome"] == "success", r
    prov = r["provenance"]
    assert [c["name"] for c in prov["containers"]] == [c["name"] for c in r["stopped"]]
    assert [c["service"] for c in prov["containers"]] == ["web", "api", "db"]
    for c in prov["containers"]:
        d = docker[c["name"]]
        assert c["config_hash"] == d["Config"]["Labels"][COMPOSE_CONFIG_HASH]
        assert c["image_id"] == d["Image"]
        assert c["image"] == d["Config"]["Image"] == TEST_IMAGE
    labels = docker[f"{p.name}-db-1"]["Config"]["Labels"]
    assert prov["project"] == {
        "config_files": labels["com.docker.compose.project.config_files"].split(","),
        "working_dir": labels["com.docker.compose.project.working_dir"],
    }
    assert prov["project"]["config_files"] == [str(p.file)]
    image_id = json.loads(run(["docker", "image", "inspect", TEST_IMAGE]).stdout)[0]["Id"]
    assert prov["worker"] == {"image": TEST_IMAGE, "image_id": image_id}
    assert prov["after"] is None
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", prov["plan_hash"])
    record = json.loads((tmp_path / "state" / "runs" / "backup" / f"{r['run_id']}.json").read_text())
    assert record["provenance"] == prov


def test_job_info_history_is_the_last_runs_newest_first_and_the_same_plan_has_the_same_hash(
    compose_project, ansible_playbook, ansible_adhoc, tmp_path
):
    p = compose_project("run_stack.yml")
    state_dir = str(tmp_path / "state")
    first = job_run(ansible_playbook, p, state_dir)
    second = job_run(ansible_playbook, p, state_dir)
    assert (first["outcome"], second["outcome"]) == ("success", "success"), (first, second)
    # Same job, same containers (a stop and start keeps them), other run id and time: the same plan hash.
    assert first["provenance"]["plan_hash"] == second["provenance"]["plan_hash"]
    failed = job_run(ansible_playbook, p, state_dir, job={"command": ["sh", "-c", "exit 3"]})
    assert failed["outcome"] == "worker_failed"
    assert failed["provenance"]["plan_hash"] != second["provenance"]["plan_hash"]  # another command

    [job] = job_info(ansible_adhoc, p, state_dir, history=2).result["jobs"]
    assert [h["run_id"] for h in job["history"]] == [failed["run_id"], second["run_id"]]
    newest = job["history"][0]
    assert newest == {
        "run_id": failed["run_id"],
        "outcome": "worker_failed",
        "started_at": failed["started_at"],
        "finished_at": failed["finished_at"],
        "downtime_seconds": failed["downtime_seconds"],
        "duration_seconds": failed["duration_seconds"],
    }
    assert newest["downtime_seconds"] > 0
    # last_run is still the newest full record, provenance included.
    assert job["last_run"]["run_id"] == failed["run_id"] and job["last_run"]["provenance"] == failed["provenance"]

    [default] = job_info(ansible_adhoc, p, state_dir).result["jobs"]
    assert [h["run_id"] for h in default["history"]] == [failed["run_id"]]
    [every] = job_info(ansible_adhoc, p, state_dir, history=10).result["jobs"]
    assert [h["outcome"] for h in every["history"]] == ["worker_failed", "success", "success"]
    [none] = job_info(ansible_adhoc, p, state_dir, history=0).result["jobs"]
    assert none["history"] == [] and none["last_run"]["run_id"] == failed["run_id"]
    refused = job_info(ansible_adhoc, p, state_dir, history=-1)
    assert refused.status == "failed" and "history must be 0 or more" in refused.result["msg"]


@pytest.fixture
def stack(compose_project):
    yield from stack_with_lease_cleanup(compose_project)


def test_the_role_reports_the_provenance_and_list_jobs_shows_the_last_outcome(stack, ansible_playbook, monkeypatch):
    monkeypatch.setenv("ANSIBLE_SHOW_CUSTOM_STATS", "1")
    project = stack()
    ran = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}],
        extra_vars={"job": "role-copy", "project": project.name, "run_job_poll": 1},
    )
    assert ran.rc == 0, str(ran)
    report = role_task(ran, "Publish the run report as bosun_run.<host> (AWX artifacts)").result
    published = report["ansible_stats"]["data"]["bosun_run"]["localhost"]
    prov = published["provenance"]
    assert prov["containers"] and prov["worker"]["image_id"].startswith("sha256:")
    lines = shown_report(ran)
    [line] = [x for x in lines if x.startswith("Provenance: ")]
    assert line.startswith(f"Provenance: plan {prov['plan_hash'][:19]}, worker {prov['worker']['image']} ")
    for c in prov["containers"]:
        assert f"{c['name']} {c['image']} {c['image_id'][:19]} config {c['config_hash'][:12]}" in line

    listed = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.list_jobs"}], extra_vars={"project": project.name}
    )
    assert listed.rc == 0, str(listed)
    table = listed.task("Show the jobs").result["msg"]
    assert "LAST RUN" in table[0]
    started = published["started_at"]  # UTC, ISO 8601
    assert f" success {started[:10]} {started[11:16]}Z " in table[1], table
