# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recovery: start a stop-set again and release its lease; restore a stack whose run died.

release_unless_kept() is the one rule for releasing a lease after a restart: unless it must be kept (a
container that still exists failed to start, so a later run can retry). give_back_policies() gives the stop-set
the restart policies the lease recorded (the run set ``always`` while the stack was down). restart_and_release()
starts a stop-set, gives the policies back and applies the release rule; the stack module (start and the
rollback of a failed stop) and recover() use it, the executor applies it itself once its post, error, after
and finally phases have run. recover() runs the dead run's pending error and finally hooks (recorded in its
lease) after the restart, before the release, and then, given the state directory, sends that run's end
signals (_run_signals.run_interrupted()).

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._compose_cli import ComposeCli, ComposeProject
from ansible_collections.bosun.compose.plugins.module_utils._errors import LeaseError, error_text
from ansible_collections.bosun.compose.plugins.module_utils._hooks import (
    HookResult,
    HookRunner,
    hook_env,
    hooks_from_entries,
    run_phase,
)
from ansible_collections.bosun.compose.plugins.module_utils._lease import Lease, owner_alive, read_lease, release_lease
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    COMPOSE_PROJECT,
    DEFAULT_START_TIMEOUT,
    HOOK_PHASES,
    INTERRUPTED,
    LABEL_WORKER_RUN_ID,
)
from ansible_collections.bosun.compose.plugins.module_utils._notify import Sent
from ansible_collections.bosun.compose.plugins.module_utils._run_signals import run_interrupted
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import (
    ContainerRef,
    Recreator,
    StackControl,
    StartResult,
)
from ansible_collections.bosun.compose.plugins.module_utils._worker_runner import stop_workers

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

RecoverAction = t.Literal["none", "in_progress", "other_run", "recovered", "recovered_concurrently", "would_recover"]


def must_keep_lease(result: StartResult) -> bool:
    """Keep the lease when a container that still exists failed to start: a later run can retry it."""
    return any(not f.gone for f in result.failed)


def run_pending_hooks(
    api: DockerApi, lease: Lease, *, sleep: t.Callable[[float], None] = time.sleep
) -> list[HookResult]:
    """The error and finally hooks a lease recorded for its run, run now (BOSUN_OUTCOME ``interrupted``).

    Whoever restarts the stop-set of a run that did not end by itself runs them, after the start.
    """
    runner = HookRunner(api, sleep=sleep)
    pending = hooks_from_entries(lease.hooks, lease.project)
    results: list[HookResult] = []
    for phase in HOOK_PHASES[2:]:  # error, then finally
        env = hook_env(lease.job, lease.run_id, lease.project, phase, INTERRUPTED)
        results.extend(run_phase(runner, [h for h in pending if h.phase == phase], env))
    return results


def give_back_policies(control: StackControl, lease: Lease) -> list[str]:
    """Give each stop-set container that still exists the restart policy its lease recorded; the failures."""
    held = lease.held_policies
    if not held:
        return []
    present = {c.id for c in control.containers()}
    return control.set_restart_policies([(entry, policy) for entry, policy in held if entry.get("id") in present])


def release_unless_kept(api: DockerApi, lease: Lease | None, start: StartResult) -> bool:
    """Release ``lease`` (if its run still holds it) after the restart ``start``, unless it must be kept."""
    if lease is None or must_keep_lease(start):
        return False
    return release_lease(api, lease)


