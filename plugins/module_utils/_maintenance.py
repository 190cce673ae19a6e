# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A maintenance window by hand (the stack module): stop with a lease, start exactly what was stopped, recover.

Unlike a job run, the window spans several tasks, so the lease names no process (only its expiry tells
whether the run is alive). A stop that fails or is interrupted half-way is rolled back at once: a stack is
never left half stopped by a failed task.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._compose_cli import ComposeProject
from ansible_collections.bosun.compose.plugins.module_utils._errors import LeaseError, error_text
from ansible_collections.bosun.compose.plugins.module_utils._lease import (
    Lease,
    Owner,
    acquire_lease,
    lease_image,
    list_leases,
    owner_alive,
    read_lease,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import UP_STATES, ContainerRecord
from ansible_collections.bosun.compose.plugins.module_utils._recovery import (
    RecoverResult,
    must_keep_lease,
    recover,
    restart_and_release,
    run_pending_hooks,
)
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import Recreator, StackControl, StartResult

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi


def _diff(containers: t.Sequence[ContainerRecord], before: str, after: str) -> dict[str, t.Any]:
    return {"before": {c.name: before for c in containers}, "after": {c.name: after for c in containers}}


@dataclasses.dataclass
class WindowResult:
    """What one stack task did; ``error`` set means the task fails with that message (the rest still returned)."""

    run_id: str | None
    # The stack; null only when recover_run() found no lease of the run.
    project: str | None = None
    changed: bool = False
    stop_set: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    stopped: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    added_services: list[str] = dataclasses.field(default_factory=list)
    lease: dict[str, t.Any] | None = None
    released: bool = False
    stop: dict[str, t.Any] | None = None
    start: dict[str, t.Any] | None = None
    recover: dict[str, t.Any] | None = None
    # The pending error and finally hooks of a job run whose stop-set this task started (its lease recorded them).
    hooks: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    summary: str = ""
    diff: dict[str, t.Any] | None = None
    error: str | None = None
    # For the module to pass to module.warn (a recovered run's signals that failed); not returned as a key.
    warnings: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, t.Any]:
        d = dataclasses.asdict(self)
        del d["error"], d["warnings"]
        if d["diff"] is None:
            del d["diff"]
        return d


def _start_failed(project: str, start: StartResult, kept: bool) -> str:
    errors = "; ".join(f.error for f in start.failed)
    lease = " The lease is kept; run state=started again to retry." if kept else ""
    return f"starting stack {project!r}: {start.summary}; {errors}.{lease}"


def stop_for_maintenance(
    control: StackControl,
    *,
    run_id: str,
    job: str,
    lease_ttl: int,
    services: t.Sequence[str] | None = None,
    stop_timeout: int | None = None,
    start_timeout: int,
    check: bool = False,
    cancel: threading.Event | None = None,
) -> WindowResult:
    """Take the lease and stop the running containers (all, or ``services`` and their dependents).

    A failed or interrupted stop is rolled back: what was stopped starts again and the lease is released.
    """
    levels, added = control.plan_stop(services)
    stop_set = [c for level in levels for c in level]
    briefs = [c.brief() for c in stop_set]
    result = WindowResult(run_id=run_id, project=control.project, stop_set=briefs, stopped=briefs, added_services=added)
    if not stop_set:
        result.stopped = []
        result.summary = f"nothing running to stop in stack {control.project!r}"
        return result
    result.changed = True
    result.diff = _diff(stop_set, "running", "stopped")
    if check:
        result.summary = f"would stop {len(stop_set)} container(s)"
        return result
    lease = acquire_lease(
        control.api,
        control.project,
        run_id,
        job,
        stop_set,
        lease_ttl,
        Owner.current(with_pid=False),
        lease_image(control.api, stop_set),
    )
    result.lease = lease.to_dict()
    try:
        stop = control.stop(levels, stop_timeout, cancel=cancel)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        problem = f"stopping stack {control.project!r} failed: {error_text(exc)}"
        result.summary = "stop interrupted"
        stopped = stop_set  # any of them may be down
    else:
        result.stop = stop.to_dict()
        result.stopped = [c.brief() for c in stop.stopped]
        result.summary = f"{len(stop.stopped)}/{len(stop_set)} stopped"
        if stop.ok and not stop.cancelled:
            return result
        problem = (
            f"stopping stack {control.project!r} was interrupted"
            if stop.cancelled
            else f"stopping stack {control.project!r} failed: " + "; ".join(f.error for f in stop.failed)
        )
        # Starting the whole stop-set starts what was stopped; what still runs counts as already running.
        stopped = stop_set
    start, result.released = restart_and_release(control, stopped, start_timeout, lease)
    result.start = start.to_dict()
    result.summary += f"; rolled back: {start.summary}"
    result.error = f"{problem}; started again what was stopped: {start.summary}"
    return result


