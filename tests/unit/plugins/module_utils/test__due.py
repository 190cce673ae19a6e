# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The due decision: first sight, catch-up, the circuit breaker and its reset, and the host state it keeps."""

from __future__ import annotations

import datetime
import json
import os
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._due import (
    DueOptions,
    History,
    ScheduleState,
    check_due,
    decide,
    failure_history,
)
from ansible_collections.bosun.compose.plugins.module_utils._errors import ScheduleError
from ansible_collections.bosun.compose.plugins.module_utils._model import Job, Problem
from ansible_collections.bosun.compose.plugins.module_utils._state import (
    read_schedule_state,
    runs,
    schedule_state_path,
    write_record,
)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 6, 15, 12, 7, 30, tzinfo=UTC)


def ago(**kw: float) -> datetime.datetime:
    return NOW - datetime.timedelta(**kw)


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def job(name: str = "backup", stack: str = "shop", schedule: str | None = "*/5 * * * *", **kw: t.Any) -> Job:
    return Job(name=name, stack=stack, schedule=schedule, image="tools:1", **kw)


def record(outcome: str, started: datetime.datetime, finished: bool = True, **kw: t.Any) -> dict[str, t.Any]:
    return {
        "outcome": outcome,
        "started_at": iso(started),
        "finished_at": iso(started + datetime.timedelta(seconds=20)) if finished else "",
        "message": f"{outcome} message",
        "stack": "shop",
        **kw,
    }


def seen(at: datetime.datetime) -> ScheduleState:
    return ScheduleState(first_seen=at)


# ---- decide() ---------------------------------------------------------------------------------------------


def test_never_due_on_first_sight() -> None:
    s = decide(job(), NOW, UTC, History(), ScheduleState())
    assert (s.category, s.due, s.first_sight) == ("waiting", False, True)
    assert s.next_scheduled == datetime.datetime(2026, 6, 15, 12, 10, tzinfo=UTC)
    assert "seen for the first time" in s.reason and "2026-06-15T12:10:00+00:00" in s.reason


def test_due_at_the_first_scheduled_time_after_first_sight() -> None:
    # Seen at 12:05:30, after the 12:05 time: it waits for 12:10.
    assert decide(job(), NOW, UTC, History(), seen(ago(minutes=2))).category == "waiting"
    s = decide(job(), NOW, UTC, History(), seen(ago(minutes=3)))  # seen 12:04:30, fired 12:05
    assert s.due and s.last_scheduled == datetime.datetime(2026, 6, 15, 12, 5, tzinfo=UTC)
    assert s.reason.startswith("scheduled at 2026-06-15T12:05:00+00:00; first seen at 2026-06-15T12:04:30")


def test_a_run_after_the_scheduled_time_makes_it_wait_for_the_next() -> None:
    h = failure_history([record("success", ago(minutes=2))], None)
    s = decide(job(), NOW, UTC, h, seen(ago(days=1)))
    assert s.category == "waiting"
    assert s.reason == "next at 2026-06-15T12:10:00+00:00; the last run started at 2026-06-15T12:05:30+00:00 (success)"


def test_catch_up_after_many_missed_times_is_one_run() -> None:
    h = failure_history([record("success", ago(hours=5))], None)
    s = decide(job(), NOW, UTC, h, seen(ago(days=1)))
    assert s.due and "missed since 2026-06-15T07:10:00+00:00: one catch-up run" in s.reason
    # Once handed out as due, the same missed times do not make it due again.
    again = decide(job(), NOW + datetime.timedelta(seconds=30), UTC, h, ScheduleState(ago(days=1), None, NOW))
    assert again.category == "waiting" and "last handed out as due" in again.reason


def test_the_time_zone_decides_the_wall_clock() -> None:
    berlin = datetime.timezone(datetime.timedelta(hours=2))  # CEST, as a fixed offset
    daily = job(schedule="0 13 * * *")
    first = seen(ago(days=2))
    assert decide(daily, NOW, UTC, History(), first).last_scheduled == datetime.datetime(2026, 6, 14, 13, tzinfo=UTC)
    s = decide(daily, NOW, berlin, History(), first)
    assert s.last_scheduled == datetime.datetime(2026, 6, 15, 11, tzinfo=UTC)
    assert s.to_dict(berlin)["last_scheduled"] == "2026-06-15T13:00:00+02:00"


