# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The executor: one job run as one crash-safe transaction on the Docker host.

plan -> preflight -> lease -> create the worker -> phase "pre" (hooks in the running stack) -> phase "stop"
(stop or pause the stop scope) -> phase "worker", and in a finally: start (or unpause) exactly what was
stopped, unless the run keeps it stopped on purpose; then the post or error hooks, the after-phase (a second
one-shot container with the stack up), the finally hooks always, and the release of the lease, held until
then so that no other run takes the stack meanwhile. Each phase records its own steps, a failed one
included. Early exits raise RunAbort(outcome, message), caught once in run(). Cancellation (a signal
turned into an event, see _cancel.py) before the first stop ends the run with nothing stopped (no lease
taken, or the lease released after the error and finally hooks); during the stop or the worker it ends that
phase and goes straight to the restart; during the restart and the post, error and finally hooks it is
absorbed (they are never interrupted and the outcome stays what the job did); during the after-phase it stops
the after-phase container. A restart that leaves a container unhealthy, or not ready when the start timeout runs out,
ends ``start_unhealthy``: everything was started, nothing is stopped again, the lease is released. The
lease on the daemon records the stop-set before the first stop, so a run killed outright is recovered
by the next run or by ``stack state=recovered``. The run's signals (_run_signals.py): the ``/start`` ping once
the lease is taken, before the pre hooks; the metrics, the end ping and the webhook once the run is over and
recorded (after the restart and the release), their failures only warnings.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._compose_cli import ComposeCli, ComposeProject
from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    BosunError,
    DockerUnavailableError,
    LeaseHeldError,
    PlanError,
    error_text,
)
from ansible_collections.bosun.compose.plugins.module_utils._hooks import (
    HookResult,
    HookRunner,
    hook_entries,
    hook_env,
    run_phase,
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
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    EXIT_NOTHING_TO_DO,
    HOST_PROOF_POLICY,
    Outcome,
    ContainerRecord,
    HookPhase,
    Job,
    RestartPolicy,
    utc_iso,
)
from ansible_collections.bosun.compose.plugins.module_utils._notify import Sent
from ansible_collections.bosun.compose.plugins.module_utils._planner import Plan, plan_job
from ansible_collections.bosun.compose.plugins.module_utils._provenance import plan_provenance
from ansible_collections.bosun.compose.plugins.module_utils._recovery import (
    give_back_policies,
    must_keep_lease,
    recover,
    release_unless_kept,
)
from ansible_collections.bosun.compose.plugins.module_utils._run_signals import (
    SignalTargets,
    run_finished,
    run_started,
)
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import (
    Recreator,
    StackControl,
    StartResult,
    StopResult,
)
from ansible_collections.bosun.compose.plugins.module_utils._state import write_record
from ansible_collections.bosun.compose.plugins.module_utils._watch import StackWatch
from ansible_collections.bosun.compose.plugins.module_utils._worker_runner import (
    WorkerResult,
    WorkerRunner,
    stop_workers,
)
from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import KeepPolicy, PullPolicy, WorkerSpec

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

