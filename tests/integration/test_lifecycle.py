"""The job lifecycle (issue 12) against the real daemon, real Compose v2 and real ansible-playbook.

Hooks (pre, post, error, finally) exec'd in the stack's own containers, their env and output, a SIGKILLed run's
pending hooks run by its recovery, the stop scope, pause mode, the after-phase (and the lease it holds),
keep_stopped, worker exit 75, check mode and the role's async limit. Every claim is checked on what the daemon shows: the lines the
hooks append to a file in a named volume (fixtures/lifecycle_stack.yml), docker inspect StartedAt and the
session's container event stream.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import subprocess
import time
import typing as t

import pytest
import yaml

from harness import TEST_IMAGE, VENV_BIN, TaskResult, event_log, project_workers, run
from stackcheck import (
    module_pid,
    event_action,
    lease,
    lease_exists,
    job_task,
    role_task,
    running_workers,
    snapshot_started,
    states,
    volume_file,
    wait_for,
)

pytestmark = pytest.mark.docker

STACK = "lifecycle_stack.yml"
PAUSE_STACK = "lifecycle_pause.yml"
JOB = "life"
# The services of STACK: db writes the attached volumes "data" and "out", app depends on db, web on app; reader mounts
# "data" read-only; cache mounts nothing of the job. db and app carry the hooks.
ALL = {"db", "app", "web", "reader", "cache"}
# Actions that mean a container was taken down or brought back.
LIFECYCLE_ACTIONS = {"kill", "stop", "die", "start", "restart", "pause", "unpause"}
# A worker that runs until it is told to stop, and then stops at once (not after a grace period).
WAIT_FOREVER = ["sh", "-c", 'trap "exit 143" TERM; while :; do sleep 0.2; done']


# ---- observing the stack --------------------------------------------------------------------------


def marks(project) -> list[dict[str, str]]:
    """The lines the hooks appended to /marks/log, oldest first, each as {phase, who, outcome, job, run, stack, t}."""
    out = volume_file(project, "marks", "log")
    if out.returncode != 0:
        assert "No such file" in out.stderr, out.stderr
        return []
    return [dict(re.findall(r"(\w+)=(\S+)", line)) for line in out.stdout.splitlines() if line.strip()]


def phases(project) -> list[tuple[str, str]]:
    """(phase, service) of each hook that ran, in the order they ran."""
    return [(m["phase"], m["who"]) for m in marks(project)]


def fail_hook(project, phase: str, service: str) -> None:
    """Make the `phase` hook of `service` exit 1 (it tests for /marks/fail-<phase>-<service>)."""
    run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            f"{project.name}_marks:/v",
            TEST_IMAGE,
            "touch",
            f"/v/fail-{phase}-{service}",
        ]
    )


def service_of(project, name: str) -> str:
    return name.removeprefix(f"{project.name}-").rsplit("-", 1)[0]


def by_service(project, snap: dict) -> dict:
    """A snapshot_started() keyed by service."""
    return {service_of(project, n): v for n, v in snap.items()}


def lifecycle_events(project, since: float) -> list[tuple[float, str, str]]:
    """(time, action, service) of the project's container lifecycle events since `since`, oldest first."""
    return [
        (e["timeNano"] / 1e9, event_action(e), e["Actor"]["Attributes"].get("com.docker.compose.service", ""))
        for e in event_log().since(since, project=project.name)
        if event_action(e) in LIFECYCLE_ACTIONS
    ]


def first(evs: list[tuple[float, str, str]], action: str) -> dict[str, float]:
    """service -> time of its first `action` event."""
    found: dict[str, float] = {}
    for ts, act, svc in evs:
        if act == action:
            found.setdefault(svc, ts)
    return found


def epoch(docker_time: str) -> float:
    """A Docker RFC 3339 timestamp (nanoseconds) as seconds since the epoch."""
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", docker_time).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(trimmed).timestamp()


# ---- running jobs ---------------------------------------------------------------------------------


def run_args(project, tmp_path, **args) -> dict:
    args = {"name": JOB, "project": project.name, "state_dir": str(tmp_path / "state"), **args}
    return {k: v for k, v in args.items() if v is not None}