def test_breaker_holds_after_max_failures_consecutive_failures() -> None:
    records = [record("worker_failed", ago(hours=h)) for h in (1, 2, 3)] + [record("success", ago(hours=4))]
    h = failure_history(records, None)
    assert (h.streak, h.last_failure) == (
        3,
        {"outcome": "worker_failed", "started_at": iso(ago(hours=1)), "message": "worker_failed message"},
    )
    s = decide(job(), NOW, UTC, h, seen(ago(days=1)))
    assert s.held and not s.due and s.category == "held"
    assert "held by the circuit breaker after 3 consecutive failed run(s)" in s.reason
    assert decide(job(), NOW, UTC, h, seen(ago(days=1)), max_failures=4).due
    assert decide(job(), NOW, UTC, h, seen(ago(days=1)), max_failures=0).due  # 0: no breaker


def test_a_success_ends_the_streak_and_neutral_outcomes_do_not_count() -> None:
    records = [
        record("cancelled", ago(hours=1)),
        record("stop_failed", ago(hours=2)),
        record("locked", ago(hours=3)),
        record("worker_failed", ago(hours=4), finished=False),  # in progress (or died): no finished_at
        record("skipped", ago(hours=5)),
        record("worker_failed", ago(hours=6)),
    ]
    h = failure_history(records, None)
    assert h.streak == 1 and h.last_failure is not None and h.last_failure["outcome"] == "stop_failed"
    assert (h.last_outcome, h.last_started_at) == ("cancelled", ago(hours=1))


def test_a_reset_counts_only_the_runs_after_it() -> None:
    records = [record("worker_failed", ago(hours=h)) for h in (1, 2, 3, 4)]
    assert failure_history(records, ago(minutes=90)).streak == 1
    assert failure_history(records, ago(minutes=30)).streak == 0


@pytest.mark.parametrize(
    ("the_job", "reason"),
    [
        (job(schedule=None), "no bosun.job.schedule label"),
        (job(enabled=False), "disabled (bosun.job.enabled is false)"),
        (
            job(problems=[Problem("error", "container", "shop-db-1", "bosun.job.timeout", "-5", "bad timeout")]),
            "not runnable, run_due does not run it: bad timeout",
        ),
        (job(schedule="0 0 31 2 *"), "schedule '0 0 31 2 *' matches no date"),
    ],
)
def test_jobs_run_due_leaves_alone_are_unscheduled_with_the_reason(the_job: Job, reason: str) -> None:
    s = decide(the_job, NOW, UTC, History(), seen(ago(days=1)))
    assert (s.category, s.due, s.first_sight) == ("unscheduled", False, False)
    assert reason in s.reason


# ---- check_due(): the host state --------------------------------------------------------------------------


def write_runs(state_dir: str, name: str, *records: dict[str, t.Any]) -> None:
    for i, rec in enumerate(records):
        assert write_record(state_dir, name, f"run{i:08d}", {"job": name, **rec}) is not None


def test_first_sight_is_recorded_and_check_mode_records_nothing(tmp_path: t.Any) -> None:
    state_dir = str(tmp_path)
    report = check_due([job()], state_dir, DueOptions(), NOW, check_mode=True)
    assert report.changed and report.category("waiting")[0]["job"] == "backup"
    assert not os.path.exists(schedule_state_path(state_dir, "backup", "shop"))

    report = check_due([job()], state_dir, DueOptions(), NOW)
    assert report.changed
    assert read_schedule_state(state_dir, "backup", "shop") == {
        "first_seen": "2026-06-15T12:07:30+00:00",
        "reset_at": None,
        "dispatched_at": None,
    }
    # Seen again a minute later: still waiting, nothing new to record.
    later = check_due([job()], state_dir, DueOptions(), NOW + datetime.timedelta(minutes=1))
    assert not later.changed and later.category("waiting")
    # After 12:10 it is due, once: handing it out records dispatched_at.
    at = NOW + datetime.timedelta(minutes=3)
    due = check_due([job()], state_dir, DueOptions(), at)
    assert [d["job"] for d in due.category("due")] == ["backup"] and due.changed
    assert read_schedule_state(state_dir, "backup", "shop")["dispatched_at"] == "2026-06-15T12:10:30+00:00"
    assert check_due([job()], state_dir, DueOptions(), at).category("waiting")