StepStatus = t.Literal["ok", "failed", "skipped", "cancelled"]
Phase = t.Literal["pre", "stop", "worker"]
# The outcome of an unexpected error (a lost engine, say) in each phase of the transaction.
PHASE_FAILURE: dict[Phase, Outcome] = {"pre": "hook_failed", "stop": "stop_failed", "worker": "worker_failed"}
# Outcomes after which the post hooks run (the others run the error hooks).
NOT_FAILED: tuple[Outcome, ...] = ("success", "skipped")
# Seconds the lease outlives the plan's deadline, for Docker's own overheads.
LEASE_MARGIN = 60
# Seconds the restart waits for an Engine that went away (a daemon restart) to answer again, then tries once more.
ENGINE_RETURN_WAIT = 90


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
    # run_hook steps: the phase, the hook's command, exit code and last output lines.
    phase: str | None = None
    command: list[str] | None = None
    exit_code: int | None = None
    output_tail: list[str] = dataclasses.field(default_factory=list)

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
    duration_seconds: float = 0.0
    hooks: list[HookResult] = dataclasses.field(default_factory=list)
    after: WorkerResult | None = None
    # What the run left stopped on purpose (keep_stopped).
    kept_stopped: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    plan: Plan | None = None
    record_path: str | None = None
    changed: bool = False
    # The ping, webhook and metrics of this run (see _run_signals.py), and the warnings of those that failed.
    signals: list[Sent] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    # Whether this run's lease is still on the stack when the run ends (None: the Engine could not be asked).
    lease_kept: bool | None = False

    @property
    def ok(self) -> bool:
        return self.outcome in NOT_FAILED

    @staticmethod
    def _worker_dict(w: WorkerResult | None) -> dict[str, t.Any] | None:
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
            "worker": self._worker_dict(self.worker),
            "after": self._worker_dict(self.after),
            "hooks": [h.to_dict() for h in self.hooks],
            "stopped": self.stopped,
            "restarted": self.restarted,
            "kept_stopped": self.kept_stopped,
            "downtime_seconds": self.downtime_seconds,
            "duration_seconds": self.duration_seconds,
            "plan": self.plan.to_dict() if self.plan else None,
            "provenance": self.provenance(),
            "record_path": self.record_path,
            "signals": [s.to_dict() for s in self.signals],
            "lease_kept": self.lease_kept,
        }

    def provenance(self) -> dict[str, t.Any] | None:
        """What the run ran against (_provenance.py); None when no plan could be made."""
        return plan_provenance(self.plan).to_dict() if self.plan else None

    def record(self) -> dict[str, t.Any]:
        """The small JSON record kept per run in the state directory."""
        keys = (
            "run_id",
            "job",
            "stack",
            "outcome",
            "message",
            "started_at",
            "finished_at",
            "downtime_seconds",
            "duration_seconds",
        )
        record = {k: getattr(self, k) for k in keys}
        record["log_path"] = self.worker.log_path if self.worker else None
        record["provenance"] = self.provenance()
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
    # Leave the stop-set stopped on purpose once the stop succeeded; only the pre and finally hooks run.
    keep_stopped: bool = False
    # The most seconds the whole run may take (the plan's max_duration); None: no limit. See plan_job().
    max_duration: int | None = None
    # Where the run's ping, webhook and metrics go; sent outside the downtime window (see _run_signals.py).
    signals: SignalTargets = dataclasses.field(default_factory=SignalTargets)


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
        recreator: t.Callable[[ComposeProject], Recreator] | None = None,
    ) -> None:
        self.api = api
        self.state_dir = state_dir
        self.wall = wall
        self.clock = clock
        self.sleep = sleep
        # What creates deleted stop-set containers again (the module gives Compose on this host, _module.py);
        # without it a deleted container's failure names the command that brings it back.
        self.recreator = recreator or (lambda p: ComposeCli(p, api.options.docker_host, None))

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
        t0 = self.clock()
        try:
            plan = self._plan(job, o, o.run_id, result)
            if o.check_mode:
                result.outcome, result.changed = "success", True
                steps = "; then ".join(s.description for s in plan.steps)
                result.message = f"check mode: would {steps}; nothing was touched and no hook ran"
                return result
            self._not_cancelled(cancel, "the lease was never taken")
            plan, lease = self._take_lease(job, plan, o, cancel, result)
            self._signal(result, run_started(self.state_dir, o.signals, result.record()))
            self._transaction(plan, lease, cancel, o, result)
        except RunAbort as abort:
            result.outcome, result.message = abort.outcome, abort.message
        finally:
            result.finished_at = utc_iso(self.wall())
            result.duration_seconds = round(self.clock() - t0, 3)
            if not o.check_mode:
                result.lease_kept = self._lease_kept(result)
            if not o.check_mode and result.outcome not in ("invalid", "not_found"):
                result.record_path = write_record(self.state_dir, result.job, result.run_id, result.record())
                log_tail = result.worker.log_tail if result.worker else []
                ended = run_finished(self.state_dir, o.signals, result.record(), ok=result.ok, log_tail=log_tail)
                self._signal(result, ended)
        return result

    @staticmethod
    def _signal(result: RunResult, sent: t.Sequence[Sent]) -> None:
        """Add what the run's signals did to the result; a failed one is a warning, never a failed run."""
        result.signals.extend(sent)
        result.warnings.extend(s.warning for s in sent if s.warning)

    def _lease_kept(self, result: RunResult) -> bool | None:
        """Whether the stack still holds this run's lease (the role's safety net runs only then); None on an error."""
        if not result.stack or not result.run_id:
            return False
        try:
            held = read_lease(self.api, result.stack, self.state_dir)
        except BosunError:
            return None
        return held is not None and held.run_id == result.run_id

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
                keep_stopped=o.keep_stopped,
                max_duration=o.max_duration,
                state_dir=self.state_dir,
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
            held = read_lease(self.api, plan.stack, self.state_dir)
            if held is not None and not owner_alive(held, self.wall()):
                control = StackControl(self.api, plan.stack, clock=self.clock, sleep=self.sleep)
                rec = recover(
                    self.api,
                    plan.stack,
                    start_timeout=plan.start_budget,
                    control=control,
                    sleep=self.sleep,
                    state_dir=self.state_dir,
                    recreator=self.recreator,
                )
                result.warnings.extend(f"the recovery of run {held.run_id!r}: {w}" for w in rec.warnings)
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
            image = lease_image(self.api, plan.stop_set or plan.stays_up)
            try:
                lease = acquire_lease(
                    self.api,
                    plan.stack,
                    plan.run_id,
                    job.name,
                    plan.stop_set,
                    plan.max_duration + LEASE_MARGIN,
                    owner,
                    image,
                    stop_budget=plan.stop_budget,
                    actions=plan.stop_step.actions,
                    hooks=hook_entries(plan.hooks("error") + plan.hooks("finally")),
                    restart_policies=plan.stop_step.restart_policies,
                    compose=ComposeProject.of(plan.stack, [*plan.stop_set, *plan.stays_up]).to_dict(),
                    state_dir=self.state_dir,
                )
            except LeaseHeldError:
                waited = True
                continue
            return plan, lease

    def _transaction(self, plan: Plan, lease: Lease, cancel: Cancellation, o: RunOptions, result: RunResult) -> None:
        """Pre hooks, stop, run the worker; in a finally restart exactly what was stopped and end the run.

        Invariant: from the first stop on, the ``finally`` starts exactly the containers that may be down
        (unless the run keeps them stopped on purpose), runs the post or error hooks, the after-phase and the
        finally hooks, and releases the lease (unless a container that still exists failed to start). The
        plan's start_containers step documents that restart; it is never interpreted on its own.
        """
        control = StackControl(self.api, plan.stack, clock=self.clock, sleep=self.sleep)
        runner = WorkerRunner(self.api, self.state_dir)
        worker_id: str | None = None
        ran_worker = False
        may_be_down: list[ContainerRecord] = []
        down_from: float | None = None
        stopped = False
        phase: Phase = "pre"
        outcome: Outcome = "success"
        message = ""
        watch: StackWatch | None = None
        try:
            self._not_cancelled(cancel, "the lease was released")
            # Created before the downtime window: a create failure (a name conflict, a refused mount) costs no downtime.
            try:
                worker_id = runner.create(plan.worker)
            except BosunError as exc:
                raise RunAbort("preflight_failed", f"nothing was stopped: {exc.message}") from exc
            self._pre_hooks(plan, cancel, result)
            self._hold_policies(plan, control, result)
            phase = "stop"
            if self.api.engine().can_watch_third_parties:
                watch = StackWatch(self.api, plan.stack, plan.stop_set, cancel, plan.stop_step.actions)
                watch.start()  # until the restart begins: someone else starting the stack cancels the run
            if plan.stop_set:  # until the stop returns, any container of the stop-set may be down
                may_be_down, down_from = list(plan.stop_set), self.wall()
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
            phase, stopped = "worker", True
            cid, worker_id = worker_id, None  # the runner removes it from here on
            ran_worker = True
            self._run_worker(plan, runner, cid, cancel, o, result)
        except RunAbort as abort:
            outcome, message = abort.outcome, abort.message
        except Exception as exc:  # pylint: disable=broad-exception-caught
            outcome, message = PHASE_FAILURE[phase], error_text(exc)
        finally:
            if watch is not None:
                watch.close()
                outcome, message = self._interfered(watch, cancel, outcome, message, result)
                may_be_down = [c for c in may_be_down if c.id not in watch.replaced]  # stale: never started
            kept = plan.keep_stopped and stopped
            start: StartResult | None = None
            fenced = False
            # A worker whose run raised (the Engine went away) may still be there: stopped and removed before the
            # restart, also once the Engine is back (the stack never runs beside it).
            lost = ran_worker and result.worker is None
            if kept:
                with contextlib.suppress(Exception):  # nothing is restarted: remove it now (best effort)
                    self._stop_lost_worker(plan, lost)
                result.kept_stopped = [c.brief() for c in may_be_down]
                detail = f"left {len(may_be_down)} container(s) stopped on purpose (keep_stopped)"
                self._step(result, "keep_stopped", "ok", utc_iso(self.wall()), self.clock(), may_be_down, detail)
            elif down_from is None:
                start = StartResult()  # nothing was to stop, or the stop never began (a pre hook failed, a cancel)
            else:
                restart_outcome, failed_start, start, fenced = self._restart(
                    plan, lease, control, may_be_down, result, lambda: self._stop_lost_worker(plan, lost)
                )
                if restart_outcome is not None:
                    # What the stack is left in is what to act on first; the job's own end follows in the message.
                    outcome = restart_outcome
                    message = failed_start + (f"; before that: {message}" if message else "")
            if down_from is not None:
                result.downtime_seconds = round(self.wall() - down_from, 3)
            policies_left = False
            # Given back once the stack runs again; a fenced run's by its recoverer, and while the lease is kept for a
            # retry of a failed start, by that retry (until then a daemon restart may still start what failed).
            if not fenced and (kept or (start is not None and not must_keep_lease(start))):
                policies_left = self._give_back(control, lease, result)
            if worker_id is not None:  # the worker never ran; removed once the stack runs again
                with contextlib.suppress(Exception):
                    runner.discard(worker_id)
            if ran_worker and result.worker is not None:  # its log is read and it is removed after the restart
                with contextlib.suppress(Exception):
                    runner.finish(plan.worker, result.worker, o.tail_lines, o.keep)
            if not fenced:  # a fenced run's hooks are run by the run that recovered its stack
                outcome, message = self._after_restart(
                    plan, lease, runner, start, kept, outcome, message, cancel, o, result, keep_lease=policies_left
                )
            result.outcome, result.changed = outcome, True
            name, n_kept = plan.job.name, len(result.kept_stopped)
            if not kept:
                done = f"job {name!r} succeeded; stack {plan.stack!r} was down {result.downtime_seconds:.1f}s"
            else:
                done = (
                    f"job {name!r} succeeded and left {n_kept} container(s) stopped on purpose in stack {plan.stack!r}"
                )
            result.message = message or done

    @staticmethod
    def _interfered(
        watch: StackWatch, cancel: Cancellation, outcome: Outcome, message: str, result: RunResult
    ) -> tuple[Outcome, str]:
        """``interfered`` when someone else started the stack while it was down (unless a cancel came first)."""
        if watch.error:
            result.warnings.append(watch.error)
        if not watch.seen:
            return outcome, message
        if cancel.reason != watch.reason:  # a signal (or another cause) cancelled the run before
            return outcome, f"{message}; also: {watch.summary}"
        if outcome == "cancelled":
            return "interfered", f"{watch.summary}; the run stopped there and restarted what it had stopped"
        return "interfered", f"{watch.summary}; the job itself ended {outcome}" + (f" ({message})" if message else "")

    def _after_restart(
        self,
        plan: Plan,
        lease: Lease,
        runner: WorkerRunner,
        start: StartResult | None,
        kept: bool,
        outcome: Outcome,
        message: str,
        cancel: Cancellation,
        o: RunOptions,
        result: RunResult,
        *,
        keep_lease: bool = False,
    ) -> tuple[Outcome, str]:
        """Post or error hooks, the after-phase, the finally hooks (always), then the release of the lease.

        A post, error or finally hook that failed or timed out makes a run that had not failed ``hook_failed``
        (the stack is up; the message names each hook); a failed run keeps its outcome and the message adds them.
        The lease stays when a restart went wrong in a way a later run can retry (release_unless_kept), or when
        the restart itself raised (start is None and the stack was not kept stopped on purpose), or when
        ``keep_lease`` (restart policies that could not be given back).
        """
        ran: list[HookResult] = []
        try:
            if not kept:
                failed = outcome not in NOT_FAILED
                ran += self._hooks(plan, "error" if failed else "post", outcome, result)
                if outcome == "success" and plan.after is not None:
                    if cancel.is_set:
                        self._step(
                            result, "run_after", "skipped", utc_iso(self.wall()), self.clock(), [], cancel.reason
                        )
                        outcome, message = "cancelled", f"{cancel.reason} before the after-phase; the stack is up"
                    else:
                        outcome, message = self._run_after(plan, runner, cancel, o, result)
        finally:
            ran += self._hooks(plan, "finally", outcome, result)
            if keep_lease:
                pass
            elif kept:
                release_lease(self.api, lease)
            elif start is not None:
                release_unless_kept(self.api, lease, start)
        failures = [r.reason for r in ran if not r.ok and r.skipped is None]
        if failures and outcome in NOT_FAILED:
            where = "kept stopped on purpose" if kept else "up"
            return "hook_failed", f"{'; '.join(failures)}; the job itself succeeded and the stack is {where}"
        if failures:
            return outcome, f"{message}; also: {'; '.join(failures)}"
        return outcome, message

    def _pre_hooks(self, plan: Plan, cancel: Cancellation, result: RunResult) -> None:
        """Phase pre: the pre hooks in the running stack; RunAbort when one with on-error abort failed."""
        no_pre = "; no pre hook ran" if plan.hooks("pre") else ""
        self._not_cancelled(cancel, f"the unused worker was removed and the lease released{no_pre}")
        results = self._hooks(plan, "pre", None, result, cancel=cancel)
        if cancel.is_set:
            raise RunAbort("cancelled", f"{cancel.reason} during the pre hooks; nothing was stopped")
        failed = next((r for r in results if not r.ok and r.hook.on_error == "abort"), None)
        if failed is not None:
            raise RunAbort("hook_failed", f"{failed.reason} (on-error abort); nothing was stopped")

    def _hooks(
        self,
        plan: Plan,
        phase: HookPhase,
        outcome: Outcome | None,
        result: RunResult,
        cancel: Cancellation | None = None,
    ) -> list[HookResult]:
        """Run the plan's hooks of one phase, each recorded as a run_hook step. Only pre hooks can be cancelled."""
        hooks = plan.hooks(phase)
        if not hooks:
            return []
        runner = HookRunner(self.api, clock=self.clock, sleep=self.sleep)
        env = hook_env(plan.job.name, plan.run_id, plan.stack, phase, outcome)
        results = run_phase(runner, hooks, env, cancel.event if cancel else None, stop_on_failure=phase == "pre")
        for r in results:
            status: StepStatus = "ok" if r.ok else "skipped" if r.skipped else "cancelled" if r.cancelled else "failed"
            result.steps.append(
                StepRecord(
                    "run_hook",
                    status,
                    r.started_at,
                    r.duration,
                    [r.hook.container.brief()],
                    r.reason,
                    phase=phase,
                    command=list(r.hook.command),
                    exit_code=r.exit_code,
                    output_tail=list(r.output_tail),
                )
            )
        result.hooks.extend(results)
        return results

    def _run_after(
        self, plan: Plan, runner: WorkerRunner, cancel: Cancellation, o: RunOptions, result: RunResult
    ) -> tuple[Outcome, str]:
        """The after-phase: a second one-shot container with the stack up; its failure is ``after_failed``."""
        spec = t.cast(WorkerSpec, plan.after)
        t0, at = self.clock(), utc_iso(self.wall())
        try:
            after = runner.run(spec, tail_lines=o.tail_lines, keep=o.keep, cancel=cancel.event)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self._step(result, "run_after", "failed", at, t0, [], error_text(exc))
            return "after_failed", f"the after-phase {spec.name!r} could not run: {error_text(exc)}; the stack is up"
        result.after = after
        status: StepStatus = "ok" if after.ok else "cancelled" if after.cancelled else "failed"
        self._step(result, "run_after", status, at, t0, [], after.reason)
        if after.ok:
            return "success", ""
        if after.cancelled:
            return "cancelled", f"{cancel.reason}: the after-phase {after.name!r} {after.reason}; the stack is up"
        return "after_failed", f"the after-phase {after.name!r} {after.reason}; the stack is up"

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
                actions=step.actions,
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
                plan.worker,
                tail_lines=o.tail_lines,
                keep=o.keep,
                cancel=cancel.event,
                container_id=container_id,
                defer_cleanup=True,
            )
        except Exception as exc:
            self._step(result, "run_worker", "failed", at, t0, [], error_text(exc))
            raise
        result.worker = worker
        nothing_to_do = worker.exit_code == EXIT_NOTHING_TO_DO and not worker.timed_out and not worker.cancelled
        status: StepStatus = (
            "ok" if worker.ok else "skipped" if nothing_to_do else "cancelled" if worker.cancelled else "failed"
        )
        self._step(result, "run_worker", status, at, t0, [], worker.reason)
        if worker.ok:
            return
        if nothing_to_do:
            raise RunAbort("skipped", f"worker {worker.name!r} {worker.reason} (EX_TEMPFAIL): nothing to do this time")
        if worker.timed_out:
            raise RunAbort("timeout", f"worker {worker.name!r} {worker.reason}")
        if worker.cancelled:
            raise RunAbort("cancelled", f"{cancel.reason}: worker {worker.name!r} {worker.reason}")
        raise RunAbort("worker_failed", f"worker {worker.name!r} {worker.reason}")

    def _hold_policies(self, plan: Plan, control: StackControl, result: RunResult) -> None:
        """Give the stop-set restart policy ``always`` before the first stop, so that a daemon restart or a reboot
        while it is down starts it again; a container that refuses it is a warning (the job goes on)."""
        held = plan.stop_step.restart_policies
        targets = [(c, RestartPolicy(HOST_PROOF_POLICY)) for c in plan.stop_set if c.id in held]
        failed = control.set_restart_policies(targets) if targets else []
        result.warnings.extend(f"{f}; a daemon restart during the job would leave it stopped" for f in failed)

    @staticmethod
    def _give_back(control: StackControl, lease: Lease, result: RunResult) -> bool:
        """Give the stop-set its own restart policies back; whether some are left (the lease is then kept, so that
        a recovery gives them back: the daemon would otherwise start those containers at its every start)."""
        try:
            failed = give_back_policies(control, lease)
        except BosunError as exc:
            failed = [f"cannot give the restart policies back: {exc.message}"]
        result.warnings.extend(f"{f}; the lease is kept so that a recovery gives it back" for f in failed)
        return bool(failed)

    def _stop_lost_worker(self, plan: Plan, lost: bool) -> None:
        """Stop and remove the run's worker when its run raised (it may outlive a lost Engine connection)."""
        if lost:
            stop_workers(self.api, run_id=plan.run_id, grace=plan.worker.stop_grace)

    def _start(
        self,
        plan: Plan,
        lease: Lease,
        control: StackControl,
        stopped: t.Sequence[ContainerRecord],
        first: t.Callable[[], None],
    ) -> StartResult:
        """control.start() of the stop-set after ``first`` (the removal of a lost worker); an Engine that went away
        (a daemon restart) is waited for, then both are tried again."""
        recreator = self.recreator(ComposeProject.from_dict(plan.stack, lease.compose))
        give_up: float | None = None
        while True:
            try:
                first()
                start = control.start(stopped, plan.start_budget, recreator)
                if not any(f.unavailable for f in start.failed):
                    return start
            except DockerUnavailableError:
                if give_up is not None and self.clock() >= give_up:
                    raise
                start = None
            give_up = self.clock() + ENGINE_RETURN_WAIT if give_up is None else give_up
            # A daemon that restarts may answer once more while it shuts down: wait until it answers, then retry.
            self.sleep(1.0)
            while not self.api.ping():
                if self.clock() >= give_up:
                    break
                self.sleep(1.0)
            if self.clock() >= give_up and start is not None:
                return start

    def _restart(
        self,
        plan: Plan,
        lease: Lease,
        control: StackControl,
        stopped: t.Sequence[ContainerRecord],
        result: RunResult,
        first: t.Callable[[], None],
    ) -> tuple[Outcome | None, str, StartResult | None, bool]:
        """Start (or unpause) exactly what was stopped: the outcome and message when it went wrong, the start
        result (None when the start itself raised) and whether the run was fenced.

        ``start_failed`` when a container could not be started, ``start_unhealthy`` when everything was
        started but a container came back unhealthy, or was not running and healthy when the start timeout ran
        out (its dependents were started anyway). Fenced (``lease_lost``): when another run holds the stack now
        (this run's lease expired and that run recovered the stack and took it), nothing is started. A lease
        that is merely gone (pruned) does not stop the restart.
        """
        t0, at = self.clock(), utc_iso(self.wall())
        try:
            held = read_lease(self.api, plan.stack, self.state_dir)
        except BosunError:
            held = None  # the restart below meets the same engine and reports it
        if held is not None and held.run_id != plan.run_id:
            reason = self._fence(plan) or f"stack {plan.stack!r} is held by another run"
            self._step(result, "start_containers", "skipped", at, t0, [], reason)
            return (
                "lease_lost",
                f"{reason}; this run started nothing (that run restores and holds the stack)",
                None,
                True,
            )
        try:
            start = self._start(plan, lease, control, stopped, first)
        except BaseException as exc:  # the lease stays: recovery retries from the daemon-side record
            self._step(result, "start_containers", "failed", at, t0, [], error_text(exc))
            return (
                "start_failed",
                f"restarting stack {plan.stack!r} failed: {error_text(exc)}; the lease is kept for recovery",
                None,
                False,
            )
        result.restarted = [c.brief() for c in start.running]
        failed, unwell = start.failures, start.health_problems
        restored = [f"{len(start.unpaused)} unpaused"] if start.unpaused else []
        if start.paused:
            restored.append(f"{len(start.paused)} paused again")
        if start.restarting:
            restored.append(f"{len(start.restarting)} left to its restart policy (it was restarting)")
        if start.recreated:
            made = ", ".join(repr(c.name) for c in start.recreated)
            restored.append(f"{len(start.recreated)} deleted while down and created again by Compose: {made}")
            result.warnings.append(
                f"container(s) of stack {plan.stack!r} were deleted while it was down (a prune?) and Compose created "
                f"them again: {made}"
            )
        restored.extend(r.describe() for r in start.replaced)
        detail = "; ".join(
            [start.summary, *restored, *([f"failed: {failed}"] if failed else []), *([unwell] if unwell else [])]
        )
        status: StepStatus = "ok" if start.ok and start.healthy else "failed"
        self._step(result, "start_containers", status, at, t0, start.running, detail)
        if not start.ok:
            why = f"restart of stack {plan.stack!r}: {start.summary}; failed: {failed}" + (
                f"; {unwell}" if unwell else ""
            )
            return "start_failed", why, start, False
        if not start.healthy:
            why = f"restart of stack {plan.stack!r}: {start.summary}, but {unwell}; the stack is left running"
            return "start_unhealthy", why, start, False
        return None, "", start, False

    def _fence(self, plan: Plan) -> str | None:
        """Why this run may no longer touch its stack, or None while it still holds the lease it took."""
        held = read_lease(self.api, plan.stack, self.state_dir)
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
