"""bosun.compose.stack against the real daemon and real ansible-playbook: order, exactness, health, lease."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._lease import (
    acquire_lease,
    lease_name,
    Owner,
    read_lease,
)
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl
from ansible_collections.bosun.compose.plugins.module_utils._docker_api import ConnectionOptions, DockerApi
from harness import TEST_IMAGE, event_log, run
from stackcheck import create_lease, lease_exists

pytestmark = pytest.mark.docker

SLEEP = {"image": TEST_IMAGE, "init": True, "command": "sleep 3600", "network_mode": "none"}

# db (healthcheck, healthy after ~2 s) <- migrate (one-shot) <- api <- web (3 replicas); manual is
# stopped by hand before the job and must stay stopped.
RICH = {
    "services": {
        "db": {
            **SLEEP,
            "command": ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 3600"],
            "healthcheck": {"test": ["CMD", "sh", "-c", "test -f /tmp/ready"], "interval": "1s", "retries": 30},
        },
        "migrate": {**SLEEP, "init": False, "command": "true", "depends_on": {"db": {"condition": "service_healthy"}}},
        "api": {
            **SLEEP,
            "depends_on": {
                "db": {"condition": "service_healthy"},
                "migrate": {"condition": "service_completed_successfully"},
            },
        },
        "web": {**SLEEP, "depends_on": ["api"], "scale": 3},
        "manual": SLEEP,
    }
}
CHAIN = {
    "services": {
        "db": SLEEP,
        "api": {**SLEEP, "depends_on": ["db"]},
        "web": {**SLEEP, "depends_on": ["api"]},
    }
}


@pytest.fixture
def api():
    return DockerApi.connect(ConnectionOptions())


@pytest.fixture
def stack(compose_project):
    """compose_project, plus removal of the project's lease container (Compose does not know it)."""
    made = []

    def make(spec, **kw):
        project = compose_project(spec, **kw)
        made.append(project)
        return project

    yield make
    for project in made:
        run(["docker", "rm", "-f", lease_name(project.name)], check=False)


