"""job_run against the real daemon through real ansible-playbook: every outcome, the stack exactly as before."""

from __future__ import annotations

import json
import time

import pytest

from harness import TEST_IMAGE, run, run_once

pytestmark = pytest.mark.docker


def snapshot(project) -> dict[str, tuple[str, str]]:
    """name -> (state, StartedAt) of every container of the project, from docker inspect."""
    ids = project.container_ids()
    info = json.loads(run(["docker", "inspect", *ids]).stdout)
    return {c["Name"].lstrip("/"): (c["State"]["Status"], c["State"]["StartedAt"]) for c in info}


def running_ids(project) -> set[str]:
    return set(project.compose("ps", "-q", "--no-trunc", "--status", "running").stdout.split())


def job_run(ansible_playbook, stack, tmp_path, *, check=False, **args):
    """The recorded result of one job_run task; see job_run_play."""
    return job_run_play(ansible_playbook, stack, tmp_path, check=check, **args).task("run")


def job_run_play(ansible_playbook, stack, tmp_path, *, check=False, **args):
    args = {"name": "backup", "project": stack.name, "state_dir": str(tmp_path / "state"), **args}
    args = {k: v for k, v in args.items() if v is not None}
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "run", "bosun.compose.job_run": args, "ignore_errors": True}],
        }
    ]
    return ansible_playbook(play, check=check)


def cat_volume(volume: str, path: str) -> str:
    return run_once(["--network", "none", "-v", f"{volume}:/v:ro", TEST_IMAGE, "sh", "-c", f"cat /v/{path}"]).stdout


@pytest.mark.podman
def test_success_copies_data_and_restores_the_exact_stack(compose_project, ansible_playbook, ansible_adhoc, tmp_path):
    p = compose_project("run_stack.yml")
    before_ids = running_ids(p)
    task = job_run(ansible_playbook, p, tmp_path)
    r = task.result
    assert task.status == "changed", r
    assert r["outcome"] == "success" and r["message"].startswith("job 'backup' succeeded")
    assert [s["type"] for s in r["steps"]] == ["stop_containers", "run_worker", "start_containers"]
    assert [c["service"] for c in r["stopped"]] == ["web", "api", "db"]
    assert sorted(c["id"] for c in r["restarted"]) == sorted(before_ids)
    assert running_ids(p) == before_ids
    assert r["worker"]["exit_code"] == 0 and r["worker"]["log_tail"] == ["copied"]
    assert cat_volume(f"{p.name}_out", f"table-{r['run_id']}.txt") == "row1\n"
    assert 0 < r["downtime_seconds"] < 30
    record = json.loads((tmp_path / "state" / "runs" / "backup" / f"{r['run_id']}.json").read_text())
    assert (record["outcome"], record["stack"], record["log_path"]) == ("success", p.name, r["worker"]["log_path"])
    assert run(["docker", "ps", "-aq", "--filter", f"label=bosun.worker.run-id={r['run_id']}"]).stdout == ""
    assert run(["docker", "ps", "-aq", "--filter", f"name=bosun-lease-{p.name}"]).stdout == ""
    info = ansible_adhoc(
        "bosun.compose.job_info", {"name": "backup", "project": p.name, "state_dir": str(tmp_path / "state")}
    )
    [job] = info.task("bosun.compose.job_info").result["jobs"]
    assert (job["last_run"]["run_id"], job["last_run"]["outcome"]) == (r["run_id"], "success")


@pytest.mark.podman
def test_worker_failure_fails_the_task_and_restarts_the_stack(compose_project, ansible_playbook, tmp_path):
    p = compose_project("run_stack.yml")
    before_ids = running_ids(p)
    result = job_run_play(ansible_playbook, p, tmp_path, job={"command": ["sh", "-c", "echo broken >&2; exit 3"]})
    task = result.task("run")
    r = task.result
    assert task.status == "failed" and result.rc == 0  # ignore_errors keeps the play going
    assert r["outcome"] == "worker_failed"
    assert r["msg"].startswith("worker_failed: worker 'bosun-worker-backup-") and "exited with code 3" in r["msg"]
    assert r["worker"]["exit_code"] == 3 and r["worker"]["log_tail"] == ["broken"]
    assert running_ids(p) == before_ids