def restart_and_release(
    control: StackControl,
    stop_set: t.Sequence[ContainerRef],
    timeout: int,
    lease: Lease | None,
    then: t.Callable[[StartResult], None] | None = None,
    recreator: t.Callable[[ComposeProject], Recreator] | None = None,
) -> tuple[StartResult, bool]:
    """Start exactly ``stop_set``, give back its restart policies, run ``then`` (hooks), then release ``lease``
    unless it must be kept.

    Returns the start result and whether the lease was released. An exception from the start leaves the
    lease in place, so that recovery can retry from the daemon-side record. ``recreator`` makes what creates
    containers a prune deleted again, from the Compose project the lease recorded.
    """
    compose = recreator(ComposeProject.from_dict(control.project, lease.compose)) if recreator and lease else None
    start = control.start(stop_set, timeout, compose)
    if lease is not None and not must_keep_lease(start):  # else the retry that the kept lease allows gives them back
        start.warnings.extend(give_back_policies(control, lease))
    try:
        if then is not None:
            then(start)
    finally:
        released = release_unless_kept(control.api, lease, start)
    return start, released


@dataclasses.dataclass
class RecoverResult:
    changed: bool
    action: RecoverAction
    message: str
    lease: Lease | None = None
    workers_stopped: list[str] = dataclasses.field(default_factory=list)
    start: StartResult | None = None
    released: bool = False
    # The dead run's error and finally hooks, run after the restart.
    hooks: list[HookResult] = dataclasses.field(default_factory=list)
    # The dead run's end signals (ping, webhook, metrics), sent after the release.
    signals: list[Sent] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.start is None or self.start.ok

    @property
    def warnings(self) -> list[str]:
        """The failed signals and restart policies, as warnings (neither fails the recovery)."""
        return [*(self.start.warnings if self.start else []), *(s.warning for s in self.signals if s.warning)]

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "changed": self.changed,
            "action": self.action,
            "message": self.message,
            "lease": self.lease.to_dict() if self.lease else None,
            "workers_stopped": list(self.workers_stopped),
            "start": self.start.to_dict() if self.start else None,
            "released": self.released,
            "hooks": [h.to_dict() for h in self.hooks],
            "signals": [s.to_dict() for s in self.signals],
        }