def job_run(ansible_playbook, project, tmp_path, *, check: bool = False, ignore_errors: bool = True, **args):
    """One job_run task in its own ansible-playbook: (the whole run, the task's recorded result)."""
    task = {"name": "run", "bosun.compose.job_run": run_args(project, tmp_path, **args)}
    if ignore_errors:
        task["ignore_errors"] = True
    result = ansible_playbook([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}], check=check)
    return result, result.task("run")


class Background:
    """One job_run task in an ansible-playbook in the background; its module process can be signalled."""

    def __init__(self, ansible, project, tmp_path, run_id: str, **args: t.Any) -> None:
        self.run_id = run_id
        self.dir, env = ansible._prepare()  # pylint: disable=protected-access
        env["BOSUN_TEST_RUN"] = run_id
        task = {"name": "run", "bosun.compose.job_run": run_args(project, tmp_path, run_id=run_id, **args)}
        pb = self.dir / "playbook.yml"
        pb.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "ansible-playbook"), "-i", str(self.dir / "hosts.ini"), str(pb)],
            cwd=self.dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output = ""

    def wait(self, timeout: float = 120) -> int:
        try:
            self.output = self.proc.communicate(timeout=timeout)[0]
        finally:
            self.kill()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.communicate()

    def result(self, timeout: float = 120) -> dict:
        self.wait(timeout)
        lines = (self.dir / "results.jsonl").read_text().splitlines() if (self.dir / "results.jsonl").exists() else []
        assert lines, self.output
        return TaskResult(**json.loads(lines[0])).result


def step_kinds(r: dict) -> list[tuple]:
    """The steps of a run result as (type,) or, for a hook, (run_hook, phase, service, status)."""
    return [
        ("run_hook", s["phase"], s["containers"][0]["service"], s["status"])
        if s["type"] == "run_hook"
        else (s["type"],)
        for s in r["steps"]
    ]


# ---- the tests ------------------------------------------------------------------------------------


@pytest.mark.podman
def test_successful_run_gives_hooks_their_env_order_and_output(compose_project, ansible_playbook, tmp_path):
    p = compose_project(STACK)
    before = by_service(p, snapshot_started(p))
    _run, task = job_run(ansible_playbook, p, tmp_path)
    r = task.result
    assert task.status == "changed" and r["outcome"] == "success", r
    run_id = r["run_id"]
    # The fixture works as meant: both attached volumes reach the worker (and the after-phase).
    worker = next(s for s in r["plan"]["steps"] if s["type"] == "run_worker")["worker"]
    assert sorted((m["volume"], m["mode"]) for m in worker["mounts"]) == [
        (f"{p.name}_data", "ro"),
        (f"{p.name}_out", "rw"),
    ]

    # The hooks ran in the containers, each once, in their order: pre dependents first, the others dependencies first.
    lines = marks(p)
    assert [(m["phase"], m["who"]) for m in lines] == [
        ("pre", "app"),
        ("pre", "db"),
        ("post", "db"),
        ("post", "app"),
        ("finally", "db"),
        ("finally", "app"),
    ], lines
    # What a real hook sees: the job, the run, the stack, its phase, and for error/finally the outcome.
    for m in lines:
        assert (m["job"], m["run"], m["stack"]) == (JOB, run_id, p.name), m
        # pre hooks see no outcome yet (the file's hooks print "none"); post hooks see the run's outcome.
        assert m["outcome"] == ("none" if m["phase"] == "pre" else "success"), m

    assert step_kinds(r) == [
        ("run_hook", "pre", "app", "ok"),
        ("run_hook", "pre", "db", "ok"),
        ("stop_containers",),
        ("run_worker",),
        ("start_containers",),
        ("run_hook", "post", "db", "ok"),
        ("run_hook", "post", "app", "ok"),
        ("run_hook", "finally", "db", "ok"),
        ("run_hook", "finally", "app", "ok"),
    ]
    for s in (s for s in r["steps"] if s["type"] == "run_hook"):
        svc = s["containers"][0]["service"]
        assert (s["exit_code"], s["output_tail"]) == (0, [f"said {s['phase']} in {svc}"]), s
        assert s["command"][:2] == ["sh", "-c"] and "/marks/log" in s["command"][2], s
    hooks = r["hooks"]
    assert [(h["phase"], h["container"]["service"], h["exit_code"], h["ok"]) for h in hooks] == [
        (ph, svc, 0, True) for ph, svc, _st in (k[1:] for k in step_kinds(r) if k[0] == "run_hook")
    ]
    assert all(h["timeout"] == 20 and h["skipped"] is None and not h["timed_out"] for h in hooks), hooks
    # The pre hooks ran while everything was up; post and finally once it was up again.
    start_step = next(s for s in r["steps"] if s["type"] == "start_containers")
    assert start_step["detail"] == "5/5 started", start_step
    after = by_service(p, snapshot_started(p))
    assert {svc for svc, (_i, st, _s) in after.items() if st == "running"} == ALL
    assert all(after[s][2] != before[s][2] for s in ALL), (before, after)
    assert not lease_exists(p.name) and project_workers(p.name) == []


