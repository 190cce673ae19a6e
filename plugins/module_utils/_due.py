# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which scheduled jobs are due now: the decision per job and stack, and the host state it keeps.

A job is due when its schedule (``bosun.job.schedule``, in the play's time zone) has a time that passed after
the latest of: its last run's start (the newest run record), the moment job_due first saw it (``first_seen``)
and the moment job_due last handed it out as due (``dispatched_at``). So:

- a job never seen and never run is not due: job_due records ``first_seen`` and the job becomes due at its
  first scheduled time after that;
- any number of missed times gives one run (catch-up), since one run moves the anchor past all of them;
- the circuit breaker: after ``max_failures`` consecutive failed runs (run records started after the last
  ``reset_at``) the job is held and not due until a run succeeds (run by hand) or a reset releases it.
  ``success`` and ``skipped`` end a streak; ``locked``, ``cancelled`` and runs still in progress (no
  ``finished_at``) neither count nor end it; every other outcome is a failure.

``decide()`` and ``failure_history()`` are pure; ``check_due()`` reads and writes the host state through
_state.py (nothing in check mode).

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import ScheduleError
from ansible_collections.bosun.compose.plugins.module_utils._model import Job
from ansible_collections.bosun.compose.plugins.module_utils._schedule import (
    next_fire,
    parse_cron,
    previous_fire,
    timezone,
)
from ansible_collections.bosun.compose.plugins.module_utils._state import (
    read_schedule_state,
    runs,
    write_schedule_state,
)

Category = t.Literal["due", "held", "waiting", "unscheduled"]
# Outcomes that end a failure streak, and those that neither count nor end it.
STREAK_ENDS = ("success", "skipped")
STREAK_NEUTRAL = ("locked", "cancelled")
DEFAULT_MAX_FAILURES = 3


def parse_time(value: t.Any) -> datetime.datetime | None:
    """An aware datetime from an ISO 8601 text with an offset; None when missing or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def _iso(moment: datetime.datetime | None, tz: datetime.tzinfo) -> str | None:
    return None if moment is None else moment.astimezone(tz).isoformat(timespec="seconds")


@dataclasses.dataclass(frozen=True)
class ScheduleState:
    """What job_due remembers on the host about one job of one stack."""

    first_seen: datetime.datetime | None = None
    reset_at: datetime.datetime | None = None
    dispatched_at: datetime.datetime | None = None

    @classmethod
    def from_dict(cls, data: t.Mapping[str, t.Any]) -> ScheduleState:
        return cls(**{f.name: parse_time(data.get(f.name)) for f in dataclasses.fields(cls)})

    def to_dict(self) -> dict[str, str | None]:
        utc = datetime.timezone.utc
        return {f.name: _iso(getattr(self, f.name), utc) for f in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True)
class History:
    """The run records that matter to the decision: the newest one, and the failure streak."""

    last_outcome: str | None = None
    last_started_at: datetime.datetime | None = None
    streak: int = 0
    # The newest failed run of the streak: outcome, started_at (as recorded) and message.
    last_failure: dict[str, t.Any] | None = None


def failure_history(records: t.Sequence[t.Mapping[str, t.Any]], reset_at: datetime.datetime | None) -> History:
    """The newest record and the consecutive failures before the last success, counting only runs after reset_at.

    ``records`` are newest first (as _state.runs returns them).
    """
    newest = records[0] if records else {}
    streak, last_failure = 0, None
    for rec in records:
        started = parse_time(rec.get("started_at"))
        if reset_at is not None and (started is None or started <= reset_at):
            break
        outcome = rec.get("outcome")
        if outcome in STREAK_ENDS:
            break
        if outcome in STREAK_NEUTRAL or not rec.get("finished_at"):
            continue
        streak += 1
        if last_failure is None:
            last_failure = {k: rec.get(k) for k in ("outcome", "started_at", "message")}
    return History(
        last_outcome=newest.get("outcome"),
        last_started_at=parse_time(newest.get("started_at")),
        streak=streak,
        last_failure=last_failure,
    )


@dataclasses.dataclass(frozen=True)
class DueStatus:
    """The decision for one job of one stack, with the times and the run history behind it."""

    job: str
    stack: str | None
    schedule: str | None
    category: Category
    reason: str
    last_scheduled: datetime.datetime | None = None
    next_scheduled: datetime.datetime | None = None
    history: History = dataclasses.field(default_factory=History)
    # The host state should record first_seen now (the job was seen for the first time).
    first_sight: bool = False

    @property
    def due(self) -> bool:
        return self.category == "due"

    @property
    def held(self) -> bool:
        return self.category == "held"

    def to_dict(self, tz: datetime.tzinfo) -> dict[str, t.Any]:
        h = self.history
        last_run = None
        if h.last_outcome is not None or h.last_started_at is not None:
            last_run = {"outcome": h.last_outcome, "started_at": _iso(h.last_started_at, tz)}
        return {
            "job": self.job,
            "stack": self.stack,
            "schedule": self.schedule,
            "due": self.due,
            "held": self.held,
            "reason": self.reason,
            "last_scheduled": _iso(self.last_scheduled, tz),
            "next_scheduled": _iso(self.next_scheduled, tz),
            "last_run": last_run,
            "streak": h.streak,
            "last_failure": h.last_failure,
        }


def _not_runnable(job: Job) -> str | None:
    """Why run_due leaves a job with a schedule alone, or None when it may run it."""
    if not job.enabled:
        return "disabled (bosun.job.enabled is false); run_due does not run it"
    if job.errors:
        return f"not runnable, run_due does not run it: {job.errors[0].message}"
    if not job.stack:
        return "no stack: run_due does not run it"
    return None


def decide(
    job: Job,
    now: datetime.datetime,
    tz: datetime.tzinfo,
    history: History,
    state: ScheduleState,
    max_failures: int = DEFAULT_MAX_FAILURES,
) -> DueStatus:
    """Whether ``job`` is due at ``now`` (aware), from its run history and its host state. Pure."""

    def status(category: Category, reason: str, **extra: t.Any) -> DueStatus:
        return DueStatus(job.name, job.stack, job.schedule, category, reason, history=history, **extra)

    if job.schedule is None:
        return status("unscheduled", "no bosun.job.schedule label")
    try:
        cron = parse_cron(job.schedule)
    except ScheduleError as exc:
        return status("unscheduled", exc.message)
    last, nxt = previous_fire(cron, now, tz), next_fire(cron, now, tz)
    times = dict(last_scheduled=last, next_scheduled=nxt)
    blocked = _not_runnable(job)
    if blocked is not None:
        return status("unscheduled", blocked, **times)
    if nxt is None:
        return status("unscheduled", f"schedule {cron.expression!r} matches no date", **times)
    anchors = [m for m in (history.last_started_at, state.first_seen, state.dispatched_at) if m is not None]
    if not anchors:
        reason = f"seen for the first time: due at its first scheduled time from now on, {_iso(nxt, tz)}"
        return status("waiting", reason, first_sight=True, **times)
    if max_failures > 0 and history.streak >= max_failures:
        failure = history.last_failure or {}
        reason = (
            f"held by the circuit breaker after {history.streak} consecutive failed run(s) (max_failures "
            f"{max_failures}; last {failure.get('outcome')} at {failure.get('started_at')}: {failure.get('message')}); "
            "a successful run (by hand) or a reset releases it"
        )
        return status("held", reason, **times)
    anchor = max(anchors)
    since = _since(history, state, anchor, tz)
    if last is None or last <= anchor:
        return status("waiting", f"next at {_iso(nxt, tz)}; {since}", **times)
    missed = next_fire(cron, anchor, tz)
    catch_up = "" if missed is None or missed >= last else f" (missed since {_iso(missed, tz)}: one catch-up run)"
    return status("due", f"scheduled at {_iso(last, tz)}{catch_up}; {since}", **times)


def _since(history: History, state: ScheduleState, anchor: datetime.datetime, tz: datetime.tzinfo) -> str:
    """What the anchor is, in words."""
    if anchor == history.last_started_at:
        return f"the last run started at {_iso(anchor, tz)} ({history.last_outcome})"
    if anchor == state.dispatched_at:
        return f"last handed out as due at {_iso(anchor, tz)}"
    return f"first seen at {_iso(anchor, tz)}, never run since"


@dataclasses.dataclass(frozen=True)
class DueOptions:
    """Which jobs job_due looks at, in which time zone, and the breaker."""

    jobs: t.Sequence[str] = ("*",)
    stacks: t.Sequence[str] = ("*",)
    project: str | None = None
    timezone: str = "UTC"
    max_failures: int = DEFAULT_MAX_FAILURES
    reset: t.Sequence[str] = ()


@dataclasses.dataclass
class DueReport:
    """Every selected job, by category, each list ordered by stack then job name."""

    now: datetime.datetime
    tz: datetime.tzinfo
    timezone: str
    statuses: list[DueStatus]
    reset: list[dict[str, str]]
    unknown_reset: list[str]
    changed: bool

    def category(self, name: Category) -> list[dict[str, t.Any]]:
        return [s.to_dict(self.tz) for s in self.statuses if s.category == name]

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "now": _iso(self.now, self.tz),
            "timezone": self.timezone,
            "due": self.category("due"),
            "held": self.category("held"),
            "waiting": self.category("waiting"),
            "unscheduled": self.category("unscheduled"),
            "reset": self.reset,
        }


def _matches(value: str | None, patterns: t.Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(value or "", p) for p in patterns)


def _selected(job: Job, options: DueOptions) -> bool:
    if options.project is not None and job.stack != options.project:
        return False
    return _matches(job.name, options.jobs) and _matches(job.stack, options.stacks)


def select(jobs: t.Iterable[Job], options: DueOptions) -> list[Job]:
    """The jobs whose name matches ``options.jobs`` and stack ``options.stacks`` (and ``project``), by stack, name."""
    return sorted((j for j in jobs if _selected(j, options)), key=lambda j: (j.stack or "", j.name))


def check_due(
    jobs: t.Iterable[Job], state_dir: str, options: DueOptions, now: datetime.datetime, check_mode: bool = False
) -> DueReport:
    """The decision for every selected job. Outside check mode it records on the host each job's first sight,
    each reset (``reset_at``) and each job handed out as due (``dispatched_at``); in check mode nothing.
    """
    if options.max_failures < 0:
        raise ScheduleError(
            f"max_failures must be 0 (no circuit breaker) or more, got {options.max_failures}",
            max_failures=options.max_failures,
        )
    tz = timezone(options.timezone)
    selected = select(jobs, options)
    reset_names = set(options.reset)
    statuses, reset, changed = [], [], False
    for job in selected:
        stack = job.stack or ""
        stored = ScheduleState.from_dict(read_schedule_state(state_dir, job.name, stack)) if stack else ScheduleState()
        state = stored
        if job.name in reset_names and stack:
            state = dataclasses.replace(state, reset_at=now)
            reset.append({"job": job.name, "stack": stack})
        records = runs(state_dir, job.name, stack) if stack else []
        status = decide(job, now, tz, failure_history(records, state.reset_at), state, options.max_failures)
        if status.first_sight:
            state = dataclasses.replace(state, first_seen=now)
        if status.due:
            state = dataclasses.replace(state, dispatched_at=now)
        if state != stored:
            changed = True
            if not check_mode:
                _store(state_dir, job, stack, state)
        statuses.append(status)
    known = {j.name for j in selected}
    return DueReport(
        now=now,
        tz=tz,
        timezone=options.timezone,
        statuses=statuses,
        reset=reset,
        unknown_reset=sorted(reset_names - known),
        changed=changed,
    )


def _store(state_dir: str, job: Job, stack: str, state: ScheduleState) -> None:
    try:
        write_schedule_state(state_dir, job.name, stack, state.to_dict())
    except OSError as exc:
        raise ScheduleError(
            f"cannot keep the schedule state of job {job.name!r} of stack {stack!r} in {state_dir!r}: {exc}; "
            "job_due needs a writable state directory (option state_dir) to remember first sights and runs",
            job=job.name,
            stack=stack,
            state_dir=state_dir,
        ) from exc
