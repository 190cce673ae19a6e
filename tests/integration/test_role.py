"""The role bosun.compose.run_job and the collection playbooks, with the real daemon and real ansible-playbook."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
import yaml

from harness import FIXTURES, VENV_BIN, event_log, project_workers, run
from stackcheck import (
    event_action,
    ids_and_states,
    RUN_TASK,
    SHOW_TASK,
    WAIT_TASK,
    job_task,
    role_task,
    role_tasks,
    running_workers,
    shown_plan,
    shown_report,
    snapshot_started,
    stack_with_lease_cleanup,
    volume_file,
)

pytestmark = pytest.mark.docker

JOB = "role-copy"
STACK = "role_stack.yml"
# Task names of the role as the recording callback sees them.
NET = "Safety net - restart the stack if this run left it down"
STATS = "Publish the run report as bosun_run.<host> (AWX artifacts)"


@pytest.fixture
def stack(compose_project):
    """compose_project, plus removal of the project's lease container (Compose does not know it)."""
    yield from stack_with_lease_cleanup(compose_project, STACK)


@pytest.fixture
def run_job(ansible_playbook, monkeypatch):
    """run_job(project, check=False, **role_vars): `ansible-playbook bosun.compose.run_job` (by FQCN, imported)."""
    monkeypatch.setenv("ANSIBLE_SHOW_CUSTOM_STATS", "1")

    def go(project, check=False, **role_vars):
        extra = {"job": JOB, "project": project.name, "run_job_poll": 1, **role_vars}
        return ansible_playbook(
            [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}], check=check, extra_vars=extra
        )

    return go


def ran(result, name):
    return any(r.task == name or r.task.endswith(f" : {name}") for r in result.results)


def events(project, since):
    """(time, action, service) of the project's container die/start events since `since`, by time."""
    evs = [e for e in event_log().since(since, project=project.name) if event_action(e) in ("die", "start")]
    return [(e["timeNano"] / 1e9, event_action(e), e["Actor"]["Attributes"]["com.docker.compose.service"]) for e in evs]


def report(result):
    return role_task(result, STATS).result["ansible_stats"]["data"]["bosun_run"]["localhost"]


@pytest.mark.podman
def test_happy_path_copies_restarts_in_order_and_publishes_the_report(stack, run_job):
    project = stack()
    before = snapshot_started(project)
    assert {s for _i, s, _t in before.values()} == {"running"}
    t0 = time.time()
    result = run_job(project)
    assert result.rc == 0, str(result)

    # The worker's output is in the rw volume.
    assert volume_file(project, "out", "table.txt").stdout == "row1\n"
    # Exactly the same containers, all running again, and no worker left behind.
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
    assert project_workers(project.name) == []
    # Dependents die first, dependencies start first; everything died before anything started.
    evs = events(project, t0)
    die = {svc: ts for ts, act, svc in evs if act == "die"}
    start = {svc: ts for ts, act, svc in evs if act == "start"}
    assert set(die) == set(start) == {"db", "app", "web"}, evs
    assert die["web"] < die["app"] < die["db"] < start["db"] < start["app"] < start["web"], evs

    r = job_task(result).result
    assert r["outcome"] == "success" and r["ansible_job_id"] and r["finished"], r
    assert [s["type"] for s in r["steps"]] == ["stop_containers", "run_worker", "start_containers"]
    assert r["lease_kept"] is False
    assert role_task(result, NET).status == "skipped"  # job_run returned lease_kept false: nothing to recover
    rep = report(result)
    assert rep["outcome"] == "success" and rep["stack"] == project.name and rep["job"] == JOB
    assert rep["safety_net"] == "skipped: the run released its lease"
    assert rep["run_id"] == r["run_id"] and len(rep["run_id"]) == 32
    assert rep["worker"]["exit_code"] == 0 and rep["worker"]["log_tail"] == ["copied row1"]
    assert rep["downtime_seconds"] > 0
    assert [s["status"] for s in rep["steps"]] == ["ok", "ok", "ok"]
    lines = shown_report(result)
    assert lines[0] == f"Run {rep['run_id']} of job {JOB} on stack {project.name}: success"
    assert "  | copied row1" in lines
    assert "CUSTOM STATS" in result.stdout and '"outcome": "success"' in result.stdout