@pytest.mark.podman
def test_failing_pre_hook_stops_nothing_and_runs_error_and_finally(compose_project, ansible_playbook, tmp_path):
    p = compose_project(STACK)
    fail_hook(p, "pre", "db")  # the second pre hook (app's runs first) exits 1; on-error is abort (the default)
    before = snapshot_started(p)
    t0 = time.time()
    _run, task = job_run(ansible_playbook, p, tmp_path)
    r = task.result
    assert task.status == "failed" and r["outcome"] == "hook_failed", r
    assert r["msg"].startswith("hook_failed: pre hook in ") and "exited with code 1" in r["msg"], r["msg"]
    assert "nothing was stopped" in r["msg"], r["msg"]

    # Nothing stopped: no lifecycle event of any container of the stack, StartedAt unchanged.
    assert lifecycle_events(p, t0) == []
    assert snapshot_started(p) == before
    assert r["stopped"] == [] and r["restarted"] == [] and r["downtime_seconds"] == 0, r

    # The error and finally hooks ran anyway, in start order, and saw the outcome.
    run_id = r["run_id"]
    lines = marks(p)
    assert [(m["phase"], m["who"], m["outcome"]) for m in lines] == [
        ("pre", "app", "none"),
        ("pre", "db", "none"),
        ("error", "db", "hook_failed"),
        ("error", "app", "hook_failed"),
        ("finally", "db", "hook_failed"),
        ("finally", "app", "hook_failed"),
    ], lines
    assert {m["run"] for m in lines} == {run_id}
    assert step_kinds(r) == [
        ("run_hook", "pre", "app", "ok"),
        ("run_hook", "pre", "db", "failed"),
        ("run_hook", "error", "db", "ok"),
        ("run_hook", "error", "app", "ok"),
        ("run_hook", "finally", "db", "ok"),
        ("run_hook", "finally", "app", "ok"),
    ]
    failed = r["steps"][1]
    assert (failed["exit_code"], failed["output_tail"]) == (1, ["said pre in db"]), failed
    pre_db = r["hooks"][1]
    assert (pre_db["phase"], pre_db["on_error"], pre_db["exit_code"], pre_db["ok"]) == ("pre", "abort", 1, False)
    assert not lease_exists(p.name) and project_workers(p.name) == []


def test_failing_post_and_finally_hooks_make_a_good_run_hook_failed(compose_project, ansible_playbook, tmp_path):
    p = compose_project(STACK)
    fail_hook(p, "post", "db")
    fail_hook(p, "finally", "app")
    _run, task = job_run(ansible_playbook, p, tmp_path)
    r = task.result
    assert task.status == "failed" and r["outcome"] == "hook_failed", r
    assert r["worker"]["exit_code"] == 0
    # The message names both failed hooks and says that the job itself succeeded and the stack is up.
    msg = r["msg"]
    assert f"post hook in '{p.name}-db-1' exited with code 1" in msg, msg
    assert f"finally hook in '{p.name}-app-1' exited with code 1" in msg, msg
    assert "the job itself succeeded and the stack is up" in msg, msg
    # A failed post hook does not stop the others of its phase, nor the finally hooks.
    assert phases(p) == [
        ("pre", "app"),
        ("pre", "db"),
        ("post", "db"),
        ("post", "app"),
        ("finally", "db"),
        ("finally", "app"),
    ]
    assert [k for k in step_kinds(r) if k[0] == "run_hook" and k[1] != "pre"] == [
        ("run_hook", "post", "db", "failed"),
        ("run_hook", "post", "app", "ok"),
        ("run_hook", "finally", "db", "ok"),
        ("run_hook", "finally", "app", "failed"),
    ]
    assert set(states(p).values()) == {"running"} and len(states(p)) == len(ALL)
    assert not lease_exists(p.name) and project_workers(p.name) == []


