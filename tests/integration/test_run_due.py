"""The playbook bosun.compose.run_due with the real daemon and real ansible-playbook: first sight, a real minute
boundary, catch-up, the circuit breaker and its release, --check, and a failed due job that does not stop the next.

Time is never faked: situations are made by writing run records and schedule state with old timestamps into the
test's own state directory (the on-disk format job_run and job_due use), and one test waits for a real minute.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid

import pytest
import yaml

from harness import FIXTURES
from stackcheck import RUN_TASK, ids_and_states, role_task, snapshot_started, stack_with_lease_cleanup

pytestmark = pytest.mark.docker

JOB = "role-copy"
FIND = "Find the jobs that are due"
SHOW = "Show what is due, held and waiting"
STATS = "Publish the summary as bosun_run_due.<host> (AWX artifacts)"
UTC = datetime.timezone.utc


def spec(schedule: str, **extra_services: dict) -> dict:
    """role_stack.yml with a schedule on the job (and more services, for a second job)."""
    data = yaml.safe_load((FIXTURES / "role_stack.yml").read_text(encoding="utf-8"))
    data["services"]["db"]["labels"]["bosun.job.schedule"] = schedule
    data["services"].update(extra_services)
    return data


def last_minute_schedule() -> str:
    """A schedule that fired in the minute before now and fires again only in about an hour (hourly)."""
    return f"{(datetime.datetime.now(UTC).minute - 1) % 60} * * * *"


@pytest.fixture
def stack(compose_project):
    yield from stack_with_lease_cleanup(compose_project)


@pytest.fixture
def run_due(ansible_playbook, monkeypatch, tmp_path):
    """run_due(project, check=False, **vars): `ansible-playbook bosun.compose.run_due`, only for this project's stack,
    with the test's own state directory (tmp_path / 'state')."""
    monkeypatch.setenv("ANSIBLE_SHOW_CUSTOM_STATS", "1")

    def go(project, check=False, **role_vars):
        extra = {
            "run_due_stacks": [project.name],
            "run_due_state_dir": str(tmp_path / "state"),
            "run_job_poll": 1,
            **role_vars,
        }
        return ansible_playbook(
            [{"ansible.builtin.import_playbook": "bosun.compose.run_due"}], check=check, extra_vars=extra
        )

    return go


@pytest.fixture
def run_job(ansible_playbook, tmp_path):
    """run_job(project, **vars): a run by hand, `ansible-playbook bosun.compose.run_job`, same state directory."""

    def go(project, **role_vars):
        extra = {
            "job": JOB,
            "project": project.name,
            "run_job_poll": 1,
            "run_job_state_dir": str(tmp_path / "state"),
            **role_vars,
        }
        return ansible_playbook([{"ansible.builtin.import_playbook": "bosun.compose.run_job"}], extra_vars=extra)

    return go


def state_dir(tmp_path):
    return tmp_path / "state"