def recover(
    api: DockerApi,
    project: str,
    run_id: str | None = None,
    grace: int = 10,
    *,
    start_timeout: int = DEFAULT_START_TIMEOUT,
    check: bool = False,
    now: float | None = None,
    control: StackControl | None = None,
    sleep: t.Callable[[float], None] = time.sleep,
    state_dir: str | None = None,
    recreator: t.Callable[[ComposeProject], Recreator] | None = None,
) -> RecoverResult:
    """Restart the stop-set of a lease whose owner is dead or expired, then release the lease.

    The run's worker containers (label ``bosun.worker.run-id``) are stopped (SIGTERM, ``grace``
    seconds, then SIGKILL) and removed first, so the stack never runs beside that run's worker. A stop
    the dead run began may still be in progress (Docker finishes it without its client, up to the
    container's grace): while a container of the stop-set still runs, the start waits until the lease's stop
    budget has passed, so that such a container is not taken for running and then killed.

    Safe to run twice at once on one lease: a worker or lease that the other recovery is removing (HTTP 409)
    counts as removed once it is gone, and the recovery that finds the lease released by the other one
    reports ``recovered_concurrently`` (not a failure) and starts nothing more once it sees that.

    With ``state_dir``, a recovery that restarted the stack then sends the dead run's end signals from its pending
    record (outcome ``interrupted``); of two recoveries at once, the one that claims that record sends them. With
    it, too, a lease whose container was pruned is recovered from its journal there. The restart gives the
    stop-set back the restart policies the lease recorded, and creates containers a prune deleted again with
    ``recreator`` (the modules give Compose on this host, see _module.compose_recreator(); without it, the failure
    names the command that brings them back).
    """
    lease = read_lease(api, project, state_dir)
    if lease is None:
        return RecoverResult(False, "none", f"stack {project!r} holds no lease: nothing to recover")
    if run_id is not None and lease.run_id != run_id:
        return RecoverResult(
            False,
            "other_run",
            f"stack {project!r} is held by another run, {lease.describe()}; run {run_id!r} has nothing to recover",
            lease,
        )
    if owner_alive(lease, time.time() if now is None else now):
        what = "the run is still in progress" if run_id is not None else "its owner is alive"
        return RecoverResult(
            False, "in_progress", f"stack {project!r} is held by {lease.describe()}: {what}; nothing touched", lease
        )
    if check:
        workers = api.list_containers(f"{LABEL_WORKER_RUN_ID}={lease.run_id}")
        hooks = f", run its {len(lease.hooks)} pending error/finally hook(s)" if lease.hooks else ""
        return RecoverResult(
            True,
            "would_recover",
            f"would stop {len(workers)} worker(s) of run {lease.run_id!r}, "
            f"start {len(lease.stop_set)} container(s) of stack {project!r}{hooks} "
            "and release its lease",
            lease,
            workers_stopped=[w.name for w in workers],
        )
    result = RecoverResult(True, "recovered", "", lease)
    try:
        result.workers_stopped = stop_workers(api, run_id=lease.run_id, grace=grace)
    except Exception as exc:
        raise LeaseError(
            f"cannot stop the workers of run {lease.run_id!r}: {error_text(exc)}; stack {project!r} was not started, "
            "as it must never run beside that run's worker",
            project=project,
        ) from exc
    settle = lease.stops_settled_at - time.time()
    if settle > 0 and _stop_may_be_in_progress(api, lease):
        sleep(settle)
    # Another recovery of the same lease may have finished meanwhile (and a new run may hold the stack now):
    # then its stop-set must not be started again from here.
    if _released_elsewhere(api, lease, state_dir):
        return _recovered_concurrently(result, project)
    result.start, result.released = restart_and_release(
        control or StackControl(api, project),
        list(lease.stop_set),
        start_timeout,
        lease,
        then=lambda _start: result.hooks.extend(run_pending_hooks(api, lease, sleep=sleep)),
        recreator=recreator or (lambda p: ComposeCli(p, api.options.docker_host, None)),
    )
    if not result.released and not must_keep_lease(result.start) and _released_elsewhere(api, lease, state_dir):
        return _recovered_concurrently(result, project)
    failed_hooks = [h.reason for h in result.hooks if not h.ok and h.skipped is None]
    ran = f"; ran {len(result.hooks)} pending hook(s)" if result.hooks else ""
    failed = f" ({'; '.join(failed_hooks)})" if failed_hooks else ""
    kept = "" if result.released else "; the lease is kept so that a later run can retry"
    result.message = f"recovered stack {project!r} from {lease.describe()}: {result.start.summary}{ran}{failed}{kept}"
    if state_dir is not None:
        result.signals = run_interrupted(state_dir, lease.job, lease.run_id)
    return result


def _stop_may_be_in_progress(api: DockerApi, lease: Lease) -> bool:
    """Whether a container of the lease's stop-set still runs: a stop the dead run began may not have ended yet.

    A container Docker is stopping is ``running`` until it exits; when none is, no stop is in progress and the
    recovery need not wait for the stop budget.
    """
    ids = {str(e.get("id")) for e in lease.stop_set}
    return any(c.id in ids and c.state == "running" for c in api.list_containers(f"{COMPOSE_PROJECT}={lease.project}"))


def _released_elsewhere(api: DockerApi, lease: Lease, state_dir: str | None = None) -> bool:
    """Whether ``lease`` is gone from the daemon and its journal (or replaced by another run's): released elsewhere."""
    current = read_lease(api, lease.project, state_dir)
    return current is None or current.run_id != lease.run_id


def _recovered_concurrently(result: RecoverResult, project: str) -> RecoverResult:
    """The result of a recovery that another recovery of the same lease finished first: done, not failed."""
    lease = t.cast(Lease, result.lease)
    result.action = "recovered_concurrently"
    result.changed = bool(result.workers_stopped) or (result.start is not None and result.start.changed)
    result.released = False
    started = f" ({result.start.summary} here)" if result.start is not None else ""
    result.message = (
        f"another recovery, running at the same time, recovered stack {project!r} and released the lease of "
        f"{lease.describe()}{started}: nothing left to do"
    )
    return result