def play(*tasks):
    return [{"name": "stack", "hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}]


def task(name, project, check=False, **args):
    t = {"name": name, "bosun.compose.stack": {"project": project.name, **args}}
    if check:
        t["check_mode"] = True
    return t


def snapshot(project):
    """container name -> (id, state, StartedAt) of every container of the project."""
    ids = project.container_ids()
    out = {}
    for c in json.loads(run(["docker", "inspect", *ids]).stdout):
        out[c["Name"].lstrip("/")] = (c["Id"], c["State"]["Status"], c["State"]["StartedAt"])
    return out


def running(project):
    return {name for name, (_id, state, _t) in snapshot(project).items() if state == "running"}


def events(project, since):
    """(time, action, container name) of the project's container events since `since`, by time."""
    evs = event_log().since(since, project=project.name)
    return [(e["timeNano"] / 1e9, e.get("Action") or e.get("status"), e["Actor"]["Attributes"]["name"]) for e in evs]


def times(evs, action, prefix):
    return [ts for ts, act, name in evs if act == action and name.startswith(prefix)]


def test_rich_stack_check_real_idempotent_and_exact_restore(stack, ansible_playbook):
    project = stack(RICH)
    project.compose("stop", "-t", "0", "manual")
    p = project.name
    before = snapshot(project)
    was_running = running(project)
    assert was_running == {f"{p}-db-1", f"{p}-api-1", f"{p}-web-1", f"{p}-web-2", f"{p}-web-3"}
    assert before[f"{p}-migrate-1"][1] == "exited" and before[f"{p}-manual-1"][1] == "exited"

    # Check mode touches nothing: same ids, states and StartedAt, no lease.
    checked = ansible_playbook(play(task("check stop", project, check=True, state="stopped")), diff=True)
    assert checked.rc == 0, checked
    r = checked.task("check stop").result
    assert checked.task("check stop").status == "changed"
    assert {c["name"] for c in r["stopped"]} == was_running
    assert r["diff"]["after"] == {n: "stopped" for n in was_running}
    assert snapshot(project) == before
    assert read_lease(DockerApi.connect(ConnectionOptions()), p) is None

    t0 = time.time()
    result = ansible_playbook(
        play(
            task("stop", project, state="stopped", job="it-job"),
            task("check stop again", project, check=True, state="stopped"),
            task("stop again", project, state="stopped"),
            task("check start", project, check=True, state="started"),
            task("start", project, state="started"),
            task("check start again", project, check=True, state="started"),
            task("start again", project, state="started"),
        )
    )
    assert result.rc == 0, result
    stop = result.task("stop")
    assert stop.status == "changed"
    assert [c["service"] for c in stop.result["stopped"]] == ["web", "web", "web", "api", "db"]
    assert stop.result["lease"]["job"] == "it-job"
    assert [result.task(n).status for n in ("check stop again", "stop again")] == ["ok", "ok"]
    assert result.task("check start").status == "changed"
    start = result.task("start")
    assert start.status == "changed" and start.result["summary"] == "5/5 started" and start.result["released"]
    assert [result.task(n).status for n in ("check start again", "start again")] == ["ok", "ok"]

    # Exactly as it was: same ids, same running set; the manual and one-shot containers stayed exited.
    after = snapshot(project)
    assert {n: v[0] for n, v in after.items()} == {n: v[0] for n, v in before.items()}
    assert running(project) == was_running
    assert after[f"{p}-migrate-1"][1:] == before[f"{p}-migrate-1"][1:]
    assert after[f"{p}-manual-1"][1:] == before[f"{p}-manual-1"][1:]
    assert read_lease(DockerApi.connect(ConnectionOptions()), p) is None

    # Order from the daemon's own events: dependents die first, dependencies start first, health gates.
    evs = events(project, t0)
    die = {s: times(evs, "die", f"{p}-{s}-") for s in ("web", "api", "db")}
    start_t = {s: times(evs, "start", f"{p}-{s}-") for s in ("web", "api", "db")}
    assert [len(die[s]) for s in die] == [3, 1, 1] and [len(start_t[s]) for s in start_t] == [3, 1, 1]
    assert max(die["web"]) <= min(die["api"]) <= min(die["db"])
    healthy = [ts for ts in times(evs, "health_status: healthy", f"{p}-db-") if ts > min(start_t["db"])]
    assert healthy, evs
    assert min(start_t["db"]) < healthy[0] <= min(start_t["api"]) <= min(start_t["web"])
    assert not times(evs, "start", f"{p}-manual-") and not times(evs, "start", f"{p}-migrate-")


def test_parallel_stop_costs_one_grace_period(stack, ansible_playbook):
    stubborn = {**SLEEP, "init": False, "command": ["sh", "-c", "trap '' TERM; sleep 3600"], "stop_grace_period": "2s"}
    project = stack({"services": {f"s{i}": stubborn for i in range(4)}})
    result = ansible_playbook(play(task("stop", project, state="stopped"), task("start", project, state="started")))
    assert result.rc == 0, result
    stop = result.task("stop").result["stop"]
    assert len(stop["stopped"]) == 4
    # Docker used each container's StopTimeout (stop_grace_period 2s, not its 10 s default), all at once.
    assert 1.5 <= stop["duration"] < 6, stop
    assert result.task("start").result["summary"] == "4/4 started"
    assert len(running(project)) == 4


def test_services_subset_adds_dependents(stack, ansible_playbook):
    project = stack(CHAIN)
    p = project.name
    result = ansible_playbook(play(task("stop", project, state="stopped", services=["api"])))
    assert result.rc == 0, result
    r = result.task("stop").result
    assert r["added_services"] == ["web"]
    assert [c["service"] for c in r["stopped"]] == ["web", "api"]
    assert running(project) == {f"{p}-db-1"}
    result = ansible_playbook(play(task("start", project, state="started", run_id=r["run_id"])))
    assert result.rc == 0, result
    assert result.task("start").result["summary"] == "2/2 started"
    assert len(running(project)) == 3


def test_held_stack_and_wrong_run_fail_naming_the_holder(stack, ansible_playbook):
    project = stack(CHAIN)
    result = ansible_playbook(
        play(
            task("stop", project, state="stopped", job="nightly", run_id="run-one"),
            {**task("start other run", project, state="started", run_id="run-two"), "ignore_errors": True},
        )
    )
    # A second run against the same stack finds the first one's lease.
    project.compose("start", "db")  # something running again, so the second stopped must take the lease
    held = ansible_playbook(play(task("stop held", project, state="stopped", run_id="run-two")))
    assert held.rc != 0
    msg = held.task("stop held").result["msg"]
    assert "is held by run 'run-one' of job 'nightly' on host" in msg and "expires 20" in msg, msg
    assert result.task("start other run").status == "failed"
    assert "not by run 'run-two'" in result.task("start other run").result["msg"]
    assert len(running(project)) == 1
    done = ansible_playbook(play(task("start", project, state="started", run_id="run-one")))
    assert done.rc == 0, done
    assert done.task("start").result["summary"] == "3/3 started"
    assert read_lease(DockerApi.connect(ConnectionOptions()), project.name) is None


def _dead_pid():
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def run_id(project):
    """Unique per project: recovery stops every worker of the lease's run id, whatever its stack."""
    return f"run-{project.name}"


def _stop_with_lease(api, project, owner, *, ttl=600, now=None):
    """What a run does before it dies: record the lease, stop the stack."""
    ctl = StackControl(api, project.name)
    levels = ctl.plan_stop()[0]
    stop_set = [c for level in levels for c in level]
    lease = acquire_lease(api, project.name, run_id(project), "it", stop_set, ttl, owner, stop_set[0].image_id, now=now)
    assert ctl.stop(levels, 0).ok
    return lease


@pytest.mark.parametrize("how", ["dead-pid", "expired"])
def test_recovered_restores_exactly_the_stop_set_after_its_worker(stack, ansible_playbook, api, how):
    project = stack({"services": {**CHAIN["services"], "manual": SLEEP}})
    project.compose("stop", "-t", "0", "manual")
    before = snapshot(project)
    was_running = running(project)
    if how == "dead-pid":
        _stop_with_lease(api, project, Owner.current(_dead_pid()))
    else:
        _stop_with_lease(api, project, Owner.current(), ttl=5, now=time.time() - 60)
    worker = f"{project.name}-worker"
    run(
        [
            "docker",
            "run",
            "-d",
            "--init",
            "--network",
            "none",
            "--name",
            worker,
            "--label",
            "bosun.worker.job=it",
            "--label",
            f"bosun.worker.run-id={run_id(project)}",
            "--label",
            f"bosun.stack={project.name}",
            TEST_IMAGE,
            "sleep",
            "3600",
        ]
    )
    assert running(project) == set()

    t0 = time.time()
    checked = ansible_playbook(play(task("check", project, check=True, state="recovered")))
    assert checked.rc == 0 and checked.task("check").status == "changed", checked
    assert running(project) == set() and read_lease(api, project.name) is not None
    result = ansible_playbook(
        play(task("recover", project, state="recovered"), task("recover again", project, state="recovered"))
    )
    assert result.rc == 0, result
    r = result.task("recover").result
    assert r["recover"]["action"] == "recovered" and r["released"] and r["start"]["summary"] == "3/3 started"
    assert r["recover"]["workers_stopped"] == [worker]
    assert result.task("recover again").status == "ok"
    assert running(project) == was_running
    assert {n: v[0] for n, v in snapshot(project).items()} == {n: v[0] for n, v in before.items()}
    assert read_lease(api, project.name) is None
    assert run(["docker", "ps", "-aq", "--filter", f"name={worker}"]).stdout == ""
    # The worker was gone before anything of the stack started.
    worker_died = [e for e in events_of(worker, t0) if e[1] == "die"]
    first_start = min(times(events(project, t0), "start", project.name))
    assert worker_died and worker_died[0][0] < first_start


def by_run_id(name, rid, check=False):
    """A state=recovered task that names only the run id, no project."""
    t = {"name": name, "bosun.compose.stack": {"state": "recovered", "run_id": rid}}
    if check:
        t["check_mode"] = True
    return t


def test_recovered_by_run_id_alone_finds_the_stack_and_an_unknown_run_is_nothing(stack, ansible_playbook, api):
    project = stack({"services": {**CHAIN["services"], "manual": SLEEP}})
    project.compose("stop", "-t", "0", "manual")
    before = snapshot(project)
    was_running = running(project)
    _stop_with_lease(api, project, Owner.current(_dead_pid()))
    assert running(project) == set()

    checked = ansible_playbook(play(by_run_id("check", run_id(project), check=True)))
    assert checked.rc == 0 and checked.task("check").status == "changed", checked
    assert checked.task("check").result["project"] == project.name
    assert checked.task("check").result["recover"]["action"] == "would_recover"
    assert running(project) == set() and read_lease(api, project.name) is not None

    nobody = f"nobody-{project.name}"
    result = ansible_playbook(
        play(
            by_run_id("recover", run_id(project)),
            by_run_id("recover again", run_id(project)),
            by_run_id("nobody's run", nobody),
        )
    )
    assert result.rc == 0, result
    recover = result.task("recover")
    r = recover.result
    assert recover.status == "changed" and r["project"] == project.name and r["run_id"] == run_id(project)
    assert r["recover"]["action"] == "recovered" and r["released"] and r["start"]["summary"] == "3/3 started"
    assert running(project) == was_running
    assert {n: v[0] for n, v in snapshot(project).items()} == {n: v[0] for n, v in before.items()}
    assert read_lease(api, project.name) is None
    for name, rid in (("recover again", run_id(project)), ("nobody's run", nobody)):
        t = result.task(name)
        assert t.status == "ok" and t.result["project"] is None and t.result["recover"]["action"] == "none", t
        assert t.result["summary"] == f"no lease of run {rid!r} on this Docker host: nothing to recover"


def test_recovered_by_run_id_restarts_its_stack_and_leaves_a_broken_lease_of_another_run_alone(
    stack, ansible_playbook, api
):
    project = stack(CHAIN)
    was_running = running(project)
    _stop_with_lease(api, project, Owner.current(_dead_pid()))
    # Held by another run, its owner label not JSON.
    other = f"{project.name}-broken"
    broken = create_lease(
        other,
        {"bosun.lease.project": other, "bosun.lease.run-id": f"other-{project.name}", "bosun.lease.owner": "not json"},
    )
    try:
        result = ansible_playbook(play(by_run_id("recover", run_id(project))))
        assert lease_exists(other), "the broken lease is gone"
    finally:
        run(["docker", "rm", "-f", broken], check=False)
    assert result.rc == 0, result
    recover = result.task("recover")
    r = recover.result
    assert recover.status == "changed" and r["project"] == project.name and r["released"], r
    assert running(project) == was_running and read_lease(api, project.name) is None
    assert [w for w in r["warnings"] if broken in w] == [
        f"the lease of stack '{project.name}-broken': label 'bosun.lease.owner' has value 'not json', which is not "
        "valid (Expecting value: line 1 column 1 (char 0)); allowed: the bosun.lease.* labels written by "
        f"bosun.compose; remove the container '{broken}' after checking the stack by hand (it is not the lease of "
        f"run '{run_id(project)}', so it was left alone)"
    ]


def test_project_is_required_but_for_recovered_with_run_id(ansible_playbook):
    result = ansible_playbook(
        play(
            {"name": "stop", "bosun.compose.stack": {"state": "stopped"}, "ignore_errors": True},
            {"name": "recover any", "bosun.compose.stack": {"state": "recovered"}, "ignore_errors": True},
        )
    )
    assert result.rc == 0, result
    for name, got in (("stop", "state=stopped, run_id=None"), ("recover any", "state=recovered, run_id=None")):
        t = result.task(name)
        assert t.status == "failed", t
        assert t.result["msg"] == f"project is required, except with state=recovered and run_id (got {got})"


def events_of(name, since):
    return [(e["timeNano"] / 1e9, e.get("Action") or e.get("status")) for e in event_log().since(since, name=name)]


def test_recovered_leaves_a_live_run_alone(stack, ansible_playbook, api):
    project = stack(CHAIN)
    _stop_with_lease(api, project, Owner.current())  # this pytest process: alive
    result = ansible_playbook(
        play(
            task("any run", project, state="recovered"),
            task("same run", project, state="recovered", run_id=run_id(project)),
            task("other run", project, state="recovered", run_id="someone-else"),
        )
    )
    assert result.rc == 0, result
    assert [result.task(n).status for n in ("any run", "same run", "other run")] == ["ok"] * 3
    assert result.task("any run").result["recover"]["action"] == "in_progress"
    assert "the run is still in progress" in result.task("same run").result["summary"]
    assert result.task("other run").result["recover"]["action"] == "other_run"
    assert running(project) == set() and read_lease(api, project.name) is not None
    done = ansible_playbook(play(task("start", project, state="started", run_id=run_id(project))))
    assert done.rc == 0 and done.task("start").result["summary"] == "3/3 started", done


def test_started_goes_on_past_a_vanished_container(stack, ansible_playbook, api):
    project = stack(CHAIN)
    p = project.name
    result = ansible_playbook(play(task("stop", project, state="stopped")))
    assert result.rc == 0, result
    run(["docker", "rm", f"{p}-api-1"])
    failed = ansible_playbook(play(task("start", project, state="started")))
    assert failed.rc != 0
    r = failed.task("start").result
    assert r["summary"] == "2/3 started" and "2/3 started" in r["msg"] and f"{p}-api-1" in r["msg"]
    assert running(project) == {f"{p}-db-1", f"{p}-web-1"}
    # A vanished container cannot be retried, so the lease is released.
    assert r["released"] and read_lease(api, p) is None


def test_explicit_containers_start_only_those(stack, ansible_playbook):
    project = stack(CHAIN)
    p = project.name
    project.compose("stop", "-t", "0")
    result = ansible_playbook(
        play(
            task("start", project, state="started", containers=[f"{p}-web-1", f"{p}-db-1"]),
            task("start again", project, state="started", containers=[f"{p}-web-1", f"{p}-db-1"]),
            {
                **task("start stranger", project, state="started", containers=["no-such-container"]),
                "ignore_errors": True,
            },
        ),
        diff=True,
    )
    assert result.rc == 0, result
    start = result.task("start")
    assert start.status == "changed" and start.result["summary"] == "2/2 started"
    assert start.result["diff"]["after"] == {f"{p}-db-1": "running", f"{p}-web-1": "running"}
    assert result.task("start again").status == "ok"
    assert result.task("start stranger").result["summary"] == "0/1 started"
    assert running(project) == {f"{p}-db-1", f"{p}-web-1"}
