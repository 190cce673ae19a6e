"""Reliability (issue 5, item 1): the controller is interrupted while the worker runs.

SIGINT, SIGTERM and SIGKILL go to ansible-playbook (its pid, and separately its whole process group) while
the role bosun.compose.run_job has the stack down and the worker running. The transaction runs under async
on the host, so it finishes unattended: the stack stays down beside no one but the worker, the worker is not
cancelled (a limit: the controller cannot cancel once it is dead), and as soon as the worker ends the stack is
started again, exactly as it was; no worker and no lease are left, and the recover playbook finds nothing to do.

The six scenarios run at the same time, each on its own stack (module fixture), to keep the wall time short;
each scenario is asserted by its own test.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import time

import pytest

from harness import FIXTURES, VENV_BIN, Ansible, ComposeProject, project_name, remove_project
from stackcheck import events, observe_unattended_finish, running_workers, snapshot, states, wait_for

pytestmark = pytest.mark.docker

STACK = FIXTURES / "rel_stack.yml"
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
SCENARIOS = [(s, target) for s in SIGNALS for target in ("pid", "group")]


def recover_playbook(ansible: Ansible, stack: str):
    return ansible.playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.recover"}], extra_vars={"project": stack}
    )


def start_role(ansible: Ansible, stack: str, state_dir: str) -> subprocess.Popen:
    """`ansible-playbook bosun.compose.run_job -e job=rel-a` in its own session (its pgid is its pid)."""
    d, env = ansible._prepare()  # pylint: disable=protected-access
    (d / "playbook.yml").write_text("- ansible.builtin.import_playbook: bosun.compose.run_job\n", encoding="utf-8")
    extra = {"job": "rel-a", "project": stack, "run_job_poll": 1, "run_job_state_dir": state_dir}
    return subprocess.Popen(
        [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            str(d / "hosts.ini"),
            str(d / "playbook.yml"),
            "--extra-vars",
            json.dumps(extra),
        ],
        cwd=d,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# ---- the scenarios --------------------------------------------------------------------------------


def interrupt_scenario(sig_name: str, target: str, workdir) -> dict:
    name = project_name(f"int-{sig_name}-{target}")
    project = ComposeProject(name, workdir / f"{name}.yml")
    project.file.write_text(STACK.read_text(encoding="utf-8"), encoding="utf-8")
    obs: dict = {"project": project}
    project.up()
    before = snapshot(project)
    obs["before"] = before
    ansible = Ansible(workdir / name)
    t0 = time.time()
    proc = start_role(ansible, name, str(workdir / name / "state"))
    obs["proc"] = proc
    wait_for(lambda: running_workers(name) or proc.poll() is not None, 180, f"the worker of {name} to run")
    assert proc.poll() is None, f"ansible-playbook ended (rc {proc.returncode}) before the worker ran"
    obs["down_at_signal"] = states(project)
    sig = SIGNALS[sig_name]
    if target == "pid":
        os.kill(proc.pid, sig)
    else:
        os.killpg(proc.pid, sig)
    try:
        obs["rc"] = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        obs["rc"] = None
    time.sleep(2)  # the controller is gone; the job goes on unattended on the host
    obs["worker_after_controller"] = running_workers(name)
    obs["states_after_controller"] = states(project)
    obs.update(observe_unattended_finish(project, before))
    obs["worker_die"] = [ts for ts, _a, _n in events(f"bosun.worker.stack={name}", t0, "die")]
    obs["stack_start"] = [ts for ts, _a, _n in events(f"com.docker.compose.project={name}", t0, "start")]
    rec = recover_playbook(Ansible(workdir / f"{name}-recover"), name)
    obs["recover"] = rec
    return obs


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory, docker_engine):
    """Every (signal, target) scenario, run at the same time on separate stacks: key -> observations or error."""
    workdir = tmp_path_factory.mktemp("interrupts")
    out: dict = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        futures = {pool.submit(interrupt_scenario, s, tgt, workdir): (s, tgt) for s, tgt in SCENARIOS}
        for fut, key in futures.items():
            try:
                out[key] = fut.result()
            except Exception as exc:  # reported by the scenario's own test
                out[key] = exc
    yield out
    for obs in out.values():
        if isinstance(obs, dict):
            proc = obs.get("proc")
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    for p in workdir.glob("bosun-it-*.yml"):
        remove_project(p.stem, p)


@pytest.mark.parametrize("sig_name, target", SCENARIOS, ids=[f"{s}-{t}" for s, t in SCENARIOS])
def test_controller_interrupt_finishes_the_job_unattended_and_restores_the_stack(interrupted, sig_name, target):
    obs = interrupted[(sig_name, target)]
    if isinstance(obs, BaseException):
        raise obs
    before = obs["before"]
    oneshot = next(n for n in before if "-oneshot-" in n)
    assert {s for n, (_i, s) in before.items() if n != oneshot} == {"running"} and before[oneshot][1] == "exited"
    # The signal hit while the stack was down and the worker ran.
    assert set(obs["down_at_signal"].values()) == {"exited"}, obs["down_at_signal"]
    # ansible-playbook ended on the signal (no `always` of its own runs; the host side does not depend on it).
    assert obs["rc"] is not None, "ansible-playbook did not end within 60 s of the signal"
    assert obs["rc"] != 0
    # The job was not cancelled: it goes on unattended, the stack stays down beside its worker only.
    assert obs["worker_after_controller"], "the worker was stopped although only the controller was interrupted"
    assert set(obs["states_after_controller"].values()) == {"exited"}, obs["states_after_controller"]
    # As soon as the worker ends, exactly the same containers run again; the one-shot stays exited.
    assert obs["back_after"] is not None, f"stack not restored 60 s after the worker was released: {obs['after']}"
    assert obs["back_after"] < 45, obs["back_after"]
    assert obs["after"] == before
    # The stack never ran beside the worker: the worker died before any container of the stack started again.
    assert obs["worker_die"] and len(obs["stack_start"]) == 3, (obs["worker_die"], obs["stack_start"])
    assert max(obs["worker_die"]) <= min(obs["stack_start"]), (obs["worker_die"], obs["stack_start"])
    # Nothing left behind, and recovery has nothing to do.
    assert obs["workers_left"] == [] and obs["lease_left"] is False
    rec = obs["recover"]
    assert rec.rc == 0, str(rec)
    task = rec.task("Recover the stacks")
    assert task.status == "ok", task
    assert task.result["results"][0]["recover"]["action"] == "none", task.result