@pytest.mark.podman
def test_timeout_stops_the_worker_and_restarts_the_stack(compose_project, ansible_playbook, tmp_path):
    p = compose_project("run_stack.yml")
    before_ids = running_ids(p)
    t0 = time.monotonic()
    task = job_run(ansible_playbook, p, tmp_path, job={"command": ["sleep", "60"], "timeout": "2s"})
    r = task.result
    assert r["outcome"] == "timeout", r
    assert r["worker"]["timed_out"] is True and r["worker"]["removed"] is True
    assert time.monotonic() - t0 < 40
    assert running_ids(p) == before_ids
    assert run(["docker", "ps", "-aq", "--filter", f"label=bosun.worker.run-id={r['run_id']}"]).stdout == ""


@pytest.mark.podman
def test_missing_image_stops_nothing(compose_project, ansible_playbook, tmp_path):
    p = compose_project("run_stack.yml")
    before = snapshot(p)
    task = job_run(ansible_playbook, p, tmp_path, job={"image": "bosun-test/no-such-image:1"})
    r = task.result
    assert r["outcome"] == "image_missing"
    assert "'bosun-test/no-such-image:1'" in r["msg"] and "nothing was stopped" in r["msg"]
    assert r["stopped"] == [] and r["steps"] == []
    assert snapshot(p) == before


def test_check_mode_returns_the_plan_and_touches_nothing(compose_project, ansible_playbook, tmp_path):
    p = compose_project("run_stack.yml")
    before = snapshot(p)
    task = job_run(ansible_playbook, p, tmp_path, check=True)
    r = task.result
    assert task.status == "changed" and r["outcome"] == "success" and "check mode" in r["message"]
    assert [s["type"] for s in r["plan"]["steps"]] == ["stop_containers", "run_worker", "start_containers"]
    assert [[c["service"] for c in lv] for lv in r["plan"]["steps"][0]["levels"]] == [["web"], ["api"], ["db"]]
    assert snapshot(p) == before
    assert not (tmp_path / "state" / "runs").exists()


def test_job_defined_only_by_play_variables(compose_project, ansible_playbook, tmp_path):
    p = compose_project(
        {
            "services": {
                "solo": {
                    "image": TEST_IMAGE,
                    "init": True,
                    "command": "sleep 3600",
                    "network_mode": "none",
                    "volumes": ["files:/files"],
                }
            },
            "volumes": {"files": {}},
        }
    )
    before_ids = running_ids(p)
    job = {
        "stack": p.name,
        "image": TEST_IMAGE,
        "command": "sh -c 'ls /mnt/files >/dev/null && echo inline $GREETING'",
        "env": {"GREETING": "hello"},
        "mounts": [{"volume": f"{p.name}_files", "path": "/mnt/files"}],
        "timeout": 30,
    }
    task = job_run(ansible_playbook, p, tmp_path, name="inline-only", project=None, job=job)
    r = task.result
    assert r["outcome"] == "success", r
    assert r["worker"]["log_tail"] == ["inline hello"]
    assert [c["service"] for c in r["stopped"]] == ["solo"] and running_ids(p) == before_ids


def test_secret_env_never_appears_in_results_or_output(compose_project, ansible_playbook, tmp_path):
    p = compose_project("run_stack.yml")
    secret = "s3cr3t-value-do-not-print"
    result = job_run_play(
        ansible_playbook,
        p,
        tmp_path,
        job={"command": ["sh", "-c", "echo token=$TOKEN"], "secret_env": {"TOKEN": secret}},
    )
    task = result.task("run")
    assert task.result["outcome"] == "success"
    assert task.result["worker"]["log_tail"] == ["token=********"]
    assert secret not in json.dumps(task.result) and secret not in result.stdout and secret not in result.stderr
    assert secret not in (tmp_path / "state" / "logs" / "backup" / f"{task.result['run_id']}.log").read_text()


@pytest.mark.podman
def test_not_found_lists_the_existing_jobs(compose_project, ansible_playbook, tmp_path):
    p = compose_project("run_stack.yml")
    task = job_run(ansible_playbook, p, tmp_path, name="no-such-job")
    r = task.result
    assert r["outcome"] == "not_found"
    assert r["msg"].startswith(
        f"not_found: job 'no-such-job' not found in stack '{p.name}' on this Docker host; jobs here: "
    )
    assert "backup" in r["existing"]