@pytest.mark.podman
def test_worker_failure_fails_the_play_and_restarts_the_stack(stack, run_job):
    project = stack()
    before = snapshot_started(project)
    result = run_job(project, run_job_overrides={"command": "sh -c 'echo broken >&2; exit 3'"})
    assert result.rc == 2, str(result)
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
    assert project_workers(project.name) == []
    r = job_task(result)
    assert r.status == "failed" and r.result["outcome"] == "worker_failed", r
    assert "exited with code 3" in r.result["msg"]
    assert r.result["restarted"] and len(r.result["restarted"]) == 3
    rep = report(result)
    assert rep["outcome"] == "worker_failed" and rep["worker"]["exit_code"] == 3
    assert rep["worker"]["log_tail"] == ["broken"]
    assert "worker_failed: worker 'bosun-worker-role-copy-" in result.stdout and "exited with code 3" in result.stdout
    assert "failed=1" in result.stdout and "rescued=0" in result.stdout


def test_timeout_is_bounded_removes_the_worker_and_restarts(stack, run_job):
    project = stack()
    before = snapshot_started(project)
    t0 = time.time()
    result = run_job(
        project, run_job_timeout="2s", run_job_overrides={"command": ["sh", "-c", "trap '' TERM; sleep 60 & wait"]}
    )
    wall = time.time() - t0
    assert result.rc == 2, str(result)
    r = job_task(result).result
    assert r["outcome"] == "timeout" and r["worker"]["timed_out"], r
    # 2 s timeout + 10 s worker grace (it ignores SIGTERM) + stop/start + ansible overhead; never the 60 s sleep.
    assert wall < 45, wall
    assert r["plan"]["steps"][1]["worker"]["timeout"] == 2
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
    assert project_workers(project.name) == []
    assert report(result)["outcome"] == "timeout"


def test_missing_image_stops_nothing_and_names_the_image(stack, run_job):
    project = stack()
    before = snapshot_started(project)
    result = run_job(project, run_job_overrides={"image": "bosun-test/missing:0"})
    assert result.rc == 2, str(result)
    assert snapshot_started(project) == before  # same ids, states and StartedAt: nothing was stopped
    failed = job_task(result)
    assert failed.status == "failed" and failed.result["outcome"] == "image_missing", failed.result
    assert "worker image 'bosun-test/missing:0' is not present" in failed.result["msg"]
    assert "nothing was stopped" in failed.result["msg"]
    # The plan job_run made is shown after it, with the failed check; the run never took a lease.
    assert any("preflight FAIL: worker image 'bosun-test/missing:0'" in line for line in shown_plan(result))
    assert failed.result["lease_kept"] is False and role_task(result, NET).status == "skipped"
    assert report(result)["outcome"] == "image_missing"


def test_check_mode_shows_the_plan_and_touches_nothing(stack, run_job):
    project = stack()
    before = snapshot_started(project)
    result = run_job(project, check=True)
    assert result.rc == 0, str(result)
    assert snapshot_started(project) == before
    assert project_workers(project.name) == []
    assert volume_file(project, "out", "table.txt").returncode != 0  # the worker never ran
    plan = shown_plan(result)
    assert plan[0].startswith(f"Job {JOB} on stack {project.name} (run id ")
    assert plan[1] == (
        f"1. stop 3 container(s) of stack '{project.name}' in 3 level(s) (scope stack); while down, 3 of them have "
        "restart policy always (a daemon restart or a reboot starts them again), given back once they run"
    )
    assert "Stop order: web -> app -> db" in plan
    r = job_task(result).result
    # Check mode runs synchronously (nothing to protect): no async job id; the module predicts a change.
    assert "ansible_job_id" not in r and r["outcome"] == "success" and r["steps"] == [] and r["changed"], r
    rep = report(result)
    assert rep["check_mode"] is True and rep["outcome"] == "success"
    # 0.1.0 printed "Downtime: 0.0s" for a run that stopped nothing.
    shown = shown_report(result)
    assert [line for line in shown if line.startswith("Downtime: ")] == [
        f"Downtime: n/a (deadline {rep['deadline_seconds']}s)"
    ], shown