DEAD_RUN_HOOKS = [
    ("pre", "app", "none"),
    ("pre", "db", "none"),
    ("error", "db", "interrupted"),
    ("error", "app", "interrupted"),
    ("finally", "db", "interrupted"),
    ("finally", "app", "interrupted"),
]


def kill_mid_worker(ansible, project, tmp_path, run_id: str) -> None:
    """job_run of job life with a worker that never ends; SIGKILL its module process while the worker runs."""
    bg = Background(ansible, project, tmp_path, run_id, job={"command": WAIT_FOREVER})
    try:
        wait_for(lambda: running_workers(project.name) or bg.proc.poll() is not None, 120, "the worker to run")
        os.kill(wait_for(lambda: module_pid(run_id), 10, "the module process"), signal.SIGKILL)
        assert bg.wait(60) != 0, bg.output
    finally:
        bg.kill()
    time.sleep(1)
    # The dead run left the stack down; its lease records the error and finally hooks still to run.
    assert set(states(project).values()) == {"exited"}, states(project)
    held = lease(project.name)
    assert held is not None and held["bosun.lease.run-id"] == run_id, held
    pending = json.loads(held["bosun.lease.hooks"])
    assert sorted((h["phase"], h["service"]) for h in pending) == [
        ("error", "app"),
        ("error", "db"),
        ("finally", "app"),
        ("finally", "db"),
    ], pending
    assert phases(project) == [("pre", "app"), ("pre", "db")]


def test_sigkilled_run_is_recovered_with_its_error_and_finally_hooks_once(
    compose_project, ansible, ansible_playbook, tmp_path
):
    p = compose_project(STACK)
    run_id = f"lifekill{os.getpid():08d}abcdef"
    kill_mid_worker(ansible, p, tmp_path, run_id)

    recover = [{"ansible.builtin.import_playbook": "bosun.compose.recover"}]
    result = ansible_playbook(recover, extra_vars={"project": p.name})
    assert result.rc == 0, str(result)
    rec = result.task("Recover the stacks").result["results"][0]["recover"]
    assert rec["action"] == "recovered" and rec["released"] is True, rec
    assert rec["start"]["summary"] == "5/5 started", rec
    assert [(h["phase"], h["container"]["service"], h["exit_code"]) for h in rec["hooks"]] == [
        ("error", "db", 0),
        ("error", "app", 0),
        ("finally", "db", 0),
        ("finally", "app", 0),
    ], rec["hooks"]
    assert set(states(p).values()) == {"running"} and len(states(p)) == len(ALL)
    assert not lease_exists(p.name) and project_workers(p.name) == []

    # A second recovery finds nothing to do and runs no hook again: each ran exactly once.
    again = ansible_playbook(recover, extra_vars={"project": p.name})
    assert again.rc == 0, str(again)
    assert again.task("Recover the stacks").result["results"][0]["recover"]["action"] == "none"
    lines = marks(p)
    assert [(m["phase"], m["who"], m["outcome"]) for m in lines] == DEAD_RUN_HOOKS, lines
    assert {(m["run"], m["job"], m["stack"]) for m in lines} == {(run_id, JOB, p.name)}