@pytest.mark.podman
@pytest.mark.parametrize(
    "policy, outcome, status",
    [("skip", "skipped", "ok"), ("queue", "locked", "failed")],
    ids=["skip", "queue-times-out"],
)
def test_overlap_with_a_held_stack(compose_project, ansible_playbook, tmp_path, policy, outcome, status):
    p = compose_project("run_stack.yml")
    # Another run holds the stack: the stack module's stopped state takes the lease (no pid, valid for an hour).
    held = ansible_playbook(
        [
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
                            "run_id": "holder-run-0001",
                            "job": "other",
                        },
                    }
                ],
            }
        ]
    )
    assert held.task("hold").status == "changed", held
    info = ansible_playbook(
        [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [{"name": "leases", "bosun.compose.job_info": {"project": p.name}}],
            }
        ]
    )
    [lease] = info.task("leases").result["leases"]
    assert (lease["project"], lease["run_id"], lease["job"], lease["owner_alive"]) == (
        p.name,
        "holder-run-0001",
        "other",
        True,
    )
    assert [c["service"] for c in lease["stop_set"]] == ["web"]
    task = job_run(ansible_playbook, p, tmp_path, lock_timeout=2, job={"overlap_policy": policy})
    r = task.result
    assert (task.status, r["outcome"]) == (status, outcome), r
    assert "holder-run-0001" in r["message"]
    assert r["stopped"] == []


@pytest.mark.parametrize(
    "patterns, outcome",
    [(["registry.example.com/backup/*"], "preflight_failed"), (["bosun-test/*"], "success")],
    ids=["refused", "allowed"],
)
def test_allowed_images_are_enforced_before_anything_stops(
    compose_project, ansible_playbook, tmp_path, patterns, outcome
):
    p = compose_project("run_stack.yml")
    before = snapshot(p)
    task = job_run(ansible_playbook, p, tmp_path, allowed_images=patterns)
    r = task.result
    assert r["outcome"] == outcome, r
    if outcome == "preflight_failed":
        assert r["msg"] == (
            "preflight_failed: preflight failed, nothing was stopped: worker image 'bosun-test/busybox:latest' "
            "matches none of the allowed images: registry.example.com/backup/*"
        )
        assert snapshot(p) == before


@pytest.mark.podman
def test_worker_that_cannot_be_created_fails_before_anything_stops(compose_project, ansible_playbook, tmp_path):
    p = compose_project("run_stack.yml")
    before = snapshot(p)
    run_id = "c0ffee00" + p.name[-6:] + "0000"
    squatter = f"bosun-worker-backup-{run_id[:8]}"
    run(
        [
            "docker",
            "create",
            "--name",
            squatter,
            "--network",
            "none",
            "--label",
            f"bosun.worker.stack={p.name}",
            TEST_IMAGE,
            "true",
        ]
    )
    try:
        task = job_run(ansible_playbook, p, tmp_path, run_id=run_id)
    finally:
        run(["docker", "rm", "-f", squatter])
    r = task.result
    assert r["outcome"] == "preflight_failed", r
    assert r["msg"].startswith(f"preflight_failed: nothing was stopped: cannot create worker container '{squatter}'")
    assert r["stopped"] == [] and snapshot(p) == before
    assert run(["docker", "ps", "-aq", "--filter", f"name=bosun-lease-{p.name}"]).stdout == ""


def test_check_mode_play_with_job_plan_and_stack_shows_the_plan_and_changes_nothing(compose_project, ansible_playbook):
    p = compose_project("run_stack.yml")
    before = snapshot(p)
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {"name": "plan", "bosun.compose.job_plan": {"name": "backup", "project": p.name}, "register": "plan"},
                {
                    "name": "show",
                    "ansible.builtin.debug": {"msg": "{{ plan.plan.steps | map(attribute='description') | list }}"},
                },
                {"name": "stop", "bosun.compose.stack": {"project": p.name, "state": "stopped"}},
                {
                    "name": "start",
                    "bosun.compose.stack": {
                        "project": p.name,
                        "state": "started",
                        "containers": "{{ plan.plan.steps[0].levels | flatten | map(attribute='id') | list }}",
                    },
                },
            ],
        }
    ]
    result = ansible_playbook(play, check=True, diff=True)
    assert result.rc == 0, result
    shown = result.task("show").result["msg"]
    assert shown[0] == (
        f"stop 3 container(s) of stack '{p.name}' in 3 level(s) (scope stack); while down, 3 of them have restart "
        "policy always (a daemon restart or a reboot starts them again), given back once they run"
    )
    assert shown[1].startswith("run worker 'bosun-worker-backup-") and shown[2].startswith(
        "start the same 3 container(s)"
    )
    stop = result.task("stop")
    assert stop.status == "changed" and [c["service"] for c in stop.result["stopped"]] == ["web", "api", "db"]
    assert result.task("start").status == "ok"  # all already running: nothing would start
    assert snapshot(p) == before
    assert run(["docker", "ps", "-aq", "--filter", f"name=bosun-lease-{p.name}"]).stdout == ""
