"""Defect: two recoveries of one dead lease at the same moment; the loser failed on HTTP 409.

A job_run is SIGKILLed mid-worker (its lease names a dead owner, its worker still runs). Then two recoveries
start together: recover() in two threads released by one barrier (repeated), and two `stack state=recovered`
processes. Both must succeed, one reporting that the other did the work; the stack is exactly restored and
no worker and no lease are left.
"""

from __future__ import annotations

import os
import subprocess
import threading

import pytest
import yaml

from ansible_collections.bosun.compose.plugins.module_utils._docker_api import ConnectionOptions, DockerApi
from ansible_collections.bosun.compose.plugins.module_utils._recovery import RecoverResult, recover
from harness import VENV_BIN, TaskResult, project_workers
from stackcheck import lease, snapshot
from test_reliability_crash import STACK, kill_mid_worker

pytestmark = pytest.mark.docker

ROUNDS = 3


def recover_twice_at_once(project: str) -> list[RecoverResult | BaseException]:
    """recover() of `project` in two threads (one Engine client each), started by one barrier."""
    barrier = threading.Barrier(2)
    results: list[RecoverResult | BaseException] = [RuntimeError("did not run")] * 2

    def one(i: int) -> None:
        api = DockerApi.connect(ConnectionOptions())
        barrier.wait(timeout=30)
        try:
            results[i] = recover(api, project, grace=1, start_timeout=30)
        except BaseException as exc:  # the assertion below shows it
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    return results


def test_two_recover_calls_at_once_both_succeed_and_restore_the_stack(compose_project, ansible, tmp_path):
    p = compose_project(STACK)
    before = snapshot(p)
    for n in range(ROUNDS):
        run_id = f"conc{n}{os.getpid():08d}abcdef0123"
        kill_mid_worker(p, ansible, tmp_path / f"r{n}", run_id)
        results = recover_twice_at_once(p.name)
        for r in results:
            assert isinstance(r, RecoverResult), f"round {n}: {r!r}"
            assert r.ok, f"round {n}: {r.message}"
        actions = tuple(sorted(r.action for r in results if isinstance(r, RecoverResult)))
        # One did the work; the other did it too (it started first) or reports it done (or found nothing left).
        assert "recovered" in actions, (n, actions, [getattr(r, "message", r) for r in results])
        assert set(actions) <= {"recovered", "recovered_concurrently", "none"}, actions
        assert sum(1 for r in results if isinstance(r, RecoverResult) and r.released) == 1, actions
        assert snapshot(p) == before, f"round {n}"
        assert project_workers(p.name) == [] and lease(p.name) is None, f"round {n}"


def test_two_stack_recovered_processes_at_once_both_succeed(compose_project, ansible, tmp_path):
    p = compose_project(STACK)
    before = snapshot(p)
    run_id = f"concpb{os.getpid():08d}abcdef0123"
    kill_mid_worker(p, ansible, tmp_path, run_id)
    procs = []
    dirs = []
    for _proc in range(2):
        d, env = ansible._prepare()  # pylint: disable=protected-access
        pb = d / "playbook.yml"
        task = {"name": "recover", "bosun.compose.stack": {"project": p.name, "state": "recovered"}}
        pb.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(d / "hosts.ini"), str(pb)]
        procs.append(
            subprocess.Popen(argv, cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        )
        dirs.append(d)
    outs = [proc.communicate(timeout=180)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], "\n".join(outs)
    recs = [TaskResult(**yaml.safe_load((d / "results.jsonl").read_text().splitlines()[0])).result for d in dirs]
    actions = sorted(r["recover"]["action"] for r in recs)
    assert "recovered" in actions and set(actions) <= {"recovered", "recovered_concurrently", "none"}, recs
    assert sum(1 for r in recs if r["released"]) == 1, recs
    assert snapshot(p) == before
    assert project_workers(p.name) == [] and lease(p.name) is None