def test_due_jobs_come_by_stack_then_name_and_the_globs_select(tmp_path: t.Any) -> None:
    state_dir = str(tmp_path)
    jobs = [job("b", "web"), job("a", "web"), job("z", "db"), job("backup", "other")]
    for j in jobs:
        write_runs(state_dir, j.name, record("success", ago(hours=1), stack=j.stack))
    report = check_due(jobs, state_dir, DueOptions(), NOW)
    assert [(d["stack"], d["job"]) for d in report.category("due")] == [
        ("db", "z"),
        ("other", "backup"),
        ("web", "a"),
        ("web", "b"),
    ]
    chosen = check_due(jobs, state_dir, DueOptions(jobs=["[ab]*"], stacks=["w*", "o*"]), NOW)
    assert [(s.stack, s.job) for s in chosen.statuses] == [("other", "backup"), ("web", "a"), ("web", "b")]
    assert [s.job for s in check_due(jobs, state_dir, DueOptions(project="db"), NOW).statuses] == ["z"]


def test_reset_releases_the_breaker_and_is_recorded(tmp_path: t.Any) -> None:
    state_dir = str(tmp_path)
    failures = [record("worker_failed", ago(hours=h)) for h in (1, 2, 3)]
    write_runs(state_dir, "backup", *failures)
    held = check_due([job()], state_dir, DueOptions(), NOW)
    assert [h["job"] for h in held.category("held")] == ["backup"] and not held.changed
    entry = held.category("held")[0]
    assert entry["held"] and entry["streak"] == 3 and entry["last_failure"]["outcome"] == "worker_failed"

    # In check mode a reset shows what it would do, and records nothing.
    would = check_due([job()], state_dir, DueOptions(reset=["backup", "nope"]), NOW, check_mode=True)
    assert would.category("due") and would.reset == [{"job": "backup", "stack": "shop"}]
    assert would.unknown_reset == ["nope"]
    assert read_schedule_state(state_dir, "backup", "shop") == {}

    released = check_due([job()], state_dir, DueOptions(reset=["backup"]), NOW)
    assert released.category("due")[0]["streak"] == 0
    assert read_schedule_state(state_dir, "backup", "shop")["reset_at"] == "2026-06-15T12:07:30+00:00"


def test_a_success_run_by_hand_releases_the_breaker(tmp_path: t.Any) -> None:
    state_dir = str(tmp_path)
    failures = [record("worker_failed", ago(hours=h)) for h in (2, 3, 4)]
    write_runs(state_dir, "backup", record("success", ago(minutes=1)), *failures)
    report = check_due([job()], state_dir, DueOptions(), NOW)
    assert report.category("waiting")[0]["streak"] == 0
    assert report.category("waiting")[0]["last_run"] == {
        "outcome": "success",
        "started_at": "2026-06-15T12:06:30+00:00",
    }


def test_records_of_another_stack_do_not_count(tmp_path: t.Any) -> None:
    state_dir = str(tmp_path)
    write_runs(state_dir, "backup", *[record("worker_failed", ago(hours=h), stack="other") for h in (1, 2, 3)])
    assert len(runs(state_dir, "backup")) == 3
    assert runs(state_dir, "backup", "shop") == []
    report = check_due([job()], state_dir, DueOptions(), NOW)
    assert report.category("waiting")[0]["reason"].startswith("seen for the first time")


def test_an_unwritable_state_dir_names_the_job_and_the_option(tmp_path: t.Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(ScheduleError, match="cannot keep the schedule state of job 'backup' of stack 'shop'") as exc:
        check_due([job()], str(blocker), DueOptions(), NOW)
    assert "option state_dir" in exc.value.message and exc.value.context["job"] == "backup"


def test_bad_options_are_refused_with_what_is_allowed(tmp_path: t.Any) -> None:
    with pytest.raises(ScheduleError, match="max_failures must be 0 .no circuit breaker. or more, got -1"):
        check_due([job()], str(tmp_path), DueOptions(max_failures=-1), NOW)
    with pytest.raises(ScheduleError, match="time zone 'Mars/Olympus' is not an IANA time zone name"):
        check_due([job()], str(tmp_path), DueOptions(timezone="Mars/Olympus"), NOW)


def test_the_state_file_is_json_written_atomically(tmp_path: t.Any) -> None:
    state_dir = str(tmp_path)
    check_due([job()], state_dir, DueOptions(), NOW)
    folder = os.path.dirname(schedule_state_path(state_dir, "backup", "shop"))
    assert os.listdir(folder) == ["shop.json"]  # no temporary file left
    with open(os.path.join(folder, "shop.json"), encoding="utf-8") as f:
        assert json.load(f)["first_seen"] == "2026-06-15T12:07:30+00:00"
    # A damaged file counts as no state (the job is seen anew), never as an error.
    with open(os.path.join(folder, "shop.json"), "w", encoding="utf-8") as f:
        f.write("{broken")
    assert read_schedule_state(state_dir, "backup", "shop") == {}
