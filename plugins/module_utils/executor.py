# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The executor: one job run as one crash-safe transaction on the Docker host.

plan -> preflight -> lease -> interpret the plan's steps: stop, run the worker, and in a finally
start exactly what was stopped and release the lease. Cancellation (a signal turned into an event)
stops the worker and goes straight to the restart. The lease on the daemon records the stop-set
before the first stop, so a run killed outright is recovered by the next run or by stack recovered.
This is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils.compose_control import (
    LeaseHeldError,
    Owner,
    StackControl,
    StartResult,
    StopResult,
    acquire_lease,
    must_keep_lease,
    owner_alive,
    read_lease,
    recover,
    ref,
    release_lease,
)
from ansible_collections.bosun.compose.plugins.module_utils.model import BosunError, ContainerRecord, Job, utc_iso
from ansible_collections.bosun.compose.plugins.module_utils.planner import Plan, PlanError, plan_job
from ansible_collections.bosun.compose.plugins.module_utils.worker_runner import WorkerResult, WorkerRunner

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils.docker_api import DockerApi

Outcome = t.Literal[
    "success", "worker_failed", "timeout", "cancelled", "image_missing", "preflight_failed", "stop_failed",
    "start_failed", "locked", "skipped", "not_found", "invalid",
]
OUTCOMES: tuple[str, ...] = t.get_args(Outcome)
# Seconds the lease outlives the plan's deadline, for Docker's own overheads.
LEASE_MARGIN = 60
CANCEL_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


@dataclasses.dataclass
class StepRecord:
    type: str
    status: t.Literal["ok", "failed", "skipped", "cancelled"]
    started_at: str
    duration: float
    containers: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    detail: str = ""

    def to_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class RunResult:
    run_id: str
    job: str
    stack: str | None
    outcome: Outcome
    message: str
    started_at: str
    finished_at: str = ""
    steps: list[StepRecord] = dataclasses.field(default_factory=list)
    worker: WorkerResult | None = None
    stopped: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    restarted: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    downtime_seconds: float = 0.0
    plan: Plan | None = None
    record_path: str | None = None
    changed: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome in ("success", "skipped")

    def to_dict(self) -> dict[str, t.Any]:
        w = self.worker
        return {
            "run_id": self.run_id, "job": self.job, "stack": self.stack, "outcome": self.outcome,
            "message": self.message, "started_at": self.started_at, "finished_at": self.finished_at,
            "steps": [s.to_dict() for s in self.steps],
            "worker": {"name": w.name, "exit_code": w.exit_code, "timed_out": w.timed_out, "cancelled": w.cancelled,
                       "duration": w.duration, "log_tail": w.log_tail, "log_path": w.log_path, "error": w.error,
                       "removed": w.removed} if w else None,
            "stopped": self.stopped, "restarted": self.restarted, "downtime_seconds": self.downtime_seconds,
            "plan": self.plan.to_dict() if self.plan else None, "record_path": self.record_path,
        }

    def record(self) -> dict[str, t.Any]:
        """The small JSON record kept per run in the state directory."""
        return {k: v for k, v in self.to_dict().items() if k in (
            "run_id", "job", "stack", "outcome", "message", "started_at", "finished_at", "downtime_seconds")} | {
            "log_path": self.worker.log_path if self.worker else None}


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How to run a job: the play's choices beyond the job itself."""

    secret_env: t.Mapping[str, str] = dataclasses.field(default_factory=dict)
    run_id: str | None = None
    pull: t.Literal["never", "missing"] = "never"
    lock_timeout: int = 3600
    check_mode: bool = False
    tail_lines: int = 50
    keep: t.Literal["never", "on_failure"] = "never"
    allowed_images: t.Sequence[str] | None = None