def test_sigkilled_run_is_recovered_with_its_hooks_by_the_next_run(
    compose_project, ansible, ansible_playbook, tmp_path
):
    p = compose_project(STACK)
    dead = f"lifenext{os.getpid():08d}abcdef"
    kill_mid_worker(ansible, p, tmp_path, dead)
    # The next run of the job restores the stack (running the dead run's pending hooks), then runs itself.
    _run, task = job_run(ansible_playbook, p, tmp_path)
    r = task.result
    assert r["outcome"] == "success", r
    lines = marks(p)
    assert [(m["phase"], m["who"], m["outcome"]) for m in lines[:6]] == DEAD_RUN_HOOKS, lines
    assert {m["run"] for m in lines[:6]} == {dead}
    assert [(m["phase"], m["who"], m["outcome"], m["run"]) for m in lines[6:]] == [
        (phase, who, outcome, r["run_id"])
        for phase, who, outcome in [
            ("pre", "app", "none"),
            ("pre", "db", "none"),
            ("post", "db", "success"),
            ("post", "app", "success"),
            ("finally", "db", "success"),
            ("finally", "app", "success"),
        ]
    ], lines
    assert set(states(p).values()) == {"running"} and len(states(p)) == len(ALL)
    assert not lease_exists(p.name) and project_workers(p.name) == []


@pytest.mark.parametrize(
    "scope, down",
    [("writers", {"db", "app", "web"}), ("attached", {"db", "app", "web", "reader"})],
)
def test_stop_scope_leaves_the_rest_of_the_stack_untouched(compose_project, ansible_playbook, tmp_path, scope, down):
    p = compose_project(STACK)
    untouched = ALL - down
    before = by_service(p, snapshot_started(p))
    t0 = time.time()
    _run, task = job_run(ansible_playbook, p, tmp_path, job={"stop_scope": scope})
    r = task.result
    assert r["outcome"] == "success", r
    after = by_service(p, snapshot_started(p))
    evs = lifecycle_events(p, t0)

    # Untouched: same container, same StartedAt, not one lifecycle event.
    for svc in untouched:
        assert after[svc] == before[svc], (svc, before[svc], after[svc])
    assert [e for e in evs if e[2] in untouched] == [], evs
    # The writers (and, for attached, the reader) plus everything depending on them: stopped and started again.
    for svc in down:
        assert after[svc][:2] == (before[svc][0], "running") and after[svc][2] != before[svc][2], svc
    die, start = first(evs, "die"), first(evs, "start")
    assert set(die) == set(start) == down, evs
    # Stop order dependents first, start order dependencies first, everything down before anything starts.
    assert die["web"] < die["app"] < die["db"] < start["db"] < start["app"] < start["web"], evs
    assert max(die.values()) < min(start.values()), evs

    assert {c["service"] for c in r["stopped"]} == down and {c["service"] for c in r["restarted"]} == down
    plan = r["plan"]
    assert plan["stop_scope"] == scope
    assert sorted(c["service"] for c in plan["stays_up"]) == sorted(untouched), plan["stays_up"]
    assert not lease_exists(p.name)


@pytest.mark.podman
def test_pause_mode_freezes_instead_of_stopping(compose_project, ansible_playbook, tmp_path):
    grace = 10  # both services ignore SIGTERM: a stop would cost this per level
    p = compose_project(PAUSE_STACK)
    before = snapshot_started(p)
    t0 = time.time()
    _run, task = job_run(ansible_playbook, p, tmp_path, name="freeze")
    r = task.result
    assert r["outcome"] == "success", r
    assert r["worker"]["log_tail"] == ["froze"], r["worker"]
    evs = lifecycle_events(p, t0)

    # Paused and unpaused, never killed or stopped: no die, same StartedAt.
    assert sorted((act, svc) for _ts, act, svc in evs) == [
        ("pause", "front"),
        ("pause", "store"),
        ("unpause", "front"),
        ("unpause", "store"),
    ], evs
    # A freeze has no shutdown to order: the whole stop-set is frozen in one batch, and thawed in one batch.
    pause, unpause = first(evs, "pause"), first(evs, "unpause")
    assert max(pause.values()) < min(unpause.values()), evs
    assert snapshot_started(p) == before
    # No grace period was waited for.
    assert r["downtime_seconds"] < grace / 2, r["downtime_seconds"]

    plan = r["plan"]
    assert plan["stop_mode"] == "pause"
    stop_step = next(s for s in plan["steps"] if s["type"] == "stop_containers")
    assert [[(c["service"], c["action"]) for c in lv] for lv in stop_step["levels"]] == [
        [("front", "pause")],
        [("store", "pause")],
    ], stop_step
    start_step = next(s for s in r["steps"] if s["type"] == "start_containers")
    assert "2 unpaused" in start_step["detail"], start_step
    assert not lease_exists(p.name)


