# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The executor: one job run as one crash-safe transaction on the Docker host.

plan -> preflight -> lease -> create the worker -> phase "stop" -> phase "worker", and in a finally:
start exactly what was stopped and release the lease. Each phase records its own step, a failed one
included. Early exits raise RunAbort(outcome, message), caught once in run(). Cancellation (a signal
turned into an event, see _cancel.py) before the first stop ends the run with nothing stopped (no lease
taken, or the lease released); during the stop or the worker it ends that phase and goes straight to the
restart; during the restart it is absorbed (the restart is never interrupted and the outcome stays what
the job did). A restart that leaves a container unhealthy, or not ready when the start timeout runs out,
ends ``start_unhealthy``: everything was started, nothing is stopped again, the lease is released. The
lease on the daemon records the stop-set before the first stop, so a run killed outright is recovered
by the next run or by ``stack state=recovered``.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    BosunError,
    LeaseHeldError,
    PlanError,
    error_text,
)
from ansible_collections.bosun.compose.plugins.module_utils._lease import (
    Lease,
    Owner,
    acquire_lease,
    lease_image,
    owner_alive,
    read_lease,
    release_lease,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import ContainerRecord, Job, utc_iso
from ansible_collections.bosun.compose.plugins.module_utils._planner import Plan, plan_job
from ansible_collections.bosun.compose.plugins.module_utils._recovery import recover, restart_and_release
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl, StopResult
from ansible_collections.bosun.compose.plugins.module_utils._state import write_record
from ansible_collections.bosun.compose.plugins.module_utils._worker_runner import WorkerResult, WorkerRunner
from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import KeepPolicy, PullPolicy

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

Outcome = t.Literal[
    "success",
    "worker_failed",
    "timeout",
    "cancelled",
    "image_missing",
    "preflight_failed",
    "stop_failed",
    "start_failed",
    "lease_lost",
    "start_unhealthy",
    "locked",
    "skipped",
    "not_found",
    "invalid",
]
StepStatus = t.Literal["ok", "failed", "skipped", "cancelled"]
Phase = t.Literal["stop", "worker"]
# The outcome of an unexpected error (a lost engine, say) in each phase of the transaction.
PHASE_FAILURE: dict[Phase, Outcome] = {"stop": "stop_failed", "worker": "worker_failed"}
# Seconds the lease outlives the plan's deadline, for Docker's own overheads.
LEASE_MARGIN = 60


class RunAbort(Exception):
    """The run ends here with this outcome; raised by a phase, caught once."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome: Outcome = outcome
        self.message = message


@dataclasses.dataclass
class StepRecord:
    type: str
    status: StepStatus
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

    def _worker_dict(self) -> dict[str, t.Any] | None:
        w = self.worker
        if w is None:
            return None
        keys = ("name", "exit_code", "timed_out", "cancelled", "duration", "log_tail", "log_path", "error", "removed")
        return {k: getattr(w, k) for k in keys}

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "run_id": self.run_id,
            "job": self.job,
            "stack": self.stack,
            "outcome": self.outcome,
            "message": self.message,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "steps": [s.to_dict() for s in self.steps],
            "worker": self._worker_dict(),
            "stopped": self.stopped,
            "restarted": self.restarted,
            "downtime_seconds": self.downtime_seconds,
            "plan": self.plan.to_dict() if self.plan else None,
            "record_path": self.record_path,
        }

    def record(self) -> dict[str, t.Any]:
        """The small JSON record kept per run in the state directory."""
        keys = ("run_id", "job", "stack", "outcome", "message", "started_at", "finished_at", "downtime_seconds")
        record = {k: getattr(self, k) for k in keys}
        record["log_path"] = self.worker.log_path if self.worker else None
        return record


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How to run a job: the play's choices beyond the job itself."""

    secret_env: t.Mapping[str, str] = dataclasses.field(default_factory=dict)
    run_id: str | None = None
    pull: PullPolicy = "never"
    lock_timeout: int = 3600
    check_mode: bool = False
    tail_lines: int = 50
    keep: KeepPolicy = "never"
    allowed_images: t.Sequence[str] | None = None


class Executor:
    """Runs one job through its plan; every side effect goes through the Docker API object given."""

    def __init__(
        self,
        api: DockerApi,
        state_dir: str,
        *,
        wall: t.Callable[[], float] = time.time,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.state_dir = state_dir
        self.wall = wall
        self.clock = clock
        self.sleep = sleep

    def run(self, job: Job, options: RunOptions | None = None, cancel: Cancellation | None = None) -> RunResult:
        o = options or RunOptions()
        cancel = cancel or Cancellation()
        result = RunResult(
            run_id=o.run_id or "",
            job=job.name,
            stack=job.stack,
            outcome="invalid",
            message="",
            started_at=utc_iso(self.wall()),
        )
        try:
            plan = self._plan(job, o, o.run_id, result)
            if o.check_mode:
                result.outcome, result.changed = "success", True
                result.message = (
                    f"check mode: would stop {len(plan.stop_set)} container(s) of stack "
                    f"{plan.stack!r}, run worker {plan.worker.name!r} and start them again; "
                    "nothing was touched"
                )
                return result
            self._not_cancelled(cancel, "the lease was never taken")
            plan, lease = self._take_lease(job, plan, o, cancel, result)
            self._transaction(plan, lease, cancel, o, result)
        except RunAbort as abort:
            result.outcome, result.message = abort.outcome, abort.message
        finally:
            result.finished_at = utc_iso(self.wall())
            if not o.check_mode and result.outcome not in ("invalid", "not_found"):
                result.record_path = write_record(self.state_dir, result.job, result.run_id, result.record())
        return result

    @staticmethod
    def _not_cancelled(cancel: Cancellation, then: str) -> None:
        """RunAbort ``cancelled`` when a signal came before the first stop; ``then`` tells what was undone."""
        if cancel.is_set:
            raise RunAbort("cancelled", f"{cancel.reason} before anything was stopped; {then}")

    def _plan(self, job: Job, o: RunOptions, run_id: str | None, result: RunResult) -> Plan:
        """The plan, also put into the result; RunAbort when it cannot be made or its preflight failed."""
        try:
            plan = plan_job(
                self.api,
                job,
                secret_env=o.secret_env,
                run_id=run_id,
                pull=o.pull,
                check_mode=o.check_mode,
                allowed_images=o.allowed_images,
            )
        except PlanError as exc:
            raise RunAbort("invalid", exc.message) from exc
        result.plan, result.run_id = plan, plan.run_id
        failed = plan.failed_checks
        if failed:
            only_image = len(failed) == 1 and failed[0].name == "image"
            raise RunAbort(
                "image_missing" if only_image else "preflight_failed",
                "preflight failed, nothing was stopped: " + "; ".join(c.message for c in failed),
            )
        return plan

    def _take_lease(
        self, job: Job, plan: Plan, o: RunOptions, cancel: Cancellation, result: RunResult
    ) -> tuple[Plan, Lease]:
        """Take the stack's lease (recovering a dead run's first); the plan to run and the lease."""
        give_up = self.clock() + o.lock_timeout
        owner = Owner.current()
        waited = False
        while True:
            held = read_lease(self.api, plan.stack)
            if held is not None and not owner_alive(held, self.wall()):
                control = StackControl(self.api, plan.stack, clock=self.clock, sleep=self.sleep)
                rec = recover(self.api, plan.stack, start_timeout=plan.start_budget, control=control, sleep=self.sleep)
                if not rec.ok:
                    raise RunAbort(
                        "start_failed",
                        f"a dead run left stack {plan.stack!r} stopped and it could not be restarted: {rec.message}",
                    )
                # A signal during the recovery: it finished (a restart is never interrupted); take nothing more.
                self._not_cancelled(cancel, "the dead run's stack was recovered and the lease was never taken")
                waited = True
                continue
            if held is not None:
                if job.overlap_policy == "skip":
                    raise RunAbort(
                        "skipped", f"skipped (overlap policy skip): {held.describe()} holds stack {plan.stack!r}"
                    )
                if cancel.is_set:
                    raise RunAbort("cancelled", f"{cancel.reason} while waiting for the lease")
                if self.clock() >= give_up:
                    raise RunAbort(
                        "locked",
                        f"gave up waiting {o.lock_timeout}s for stack {plan.stack!r}, held by {held.describe()}",
                    )
                waited = True
                cancel.event.wait(1.0)
                continue
            if waited:  # the stack may have changed while we waited: plan again from what runs now
                plan, waited = self._plan(job, o, plan.run_id, result), False
            self._not_cancelled(cancel, "the lease was never taken")
            image = lease_image(self.api, plan.stop_set)
            try:
                lease = acquire_lease(
                    self.api,
                    plan.stack,
                    plan.run_id,
                    job.name,
                    plan.stop_set,
                    plan.deadline + LEASE_MARGIN,
                    owner,
                    image,
                    stop_budget=plan.stop_budget,
                )
            except LeaseHeldError:
                waited = True
                continue
            return plan, lease

    def _transaction(self, plan: Plan, lease: Lease, cancel: Cancellation, o: RunOptions, result: RunResult) -> None:
        """Stop, run the worker, and restart exactly what was stopped.

        Invariant: from the first stop on, the ``finally`` starts exactly the containers that may be down
        and releases the lease (unless a container that still exists failed to start). The plan's
        start_containers step documents that restart; it is never interpreted on its own.
        """
        control = StackControl(self.api, plan.stack, clock=self.clock, sleep=self.sleep)
        runner = WorkerRunner(self.api, self.state_dir)
        if cancel.is_set:
            release_lease(self.api, lease)
            self._not_cancelled(cancel, "the lease was released")
        # Created before the downtime window: a create failure (a name conflict, a refused mount) costs no downtime.
        try:
            worker_id: str | None = runner.create(plan.worker)
        except BosunError as exc:
            release_lease(self.api, lease)
            raise RunAbort("preflight_failed", f"nothing was stopped: {exc.message}") from exc
        if cancel.is_set:
            with contextlib.suppress(Exception):
                runner.discard(t.cast(str, worker_id))
            release_lease(self.api, lease)
            self._not_cancelled(cancel, "the unused worker was removed and the lease released")
        # Until the stop returns, any container of the stop-set may be down.
        may_be_down: list[ContainerRecord] = list(plan.stop_set)
        down_from = self.wall()
        phase: Phase = "stop"
        outcome: Outcome = "success"
        message = ""
        try:
            stop = self._stop(plan, control, cancel, result)
            # A failed stop may still have taken effect (the daemon stopped it, the answer was lost).
            may_be_down = stop.stopped + [f.container for f in stop.failed if not f.gone]
            if not stop.ok:
                raise RunAbort(
                    "stop_failed",
                    "could not stop " + "; ".join(f"{f.container.name!r}: {f.error}" for f in stop.failed),
                )
            if stop.fenced:
                raise RunAbort("lease_lost", f"{stop.fenced}; this run stopped no further container")
            if cancel.is_set:
                what = "before anything was stopped" if not stop.stopped else "while stopping the stack"
                raise RunAbort("cancelled", f"{cancel.reason} {what}")
            phase = "worker"
            cid, worker_id = worker_id, None  # the runner removes it from here on
            self._run_worker(plan, runner, t.cast(str, cid), cancel, o, result)
        except RunAbort as abort:
            outcome, message = abort.outcome, abort.message
        except Exception as exc:  # pylint: disable=broad-exception-caught
            outcome, message = PHASE_FAILURE[phase], error_text(exc)
        finally:
            restart_outcome, failed_start = self._restart(plan, lease, control, may_be_down, result)
            result.downtime_seconds = round(self.wall() - down_from, 3)
            if worker_id is not None:  # the worker never ran; removed once the stack runs again
                with contextlib.suppress(Exception):
                    runner.discard(worker_id)
            if restart_outcome is not None:
                # What the stack is left in is what to act on first; the job's own end follows in the message.
                outcome = restart_outcome
                message = failed_start + (f"; before that: {message}" if message else "")
            result.outcome, result.changed = outcome, True
            result.message = message or (
                f"job {plan.job.name!r} succeeded; stack {plan.stack!r} was down {result.downtime_seconds:.1f}s"
            )

    def _stop(self, plan: Plan, control: StackControl, cancel: Cancellation, result: RunResult) -> StopResult:
        """Phase stop: the plan's stop step, recorded whatever happens (an exception too)."""
        step = plan.stop_step
        t0, at = self.clock(), utc_iso(self.wall())
        try:
            stop = control.stop(
                step.levels,
                step.timeout,
                step.container_stop_timeouts,
                cancel=cancel.event,
                fence=lambda: self._fence(plan),
            )
        except Exception as exc:
            self._step(result, step.type, "failed", at, t0, [], error_text(exc))
            raise
        result.stopped = [c.brief() for c in stop.stopped]
        status: StepStatus = "failed" if not stop.ok or stop.fenced else "cancelled" if stop.cancelled else "ok"
        detail = "; ".join(f.error for f in stop.failed) or stop.fenced or (cancel.reason if stop.cancelled else "")
        self._step(result, step.type, status, at, t0, stop.stopped, detail)
        return stop

    def _run_worker(
        self,
        plan: Plan,
        runner: WorkerRunner,
        container_id: str,
        cancel: Cancellation,
        o: RunOptions,
        result: RunResult,
    ) -> None:
        """Phase worker: run the created worker; RunAbort when it did not succeed."""
        t0, at = self.clock(), utc_iso(self.wall())
        try:
            worker = runner.run(
                plan.worker, tail_lines=o.tail_lines, keep=o.keep, cancel=cancel.event, container_id=container_id
            )
        except Exception as exc:
            self._step(result, "run_worker", "failed", at, t0, [], error_text(exc))
            raise
        result.worker = worker
        status: StepStatus = "ok" if worker.ok else "cancelled" if worker.cancelled else "failed"
        self._step(result, "run_worker", status, at, t0, [], worker.reason)
        if worker.ok:
            return
        if worker.timed_out:
            raise RunAbort("timeout", f"worker {worker.name!r} {worker.reason}")
        if worker.cancelled:
            raise RunAbort("cancelled", f"{cancel.reason}: worker {worker.name!r} {worker.reason}")
        raise RunAbort("worker_failed", f"worker {worker.name!r} {worker.reason}")

    def _restart(
        self, plan: Plan, lease: Lease, control: StackControl, stopped: t.Sequence[ContainerRecord], result: RunResult
    ) -> tuple[Outcome | None, str]:
        """Start exactly what was stopped and release the lease; the outcome and message when it went wrong.

        ``start_failed`` when a container could not be started (the lease is kept if it still exists),
        ``start_unhealthy`` when everything was started but a container came back unhealthy, or was not
        running and healthy when the start timeout ran out (its dependents were started anyway).
        Fenced (``lease_lost``): when another run holds the stack now (this run's lease expired and that run
        recovered the stack and took it), nothing is started. A lease that is merely gone (pruned) does not stop
        the restart.
        """
        t0, at = self.clock(), utc_iso(self.wall())
        try:
            held = read_lease(self.api, plan.stack)
        except BosunError:
            held = None  # the restart below meets the same engine and reports it
        if held is not None and held.run_id != plan.run_id:
            reason = self._fence(plan) or f"stack {plan.stack!r} is held by another run"
            self._step(result, "start_containers", "skipped", at, t0, [], reason)
            return "lease_lost", f"{reason}; this run started nothing (that run restores and holds the stack)"
        try:
            start, _released = restart_and_release(control, stopped, plan.start_budget, lease)
        except BaseException as exc:  # the lease stays: recovery retries from the daemon-side record
            self._step(result, "start_containers", "failed", at, t0, [], error_text(exc))
            return "start_failed", (
                f"restarting stack {plan.stack!r} failed: {error_text(exc)}; the lease is kept for recovery"
            )
        result.restarted = [c.brief() for c in start.running]
        failed, unwell = start.failures, start.health_problems
        restored = [f"{len(start.paused)} paused again"] if start.paused else []
        if start.restarting:
            restored.append(f"{len(start.restarting)} left to its restart policy (it was restarting)")
        detail = "; ".join(
            [start.summary, *restored, *([f"failed: {failed}"] if failed else []), *([unwell] if unwell else [])]
        )
        status: StepStatus = "ok" if start.ok and start.healthy else "failed"
        self._step(result, "start_containers", status, at, t0, start.running, detail)
        if not start.ok:
            return "start_failed", f"restart of stack {plan.stack!r}: {start.summary}; failed: {failed}" + (
                f"; {unwell}" if unwell else ""
            )
        if not start.healthy:
            return "start_unhealthy", (
                f"restart of stack {plan.stack!r}: {start.summary}, but {unwell}; the stack is left running"
            )
        return None, ""

    def _fence(self, plan: Plan) -> str | None:
        """Why this run may no longer touch its stack, or None while it still holds the lease it took."""
        held = read_lease(self.api, plan.stack)
        if held is None:
            return (
                f"the lease of run {plan.run_id!r} on stack {plan.stack!r} is gone (removed, or expired and recovered)"
            )
        if held.run_id != plan.run_id:
            return f"stack {plan.stack!r} is now held by {held.describe()}: this run's lease expired and another run took it"
        return None

    def _step(
        self,
        result: RunResult,
        step_type: str,
        status: StepStatus,
        at: str,
        t0: float,
        containers: t.Sequence[ContainerRecord],
        detail: str = "",
    ) -> None:
        result.steps.append(
            StepRecord(step_type, status, at, round(self.clock() - t0, 3), [c.brief() for c in containers], detail)
        )
