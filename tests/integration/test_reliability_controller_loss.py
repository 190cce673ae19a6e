"""Reliability (issue 14, item 3): a controller loss that really cancels, when asked.

With run_job_on_controller_loss=cancel the role polls job_run with job_status, which refreshes the run's heartbeat
on the host. AWX's own kill - ansible-runner's cancel_callback and its job timeout, each a SIGKILL to the whole
process group of ansible-playbook - ends the polling; the run, under async on the host, sees no poll for
run_job_controller_timeout seconds and cancels itself: the worker (which would run 300 s) is stopped, the stack runs
again exactly as before, no worker and no lease are left, and the host's run record says cancelled, "controller
lost". Both kills run at the same time on separate stacks. The default (finish) is test_reliability_runner.py.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import secrets
import threading
import time

import pytest

from harness import FIXTURES, Ansible, ComposeProject, project_name, project_workers, remove_project
from stackcheck import kill_left_behind, lease_exists, running_workers, snapshot, states, wait_for

pytestmark = pytest.mark.docker

ansible_runner = pytest.importorskip("ansible_runner")

STACK = FIXTURES / "rel_stack.yml"
CONTROLLER_TIMEOUT = 8
JOB_TIMEOUT = 60  # the runner's timeout; the worker runs long before (generous: a loaded CI host)
WORKER_GRACE = 10  # the worker's stop grace (the plan's default): `sleep` as PID 1 ignores SIGTERM
START_BUDGET = 30  # bosun.job.start-timeout of rel_stack.yml
SLACK = 60  # polling, a loaded host (a stop measured at 30 s and a start at 23 s with the lint gates running)
BACK_WITHIN = CONTROLLER_TIMEOUT + WORKER_GRACE + START_BUDGET + SLACK  # far below the worker's 300 s


def record(state_dir, run_id: str) -> dict | None:
    path = state_dir / "runs" / "rel-a" / f"{run_id}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def controller_lost(kind: str, workdir) -> dict:
    name = project_name(f"lost-{kind}")
    project = ComposeProject(name, workdir / f"{name}.yml")
    project.file.write_text(STACK.read_text(encoding="utf-8"), encoding="utf-8")
    project.up()
    obs: dict = {"before": snapshot(project), "run_id": secrets.token_hex(16)}
    state_dir = workdir / name / "state"
    obs["state_dir"] = state_dir
    _d, env = Ansible(workdir / name)._prepare()  # pylint: disable=protected-access
    env.pop("BOSUN_RECORD_FILE", None)
    pdd = workdir / name / "runner"
    (pdd / "project").mkdir(parents=True)
    (pdd / "project" / "run.yml").write_text(
        "- ansible.builtin.import_playbook: bosun.compose.run_job\n", encoding="utf-8"
    )
    cancel = threading.Event()
    kwargs = {
        "private_data_dir": str(pdd),
        "playbook": "run.yml",
        "quiet": True,
        "envvars": env,
        "inventory": f"localhost ansible_connection=local ansible_python_interpreter={env['ANSIBLE_PYTHON_INTERPRETER']}",
        "extravars": {
            "job": "rel-a",
            "project": name,
            "run_job_poll": 1,
            "run_job_run_id": obs["run_id"],
            "run_job_state_dir": str(state_dir),
            "run_job_on_controller_loss": "cancel",
            "run_job_controller_timeout": CONTROLLER_TIMEOUT,
            "run_job_timeout": "10m",
            "run_job_overrides": {"command": ["sh", "-c", "sleep 300; echo should never get here"]},
        },
    }
    if kind == "cancel":
        kwargs["cancel_callback"] = cancel.is_set
    else:
        kwargs["timeout"] = JOB_TIMEOUT

    def watch() -> None:  # the AWX user who presses cancel once the job is underway
        try:
            wait_for(lambda: running_workers(name), JOB_TIMEOUT + 60, "the worker to run")
            obs["down_at_kill"] = states(project)
            # The run polls: its heartbeat exists while the controller lives.
            obs["heartbeat_while_polled"] = (state_dir / "heartbeat" / obs["run_id"]).exists()
        finally:
            cancel.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    r = ansible_runner.run(**kwargs)
    kill_left_behind(str(pdd))  # what AWX's job container would take with it
    killed_at = time.monotonic()
    obs["status"], obs["rc"] = r.status, r.rc
    watcher.join(5)
    try:
        wait_for(lambda: snapshot(project) == obs["before"], BACK_WITHIN, "the stack to run exactly as before")
        obs["back_after"] = time.monotonic() - killed_at
    except AssertionError:
        obs["back_after"] = None
    obs["after"] = snapshot(project)
    # Without the cancel (on_controller_loss=finish) the run would still be in its 300 s worker here.
    with contextlib.suppress(AssertionError):
        wait_for(lambda: record(state_dir, obs["run_id"]), 30, "the run record")
        wait_for(lambda: not project_workers(name) and not lease_exists(name), 30, "the worker and the lease to go")
    obs["record"] = record(state_dir, obs["run_id"])
    obs["workers_left"] = project_workers(name)
    obs["lease_left"] = lease_exists(name)
    obs["heartbeat_left"] = (state_dir / "heartbeat" / obs["run_id"]).exists()
    obs["recover"] = Ansible(workdir / f"{name}-recover").playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.recover"}], extra_vars={"project": name}
    )
    return obs


@pytest.fixture(scope="module")
def controller_killed(tmp_path_factory, docker_engine):
    workdir = tmp_path_factory.mktemp("lost")
    out: dict = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {pool.submit(controller_lost, kind, workdir): kind for kind in ("cancel", "timeout")}
        for fut, kind in futures.items():
            try:
                out[kind] = fut.result()
            except Exception as exc:
                out[kind] = exc
    yield out
    for p in workdir.glob("bosun-it-*.yml"):
        remove_project(p.stem, p)


@pytest.mark.parametrize(
    "kind, status", [("cancel", "canceled"), ("timeout", "timeout")], ids=["cancel_callback", "job_timeout"]
)
def test_awx_kill_cancels_the_run_when_asked(controller_killed, kind, status):
    obs = controller_killed[kind]
    if isinstance(obs, BaseException):
        raise obs
    assert set(obs["down_at_kill"].values()) == {"exited"}, obs["down_at_kill"]
    assert obs["heartbeat_while_polled"], "no heartbeat on the host while job_status polled"
    assert (obs["status"], obs["rc"]) == (status, 254), obs
    # The worker would have run 300 s: the stack is back within the controller timeout + the stop/start budget.
    assert obs["back_after"] is not None, f"stack not restored {BACK_WITHIN} s after the kill: {obs['after']}"
    print(f"{kind}: the stack ran as before {obs['back_after']:.1f} s after the kill (bound {BACK_WITHIN} s)")
    assert obs["after"] == obs["before"]
    assert obs["workers_left"] == [] and obs["lease_left"] is False and obs["heartbeat_left"] is False
    rec = obs["record"]
    assert rec is not None, "no run record on the host: the run did not end"
    assert rec["outcome"] == "cancelled", rec
    assert "controller lost: no poll from the controller for" in rec["message"], rec["message"]
    assert rec["run_id"] == obs["run_id"]
    recovered = obs["recover"]
    assert recovered.rc == 0, str(recovered)
    task = recovered.task("Recover the stacks")
    assert task.status == "ok" and task.result["results"][0]["recover"]["action"] == "none", task.result


def test_job_status_of_an_unknown_job_fails_naming_the_jid(ansible_adhoc, tmp_path):
    result = ansible_adhoc("bosun.compose.job_status", {"jid": "j123456789.4242", "async_dir": str(tmp_path)})
    task = result.task("bosun.compose.job_status")
    assert task.status == "failed", str(result)
    assert "no async job 'j123456789.4242' in " in task.result["msg"], task.result
    assert task.result["error"]["type"] == "AsyncJobError" and task.result["finished"] is False, task.result
