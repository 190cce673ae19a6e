"""The role and the modules on a Docker host reached over SSH (real sshd, pipelining), from a controller
without the Docker SDK; and a dropped SSH connection in the middle of a worker."""

from __future__ import annotations

import json
import secrets
import time

import pytest

from harness import project_workers, run
from remote import TARGET_HOST, bare_python, target_python, wait_until
from stackcheck import (
    ids_and_states,
    lease_exists,
    job_task,
    role_task,
    running_workers,
    snapshot_started,
    stack_with_lease_cleanup,
    volume_file,
)

pytest_plugins = ["conftest_remote"]
pytestmark = pytest.mark.docker

JOB = "role-copy"
STACK = "role_stack.yml"
RUN_JOB = [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}]
RECOVER = [{"ansible.builtin.import_playbook": "bosun.compose.recover"}]


@pytest.fixture
def stack(compose_project):
    yield from stack_with_lease_cleanup(compose_project, STACK)


def test_role_runs_over_ssh_with_pipelining_and_the_sdk_only_on_the_target(stack, ssh_ansible, ssh_target):
    """The whole role over ansible_connection=ssh + pipelining; the modules run under the target's own
    interpreter (a system-Python venv with the SDK) while the controller cannot import `docker` at all."""
    project = stack()
    before = snapshot_started(project)
    accepted_before = ssh_target.log.read_text(encoding="utf-8").count("Accepted publickey for root")
    result = ssh_ansible().playbook(RUN_JOB, extra_vars={"job": JOB, "project": project.name, "run_job_poll": 1})
    assert result.rc == 0, str(result)

    assert volume_file(project, "out", "table.txt").stdout == "row1\n"
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
    assert project_workers(project.name) == [] and not lease_exists(project.name)
    r = job_task(result)
    assert r.host == TARGET_HOST and r.result["outcome"] == "success" and r.result["ansible_job_id"], r
    rep = role_task(result, "Publish the run report as bosun_run.<host> (AWX artifacts)").result
    assert rep["ansible_stats"]["data"]["bosun_run"][TARGET_HOST]["outcome"] == "success"
    # It really went through this sshd, with the client key.
    assert ssh_target.log.read_text(encoding="utf-8").count("Accepted publickey for root") > accepted_before


def test_module_reports_which_interpreter_lacks_the_sdk(ssh_ansible, tmp_path):
    """A target Python without the Docker SDK fails with the standard missing-library message naming that
    interpreter - the requirement is on the target."""
    python = bare_python(tmp_path)
    result = ssh_ansible(python=python).adhoc("bosun.compose.job_info")
    assert result.rc == 2, str(result)
    msg = result.task("bosun.compose.job_info", TARGET_HOST).result["msg"]
    assert "Failed to import the required Python library (docker)" in msg and str(python) in msg, msg


def test_module_refuses_an_sdk_below_the_floor_naming_both_versions(ssh_ansible):
    """Docker SDK 7.0.0 (PyPI) with the current requests (2.32 or newer): the module fails before any Engine call,
    naming both installed versions and what to install, instead of "Not supported URL scheme http+docker"."""
    python = target_python("7.0.0")
    req = run([python, "-c", "import requests; print(requests.__version__)"]).stdout.strip()
    result = ssh_ansible(python=python).adhoc("bosun.compose.job_info")
    assert result.rc == 2, str(result)
    task = result.task("bosun.compose.job_info", TARGET_HOST).result
    assert task["msg"] == (
        f"Docker SDK for Python 7.0.0 with requests {req} cannot talk to the Engine (requests 2.32 dropped the "
        f"http+docker scheme it uses); install docker>=7.1.0 for {python}"
    ), task["msg"]
    assert task["error"] == {"type": "DockerUnavailableError", "docker_version": "7.0.0", "requests_version": req}


@pytest.mark.parametrize("run_async", [True, False], ids=["async", "sync"])
def test_connection_loss_mid_worker_restarts_the_stack_and_leaves_nothing(
    stack, ssh_ansible, ssh_target, run_async, tmp_path
):
    """Kill the sshd processes serving the controller's connection while the worker runs. With pipelining the
    module process gets no SIGHUP (no pty) and, under async, is detached anyway: the transaction finishes on the
    host - stack restarted as soon as the worker ends, no worker left, lease released - and `recover` then finds
    nothing to do."""
    project = stack()
    before = snapshot_started(project)
    runner = ssh_ansible()
    run_id = secrets.token_hex(16)
    state_dir = tmp_path / "state"
    extra = {
        "job": JOB,
        "project": project.name,
        "run_job_poll": 1,
        "run_job_async": run_async,
        "run_job_run_id": run_id,
        "run_job_state_dir": str(state_dir),
        "run_job_overrides": {"command": ["sh", "-c", "sleep 6; cp /mnt/data/table.txt /mnt/out/table.txt"]},
    }
    proc, d = runner.popen(RUN_JOB, extra_vars=extra)
    try:
        wait_until(lambda: running_workers(project.name) or proc.poll() is not None, 90, "the worker to run")
        assert proc.poll() is None, (d / "output.txt").read_text(encoding="utf-8")
        assert {s for _i, s, _t in snapshot_started(project).values()} == {"exited"}
        killed = ssh_target.kill_sessions()
        assert killed, "no sshd session was serving the controller"
        worker_seen_gone = wait_until(
            lambda: not running_workers(project.name) and time.monotonic(), 90, "the worker to end"
        )
        rc = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = (d / "output.txt").read_text(encoding="utf-8")
    # The stack comes back right after the worker, whatever the controller saw (rc 4 when the running task's
    # channel died: the host is unreachable for the rest of the play, so the role's `always` did not help).
    wait_until(
        lambda: ids_and_states(snapshot_started(project)) == ids_and_states(before),
        60,
        f"the stack to run as before (ansible rc={rc})\n{output}",
    )
    restarted_after = time.monotonic() - worker_seen_gone
    assert restarted_after < 60, restarted_after
    assert volume_file(project, "out", "table.txt").stdout == "row1\n", output
    wait_until(lambda: not project_workers(project.name), 30, "the worker container to be removed")
    assert not lease_exists(project.name)
    if run_async:
        # The kill usually lands between two polls and the next poll reconnects (rc 0); one in flight is lost (rc 4).
        assert rc in (0, 4), output
    else:
        # The task's own channel died: the host is unreachable for the rest of the play, the role's `always` never
        # ran - the module alone (no pty with pipelining, so no SIGHUP) finished the transaction.
        assert rc == 4 and "UNREACHABLE!" in output, output
    # The module's own record on the host: it ran the transaction to the end.
    record = json.loads((state_dir / "runs" / JOB / f"{run_id}.json").read_text(encoding="utf-8"))
    assert record["outcome"] == "success" and record["run_id"] == run_id, record

    recovered = ssh_ansible().playbook(RECOVER, extra_vars={"project": project.name})
    assert recovered.rc == 0, str(recovered)
    [item] = recovered.task("Recover the stacks", TARGET_HOST).result["results"]
    assert item["recover"]["action"] == "none", item
    assert recovered.task("Recover the stacks", TARGET_HOST).status == "ok"
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
