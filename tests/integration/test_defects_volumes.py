"""Defect: every run leaked anonymous volumes (a worker or lease image that declares VOLUME).

A worker created from an image with ``VOLUME`` gets an anonymous volume; the lease, created from the image of
a stopped container of the stack, gets one too. Both must be removed with their anonymous volumes (never the
named ones), and the lease is better made from an image of the stack without volumes. Each test compares the
daemon's volumes before and after one run: success, worker failure, timeout, cancel (SIGTERM to the module
process) and recovery (SIGKILL of the module process, then ``stack state=recovered``).

The image with a VOLUME is built here from the offline test image (no registry is reachable).
Other test runs may share the daemon: volumes of other Compose projects are left out of the comparison.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time

import pytest
import yaml

from harness import COMPOSE_PROJECT_LABEL, TEST_IMAGE, VENV_BIN, ComposeProject, TaskResult, project_workers, run
from stackcheck import lease, module_pid, running_workers, snapshot, wait_for

pytestmark = pytest.mark.docker

ANON_PATH = "/var/lib/data"


@pytest.fixture(scope="module")
def volume_image(tmp_path_factory):
    """A local image FROM the offline test image that declares VOLUME /var/lib/data; removed afterwards."""
    ctx = tmp_path_factory.mktemp("volimage")
    (ctx / "Dockerfile").write_text(f"FROM {TEST_IMAGE}\nVOLUME {ANON_PATH}\n", encoding="utf-8")
    tag = f"bosun-it-volimage:{secrets.token_hex(4)}"
    run(["docker", "build", "-q", "-t", tag, str(ctx)], timeout=120)
    volumes = json.loads(run(["docker", "image", "inspect", tag, "--format", "{{json .Config.Volumes}}"]).stdout)
    assert volumes == {ANON_PATH: {}}, volumes  # otherwise these tests would prove nothing
    yield tag
    run(["docker", "rmi", "-f", tag], check=False)


def stack_spec(image: str, *, all_volume_images: bool) -> dict:
    """db (the job's member, volumes data and out) <- web; web runs the VOLUME image, db too if all_volume_images.

    The stop-set starts with web (stopped first), so a lease made from the first stopped container's image
    has an anonymous volume unless an image without volumes is chosen.
    """
    common = {"init": True, "command": "sleep 3600", "network_mode": "none", "stop_grace_period": "1s"}
    return {
        "services": {
            "db": {
                **common,
                "image": image if all_volume_images else TEST_IMAGE,
                "volumes": ["data:/data", "out:/out"],
                "labels": {
                    "bosun.job.name": "vol",
                    "bosun.job.worker.image": image,
                    "bosun.job.worker.command": '["sh", "-c", "echo hello > /mnt/out/hello.txt; echo ok"]',
                    "bosun.job.timeout": "60s",
                    "bosun.job.start-timeout": "30s",
                },
            },
            "web": {**common, "image": image, "depends_on": ["db"]},
        },
        "volumes": {
            "data": {"labels": {"bosun.job.attach": "vol", "bosun.job.mount.path": "/mnt/data"}},
            "out": {
                "labels": {
                    "bosun.job.attach": "vol",
                    "bosun.job.mount.path": "/mnt/out",
                    "bosun.job.mount.mode": "rw",
                }
            },
        },
    }


def volumes(project: ComposeProject) -> set[str]:
    """`docker volume ls -q`, without the volumes of other Compose projects (other test runs on this daemon)."""
    names = run(["docker", "volume", "ls", "-q"]).stdout.split()
    if not names:
        return set()
    docs = json.loads(run(["docker", "volume", "inspect", *names], check=False).stdout or "[]")
    return {v["Name"] for v in docs if (v.get("Labels") or {}).get(COMPOSE_PROJECT_LABEL, project.name) == project.name}


def named(project: ComposeProject) -> set[str]:
    return {f"{project.name}_data", f"{project.name}_out"}


def playbook(ansible, tasks: list[dict], run_id: str | None = None) -> tuple[list[str], object, dict[str, str]]:
    d, env = ansible._prepare()  # pylint: disable=protected-access
    if run_id:
        env["BOSUN_TEST_RUN"] = run_id  # the module process inherits it: that is how a test finds it
    pb = d / "playbook.yml"
    pb.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False))
    return [str(VENV_BIN / "ansible-playbook"), "-i", str(d / "hosts.ini"), str(pb)], d, env


def job_run_task(project: ComposeProject, run_id: str, state_dir: str, **job: object) -> dict:
    args: dict = {"name": "vol", "project": project.name, "run_id": run_id, "state_dir": state_dir}
    if job:
        args["job"] = job
    return {"name": "run", "bosun.compose.job_run": args}


def results(d) -> list[TaskResult]:
    return [TaskResult(**json.loads(line)) for line in (d / "results.jsonl").read_text().splitlines()]


def worker_anonymous_volumes(project: ComposeProject) -> list[str]:
    """The anonymous volumes mounted at ANON_PATH in the project's running worker (proves the test bites)."""
    [wid] = running_workers(project.name)
    mounts = json.loads(run(["docker", "inspect", wid, "--format", "{{json .Mounts}}"]).stdout)
    return [m["Name"] for m in mounts if m.get("Destination") == ANON_PATH]


def run_to_the_end(ansible, project: ComposeProject, tmp_path, run_id: str, **job: object) -> dict:
    argv, d, env = playbook(ansible, [job_run_task(project, run_id, str(tmp_path / "state"), **job)])
    subprocess.run(argv, cwd=d, env=env, capture_output=True, text=True, timeout=180, check=False)
    return results(d)[0].result


@pytest.mark.parametrize("all_volume_images", [False, True], ids=["mixed-images", "volume-images-only"])
def test_successful_run_leaves_no_volume_behind(compose_project, ansible, tmp_path, volume_image, all_volume_images):
    p = compose_project(stack_spec(volume_image, all_volume_images=all_volume_images))
    before_stack, before = snapshot(p), volumes(p)
    assert named(p) <= before
    r = run_to_the_end(ansible, p, tmp_path, f"volok{secrets.token_hex(8)}")
    assert r["outcome"] == "success", r
    assert volumes(p) == before
    # The named volumes mounted into the worker survive (Docker's v=True removes anonymous volumes only).
    assert named(p) <= volumes(p)
    out = run(["docker", "run", "--rm", "-v", f"{p.name}_out:/v:ro", TEST_IMAGE, "cat", "/v/hello.txt"]).stdout
    assert out == "hello\n"
    assert snapshot(p) == before_stack and project_workers(p.name) == [] and lease(p.name) is None


@pytest.mark.parametrize(
    ("job", "outcome"),
    [
        ({"command": ["sh", "-c", "echo failing; exit 3"]}, "worker_failed"),
        ({"command": ["sh", "-c", "sleep 60"], "timeout": "2s"}, "timeout"),
    ],
    ids=["worker-failure", "timeout"],
)
def test_failed_or_timed_out_run_leaves_no_volume_behind(
    compose_project, ansible, tmp_path, volume_image, job, outcome
):
    p = compose_project(stack_spec(volume_image, all_volume_images=False))
    before_stack, before = snapshot(p), volumes(p)
    r = run_to_the_end(ansible, p, tmp_path, f"volfail{secrets.token_hex(8)}", **job)
    assert r["outcome"] == outcome, r
    assert r["worker"]["removed"] is True, r
    assert volumes(p) == before
    assert named(p) <= volumes(p)
    assert snapshot(p) == before_stack and project_workers(p.name) == [] and lease(p.name) is None


def start_and_catch_the_worker(ansible, project: ComposeProject, tmp_path, run_id: str):
    """job_run with a worker that sleeps; returns (process, its directory, module pid) once the worker runs."""
    argv, d, env = playbook(
        ansible, [job_run_task(project, run_id, str(tmp_path / "state"), command=["sleep", "120"])], run_id
    )
    proc = subprocess.Popen(
        argv, cwd=d, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for(lambda: running_workers(project.name) or proc.poll() is not None, 60, "the worker to run")
        assert proc.poll() is None, proc.communicate()[0]
        pid = wait_for(lambda: module_pid(run_id), 10, "the module process")
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return proc, d, pid


def test_cancelled_run_leaves_no_volume_behind(compose_project, ansible, tmp_path, volume_image):
    p = compose_project(stack_spec(volume_image, all_volume_images=False))
    before_stack, before = snapshot(p), volumes(p)
    run_id = f"volcancel{secrets.token_hex(8)}"
    proc, d, pid = start_and_catch_the_worker(ansible, p, tmp_path, run_id)
    try:
        assert len(worker_anonymous_volumes(p)) == 1
        os.kill(pid, signal.SIGTERM)
        out = proc.communicate(timeout=90)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    r = results(d)[0].result
    assert r["outcome"] == "cancelled", out
    assert volumes(p) == before
    assert named(p) <= volumes(p)
    assert snapshot(p) == before_stack and project_workers(p.name) == [] and lease(p.name) is None


@pytest.mark.parametrize("all_volume_images", [False, True], ids=["mixed-images", "volume-images-only"])
def test_recovered_run_leaves_no_volume_behind(compose_project, ansible, tmp_path, volume_image, all_volume_images):
    p = compose_project(stack_spec(volume_image, all_volume_images=all_volume_images))
    before_stack, before = snapshot(p), volumes(p)
    run_id = f"volrec{secrets.token_hex(8)}"
    proc, _d, pid = start_and_catch_the_worker(ansible, p, tmp_path, run_id)
    try:
        assert len(worker_anonymous_volumes(p)) == 1
        os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(0.5)
    held = run(["docker", "inspect", f"bosun-lease-{p.name}"], check=False)
    assert held.returncode == 0, "the lease vanished with the killed run"
    lease_mounts = json.loads(held.stdout)[0]["Mounts"]
    if not all_volume_images:
        # The stack has an image without volumes: the lease is made from it, and gets no volume at all.
        assert lease_mounts == [], lease_mounts
    argv, d, env = playbook(
        ansible, [{"name": "recover", "bosun.compose.stack": {"project": p.name, "state": "recovered"}}]
    )
    done = subprocess.run(argv, cwd=d, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    rec = results(d)[0].result["recover"]
    assert rec["action"] == "recovered" and rec["released"] is True, rec
    assert volumes(p) == before
    assert named(p) <= volumes(p)
    assert snapshot(p) == before_stack and project_workers(p.name) == [] and lease(p.name) is None


@pytest.mark.parametrize("all_volume_images", [False, True], ids=["mixed-images", "volume-images-only"])
def test_stack_module_window_leaves_no_volume_behind(compose_project, ansible, volume_image, all_volume_images):
    """`stack state=stopped` (it takes the lease) then `state=started` (it releases it): no volume left."""
    p = compose_project(stack_spec(volume_image, all_volume_images=all_volume_images))
    before_stack, before = snapshot(p), volumes(p)
    run_id = f"volwin{secrets.token_hex(8)}"
    stop = {"name": "stop", "bosun.compose.stack": {"project": p.name, "state": "stopped", "run_id": run_id}}
    argv, d, env = playbook(ansible, [stop])
    done = subprocess.run(argv, cwd=d, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    held = json.loads(run(["docker", "inspect", f"bosun-lease-{p.name}"]).stdout)[0]
    if not all_volume_images:
        assert held["Mounts"] == [], held["Mounts"]
    else:
        assert [m["Destination"] for m in held["Mounts"]] == [ANON_PATH]
    start = {"name": "start", "bosun.compose.stack": {"project": p.name, "state": "started", "run_id": run_id}}
    argv, d, env = playbook(ansible, [start])
    done = subprocess.run(argv, cwd=d, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert results(d)[0].result["released"] is True
    assert volumes(p) == before
    assert snapshot(p) == before_stack and lease(p.name) is None