def test_after_phase_runs_with_the_stack_up_and_holds_the_stack(compose_project, ansible, ansible_playbook, tmp_path):
    p = compose_project(STACK)
    # The after-phase reads db's heartbeat (written every second into the attached volume "data"), waits for
    # the test's go, then checks that the heartbeat moved on: the stack runs while the after-phase does.
    after_command = [
        "sh",
        "-c",
        "a=$(cat /mnt/data/heartbeat); date +%s > /mnt/out/after-start; echo check=$CHECK;"
        " until [ -e /mnt/out/go ]; do sleep 0.2; done; sleep 2; b=$(cat /mnt/data/heartbeat);"
        ' echo heartbeat $a $b; [ "$b" -gt "$a" ]',
    ]
    run_a = f"lifeaftr{os.getpid():08d}abcdef"
    a = Background(
        ansible,
        p,
        tmp_path,
        run_a,
        job={
            "stop_scope": "writers",
            "after_command": after_command,
            "after_env": {"CHECK": "up"},
            "after_timeout": "60s",
        },
    )
    after_name = f"bosun-after-{JOB}-{run_a[:8]}"
    try:
        wait_for(
            lambda: (
                run(["docker", "ps", "-q", "--filter", f"name=^{after_name}$"]).stdout.strip()
                or a.proc.poll() is not None
            ),
            120,
            "the after-phase to run",
        )
        # While the after-phase runs, the whole stack is up and the lease is still run A's.
        mid = by_service(p, snapshot_started(p))
        assert {st for _i, st, _s in mid.values()} == {"running"}, mid
        assert (lease(p.name) or {}).get("bosun.lease.run-id") == run_a, "run A released the stack too early"
        # Run B of the same stack starts now and must wait for run A, after-phase included.
        b = Background(ansible, p, tmp_path, f"lifewait{os.getpid():08d}abcdef", job={"stop_scope": "writers"})
        try:
            wait_for(lambda: module_pid(b.run_id), 60, "run B's module process")
            time.sleep(2)  # B plans and finds the stack held
            assert states(p).get(f"{p.name}-db-1") == "running"  # B has stopped nothing
            released = time.time()
            run(["docker", "run", "--rm", "--network", "none", "-v", f"{p.name}_out:/v", TEST_IMAGE, "touch", "/v/go"])
            ra = a.result()
            rb = b.result()
        finally:
            b.kill()
    finally:
        a.kill()

    assert ra["outcome"] == "success", ra
    assert rb["outcome"] == "success", rb
    assert ra["after"]["name"] == after_name and ra["after"]["exit_code"] == 0, ra["after"]
    tail = ra["after"]["log_tail"]
    assert tail[0] == "check=up" and tail[1].startswith("heartbeat "), tail
    assert [k for k in step_kinds(ra) if k[0] != "run_hook" or k[1] != "pre"] == [
        ("stop_containers",),
        ("run_worker",),
        ("start_containers",),
        ("run_hook", "post", "db", "ok"),
        ("run_hook", "post", "app", "ok"),
        ("run_after",),
        ("run_hook", "finally", "db", "ok"),
        ("run_hook", "finally", "app", "ok"),
    ]
    # The after-phase started once the restarted db ran; the downtime ended at the restart.
    started = volume_file(p, "out", "after-start")
    assert started.returncode == 0 and int(started.stdout) >= int(epoch(mid["db"][2])), (started, mid["db"])
    assert ra["downtime_seconds"] < ra["after"]["duration"] and ra["after"]["duration"] >= 2, ra
    assert ra["duration_seconds"] > ra["downtime_seconds"] + 2, ra
    # Run B stopped nothing until run A had ended (after-phase and finally hooks included).
    evs = event_log().since(released - 60, name=after_name)
    after_died = [e["timeNano"] / 1e9 for e in evs if event_action(e) == "die"]
    assert len(after_died) == 1, evs
    # B was under way before A's after-phase was let go (so it did wait), and stopped nothing until A's end.
    assert datetime.datetime.fromisoformat(rb["started_at"]).timestamp() < released, rb["started_at"]
    b_dies = [ts for ts, act, _svc in lifecycle_events(p, released) if act == "die"]
    assert b_dies and min(b_dies) > after_died[0], (b_dies, after_died)
    lines = marks(p)
    runs = [m["run"] for m in lines]
    assert runs == [run_a] * 6 + [rb["run_id"]] * 6, lines
    assert not lease_exists(p.name)


