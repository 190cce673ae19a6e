"""Reliability (issue 5, item 8): security of the worker and of secrets.

No label can give the worker a host bind mount, privileged mode, capabilities, devices, the Docker socket
or the host's network, pid or ipc namespace: labels that try are refused (an error, nothing stops) or are
unknown and ignored (a warning), and the running worker is inspected to prove it. Play overrides that try
are refused before anything stops. Secret env values given in the play never appear in results, Ansible
output (even at -vvv), the plan, the run record or the kept worker log. allowed_images refuses any other image
in preflight, before anything stops.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness import FIXTURES, TEST_IMAGE, project_workers, run
from stackcheck import release_worker, running_workers, snapshot_started, wait_for

pytestmark = pytest.mark.docker

SECRET = "s3cr3t-Zq8-value-do-not-leak"


def stack_spec(db_labels: dict | None = None) -> dict:
    spec = yaml.safe_load((FIXTURES / "rel_stack.yml").read_text(encoding="utf-8"))
    spec["services"]["db"]["labels"].update(db_labels or {})
    return spec


def job_run_play(ansible_playbook, project, tmp_path, args=(), **options):
    options = {"name": "rel-a", "project": project.name, "state_dir": str(tmp_path / "state"), **options}
    return ansible_playbook(
        [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [{"name": "run", "bosun.compose.job_run": options, "ignore_errors": True}],
            }
        ],
        args=args,
    )


# Labels that look like they could widen the worker: none is part of the contract, so each is ignored.
UNKNOWN_DANGEROUS = {
    "bosun.job.worker.privileged": "true",
    "bosun.job.worker.cap-add": "ALL",
    "bosun.job.worker.cap_add": "SYS_ADMIN",
    "bosun.job.worker.devices": "/dev/sda:/dev/sda",
    "bosun.job.worker.volumes": "/:/host,/var/run/docker.sock:/var/run/docker.sock",
    "bosun.job.worker.binds": "/:/host",
    "bosun.job.worker.mounts": "type=bind,source=/,target=/host",
    "bosun.job.worker.pid": "host",
    "bosun.job.worker.ipc": "host",
    "bosun.job.worker.uts": "host",
    "bosun.job.worker.network-mode": "host",
    "bosun.job.worker.security-opt": "seccomp=unconfined",
    "bosun.job.worker.userns": "host",
    "bosun.job.mount.path": "/var/run/docker.sock",
}


def test_no_label_widens_the_worker(compose_project, ansible, ansible_playbook, tmp_path):
    p = compose_project(stack_spec(UNKNOWN_DANGEROUS))
    info = (
        ansible_playbook(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [{"name": "info", "bosun.compose.job_info": {"project": p.name, "name": "rel-a"}}],
                }
            ]
        )
        .task("info")
        .result
    )
    [job] = info["jobs"]
    warned = {x["label"] for x in job["problems"] if x["severity"] == "warning" and x["kind"] == "container"}
    assert warned == set(UNKNOWN_DANGEROUS), job["problems"]
    assert job["runnable"] is True, [x for x in job["problems"] if x["severity"] == "error"]  # ignored, never applied

    import subprocess  # pylint: disable=import-outside-toplevel

    from harness import VENV_BIN  # pylint: disable=import-outside-toplevel

    d, env = ansible._prepare()  # pylint: disable=protected-access
    (d / "pb.yml").write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "run",
                            "bosun.compose.job_run": {
                                "name": "rel-a",
                                "project": p.name,
                                "state_dir": str(tmp_path / "state"),
                            },
                        }
                    ],
                }
            ]
        ),
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(d / "hosts.ini"), str(d / "pb.yml")],
        cwd=d,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wid = wait_for(lambda: running_workers(p.name), 120, "the worker")[0]
        worker = json.loads(run(["docker", "inspect", wid]).stdout)[0]
    finally:
        release_worker(p)
        proc.wait(timeout=120)
    hc = worker["HostConfig"]
    assert hc["Privileged"] is False
    assert not hc.get("CapAdd") and not hc.get("Devices") and not hc.get("DeviceCgroupRules")
    assert not hc.get("Binds")
    assert hc["NetworkMode"] in ("default", "bridge"), hc["NetworkMode"]
    assert hc.get("PidMode", "") == "" and hc.get("IpcMode") in ("private", "shareable", "")
    assert hc.get("UTSMode", "") == "" and hc.get("UsernsMode", "") == ""
    assert "no-new-privileges" in (hc.get("SecurityOpt") or [])
    assert [(m["Type"], m.get("Source"), m["Target"], m.get("ReadOnly", False)) for m in hc["Mounts"]] == [
        ("volume", f"{p.name}_data", "/mnt/data", True),
        ("volume", f"{p.name}_out", "/mnt/out", False),
    ]
    assert all(m["Type"] == "volume" and "docker.sock" not in (m.get("Source") or "") for m in worker["Mounts"])
    assert proc.returncode == 0


@pytest.mark.parametrize(
    "labels, problem",
    [
        ({"bosun.job.worker.network": "host"}, "host, container: and service: networking are not allowed"),
        ({"bosun.job.worker.network": "container:abcdef"}, "host, container: and service: networking are not allowed"),
        ({"bosun.job.worker.network": "service:db"}, "host, container: and service: networking are not allowed"),
    ],
    ids=["network-host", "network-container", "network-service"],
)
def test_labels_asking_for_host_namespaces_are_refused_before_anything_stops(
    compose_project, ansible_playbook, tmp_path, labels, problem
):
    p = compose_project(stack_spec(labels))
    before = snapshot_started(p)
    r = job_run_play(ansible_playbook, p, tmp_path).task("run").result
    assert r["outcome"] == "preflight_failed", r
    assert problem in r["msg"] and "nothing was stopped" in r["msg"], r["msg"]
    assert r["stopped"] == [] and snapshot_started(p) == before


@pytest.mark.parametrize(
    "override, needle",
    [
        ({"mounts": [{"volume": "/var/run/docker.sock", "path": "/sock"}]}, "/var/run/docker.sock"),
        ({"mounts": [{"volume": "/", "path": "/host"}]}, "'/'"),
        ({"mounts": [{"volume": "../etc", "path": "/etc2"}]}, "../etc"),
        ({"network": "host"}, "host"),
        ({"network": "container:abcdef"}, "container:"),
    ],
    ids=["docker-socket", "host-root", "relative-host-path", "network-host", "network-container"],
)
def test_play_overrides_asking_for_host_access_are_refused_before_anything_stops(
    compose_project, ansible_playbook, tmp_path, override, needle
):
    p = compose_project("rel_stack.yml")
    before = snapshot_started(p)
    task = job_run_play(ansible_playbook, p, tmp_path, job=override).task("run")
    r = task.result
    assert task.status == "failed"
    assert r.get("outcome") == "invalid", r  # a named outcome, not a module crash
    assert needle in r["msg"], r["msg"]
    assert snapshot_started(p) == before and project_workers(p.name) == []


def _files_text(root: Path) -> str:
    return "".join(f.read_text(errors="replace") for f in root.rglob("*") if f.is_file())


def test_secret_env_never_appears_in_results_output_plan_or_logs(compose_project, ansible_playbook, tmp_path):
    p = compose_project("rel_stack.yml")
    before = snapshot_started(p)
    job = {
        "secret_env": {"TOKEN": SECRET},
        "env": {"PLAIN": "visible"},
        "command": ["sh", "-c", 'echo "token=$TOKEN plain=$PLAIN"; echo "$TOKEN" >&2; test "$TOKEN" = ' + SECRET],
    }
    plan = ansible_playbook(
        [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [{"name": "plan", "bosun.compose.job_plan": {"name": "rel-a", "project": p.name, "job": job}}],
            }
        ],
        args=["-vvv"],
    )
    result = job_run_play(ansible_playbook, p, tmp_path, args=["-vvv"], job=job)
    r = result.task("run").result
    assert r["outcome"] == "success", r  # the worker saw the real value (its `test` passed)
    # One line on stdout, one on stderr: Docker keeps no order between the two streams.
    assert sorted(r["worker"]["log_tail"]) == sorted(["token=******** plain=visible", "********"])
    assert plan.task("plan").result["plan"]["steps"][1]["worker"]["env"]["TOKEN"] == "********"
    for where, text in [
        ("job_plan output", plan.stdout + plan.stderr),
        ("job_plan result", json.dumps(plan.results[0].result)),
        ("job_run output", result.stdout + result.stderr),
        ("job_run result", json.dumps(r)),
        ("state dir", _files_text(tmp_path / "state")),
    ]:
        assert SECRET not in text, f"the secret leaked into the {where}"
    assert snapshot_started(p)[next(iter(before))][0] == before[next(iter(before))][0]


def test_secret_env_given_to_the_role_never_appears_in_its_output(compose_project, ansible_playbook, tmp_path):
    p = compose_project("rel_stack.yml")
    result = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}],
        args=["-v"],
        extra_vars={
            "job": "rel-a",
            "project": p.name,
            "run_job_poll": 1,
            "run_job_state_dir": str(tmp_path / "state"),
            "run_job_overrides": {"secret_env": {"TOKEN": SECRET}, "command": ["sh", "-c", 'echo "t=$TOKEN"']},
        },
    )
    assert result.rc == 0, str(result)
    leaks = [r.task for r in result.results if SECRET in json.dumps(r.result)]
    assert SECRET not in result.stdout + result.stderr, f"the secret leaked into the role's -v output (tasks {leaks})"
    assert leaks == [], f"the secret is in the results of tasks {leaks}"


def test_allowed_images_refuses_another_image_before_anything_stops(compose_project, ansible_playbook, tmp_path):
    p = compose_project("rel_stack.yml")
    before = snapshot_started(p)
    r = (
        job_run_play(
            ansible_playbook, p, tmp_path, allowed_images=["registry.example.com/backup/*", "backup-tools:1.*"]
        )
        .task("run")
        .result
    )
    assert r["outcome"] == "preflight_failed", r
    assert TEST_IMAGE in r["msg"] and "nothing was stopped" in r["msg"], r["msg"]
    assert r["stopped"] == [] and snapshot_started(p) == before and project_workers(p.name) == []
    ok = (
        job_run_play(ansible_playbook, p, tmp_path, allowed_images=["bosun-test/*"], job={"command": ["true"]})
        .task("run")
        .result
    )
    assert ok["outcome"] == "success", ok
