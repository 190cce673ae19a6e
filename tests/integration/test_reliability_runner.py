"""Reliability (issue 5, item 2): AWX's own kill, through ansible-runner (the engine AWX uses).

ansible-runner ends a job it cancels (cancel_callback returns True) or that exceeds its job timeout
(`timeout=`) with SIGKILL to the whole process group of ansible-playbook. With the role bosun.compose.run_job
the transaction runs under async on the host and outlives that group: the job finishes unattended, the
stack is started again as soon as the worker ends, exactly as it was, nothing is left behind and the recover
playbook finds nothing to do. Both scenarios run at the same time on separate stacks.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest

from harness import FIXTURES, Ansible, ComposeProject, project_name, remove_project
from stackcheck import kill_left_behind, observe_unattended_finish, running_workers, snapshot, states, wait_for

pytestmark = pytest.mark.docker

ansible_runner = pytest.importorskip("ansible_runner")

STACK = FIXTURES / "rel_stack.yml"
JOB_TIMEOUT = 60  # seconds; the worker waits for the test, so the runner's timeout hits it mid-worker (generous: a loaded CI host)


def runner_scenario(kind: str, workdir) -> dict:
    name = project_name(f"awx-{kind}")
    project = ComposeProject(name, workdir / f"{name}.yml")
    project.file.write_text(STACK.read_text(encoding="utf-8"), encoding="utf-8")
    project.up()
    obs: dict = {"before": snapshot(project)}
    ansible = Ansible(workdir / name)
    _d, env = ansible._prepare()  # pylint: disable=protected-access
    pdd = workdir / name / "runner"
    (pdd / "project").mkdir(parents=True)
    (pdd / "project" / "run.yml").write_text(
        "- ansible.builtin.import_playbook: bosun.compose.run_job\n", encoding="utf-8"
    )
    env.pop("BOSUN_RECORD_FILE", None)
    cancel = threading.Event()
    worker_seen = threading.Event()
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
            "run_job_state_dir": str(workdir / name / "state"),
        },
    }
    if kind == "cancel":
        kwargs["cancel_callback"] = cancel.is_set
    else:
        kwargs["timeout"] = JOB_TIMEOUT

    def watch() -> None:  # like the AWX user who presses cancel once the job is underway
        try:
            wait_for(lambda: running_workers(name), JOB_TIMEOUT + 60, "the worker to run")
            worker_seen.set()
            obs["worker_seen_at"] = time.time()
            obs["down_at_kill"] = states(project)
        finally:
            cancel.set()

    watcher = threading.Thread(target=watch, daemon=True)
    t0 = time.time()
    watcher.start()
    r = ansible_runner.run(**kwargs)
    kill_left_behind(str(pdd))  # what AWX's job container would take with it
    obs["ended_at"] = time.time()
    obs["status"], obs["rc"] = r.status, r.rc
    obs["worker_seen_before_kill"] = worker_seen.is_set()
    obs["elapsed"] = obs["ended_at"] - t0
    time.sleep(2)
    obs["worker_after_kill"] = running_workers(name)
    obs["states_after_kill"] = states(project)
    obs.update(observe_unattended_finish(project, obs["before"]))
    obs["recover"] = Ansible(workdir / f"{name}-recover").playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.recover"}], extra_vars={"project": name}
    )
    return obs


@pytest.fixture(scope="module")
def awx_killed(tmp_path_factory, docker_engine):
    workdir = tmp_path_factory.mktemp("runner")
    out: dict = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {pool.submit(runner_scenario, kind, workdir): kind for kind in ("cancel", "timeout")}
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
def test_awx_kill_finishes_the_job_unattended_and_restores_the_stack(awx_killed, kind, status):
    obs = awx_killed[kind]
    if isinstance(obs, BaseException):
        raise obs
    assert obs["worker_seen_before_kill"], "the runner ended before the worker ran: the kill did not hit mid-worker"
    assert set(obs["down_at_kill"].values()) == {"exited"}, obs["down_at_kill"]
    assert (obs["status"], obs["rc"]) == (status, 254), obs
    if kind == "timeout":
        assert JOB_TIMEOUT <= obs["elapsed"] < JOB_TIMEOUT + 20, obs["elapsed"]
    # The process group is dead; the transaction on the host is not: the worker still runs, the stack is down.
    assert obs["worker_after_kill"], "the worker was stopped by a controller-side kill"
    assert set(obs["states_after_kill"].values()) == {"exited"}, obs["states_after_kill"]
    assert obs["back_after"] is not None, f"stack not restored 60 s after the worker ended: {obs['after']}"
    assert obs["back_after"] < 45, obs["back_after"]
    assert obs["after"] == obs["before"]
    assert obs["workers_left"] == [] and obs["lease_left"] is False
    rec = obs["recover"]
    assert rec.rc == 0, str(rec)
    task = rec.task("Recover the stacks")
    assert task.status == "ok" and task.result["results"][0]["recover"]["action"] == "none", task.result
