"""Reliability (issue 14, item 1): dockerd restarts, or the host crashes, while a job's worker runs.

A daemon restart stops every container (this test bed runs dockerd without live-restore) and cuts the run's
API connection. Before its first stop the run gave each stop-set container restart policy ``always`` (the lease
records the policies it had): the daemon starts them again by itself when it starts, the same containers, and
nothing that was down before the job (the exited one-shot has no such policy). A run that lives through the
restart waits for the Engine, then completes (policies given back, lease released); after a host crash (the run
killed too) the stack runs again without any Ansible, and ``recover`` gives the policies back and releases.

This test restarts the daemon the way scripts/bootstrap.sh starts it, and leaves it running. It disturbs
every other Docker user on the host, so it is named to run last in the serial suite. It only runs when
BOSUN_TEST_DOCKERD_RESTART=1 or when this process may manage dockerd (root, and dockerd's pid file exists).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import typing as t

import pytest

from harness import FIXTURES, TEST_IMAGE, ComposeProject, project_workers, run
from stackcheck import module_pid, release_worker, snapshot, wait_for

pytestmark = pytest.mark.docker

PIDFILE = "/var/run/docker.pid"
LOG = "/var/log/dockerd.log"


def docker_answers() -> bool:
    return (
        subprocess.run(
            ["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=30
        ).returncode
        == 0
    )


def dockerd_pid() -> int | None:
    try:
        with open(PIDFILE, encoding="ascii") as f:
            pid = int(f.read().strip())
        with open(f"/proc/{pid}/comm", encoding="ascii") as f:
            return pid if f.read().strip() == "dockerd" else None
    except (OSError, ValueError):
        return None


CONTAINERD_PIDFILE = "/var/run/docker/containerd/containerd.pid"


def containerd_pid() -> int | None:
    """The pid of the containerd that dockerd started, while it runs."""
    try:
        with open(CONTAINERD_PIDFILE, encoding="ascii") as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return pid if running(pid) else None


def running(pid: int) -> bool:
    """Whether ``pid`` still runs: a killed dockerd this test started stays a zombie until the test process reaps it."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def restart_dockerd(sig: int = signal.SIGTERM) -> float:
    """Stop the running dockerd (by the pid in its pid file) with ``sig``, then start it as scripts/bootstrap.sh
    does; the time it answered again."""
    pid = dockerd_pid()
    assert pid is not None, f"no dockerd pid in {PIDFILE}"
    containerd = containerd_pid()
    try:
        os.kill(pid, sig)
        if sig == signal.SIGKILL and containerd is not None:  # a crash takes dockerd's containerd with it
            os.kill(containerd, signal.SIGKILL)
        wait_for(lambda: not running(pid), 90, "dockerd to exit")
        # A new dockerd waits for a containerd that is still exiting, then gives up ("timeout waiting for
        # containerd to start"): start it only once the old one is gone.
        if containerd is not None:
            wait_for(lambda: not running(containerd), 60, "dockerd's containerd to exit")
    finally:
        if not docker_answers():
            if dockerd_pid() is None and os.path.exists(PIDFILE):
                os.unlink(PIDFILE)  # stale after a kill, as bootstrap.sh handles it
            if containerd_pid() is None and os.path.exists(CONTAINERD_PIDFILE):
                os.unlink(CONTAINERD_PIDFILE)
            with open(LOG, "ab") as log:
                subprocess.Popen(
                    ["nohup", "dockerd"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            wait_for(docker_answers, 90, "the restarted dockerd to answer")
    return time.monotonic()


def policies(project: ComposeProject) -> dict[str, str]:
    docs = json.loads(run(["docker", "inspect", *project.container_ids()]).stdout)
    return {c["Name"].lstrip("/"): c["HostConfig"]["RestartPolicy"]["Name"] or "no" for c in docs}


def stack(compose_project) -> ComposeProject:
    """rel_stack with one service that has a restart policy of its own (given back as it was)."""
    text = (FIXTURES / "rel_stack.yml").read_text(encoding="utf-8")
    text = text.replace("    depends_on: [app]\n", "    depends_on: [app]\n    restart: on-failure:3\n", 1)
    assert "on-failure:3" in text
    return compose_project(text)


def start_job(
    ansible, project: ComposeProject, run_id: str, state_dir: str, **task: object
) -> tuple[subprocess.Popen, t.Any]:
    args = {"name": "rel-a", "project": project.name, "run_id": run_id, "state_dir": state_dir, **task}
    plays = [{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "run", "bosun.compose.job_run": args}]}]
    job = ansible.start(plays, env={"BOSUN_TEST_RUN": run_id})
    return job.proc, job.dir