def lifecycle_stack(**labels):
    """role_stack.yml with extra labels on the job's member containers: {service: {label: value}}."""
    spec = yaml.safe_load((FIXTURES / STACK).read_text(encoding="utf-8"))
    for service, extra in labels.items():
        spec["services"][service]["labels"].update(extra)
    return spec


@pytest.mark.podman
def test_hooks_and_after_phase_run_in_order_and_the_plan_and_report_show_them(stack, run_job):
    project = stack(
        lifecycle_stack(
            db={
                "bosun.job.hook.pre": json.dumps(["sh", "-c", "echo dumping; echo pre > /data/pre.txt"]),
                "bosun.job.after.command": json.dumps(["sh", "-c", "echo checked $(cat /mnt/out/table.txt)"]),
            },
            # $$: Compose interpolates the file; the hook's shell sees $BOSUN_OUTCOME.
            app={"bosun.job.hook.finally": json.dumps(["sh", "-c", "echo finally $$BOSUN_OUTCOME"])},
        )
    )
    before = snapshot_started(project)
    result = run_job(project)
    assert result.rc == 0, str(result)
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
    assert volume_file(project, "data", "pre.txt").stdout == "pre\n"
    db, app = f"{project.name}-db-1", f"{project.name}-app-1"

    plan = shown_plan(result)
    assert plan[1].startswith(f"1. run 1 pre hook(s) in '{db}', before anything stops")
    assert (
        plan[2]
        == f"   - pre hook in {db}: sh -c 'echo dumping; echo pre > /data/pre.txt' (timeout 300s, on error abort)"
    )
    assert f"   - finally hook in {app}: sh -c 'echo finally $BOSUN_OUTCOME' (timeout 300s)" in plan
    assert any(line.startswith("5. run the after-phase 'bosun-after-role-copy-") for line in plan), plan
    assert "Stop scope: stack, stop mode stop" in plan
    # The async limit is checked against the bound of the whole run (hooks and after-phase), not only the downtime.
    planned = job_task(result).result["plan"]
    assert planned["max_duration"] > planned["deadline"]
    [check] = [c for c in planned["preflight"] if c["name"] == "max_duration"]
    assert check["ok"] and check["message"].endswith(f"within the limit of {86400 - 3600 - 120} s"), check

    r = job_task(result).result
    assert r["outcome"] == "success", r
    assert [(s["type"], s["phase"]) for s in r["steps"]] == [
        ("run_hook", "pre"),
        ("stop_containers", None),
        ("run_worker", None),
        ("start_containers", None),
        ("run_after", None),
        ("run_hook", "finally"),
    ]
    assert [(h["phase"], h["exit_code"], h["output_tail"]) for h in r["hooks"]] == [
        ("pre", 0, ["dumping"]),
        ("finally", 0, ["finally success"]),
    ]
    assert r["after"]["exit_code"] == 0 and r["after"]["log_tail"] == ["checked row1"]
    assert r["duration_seconds"] >= r["downtime_seconds"] > 0
    rep = report(result)
    assert rep["hooks"] == r["hooks"] and rep["after"] == r["after"]
    assert rep["max_duration_seconds"] == planned["max_duration"]
    lines = shown_report(result)
    shown = [x for x in lines if x.startswith("Hook ")]
    assert [x.split(", ")[0] for x in shown] == [
        f"Hook pre in {db}: exit code 0",
        f"Hook finally in {app}: exit code 0",
    ]
    assert (
        lines[lines.index(shown[0]) + 1] == "  | dumping" and lines[lines.index(shown[1]) + 1] == "  | finally success"
    )
    assert any(x.startswith("After-phase: exit code 0, ") for x in lines) and "  | checked row1" in lines
    assert any(x.startswith("Duration: ") and "in all, hooks and after-phase included" in x for x in lines), lines