@pytest.mark.parametrize("via", ["module", "role"])
def test_keep_stopped_leaves_the_stop_set_down_and_releases_the_stack(compose_project, ansible_playbook, tmp_path, via):
    p = compose_project(STACK)
    before = by_service(p, snapshot_started(p))
    if via == "module":
        _run, task = job_run(ansible_playbook, p, tmp_path, keep_stopped=True, job={"stop_scope": "writers"})
    else:
        extra = {"job": JOB, "project": p.name, "run_job_poll": 1, "run_job_state_dir": str(tmp_path / "state")}
        extra |= {"run_job_keep_stopped": True, "run_job_overrides": {"stop_scope": "writers"}}
        result = ansible_playbook([{"ansible.builtin.import_playbook": "bosun.compose.run_job"}], extra_vars=extra)
        assert result.rc == 0, str(result)
        task = job_task(result)
        # job_run returned lease_kept false, so the safety net had nothing to recover and did not run.
        assert role_task(result, "Safety net - restart the stack if this run left it down").status == "skipped"
    r = task.result
    assert task.status == "changed" and r["outcome"] == "success", r
    assert "left 3 container(s) stopped on purpose" in r["message"], r["message"]
    after = by_service(p, snapshot_started(p))
    down = {"db", "app", "web"}
    assert {svc: st for svc, (_i, st, _s) in after.items()} == {
        svc: "exited" if svc in down else "running" for svc in ALL
    }, after
    for svc in ALL - down:
        assert after[svc] == before[svc], svc
    assert sorted(c["service"] for c in r["kept_stopped"]) == sorted(down), r["kept_stopped"]
    assert r["restarted"] == [] and r["after"] is None
    assert not lease_exists(p.name) and project_workers(p.name) == []
    # Only the pre and finally hooks are part of the run; the finally hooks' containers are down on purpose.
    assert step_kinds(r) == [
        ("run_hook", "pre", "app", "ok"),
        ("run_hook", "pre", "db", "ok"),
        ("stop_containers",),
        ("run_worker",),
        ("keep_stopped",),
        ("run_hook", "finally", "db", "skipped"),
        ("run_hook", "finally", "app", "skipped"),
    ]
    for h in r["hooks"][2:]:
        assert h["skipped"] == f"container {h['container']['name']!r} is exited, not running", h
    assert phases(p) == [("pre", "app"), ("pre", "db")]
    assert r["plan"]["keep_stopped"] is True
    assert [s["type"] for s in r["plan"]["steps"]] == [
        "run_hooks",
        "stop_containers",
        "run_worker",
        "keep_stopped",
        "run_hooks",
    ]


@pytest.mark.podman
def test_worker_exit_75_is_skipped_and_does_not_fail(compose_project, ansible_playbook, tmp_path):
    p = compose_project(STACK)
    before = by_service(p, snapshot_started(p))
    job = {
        "command": ["sh", "-c", "echo nothing to do; exit 75"],
        "after_command": ["sh", "-c", "touch /mnt/out/after-ran"],
    }
    result, task = job_run(ansible_playbook, p, tmp_path, ignore_errors=False, job=job)
    r = task.result
    assert result.rc == 0 and task.status != "failed", str(result)
    assert r["outcome"] == "skipped", r
    assert r["worker"]["exit_code"] == 75 and r["worker"]["log_tail"] == ["nothing to do"], r["worker"]
    # The stack runs again (stopped and started), the post hooks ran, the after-phase did not.
    after = by_service(p, snapshot_started(p))
    assert all(after[s][:2] == (before[s][0], "running") and after[s][2] != before[s][2] for s in ALL), after
    assert r["after"] is None and volume_file(p, "out", "after-ran").returncode != 0
    assert [k for k in step_kinds(r) if k[0] != "run_hook"] == [
        ("stop_containers",),
        ("run_worker",),
        ("start_containers",),
    ]
    assert next(s for s in r["steps"] if s["type"] == "run_worker")["status"] == "skipped"
    assert [(m["phase"], m["who"], m["outcome"]) for m in marks(p)] == [
        ("pre", "app", "none"),
        ("pre", "db", "none"),
        ("post", "db", "skipped"),
        ("post", "app", "skipped"),
        ("finally", "db", "skipped"),
        ("finally", "app", "skipped"),
    ]
    assert not lease_exists(p.name)