def worker_runs(run_id: str, proc: subprocess.Popen) -> bool:
    return bool(
        run(["docker", "ps", "-q", "--filter", f"label=bosun.worker.run-id={run_id}"]).stdout.strip()
        or proc.poll() is not None
    )


NEEDS_DOCKERD = pytest.mark.skipif(
    os.geteuid() != 0 or dockerd_pid() is None,
    reason="needs root and a dockerd started by scripts/bootstrap.sh (pid file)",
)


@NEEDS_DOCKERD
def test_a_daemon_restart_mid_worker_brings_the_stack_back_and_the_living_run_completes(
    compose_project, ansible, tmp_path
):
    p = stack(compose_project)
    before, policies_before = snapshot(p), policies(p)
    run_id = f"{os.urandom(4).hex()}dockerdrestart{os.getpid():08d}"
    proc, d = start_job(ansible, p, run_id, str(tmp_path / "state"))
    try:
        wait_for(lambda: worker_runs(run_id, proc), 120, "the worker to run")
        assert proc.poll() is None, proc.communicate()[0]
        # While down, the stop-set is host-proof; the one-shot (not in the stop-set) keeps its policy.
        assert policies(p) == {n: "no" if n.endswith("-oneshot-1") else "always" for n in before}
        restart_dockerd(signal.SIGTERM)  # a graceful restart (systemctl restart docker, an upgrade)
        out = proc.communicate(timeout=240)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    result = json.loads((d / "results.jsonl").read_text().splitlines()[0])["result"]
    # The worker died with the daemon, so the job failed; but the run waited for the Engine and ended the run itself.
    assert result["outcome"] == "worker_failed", (result.get("message"), out)
    assert snapshot(p) == before  # the same containers run again; the one-shot stays exited
    assert policies(p) == policies_before
    assert project_workers(p.name) == [] and not (tmp_path / "state" / "leases" / f"{p.name}.json").exists()
    assert run(["docker", "ps", "-aq", "--filter", f"name=^bosun-lease-{p.name}$"]).stdout == ""


@NEEDS_DOCKERD
@pytest.mark.parametrize("mode", ["stop", "pause"])
def test_a_host_crash_mid_worker_the_daemon_brings_the_stack_back_by_itself_and_recover_gives_back_the_policies(
    compose_project, ansible, ansible_playbook, tmp_path, mode
):
    p = stack(compose_project)
    before, policies_before = snapshot(p), policies(p)
    run_id = f"{os.urandom(4).hex()}hostcrash{mode}{os.getpid():08d}"
    job = {"job": {"stop_mode": mode}} if mode == "pause" else {}
    proc, _d = start_job(ansible, p, run_id, str(tmp_path / "state"), **job)
    try:
        wait_for(lambda: worker_runs(run_id, proc), 120, "the worker to run")
        assert proc.poll() is None, proc.communicate()[0]
        # The host crashes: the run and the daemon die at once (SIGKILL: no finally, no shutdown of containers).
        pid = wait_for(lambda: module_pid(run_id), 10, "the module process")
        os.kill(pid, signal.SIGKILL)
        answered = restart_dockerd(signal.SIGKILL)
        # Without any Ansible: within 60 s of the daemon's start, the stop-set runs again, the same containers.
        wait_for(
            lambda: {n: s for n, (_i, s) in snapshot(p).items()} == {n: s for n, (_i, s) in before.items()},
            60 - (time.monotonic() - answered),
            "the daemon to start the stop-set by itself",
        )
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert snapshot(p) == before  # the same ids; the exited one-shot was not started
    # Still host-proof (the dead run could not give the policies back); the one-shot never had "always".
    assert policies(p) == {n: "no" if n.endswith("-oneshot-1") else "always" for n in before}
    release_worker(p)
    result = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.recover"}],
        extra_vars={"project": p.name},
    )
    assert result.rc == 0, str(result)
    rec = result.task("Recover the stacks").result["results"][0]["recover"]
    assert rec["action"] == "recovered" and rec["start"]["summary"] == "3/3 started" and rec["released"], rec
    assert snapshot(p) == before
    assert policies(p) == policies_before  # every container's restart policy is what it was before the job
    assert project_workers(p.name) == []
    assert run(["docker", "ps", "-aq", "--filter", f"name=^bosun-lease-{p.name}$"]).stdout == ""
    assert TEST_IMAGE