def test_keep_stopped_leaves_the_stack_down_on_purpose_and_releases_it(stack, run_job):
    project = stack()
    result = run_job(project, run_job_keep_stopped=True)
    assert result.rc == 0, str(result)
    assert {s for _i, s, _t in snapshot_started(project).values()} == {"exited"}
    assert run(["docker", "ps", "-aq", "--filter", f"name=^bosun-lease-{project.name}$"]).stdout == ""
    assert volume_file(project, "out", "table.txt").stdout == "row1\n"
    names = [f"{project.name}-{s}-1" for s in ("web", "app", "db")]
    plan = shown_plan(result)
    assert any(x.startswith("3. leave the same 3 container(s) stopped on purpose (keep_stopped)") for x in plan), plan
    assert "Keep stopped: yes, the stop-set stays stopped after the worker (keep_stopped)" in plan
    r = job_task(result).result
    assert r["outcome"] == "success" and r["restarted"] == [], r
    assert sorted(c["name"] for c in r["kept_stopped"]) == sorted(names)
    assert "left 3 container(s) stopped on purpose" in r["message"]
    assert role_task(result, NET).status == "skipped"  # job_run returned lease_kept false: nothing to recover
    rep = report(result)
    assert sorted(rep["kept_stopped"]) == sorted(names)
    lines = shown_report(result)
    [kept] = [x for x in lines if x.startswith("Left stopped on purpose (keep_stopped): ")]
    assert sorted(kept.split(": ", 1)[1].split(", ")) == sorted(names)


def test_pause_mode_freezes_the_stack_instead_of_stopping_it(stack, run_job):
    project = stack()
    before = snapshot_started(project)
    t0 = time.time()
    result = run_job(project, run_job_stop_mode="pause")
    assert result.rc == 0, str(result)
    # Nothing died and nothing was started again: the same StartedAt for every container.
    assert snapshot_started(project) == before
    assert events(project, t0) == []
    plan = shown_plan(result)
    assert "Stop scope: stack, stop mode pause" in plan
    assert plan[1].startswith("1. pause 3 container(s)") and plan[2].startswith("   - pause "), plan
    r = job_task(result).result
    assert r["outcome"] == "success" and r["plan"]["stop_mode"] == "pause", r
    assert volume_file(project, "out", "table.txt").stdout == "row1\n"


def test_sync_variant_runs_the_job_too(stack, run_job):
    project = stack()
    before = snapshot_started(project)
    result = run_job(project, run_job_async=False)
    assert result.rc == 0, str(result)
    r = job_task(result).result
    assert "ansible_job_id" not in r and r["outcome"] == "success", r
    assert volume_file(project, "out", "table.txt").stdout == "row1\n"
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)


def test_bad_input_is_rejected_before_anything_runs(stack, run_job):
    project = stack()
    before = snapshot_started(project)
    result = run_job(project, run_job_pull="sometimes", run_job_async="maybe")
    assert result.rc == 2, str(result)
    assert snapshot_started(project) == before
    assert not ran(result, RUN_TASK) and not ran(result, WAIT_TASK)
    assert "run_job_pull must be one of: never, missing, got: sometimes" in result.stdout
    assert "run_job_async" in result.stdout