def test_check_mode_runs_no_hook_and_shows_them_in_the_plan(compose_project, ansible_playbook, tmp_path):
    p = compose_project(STACK)
    before = snapshot_started(p)
    t0 = time.time()
    result = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}],
        check=True,
        extra_vars={"job": JOB, "project": p.name, "run_job_poll": 1, "run_job_state_dir": str(tmp_path / "state")},
    )
    assert result.rc == 0, str(result)
    # No hook ran (none left a mark, no exec happened), nothing was touched.
    assert marks(p) == []
    assert [event_action(e) for e in event_log().since(t0, project=p.name)] == []
    assert snapshot_started(p) == before
    assert not lease_exists(p.name)

    r = job_task(result).result
    assert r["outcome"] == "success" and "no hook ran" in r["message"], r["message"]
    plan = r["plan"]
    names = {ph: [h["container"]["service"] for h in hs] for ph, hs in plan["hooks"].items()}
    assert names == {"pre": ["app", "db"], "post": ["db", "app"], "error": ["db", "app"], "finally": ["db", "app"]}
    steps = " ".join(f"{s['type']}:{s.get('phase') or ''}" for s in plan["steps"])
    assert steps == (
        "run_hooks:pre stop_containers: run_worker: start_containers: run_hooks:post run_hooks:error run_hooks:finally"
    ), steps
    pre = plan["steps"][0]
    assert [h["on_error"] for h in pre["hooks"]] == ["abort", "abort"] and pre["when"], pre


def test_role_async_limit_covers_hooks_and_after_phase(compose_project, ansible_playbook, tmp_path):
    """The async limit must hold the whole run (hooks and after-phase), not only the downtime: 0.1.0 bounded it by
    plan.deadline and killed this healthy run mid-after-phase. Now job_run refuses, before anything runs, a plan
    whose max_duration does not fit in run_job_async_limit, and a run that fits is never killed."""
    p = compose_project(STACK)
    # Scope none and short bounds make the downtime deadline small (worker 1s + its 10s grace + start 1s); the
    # after-phase (within its own 60s timeout) outlasts that deadline, never the run's max_duration.
    overrides = {
        "stop_scope": "none",
        "timeout": "1s",
        "start_timeout": "1s",
        "command": ["true"],
        "after_command": ["sh", "-c", "sleep 15; echo after done"],
        "after_timeout": "60s",
    }
    base = {
        "job": JOB,
        "project": p.name,
        "run_job_poll": 1,
        "run_job_lock_timeout": 0,
        "run_job_async_margin": 0,
        "run_job_state_dir": str(tmp_path / "state"),
        "run_job_overrides": overrides,
    }
    play = [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}]
    dry = ansible_playbook(play, check=True, extra_vars=base)
    plan = job_task(dry).result["plan"]
    assert plan["max_duration"] > 15 > plan["deadline"], plan  # the premise: only max_duration covers the after-phase

    refused = ansible_playbook(play, extra_vars={**base, "run_job_async_limit": plan["max_duration"] - 1})
    r = job_task(refused).result
    assert refused.rc == 2 and r["outcome"] == "preflight_failed", r.get("msg")
    assert f"takes at most {plan['max_duration']} s" in r["msg"], r["msg"]
    assert f"more than the limit of {plan['max_duration'] - 1} s" in r["msg"], r["msg"]
    assert marks(p) == [] and r["hooks"] == []  # refused before the pre hooks

    result = ansible_playbook(play, extra_vars={**base, "run_job_async_limit": plan["max_duration"]})
    r = job_task(result).result
    assert result.rc == 0 and r.get("outcome") == "success", r.get("msg")
    assert r["after"]["log_tail"] == ["after done"], r["after"]
    assert "interrupted" not in {m["outcome"] for m in marks(p)}