def start_stop_set(
    control: StackControl,
    *,
    run_id: str | None,
    containers: t.Sequence[str] | None,
    start_timeout: int,
    check: bool = False,
    now: float | None = None,
) -> WindowResult:
    """Start exactly a stop-set: ``containers``, or else the one the project's lease records; then release it.

    The lease is released only when it is this run's: the lease's stop-set was started, or ``run_id`` is the
    lease's. Without ``run_id``, a lease held by a live process (a job run whose worker may be running) is
    refused.
    """
    lease = read_lease(control.api, control.project)
    result = WindowResult(run_id=run_id, project=control.project, lease=lease.to_dict() if lease else None)
    stop_set: list[t.Any]
    if containers is not None:
        stop_set = list(containers)
        releasable = lease is not None and run_id is not None and lease.run_id == run_id
    elif lease is None:
        result.summary = f"stack {control.project!r} holds no lease and no containers were given: nothing to start"
        return result
    else:
        if run_id is not None and lease.run_id != run_id:
            result.error = (
                f"stack {control.project!r} is held by {lease.describe()}, not by run {run_id!r}; "
                "allowed: the run id of the lease, or no run_id"
            )
            return result
        if run_id is None and lease.owner.pid is not None and owner_alive(lease, time.time() if now is None else now):
            result.error = (
                f"stack {control.project!r} is held by the live process of {lease.describe()}; "
                "allowed: its run_id, to start its stop-set on purpose"
            )
            return result
        result.run_id = lease.run_id
        stop_set = list(lease.stop_set)
        releasable = True
    members, unknown = control.resolve(stop_set, control.containers())
    result.stop_set = [c.brief() for c in members] + [{"id": None, "name": u, "service": None} for u in unknown]
    if check:
        to_start = [c for c in members if c.state not in UP_STATES]  # as the start: an up one is left as it is
        result.changed = bool(to_start) or (releasable and lease is not None)
        summary = f"would start {len(to_start)} of {len(members) + len(unknown)}"
        result.start = {"summary": summary, "started": [c.brief() for c in to_start]}
        result.diff = _diff(to_start, "stopped", "running")
        result.summary = summary
        return result

    def pending(_start: StartResult) -> None:
        if releasable and lease is not None:
            result.hooks = [h.to_dict() for h in run_pending_hooks(control.api, lease)]

    start, result.released = restart_and_release(
        control, stop_set, start_timeout, lease if releasable else None, then=pending
    )
    result.start = start.to_dict()
    result.changed = start.changed or result.released or bool(result.hooks)
    result.diff = _diff(start.started, "stopped", "running")
    result.summary = start.summary
    if not start.ok:
        result.error = _start_failed(control.project, start, releasable and must_keep_lease(start))
    return result


def recover_stack(
    control: StackControl,
    *,
    run_id: str | None,
    start_timeout: int,
    check: bool = False,
    state_dir: str | None = None,
    recreator: t.Callable[[ComposeProject], Recreator] | None = None,
) -> WindowResult:
    """Restart the stop-set of a dead or expired run's lease (see _recovery.recover; ``state_dir`` for its signals
    and a pruned lease's journal, ``recreator`` for containers a prune deleted)."""
    rec = recover(
        control.api,
        control.project,
        run_id,
        start_timeout=start_timeout,
        check=check,
        control=control,
        state_dir=state_dir,
        recreator=recreator,
    )
    return _recovered(rec, control.project, run_id)


def recover_run(
    api: DockerApi,
    run_id: str,
    *,
    start_timeout: int,
    check: bool = False,
    state_dir: str | None = None,
    recreator: t.Callable[[ComposeProject], Recreator] | None = None,
) -> WindowResult:
    """recover_stack() of the stack whose lease ``run_id`` holds on this Docker host, found by list_leases() (with
    ``state_dir``, also a pruned lease's journal). No such lease: nothing to recover, nothing touched. Two or
    more (a run holds one stack): a LeaseError naming them, nothing touched.

    A lease whose labels cannot be read is left alone, with a warning, when it names another run; its LeaseError
    is raised when it names this run, or names no run while no readable lease is this run's (it may be)."""
    listing = list_leases(api, state_dir)
    projects = sorted({lease.project for lease in listing.leases if lease.run_id == run_id})
    for exc in listing.broken:
        holder = exc.context.get("run_id")
        if holder == run_id or (holder is None and not projects):
            raise exc
    warnings = [
        f"{exc.message} (it is not the lease of run {run_id!r}, so it was left alone)" for exc in listing.broken
    ]
    if len(projects) > 1:
        raise LeaseError(
            f"run {run_id!r} holds the leases of {len(projects)} stacks, "
            f"{', '.join(repr(p) for p in projects)}; allowed: a run holds one stack, recover each with its project",
            run_id=run_id,
            projects=projects,
        )
    if projects:
        result = recover_stack(
            StackControl(api, projects[0]),
            run_id=run_id,
            start_timeout=start_timeout,
            check=check,
            state_dir=state_dir,
            recreator=recreator,
        )
    else:
        message = f"no lease of run {run_id!r} on this Docker host: nothing to recover"
        result = _recovered(RecoverResult(False, "none", message), None, run_id)
    result.warnings[:0] = warnings
    return result


def _recovered(rec: RecoverResult, project: str | None, run_id: str | None) -> WindowResult:
    """The WindowResult of a recovery of ``project`` (None: no stack found)."""
    lease: Lease | None = rec.lease
    result = WindowResult(
        run_id=lease.run_id if lease else run_id,
        project=project,
        changed=rec.changed,
        recover=rec.to_dict(),
        summary=rec.message,
        lease=lease.to_dict() if lease else None,
        released=rec.released,
        warnings=rec.warnings,
    )
    if lease is not None:
        result.stop_set = [dict(e) for e in lease.stop_set]
    if rec.start is not None:
        result.start = rec.start.to_dict()
        result.diff = _diff(rec.start.started, "stopped", "running")
        if not rec.start.ok:
            result.error = _start_failed(project or "", rec.start, not rec.released)
    return result
