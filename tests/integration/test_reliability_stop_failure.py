"""Reliability (issue 14, item 4): a `docker stop` that fails, for real.

The container runs under the test runtime ``bosun-refuse-kill`` (scripts/refuse-kill-runtime, registered by
scripts/bootstrap.sh): while its marker file exists, the runtime freezes it and refuses to kill it, so that
Docker's stop fails as for a process stuck in the kernel. Docker 20.10 answers such a stop, after the grace
period and its own 10 + 4 s of SIGKILL attempts, with HTTP 500 "cannot stop container: <name>: tried to kill
container, but did not receive an exit event"; the container stays running (frozen).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from harness import FIXTURES, event_log, project_workers, run
from stackcheck import event_action, lease, snapshot, snapshot_started

pytestmark = pytest.mark.docker

RUNTIME = "bosun-refuse-kill"
MARKERS = Path("/run/bosun-test/refuse-kill")
DOCKER_STOP_ERROR = "tried to kill container, but did not receive an exit event"


def runtime_registered() -> bool:
    out = run(["docker", "info", "--format", "{{json .Runtimes}}"], check=False)
    return out.returncode == 0 and RUNTIME in json.loads(out.stdout or "{}")


@pytest.fixture
def refuse_kill():
    """refuse(container_id): from now on the container cannot be stopped; released again after the test."""
    # scripts/bootstrap.sh (make test) registers it: without it this test fails rather than pass unseen.
    assert runtime_registered(), (
        f"the test runtime {RUNTIME!r} is not registered with dockerd (run scripts/bootstrap.sh)"
    )
    marked: list[Path] = []

    def refuse(cid: str) -> None:
        MARKERS.mkdir(parents=True, exist_ok=True)
        marker = MARKERS / cid
        marker.touch()
        marked.append(marker)

    yield refuse
    for marker in marked:  # the next kill (the teardown's `compose down`) thaws and kills the container
        marker.unlink(missing_ok=True)


def stack_spec() -> dict:
    """rel_stack.yml (db <- app <- web) plus `side`, a second dependent of app: web and side are the first
    stop level; web runs under the refusing runtime."""
    spec = yaml.safe_load((FIXTURES / "rel_stack.yml").read_text(encoding="utf-8"))
    spec["services"]["side"] = dict(spec["services"]["web"])
    spec["services"]["web"]["runtime"] = RUNTIME
    return spec


def name_of(snap: dict, service: str) -> str:
    return next(n for n in snap if n.rsplit("-", 2)[-2] == service)


def test_a_container_that_cannot_be_stopped_is_stop_failed_and_nothing_deeper_stops(
    compose_project, ansible_playbook, refuse_kill, tmp_path
):
    p = compose_project(stack_spec())
    before = snapshot_started(p)
    web, side, app, db = (name_of(before, s) for s in ("web", "side", "app", "db"))
    refuse_kill(before[web][0])
    t0 = time.time()
    job = {"command": ["sh", "-c", "echo the worker ran"]}
    res = ansible_playbook(
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
                            "job": job,
                        },
                    }
                ],
            }
        ],
        timeout=240,
    )
    r = res.task("run").result
    assert res.rc == 2 and r["outcome"] == "stop_failed", (r.get("outcome"), r.get("msg"))
    # The message names the container and carries Docker's own error.
    assert f"'{web}'" in r["msg"] and DOCKER_STOP_ERROR in r["msg"], r["msg"]
    assert app not in r["msg"] and db not in r["msg"], r["msg"]
    # The worker never ran, and its created container is gone; no lease is left.
    assert r["worker"] is None and project_workers(p.name) == [] and lease(p.name) is None
    assert [c["name"] for c in r["stopped"]] == [side]
    assert sorted(c["name"] for c in r["restarted"]) == sorted([side, web])
    after = snapshot_started(p)
    # The deeper levels were never touched: same StartedAt, and no event of a stop or start.
    for name in (app, db):
        assert after[name] == before[name], name
    touched = {
        (e["Actor"]["Attributes"].get("name"), event_action(e))
        for e in event_log().since(t0, project=p.name)
        if event_action(e) in ("kill", "stop", "die", "start", "pause", "unpause")
    }
    assert not {x for x in touched if x[0] in (app, db)}, touched
    # side was stopped and started again (the same container); web refused and never stopped.
    assert (side, "die") in touched and (side, "start") in touched, touched
    assert after[side][:2] == before[side][:2] and after[side][2] != before[side][2]
    assert after[web] == before[web] and (web, "die") not in touched
    # Exactly the stack as before: the same containers in the same states (the one-shot still exited).
    assert snapshot(p) == {n: (cid, state) for n, (cid, state, _at) in before.items()}