def records(tmp_path, job=JOB):
    """The run records of a job in the test's state directory, oldest first."""
    folder = state_dir(tmp_path) / "runs" / job
    recs = [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")] if folder.exists() else []
    return sorted(recs, key=lambda r: r["started_at"])


def write_record(tmp_path, project, outcome, started, job=JOB):
    """A run record as job_run writes it, started at `started` (aware)."""
    run_id = uuid.uuid4().hex
    rec = {
        "run_id": run_id,
        "job": job,
        "stack": project.name,
        "outcome": outcome,
        "message": f"{outcome}: written by the test",
        "started_at": started.isoformat(timespec="milliseconds"),
        "finished_at": (started + datetime.timedelta(seconds=30)).isoformat(timespec="milliseconds"),
        "downtime_seconds": 10.0,
        "duration_seconds": 30.0,
        "log_path": None,
    }
    folder = state_dir(tmp_path) / "runs" / job
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{run_id}.json").write_text(json.dumps(rec), encoding="utf-8")


def schedule_state(tmp_path, project, job=JOB):
    path = state_dir(tmp_path) / "schedule" / job / f"{project.name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def write_first_seen(tmp_path, project, seen, job=JOB):
    path = state_dir(tmp_path) / "schedule" / job / f"{project.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"first_seen": seen.isoformat(), "reset_at": None, "dispatched_at": None}), "utf-8")


def summary(result):
    return role_task(result, STATS).result["ansible_stats"]["data"]["bosun_run_due"]["localhost"]


def found(result):
    return role_task(result, FIND).result


def ago(**kw):
    return datetime.datetime.now(UTC) - datetime.timedelta(**kw)


def test_first_sight_is_recorded_and_runs_nothing(stack, run_due, tmp_path):
    project = stack(spec("* * * * *"))
    result = run_due(project)
    assert result.rc == 0, str(result)
    f = found(result)
    assert f["changed"] and f["due"] == [] and [w["job"] for w in f["waiting"]] == [JOB], f
    waiting = f["waiting"][0]
    assert waiting["reason"].startswith("seen for the first time: due at its first scheduled time"), waiting
    nxt = datetime.datetime.fromisoformat(waiting["next_scheduled"])
    assert nxt.second == 0 and 0 < (nxt - datetime.datetime.now(UTC)).total_seconds() <= 60, waiting
    assert schedule_state(tmp_path, project)["first_seen"] is not None
    assert records(tmp_path) == []
    s = summary(result)
    assert s["ran"] == [] and s["failed"] == [] and [k["job"] for k in s["skipped"]] == [JOB], s


def test_every_minute_runs_once_then_nothing_until_the_next_minute(stack, run_due, tmp_path):
    """The one test that waits for a real minute boundary (up to 60 s)."""
    project = stack(spec("* * * * *"))
    before = snapshot_started(project)
    write_first_seen(tmp_path, project, ago(minutes=3))
    # The first two runs must fall in one minute: start early in a minute.
    now = datetime.datetime.now(UTC)
    if now.second > 30:
        time.sleep(60 - now.second - now.microsecond / 1e6 + 1)
    minute = datetime.datetime.now(UTC).replace(second=0, microsecond=0)

    first = run_due(project)
    assert first.rc == 0, str(first)
    assert [(r["job"], r["outcome"]) for r in summary(first)["ran"]] == [(JOB, "success")], summary(first)
    assert len(records(tmp_path)) == 1
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)

    again = run_due(project)
    assert again.rc == 0, str(again)
    # Both runs took under 30 s, or the test cannot tell "once per minute" from "due again".
    assert datetime.datetime.now(UTC).replace(second=0, microsecond=0) == minute, "two runs took over 30 s"
    assert found(again)["due"] == [] and summary(again)["ran"] == [], found(again)
    assert len(records(tmp_path)) == 1

    # Across the next real minute boundary the job is due again, once.
    boundary = minute + datetime.timedelta(minutes=1)
    time.sleep(max(0.0, (boundary - datetime.datetime.now(UTC)).total_seconds()) + 1)
    third = run_due(project)
    assert third.rc == 0, str(third)
    assert [r["job"] for r in summary(third)["ran"]] == [JOB], summary(third)
    fourth = run_due(project)
    assert summary(fourth)["ran"] == [] and len(records(tmp_path)) == 2, summary(fourth)
    started = [datetime.datetime.fromisoformat(r["started_at"]) for r in records(tmp_path)]
    assert started[0] < boundary <= started[1], started


def test_catch_up_after_hours_of_missed_times_runs_once(stack, run_due, tmp_path):
    project = stack(spec(last_minute_schedule()))
    write_first_seen(tmp_path, project, ago(days=1))
    write_record(tmp_path, project, "success", ago(hours=5))

    result = run_due(project)
    assert result.rc == 0, str(result)
    due = found(result)["due"]
    assert [d["job"] for d in due] == [JOB] and "one catch-up run" in due[0]["reason"], due
    lines = role_task(result, SHOW).result["msg"]
    assert lines[0].endswith("(UTC): 1 due, 0 held, 0 waiting, 0 unscheduled"), lines
    assert lines[1].startswith(f"due: {JOB} on {project.name}: scheduled at "), lines
    assert [r["outcome"] for r in records(tmp_path)] == ["success", "success"]

    again = run_due(project)
    assert again.rc == 0 and summary(again)["ran"] == [] and len(records(tmp_path)) == 2, summary(again)
    assert found(again)["waiting"][0]["reason"].startswith("next at "), found(again)


def test_breaker_holds_after_three_failures_and_a_success_by_hand_releases_it(stack, run_due, run_job, tmp_path):
    project = stack(spec(last_minute_schedule()))
    write_first_seen(tmp_path, project, ago(days=1))
    for _failure in range(3):
        failed = run_job(project, run_job_overrides={"command": "sh -c 'echo broken >&2; exit 3'"})
        assert failed.rc == 2, str(failed)
    assert [r["outcome"] for r in records(tmp_path)] == ["worker_failed"] * 3

    held = run_due(project)
    assert held.rc == 0, str(held)
    f = found(held)
    assert f["due"] == [] and [h["job"] for h in f["held"]] == [JOB], f
    entry = f["held"][0]
    assert entry["held"] and entry["streak"] == 3 and entry["last_failure"]["outcome"] == "worker_failed", entry
    assert "held by the circuit breaker after 3 consecutive failed run(s)" in entry["reason"]
    s = summary(held)
    assert s["ran"] == [] and [(h["job"], h["streak"]) for h in s["held"]] == [(JOB, 3)], s
    assert len(records(tmp_path)) == 3  # nothing ran

    fixed = run_job(project)
    assert fixed.rc == 0, str(fixed)
    released = run_due(project)
    assert released.rc == 0, str(released)
    f = found(released)
    assert f["held"] == [] and f["waiting"][0]["streak"] == 0, f
    assert f["waiting"][0]["last_run"]["outcome"] == "success"