def test_run_job_playbook_needs_a_job_name(ansible_playbook):
    result = ansible_playbook([{"ansible.builtin.import_playbook": "bosun.compose.run_job"}])
    assert result.rc == 2, str(result)
    assert "Give the job to run: -e job=NAME" in result.stdout
    assert not ran(result, RUN_TASK) and not ran(result, WAIT_TASK)


def test_list_jobs_prints_a_table(stack, ansible_playbook):
    project = stack()
    result = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.list_jobs"}], extra_vars={"project": project.name}
    )
    assert result.rc == 0, str(result)
    lines = result.task("Show the jobs").result["msg"]
    assert lines[0].split() == [
        "JOB",
        "STACK",
        "RUNNABLE",
        "SCHEDULE",
        "NEXT",
        "DUE",
        "LAST",
        "RUN",
        "PROBLEMS",
        "MEMBERS",
    ]
    # Other stacks on this daemon may declare a job of the same name: job_info warns about it, once.
    [job] = result.task("Discover the jobs").result["jobs"]
    problems = job["problems"]
    assert [x["label"] for x in problems] in ([], ["bosun.job.name"])
    assert lines[1].split() == [
        JOB,
        project.name,
        "yes",
        "-",
        "-",
        "-",
        str(len(problems)),
        f"{project.name}-app-1,",
        f"{project.name}-db-1",
    ]
    # The stack name is longer than 24 characters: the columns still line up under the header (0.1.0's did not).
    assert len(project.name) > 24
    for column in ("RUNNABLE", "SCHEDULE", "NEXT DUE", "LAST RUN", "PROBLEMS", "MEMBERS"):
        start = lines[0].index(column)
        assert lines[1][start - 1] == " " and lines[1][start] != " ", (column, lines[:2])


def test_recover_playbook_restarts_a_stack_left_down_by_a_dead_run(stack, ansible_playbook):
    project = stack()
    before = snapshot_started(project)
    stopped = ansible_playbook(
        [
            {
                "name": "stop",
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {
                        "name": "stop",
                        "bosun.compose.stack": {"project": project.name, "state": "stopped", "lease_ttl": 1},
                    }
                ],
            }
        ]
    )
    assert stopped.rc == 0, stopped
    assert {s for _i, s, _t in snapshot_started(project).values()} == {"exited"}
    time.sleep(1.5)  # the lease expires: its run counts as dead
    result = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.recover"}], extra_vars={"project": project.name}
    )
    assert result.rc == 0, str(result)
    assert result.task("Recover the stacks").status == "changed"
    assert result.task("Recover the stacks").result["results"][0]["recover"]["action"] == "recovered"
    [line] = result.task("Show what was done").result["msg"]
    assert line.startswith(f"{project.name}: recovered stack '{project.name}' from run ") and line.endswith(
        ": 3/3 started"
    )
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)