class Cancellation:
    """SIGTERM, SIGHUP and SIGINT become a cancel event for the duration of a `with` block.

    Later signals are absorbed too: nothing may interrupt the restart of the stack.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal: int | None = None
        self._previous: dict[int, t.Any] = {}

    def _handle(self, signum: int, _frame: t.Any) -> None:
        if self.signal is None:
            self.signal = signum
        self.event.set()

    def __enter__(self) -> Cancellation:
        for s in CANCEL_SIGNALS:
            self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: t.Any) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)

    @property
    def reason(self) -> str:
        return f"received {signal.Signals(self.signal).name}" if self.signal else "cancelled"


def runs_dir(state_dir: str, job: str) -> str:
    return os.path.join(state_dir, "runs", job)


def last_run(state_dir: str, job: str, stack: str | None = None) -> dict[str, t.Any] | None:
    """The newest run record of a job (of a stack), or None when there is none or it cannot be read."""
    try:
        names = os.listdir(runs_dir(state_dir, job))
    except OSError:
        return None
    records = []
    for n in names:
        try:
            with open(os.path.join(runs_dir(state_dir, job), n), encoding="utf-8") as f:
                rec = json.load(f)
        except (OSError, ValueError):
            continue
        if stack is None or rec.get("stack") == stack:
            records.append(rec)
    return max(records, key=lambda r: r.get("started_at") or "", default=None)


class Executor:
    """Runs one job through its plan; every side effect goes through the Docker API object given."""

    def __init__(self, api: DockerApi, state_dir: str, *, wall: t.Callable[[], float] = time.time,
                 clock: t.Callable[[], float] = time.monotonic, sleep: t.Callable[[float], None] = time.sleep) -> None:
        self.api = api
        self.state_dir = state_dir
        self.wall = wall
        self.clock = clock
        self.sleep = sleep

    def run(self, job: Job, options: RunOptions | None = None, cancel: Cancellation | None = None) -> RunResult:
        o = options or RunOptions()
        cancel = cancel or Cancellation()
        result = RunResult(run_id=o.run_id or "", job=job.name, stack=job.stack, outcome="invalid", message="",
                           started_at=utc_iso(self.wall()))
        try:
            plan = self._plan(job, o, o.run_id, o.check_mode, result)
            if plan is None or o.check_mode:
                return result
            plan = self._take_lease(job, plan, o, cancel, result)
            if plan is None:
                return result
            self._transaction(plan, cancel, o, result)
            return result
        finally:
            result.finished_at = utc_iso(self.wall())
            if not o.check_mode and result.outcome not in ("invalid", "not_found"):
                self._write_record(result)

    def _plan(self, job: Job, o: RunOptions, run_id: str | None, check_mode: bool, result: RunResult) -> Plan | None:
        try:
            plan = plan_job(self.api, job, secret_env=o.secret_env, run_id=run_id, pull=o.pull, check_mode=check_mode,
                            allowed_images=o.allowed_images)
        except PlanError as exc:
            result.outcome, result.message = "invalid", exc.message
            return None
        result.plan, result.run_id = plan, plan.run_id
        failed = plan.failed_checks
        if failed:
            image = [c for c in failed if c.name == "image"]
            result.outcome = "image_missing" if image and len(failed) == 1 else "preflight_failed"
            result.message = "preflight failed, nothing was stopped: " + "; ".join(c.message for c in failed)
            return None
        if check_mode:
            result.outcome, result.changed = "success", True
            result.message = (f"check mode: would stop {len(plan.stop_set)} container(s) of stack {plan.stack!r}, "
                              f"run worker {plan.worker.name!r} and start them again; nothing was touched")
        return plan

    def _take_lease(self, job: Job, plan: Plan, o: RunOptions, cancel: Cancellation,
                    result: RunResult) -> Plan | None:
        """Take the stack's lease (recovering a dead run's first); the plan to run, None when the run must not go on."""
        give_up = self.clock() + o.lock_timeout
        owner = Owner.current()
        waited = False
        while True:
            held = read_lease(self.api, plan.stack)
            if held is not None and not owner_alive(held, self.wall()):
                rec = recover(self.api, plan.stack)
                if not rec.ok:
                    result.outcome = "start_failed"
                    result.message = f"a dead run left stack {plan.stack!r} stopped and it could not be restarted: {rec.message}"
                    return None
                waited = True
                continue
            if held is not None:
                if job.overlap_policy == "skip":
                    result.outcome, result.message = "skipped", f"skipped (overlap policy skip): {held.describe()} holds stack {plan.stack!r}"
                    return None
                if self.clock() >= give_up or cancel.event.is_set():
                    result.outcome = "cancelled" if cancel.event.is_set() else "locked"
                    result.message = (f"gave up waiting {o.lock_timeout}s for stack {plan.stack!r}, held by {held.describe()}"
                                      if result.outcome == "locked" else f"{cancel.reason} while waiting for the lease")
                    return None
                waited = True
                cancel.event.wait(1.0)
                continue
            if waited:  # the stack may have changed while we waited: plan again from what runs now
                fresh = self._plan(job, o, plan.run_id, False, result)
                if fresh is None:
                    return None
                plan, waited = fresh, False
            image = next((c.image_id for c in plan.stop_set if c.image_id), "")
            try:
                acquire_lease(self.api, plan.stack, plan.run_id, job.name, plan.stop_set,
                              plan.deadline + LEASE_MARGIN, owner, image)
            except LeaseHeldError:
                waited = True
                continue
            return plan

    def _transaction(self, plan: Plan, cancel: Cancellation, o: RunOptions, result: RunResult) -> None:
        """Interpret the plan's steps; the restart of exactly what was stopped runs whatever happens."""
        control = StackControl(self.api, plan.stack, clock=self.clock, sleep=self.sleep)
        runner = WorkerRunner(self.api, self.state_dir)
        stop = StopResult()
        down_from: float | None = None
        outcome: Outcome = "success"
        message = ""
        # Created before the downtime window: a create failure (a name conflict, a refused mount) costs no downtime.
        try:
            worker_id = runner.create(plan.worker)
        except BosunError as exc:
            result.outcome, result.message = "preflight_failed", f"nothing was stopped: {exc.message}"
            self._release(plan)
            return
        try:
            for step in plan.steps:
                t0, at = self.clock(), utc_iso(self.wall())
                if step.type == "stop_containers":
                    down_from = self.wall()
                    # Until the stop returns, any container of the stop-set may be down.
                    stop = StopResult(stopped=list(plan.stop_set))
                    stop = control.stop(step.levels, step.timeout, step.graces)
                    result.stopped = [ref(c) for c in stop.stopped]
                    if not stop.ok:
                        outcome = "stop_failed"
                        message = "could not stop " + "; ".join(f"{f.container.name!r}: {f.error}" for f in stop.failed)
                    elif cancel.event.is_set():
                        outcome, message = "cancelled", f"{cancel.reason} while stopping the stack"
                    self._step(result, step.type, "ok" if stop.ok else "failed", at, t0, stop.stopped, message)
                    if outcome != "success":
                        break
                elif step.type == "run_worker" and step.worker is not None:
                    worker = runner.run(step.worker, tail_lines=o.tail_lines, keep=o.keep, cancel=cancel.event,
                                        container_id=worker_id)
                    worker_id = None
                    result.worker = worker
                    if not worker.ok:
                        outcome = "timeout" if worker.timed_out else "cancelled" if worker.cancelled else "worker_failed"
                        message = (f"{cancel.reason}: " if outcome == "cancelled" else "") + f"worker {worker.name!r} {worker.reason}"
                    status = "ok" if worker.ok else "cancelled" if worker.cancelled else "failed"
                    self._step(result, step.type, status, at, t0, [], message or worker.reason)
                elif step.type != "start_containers":  # the start runs in the finally, with what was stopped
                    raise PlanError(f"unknown step type {step.type!r} in the plan of run {plan.run_id!r}")
        except Exception as exc:  # pylint: disable=broad-exception-caught
            outcome = "worker_failed" if result.steps and result.steps[0].status == "ok" else "stop_failed"
            message = exc.message if isinstance(exc, BosunError) else f"{type(exc).__name__}: {exc}"
        finally:
            if worker_id is not None:  # the worker never ran
                runner.discard(worker_id)
            failed_start = self._restart(plan, control, stop, result)
            if failed_start:
                outcome, message = "start_failed", failed_start + (f"; before that: {message}" if message else "")
            if down_from is not None:
                result.downtime_seconds = round(self.wall() - down_from, 3)
            result.outcome, result.changed = outcome, True
            result.message = message or (f"job {plan.job.name!r} succeeded; stack {plan.stack!r} was down "
                                         f"{result.downtime_seconds:.1f}s")

    def _restart(self, plan: Plan, control: StackControl, stop: StopResult, result: RunResult) -> str | None:
        """Start exactly what was stopped and release the lease; a message when something failed."""
        t0, at = self.clock(), utc_iso(self.wall())
        try:
            start: StartResult = control.start(stop.stopped, plan.start_budget)
        except BaseException as exc:  # the lease stays: recovery retries from the daemon-side record
            self._step(result, "start_containers", "failed", at, t0, [], str(exc))
            return f"restarting stack {plan.stack!r} failed: {getattr(exc, 'message', exc)}; the lease is kept for recovery"
        result.restarted = [ref(c) for c in start.started + start.already_running]
        failed = "; ".join(f"{f.container.name!r}: {f.error}" for f in start.failed)
        self._step(result, "start_containers", "ok" if start.ok else "failed", at, t0, start.started + start.already_running,
                   start.summary + (f"; failed: {failed}" if failed else ""))
        if not must_keep_lease(start):
            self._release(plan)
        if not start.ok:
            return f"restart of stack {plan.stack!r}: {start.summary}; failed: {failed}"
        return None

    def _release(self, plan: Plan) -> None:
        """Release the stack's lease if this run still holds it."""
        lease = read_lease(self.api, plan.stack)
        if lease is not None and lease.run_id == plan.run_id:
            release_lease(self.api, lease)

    def _step(self, result: RunResult, type_: str, status: t.Any, at: str, t0: float,
              containers: t.Sequence[ContainerRecord], detail: str = "") -> None:
        result.steps.append(StepRecord(type_, status, at, round(self.clock() - t0, 3), [ref(c) for c in containers], detail))

    def _write_record(self, result: RunResult) -> None:
        path = os.path.join(runs_dir(self.state_dir, result.job), f"{result.run_id or 'unplanned'}.json")
        try:
            os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(result.record(), f, indent=1, sort_keys=True)
            result.record_path = path
        except OSError:
            result.record_path = None