def test_reset_releases_a_held_job_and_its_missed_time_runs(stack, run_due, tmp_path):
    project = stack(spec(last_minute_schedule()))
    write_first_seen(tmp_path, project, ago(days=1))
    for hours in (4, 3, 2):
        write_record(tmp_path, project, "worker_failed", ago(hours=hours))
    assert found(run_due(project, check=True))["held"], "three failures hold the job"

    result = run_due(project, run_due_reset=[JOB])
    assert result.rc == 0, str(result)
    assert found(result)["reset"] == [{"job": JOB, "stack": project.name}]
    assert [(r["job"], r["outcome"]) for r in summary(result)["ran"]] == [(JOB, "success")], summary(result)
    assert schedule_state(tmp_path, project)["reset_at"] is not None


def test_check_mode_lists_what_is_due_and_runs_and_records_nothing(stack, run_due, tmp_path):
    project = stack(spec(last_minute_schedule()))
    before = snapshot_started(project)
    write_record(tmp_path, project, "success", ago(hours=2))  # no first_seen: the record is the anchor

    result = run_due(project, check=True)
    assert result.rc == 0, str(result)
    assert [d["job"] for d in found(result)["due"]] == [JOB]
    s = summary(result)
    assert s["ran"] == [] and s["skipped"][0]["reason"].startswith("check mode - would run: scheduled at"), s
    assert not any(r.task.endswith(RUN_TASK) for r in result.results)
    assert len(records(tmp_path)) == 1 and schedule_state(tmp_path, project) is None
    assert snapshot_started(project) == before  # same containers, same start times: nothing was stopped


def test_a_failed_due_job_does_not_stop_the_next_one(stack, run_due, tmp_path):
    broken = {
        "image": "bosun-test/busybox:latest",
        "init": True,
        "command": "sleep 3600",
        "stop_grace_period": "1s",
        "network_mode": "none",
        "labels": {
            "bosun.job.name": "a-broken",
            "bosun.job.worker.image": "bosun-test/busybox:latest",
            "bosun.job.worker.command": "sh -c 'echo broken >&2; exit 3'",
            "bosun.job.schedule": last_minute_schedule(),
            "bosun.job.stop-scope": "none",
        },
    }
    project = stack(spec(last_minute_schedule(), side=broken))
    for job in ("a-broken", JOB):
        write_first_seen(tmp_path, project, ago(days=1), job=job)

    result = run_due(project)
    assert result.rc == 2, str(result)  # the play fails at the end, after every due job had its turn
    assert [d["job"] for d in found(result)["due"]] == ["a-broken", JOB]  # by stack, then job name
    s = summary(result)
    assert [(f["job"], f["outcome"]) for f in s["failed"]] == [("a-broken", "worker_failed")], s
    assert "exited with code 3" in s["failed"][0]["message"]
    assert [(r["job"], r["outcome"]) for r in s["ran"]] == [(JOB, "success")], s
    assert [r["outcome"] for r in records(tmp_path, "a-broken")] == ["worker_failed"]
    fail = role_task(result, "Fail when a due job failed").result["msg"]
    assert fail.startswith("1 due job(s) failed on localhost: a-broken; the other due jobs ran"), fail


def test_job_due_refuses_an_unknown_time_zone_and_warns_on_an_unknown_reset(stack, ansible_adhoc, tmp_path):
    project = stack(spec("@daily"))
    args = {"stacks": [project.name], "state_dir": str(state_dir(tmp_path))}
    bad = ansible_adhoc("bosun.compose.job_due", {**args, "timezone": "Europe/Berln"})
    r = bad.task("bosun.compose.job_due").result
    assert bad.rc != 0 and r["error"] == {"type": "ScheduleError", "timezone": "Europe/Berln"}, r
    assert r["msg"].startswith("time zone 'Europe/Berln' is not an IANA time zone name"), r

    ok = ansible_adhoc("bosun.compose.job_due", {**args, "reset": ["no-such-job"]}, check=True)
    r = ok.task("bosun.compose.job_due").result
    assert ok.rc == 0 and r["changed"] and r["reset"] == [], r  # check mode: would record the first sight
    assert "reset: no selected job is named 'no-such-job'; nothing was released for it" in r["warnings"]
    assert schedule_state(tmp_path, project) is None


def test_job_info_returns_the_next_due_time_in_a_time_zone(stack, ansible_adhoc):
    project = stack(spec("30 2 * * *"))
    run = ansible_adhoc("bosun.compose.job_info", {"project": project.name, "timezone": "Europe/Berlin"})
    jobs = run.task("bosun.compose.job_info").result["jobs"]
    nxt = datetime.datetime.fromisoformat(jobs[0]["next_due"])
    assert (nxt.hour, nxt.minute, nxt.second) == (2, 30, 0), jobs[0]
    assert nxt.utcoffset() in (datetime.timedelta(hours=1), datetime.timedelta(hours=2)), jobs[0]
    assert 0 < (nxt - datetime.datetime.now(UTC)).total_seconds() <= 25 * 3600, jobs[0]