def test_run_finishes_on_the_host_when_the_controller_is_killed(stack, ansible):
    """SIGKILL to ansible-playbook's whole process group mid-worker: no `always` runs, yet the async job
    finishes the transaction on its own - the worker completes and exactly the stopped containers start again."""
    project = stack()
    before = snapshot_started(project)
    d, env = ansible._prepare()  # the harness's per-run directory and environment
    (d / "playbook.yml").write_text("- ansible.builtin.import_playbook: bosun.compose.run_job\n", encoding="utf-8")
    extra = {
        "job": JOB,
        "project": project.name,
        "run_job_poll": 1,
        "run_job_overrides": {"command": ["sh", "-c", "sleep 4; cp /mnt/data/table.txt /mnt/out/table.txt"]},
    }
    proc = subprocess.Popen(
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
    try:
        deadline = time.time() + 60
        while not running_workers(project.name):
            assert proc.poll() is None and time.time() < deadline, "the worker never started"
            time.sleep(0.2)
        assert {s for _i, s, _t in snapshot_started(project).values()} == {"exited"}
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.time() + 60
    while ids_and_states(snapshot_started(project)) != ids_and_states(before) and time.time() < deadline:
        time.sleep(0.5)
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
    assert volume_file(project, "out", "table.txt").stdout == "row1\n"
    while project_workers(project.name) and time.time() < deadline:
        time.sleep(0.5)
    assert project_workers(project.name) == []
    assert run(["docker", "ps", "-aq", "--filter", f"name=^bosun-lease-{project.name}$"]).stdout == ""


def test_module_defaults_group_reaches_every_module_of_the_role(stack, ansible_playbook):
    """The role takes no Docker connection options: users set them once with module_defaults
    group/bosun.compose.docker, which every module's docs claim membership of. A wrong docker_host must
    therefore fail the run (job_run, under async) and the safety net (stack), and stop nothing."""
    project = stack()
    before = snapshot_started(project)
    result = ansible_playbook(
        [
            {
                "name": "run through a wrong daemon address",
                "hosts": "localhost",
                "gather_facts": False,
                "module_defaults": {"group/bosun.compose.docker": {"docker_host": "unix:///nonexistent/docker.sock"}},
                "tasks": [
                    {
                        "name": "run",
                        "ansible.builtin.include_role": {"name": "bosun.compose.run_job"},
                        "vars": {"run_job_name": JOB, "run_job_project": project.name, "run_job_poll": 1},
                    }
                ],
            }
        ]
    )
    assert snapshot_started(project) == before, "the stack was stopped and restarted through the default daemon"
    assert result.rc == 2, str(result)
    assert "/nonexistent/docker.sock" in job_task(result).result["msg"]
    assert "/nonexistent/docker.sock" in role_task(result, NET).result["msg"]
    # The safety net failed the play after the report, which names the command that checks the stack.
    [net] = [line for line in shown_report(result) if line.startswith("Safety net: failed: ")]
    assert "/nonexistent/docker.sock" in net and f"bosun.compose.recover -e project={project.name} -e target=" in net


def test_a_second_run_on_the_same_host_never_reports_the_first_runs_result(stack, ansible_playbook):
    """The role registers job_run's result per host, and host variables outlive a role run: a second run in the
    same play whose job never started (here: the async wrapper cannot make its directory) must report its own
    failure and run the safety net, not show the first run's success and skip the net on its lease_kept false."""
    project = stack()
    before = snapshot_started(project)
    job = {"run_job_name": JOB, "run_job_project": project.name, "run_job_poll": 1}
    role = {"name": "bosun.compose.run_job"}
    result = ansible_playbook(
        [
            {
                "name": "two runs of the job on one host",
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {"name": "first run", "ansible.builtin.include_role": role, "vars": job},
                    {
                        "name": "second run, whose async start fails",
                        "ansible.builtin.include_role": role,
                        "vars": {**job, "ansible_async_dir": "/proc/bosun-no-async-dir"},
                    },
                ],
            }
        ]
    )
    assert result.rc == 2, str(result)
    first, second = role_tasks(result, RUN_TASK)
    assert first.status == "changed" and second.status == "failed", (first.status, second.status)
    assert "could not create directory" in second.result["msg"], second.result
    waits = role_tasks(result, WAIT_TASK)
    assert len(waits) == 1 and waits[0].result["outcome"] == "success", [w.result for w in waits]
    # The first run proved its lease gone; the second one proved nothing, so its safety net ran.
    assert [n.status for n in role_tasks(result, NET)] == ["skipped", "ok"]
    reports = [x.result["msg"] for x in role_tasks(result, SHOW_TASK)]
    assert len(reports) == 2 and reports[0][-1].startswith("Safety net: skipped"), reports[0]
    headers = [next(line for line in lines if line.startswith("Run ")) for lines in reports]
    assert headers[0].endswith(": success") and not headers[1].endswith(": success"), headers
    assert headers[0].split()[1] != headers[1].split()[1], headers  # two run ids
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