@dataclasses.dataclass
class CancelResult:
    changed: bool
    action: t.Literal["none", "other_run", "would_cancel", "cancelled"]
    message: str
    lease: dict[str, t.Any] | None = None
    run: dict[str, t.Any] | None = None

    def to_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


def cancel_run(
    api: DockerApi, project: str, *, run_id: str | None = None, wait: int = 120, check: bool = False,
    state_dir: str | None = None, sleep: t.Callable[[float], None] = time.sleep,
) -> CancelResult:
    """Cancel the run holding a stack: SIGTERM to its job_run process, found through the lease.

    The run itself then stops its worker, restarts the stack and reports outcome cancelled; this waits
    up to `wait` seconds for it to release the lease. The process must run on this host.
    """
    lease = read_lease(api, project)
    if lease is None:
        return CancelResult(False, "none", f"no run holds stack {project!r}: nothing to cancel")
    if run_id is not None and lease.run_id != run_id:
        return CancelResult(False, "other_run", f"stack {project!r} is held by another run, {lease.describe()}; "
                                                f"run {run_id!r} is not running", lease.to_dict())
    if not owner_alive(lease, time.time()):
        raise BosunError(f"{lease.describe()} is dead or expired, so there is nothing to cancel; restart what it "
                         f"stopped with bosun.compose.stack state=recovered", project=project, run_id=lease.run_id)
    owner, here = lease.owner, Owner.current(with_pid=False)
    if owner.pid is None:
        raise BosunError(f"{lease.describe()} has no process to signal (the stack module's state=stopped took it); "
                         f"end it with bosun.compose.stack state=started", project=project, run_id=lease.run_id)
    if (owner.hostname, owner.boot_id) != (here.hostname, here.boot_id):
        raise BosunError(f"the process of {lease.describe()} runs on host {owner.hostname!r}, not here "
                         f"({here.hostname!r}); cancel it on that host", project=project, run_id=lease.run_id)
    if check:
        return CancelResult(True, "would_cancel", f"would send SIGTERM to pid {owner.pid} of {lease.describe()}",
                            lease.to_dict())
    try:
        os.kill(owner.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass  # it ended between the check and the signal; the lease tells what happened
    except PermissionError as exc:
        raise BosunError(f"not allowed to signal pid {owner.pid} of {lease.describe()}: {exc}; run as the same user "
                         "(become: true)", project=project, run_id=lease.run_id) from exc
    for _tick in range(max(1, wait) * 5):
        current = read_lease(api, project)
        if current is None or current.run_id != lease.run_id:
            break
        sleep(0.2)
    else:
        return CancelResult(True, "cancelled", f"sent SIGTERM to {lease.describe()}, but it still holds stack "
                                               f"{project!r} after {wait}s", lease.to_dict())
    record = last_run(state_dir, lease.job, project) if state_dir else None
    return CancelResult(True, "cancelled", f"cancelled {lease.describe()}; it restarted stack {project!r} and "
                                           "released it", lease.to_dict(), record)
