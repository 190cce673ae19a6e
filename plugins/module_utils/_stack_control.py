# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stack control: stopping and starting the containers of one Compose project through the Engine API.

Levels come from the dependency graph (_graph.py) and run in order; the containers of one level stop or
start in parallel threads. Starting never starts a container that is not in the stop-set it is given. A stop-set
container that was deleted meanwhile (a prune) is created again by Compose (_compose_cli.py), unless its service
has another container now (someone recreated it: it is left alone). set_restart_policies() changes restart policies
(the host-proof ``always`` while a stack is down, and the policies given back afterwards).

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import re
import threading
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._compose_cli import RecreateResult
from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    DockerUnavailableError,
    NotFoundError,
    StackControlError,
    error_text,
)
from ansible_collections.bosun.compose.plugins.module_utils._graph import (
    StackGraph,
    build_graph,
    container_levels,
    is_member,
    running_stop_levels,
    start_levels,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    COMPOSE_PROJECT,
    DEFAULT_START_TIMEOUT,
    UP_STATES,
    ContainerRecord,
    RestartPolicy,
)

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

# Docker's list endpoint appends the health to Status: "Up 3 seconds (health: starting)".
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
HEALTH_STARTING = "starting"
_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
# States a container of the stop-set is returned to after its start, instead of being waited for: a paused one
# is paused again; a crash-looping one is left to its restart policy (it may well keep crash-looping).
RESTORED_STATES = ("paused", "restarting")
_MAX_THREADS = 16
_POLL_INTERVAL = 0.25

# A stop-set entry: a record, a lease entry ({id, name, service}) or a user's id / id prefix / name.
ContainerRef = t.Union[ContainerRecord, str, t.Mapping[str, t.Any]]


def health_of(status: str) -> str | None:
    """``healthy``, ``unhealthy``, ``starting`` or None (no healthcheck) from the list endpoint's Status."""
    m = _HEALTH.search(status or "")
    if not m:
        return None
    return HEALTH_STARTING if m.group(1) == "health: starting" else m.group(1)


@dataclasses.dataclass
class Failure:
    """A container that could not be stopped or started, and why."""

    container: ContainerRecord
    error: str
    # The container no longer exists; retrying cannot help.
    gone: bool = False
    # The Engine did not answer (a daemon restart): retrying once it answers again may help.
    unavailable: bool = False

    def to_dict(self) -> dict[str, t.Any]:
        return {"container": self.container.brief(), "error": self.error, "gone": self.gone}


def _briefs(containers: t.Iterable[ContainerRecord]) -> list[dict[str, t.Any]]:
    return [c.brief() for c in containers]


@dataclasses.dataclass
class StopResult:
    stopped: list[ContainerRecord] = dataclasses.field(default_factory=list)
    failed: list[Failure] = dataclasses.field(default_factory=list)
    # Planned but left alone: not running any more, in a level after a failed one, or after a cancel.
    skipped: list[ContainerRecord] = dataclasses.field(default_factory=list)
    duration: float = 0.0
    cancelled: bool = False
    # Why the stop ended early because the caller lost the right to touch the stack (see stop's fence).
    fenced: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "stopped": _briefs(self.stopped),
            "failed": [f.to_dict() for f in self.failed],
            "skipped": _briefs(self.skipped),
            "duration": round(self.duration, 3),
            "cancelled": self.cancelled,
            "fenced": self.fenced,
        }


@dataclasses.dataclass
class StartResult:
    total: int = 0
    started: list[ContainerRecord] = dataclasses.field(default_factory=list)
    already_running: list[ContainerRecord] = dataclasses.field(default_factory=list)
    failed: list[Failure] = dataclasses.field(default_factory=list)
    # Started, but reported unhealthy, or not healthy / not running when the start timeout ran out.
    unhealthy: list[ContainerRecord] = dataclasses.field(default_factory=list)
    timed_out: list[ContainerRecord] = dataclasses.field(default_factory=list)
    # Started and returned to the state they had before the stop (RESTORED_STATES); not waited for.
    paused: list[ContainerRecord] = dataclasses.field(default_factory=list)
    # Frozen by the run (stop mode pause) and thawed: running again at once, no start-up, not waited for.
    unpaused: list[ContainerRecord] = dataclasses.field(default_factory=list)
    restarting: list[ContainerRecord] = dataclasses.field(default_factory=list)
    # Deleted while down (a prune) and created again by Compose: the new containers.
    recreated: list[ContainerRecord] = dataclasses.field(default_factory=list)
    # Deleted while down, and their service has another container now (someone recreated it): left alone.
    replaced: list[Replacement] = dataclasses.field(default_factory=list)
    # What the last poll saw of each timed-out container: "health: starting", or its state ("restarting", ...).
    seen: dict[str, str] = dataclasses.field(default_factory=dict)
    # What went wrong without failing the start (a restart policy that could not be given back).
    warnings: list[str] = dataclasses.field(default_factory=list)
    timeout: int = 0
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def changed(self) -> bool:
        return bool(self.started or self.unpaused)

    @property
    def running(self) -> list[ContainerRecord]:
        return self.started + self.unpaused + self.already_running + self.recreated

    @property
    def summary(self) -> str:
        return f"{len(self.running)}/{self.total} started"

    @property
    def failures(self) -> str:
        return "; ".join(f"{f.container.name!r}: {f.error}" for f in self.failed)

    @property
    def healthy(self) -> bool:
        """Every started container ran, and was healthy where it has a healthcheck, within the start timeout."""
        return not self.unhealthy and not self.timed_out

    @property
    def health_problems(self) -> str:
        """Each container that came back unhealthy or was not ready when the start timeout ran out, and its health."""
        parts = []
        if self.unhealthy:
            parts.append("came back unhealthy: " + ", ".join(f"{c.name!r} unhealthy" for c in self.unhealthy))
        if self.timed_out:
            late = ", ".join(f"{c.name!r} {self.seen.get(c.id, 'not running')}" for c in self.timed_out)
            parts.append(
                f"the start timeout ({self.timeout}s) ran out: {late}; what depends on them was started without waiting"
            )
        return "; ".join(parts)

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "summary": self.summary,
            "started": _briefs(self.started),
            "already_running": _briefs(self.already_running),
            "failed": [f.to_dict() for f in self.failed],
            "unhealthy": _briefs(self.unhealthy),
            "timed_out": _briefs(self.timed_out),
            "paused": _briefs(self.paused),
            "unpaused": _briefs(self.unpaused),
            "restarting": _briefs(self.restarting),
            "recreated": _briefs(self.recreated),
            "replaced": [r.to_dict() for r in self.replaced],
            "duration": round(self.duration, 3),
        }


@dataclasses.dataclass(frozen=True)
class Replacement:
    """A stop-set container that is gone, and the container its service has now (made by someone else)."""

    gone: t.Mapping[str, t.Any]
    now: ContainerRecord

    def to_dict(self) -> dict[str, t.Any]:
        return {"gone": dict(self.gone), "now": {**self.now.brief(), "state": self.now.state}}

    def describe(self) -> str:
        return (
            f"service {self.gone.get('service')!r} was recreated as {self.now.name!r} ({self.now.id[:12]}, "
            f"{self.now.state}) while the stack was down; the stale {self.gone.get('name')!r} is gone and the new one "
            "was left as it is"
        )


class Recreator(t.Protocol):
    """Creates deleted service containers again (the Compose CLI, see _compose_cli.ComposeCli)."""

    def recreate(self, services: t.Sequence[str], timeout: float) -> RecreateResult:
        """Create and start exactly ``services``; why not, with the command to run, when it cannot."""

    def manual_command(self, services: t.Sequence[str]) -> str:
        """The command an operator runs to bring ``services`` back."""


def _ref_name(item: ContainerRef) -> str:
    if isinstance(item, ContainerRecord):
        return item.name
    if isinstance(item, t.Mapping):
        return str(item.get("name") or item.get("id") or "?")
    return str(item)


def _prior_state(item: ContainerRef) -> tuple[str, str]:
    """(id, state before the stop) of a stop-set entry; the state is "" when the entry does not tell."""
    if isinstance(item, ContainerRecord):
        return item.id, item.state
    if isinstance(item, t.Mapping):
        return str(item.get("id") or ""), str(item.get("state") or "")
    return "", ""


class StackControl:
    """Stops and starts the containers of one Compose project, level by level, in parallel within a level."""

    def __init__(
        self,
        api: DockerApi,
        project: str,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.project = project
        self.clock = clock
        self.sleep = sleep

    def _current(self, ids: t.Collection[str] | None = None) -> dict[str, ContainerRecord]:
        """The project's containers now, or only those of ``ids`` (looked up by id: no walk of the whole host)."""
        wanted = None if ids is None else sorted(ids)
        return {c.id: c for c in self.api.list_containers(f"{COMPOSE_PROJECT}={self.project}", ids=wanted)}

    def containers(self) -> list[ContainerRecord]:
        """Every service container of the project, running or not (one list request)."""
        return [c for c in self._current().values() if is_member(c)]

    def graph(self) -> StackGraph:
        return build_graph(self.containers())

    def plan_stop(self, services: t.Sequence[str] | None = None) -> tuple[list[list[ContainerRecord]], list[str]]:
        """The running containers to stop, in stop levels, and the dependent services added to ``services``."""
        graph = self.graph()
        if not graph.containers:
            raise StackControlError(
                f"no containers of Compose project {self.project!r} on this Docker host; "
                "allowed: the name of a project created with docker compose",
                project=self.project,
            )
        return running_stop_levels(graph, services)

    def _parallel(self, fn: t.Callable[[ContainerRecord], t.Any], items: t.Sequence[ContainerRecord]) -> list[t.Any]:
        """fn over items in threads; returns, per item in order, its result or the exception it raised."""
        if len(items) <= 1:
            out: list[t.Any] = []
            for c in items:
                try:
                    out.append(fn(c))
                except Exception as exc:  # recorded per container, never lost
                    out.append(exc)
            return out
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(_MAX_THREADS, len(items))) as pool:
            futures = [pool.submit(fn, c) for c in items]
            return [f.exception() or f.result() for f in futures]

    def _stop_level_one(
        self,
        timeout: int | None,
        stop_timeouts: t.Mapping[str, int],
        states: t.Mapping[str, str],
        actions: t.Mapping[str, str],
        c: ContainerRecord,
    ) -> None:
        state = states.get(c.id, "running")
        if actions.get(c.id) == "pause" and state == "running":
            self.api.pause_container(c.id, what=f"pause container {c.name}")
        else:
            self._stop_one(c, timeout, stop_timeouts, state)

    def _stop_one(
        self, c: ContainerRecord, timeout: int | None, stop_timeouts: t.Mapping[str, int], state: str = "running"
    ) -> None:
        if state == "paused":
            # A frozen process cannot handle its stop signal: it would sit out the grace period and be killed.
            self.api.unpause_container(c.id, what=f"unpause container {c.name} to stop it")
        if timeout is None:
            # Docker would use the container's own StopTimeout (Compose's stop_grace_period); pass it so
            # the HTTP request waits long enough when it exceeds the client timeout.
            timeout = stop_timeouts[c.id] if c.id in stop_timeouts else self.api.stop_timeout(c.id)
        self.api.stop_container(c.id, timeout, what=f"stop container {c.name}")

    def stop(
        self,
        levels: t.Sequence[t.Sequence[ContainerRecord]],
        timeout: int | None,
        stop_timeouts: t.Mapping[str, int] | None = None,
        cancel: threading.Event | None = None,
        fence: t.Callable[[], str | None] | None = None,
        actions: t.Mapping[str, str] | None = None,
    ) -> StopResult:
        """Stop the containers level by level (the given order), each level in parallel.

        ``actions`` maps container ids to ``pause`` (freeze a running one: no grace period) or ``stop`` (the
        default). A container to pause that is paused already is left as it is.

        Only containers running right now are stopped (one list request per level). After a level with a
        failure (other than a container that vanished), or once ``cancel`` is set, deeper levels are not
        touched: they hold what the still-running containers depend on. What was stopped is always reported.
        ``fence`` runs before each level; when it returns a reason (the caller may no longer touch the stack),
        the stop ends there and ``fenced`` holds that reason.
        """
        t0 = self.clock()
        result = StopResult()
        if actions and all(actions.get(c.id) == "pause" for level in levels for c in level):
            # A freeze has no grace period and no shutdown to order: every level is frozen in one batch.
            levels = [[c for level in levels for c in level]] if levels else []
        for index, level in enumerate(levels):
            failed_hard = any(not f.gone for f in result.failed)
            if failed_hard or (cancel is not None and cancel.is_set()):
                result.cancelled = not failed_hard
                result.skipped.extend(c for row in levels[index:] for c in row)
                break
            result.fenced = fence() if fence is not None else None
            if result.fenced:
                result.skipped.extend(c for row in levels[index:] for c in row)
                break
            current = self._current([c.id for c in level])
            running: list[ContainerRecord] = []
            states: dict[str, str] = {}
            for c in level:
                now = current.get(c.id)
                frozen = now is not None and now.state == "paused" and (actions or {}).get(c.id) == "pause"
                if now is not None and now.state in UP_STATES and not frozen:
                    running.append(c)
                    states[c.id] = now.state
                else:
                    result.skipped.append(c)
            stop_one = functools.partial(self._stop_level_one, timeout, stop_timeouts or {}, states, actions or {})
            outcomes = self._parallel(stop_one, running)
            for c, outcome in zip(running, outcomes):
                if isinstance(outcome, BaseException):
                    result.failed.append(
                        Failure(
                            c,
                            f"cannot stop container {c.name!r} ({c.id[:12]}) of stack {self.project!r}: "
                            f"{error_text(outcome)}",
                            gone=isinstance(outcome, NotFoundError),
                        )
                    )
                else:
                    result.stopped.append(c)
        result.duration = self.clock() - t0
        return result

    def resolve(
        self, stop_set: t.Sequence[ContainerRef], containers: t.Sequence[ContainerRecord]
    ) -> tuple[list[ContainerRecord], list[str]]:
        """Map stop-set entries to current containers of the stack; also the entries that match none.

        Records and lease entries match by full id only: a container recreated under the same name is
        not the one that was stopped. Strings (user input) match a full id, a unique id prefix of at
        least 12 characters, or a name.
        """
        by_id = {c.id: c for c in containers}
        by_name = {c.name: c for c in containers}
        found: dict[str, ContainerRecord] = {}
        unknown: list[str] = []
        for item in stop_set:
            match: ContainerRecord | None
            if isinstance(item, (ContainerRecord, t.Mapping)):
                cid = item.id if isinstance(item, ContainerRecord) else str(item.get("id") or "")
                name = item.name if isinstance(item, ContainerRecord) else str(item.get("name") or "")
                match, label = by_id.get(cid), name or cid
            else:
                key = str(item).lstrip("/")
                match, label = by_id.get(key) or by_name.get(key), key
                if match is None and len(key) >= 12:
                    prefixed = [c for c in containers if c.id.startswith(key)]
                    match = prefixed[0] if len(prefixed) == 1 else None
            if match is None:
                unknown.append(label or "?")
            else:
                found.setdefault(match.id, match)
        return list(found.values()), unknown

    def start(
        self,
        stop_set: t.Sequence[ContainerRef],
        timeout: int = DEFAULT_START_TIMEOUT,
        recreator: Recreator | None = None,
    ) -> StartResult:
        """Start exactly the containers of ``stop_set``, dependencies first, and never any other.

        The order comes from the current graph of the stack restricted to the stop-set. Each level is
        started in parallel (a start the Engine refuses is tried again one by one), then polled (one list
        request per poll) until its containers run and, where they have a healthcheck, are healthy, within
        ``timeout`` seconds for the whole start. Once the
        time is up the remaining levels are still started, without waiting: a stack left stopped is worse
        than one started out of health order. Failures are recorded and starting goes on.

        A stop-set entry (a record, or a mapping with a ``state``) that was ``paused`` or ``restarting`` is
        returned to that state: paused again right after its start, or left to its restart policy. Neither is
        waited for nor counted as failed when it does not stay running. An entry that was ``running`` and is paused
        now (the run froze it, stop mode pause) is unpaused: it runs at once and is not waited for.

        An entry that names its service and is gone (a prune deleted it while the stack was down) is created again
        with ``recreator`` (Compose), first and in one call for all of them, unless its service has another
        container now (someone recreated it): that one is left as it is (``replaced``). Without a recreator, or
        when Compose cannot do it, it is a failure whose message gives the command that brings it back.
        """
        t0 = self.clock()
        deadline = t0 + timeout
        everything = self.containers()
        members, unknown = self.resolve(stop_set, everything)
        prior = {cid: state for cid, state in map(_prior_state, stop_set) if state in (*RESTORED_STATES, "running")}
        result = StartResult(total=len(members) + len(unknown), timeout=timeout)
        unknown = self._bring_back_deleted(stop_set, everything, unknown, deadline, recreator, result)
        for key in unknown:
            gone = ContainerRecord(id=key, name=key, state="", labels={})
            result.failed.append(
                Failure(
                    gone,
                    f"container {key!r} of the stop-set no longer exists in stack {self.project!r}; "
                    "it cannot be started",
                    gone=True,
                )
            )
        # Running before the run and paused now (the run, or a dead run, froze it): thawed first, in one batch, as
        # a thaw has no start-up to order or wait for.
        thaw = [c for c in members if c.state == "paused" and prior.get(c.id) == "running"]
        self._thaw(thaw, result)
        graph = build_graph(everything)
        wanted = {c.id for c in members} - {c.id for c in thaw}
        for level in container_levels(graph, start_levels(graph)):
            row = [c for c in level if c.id in wanted]
            if row:
                self._start_level(row, deadline, result, prior)
        result.duration = self.clock() - t0
        return result

    def _bring_back_deleted(
        self,
        stop_set: t.Sequence[ContainerRef],
        everything: t.Sequence[ContainerRecord],
        unknown: list[str],
        deadline: float,
        recreator: Recreator | None,
        result: StartResult,
    ) -> list[str]:
        """Deal with the gone entries that name their service; the keys of those left for the caller to report."""
        ids = {_prior_state(e)[0] for e in stop_set}
        entries = [
            dict(e.brief()) if isinstance(e, ContainerRecord) else dict(e) for e in stop_set if not isinstance(e, str)
        ]
        gone = [e for e in entries if e.get("service") and _ref_name(e) in unknown]
        if not gone:
            return unknown
        handled: set[str] = set()
        deleted: dict[str, list[dict[str, t.Any]]] = {}
        for entry in gone:
            service = str(entry["service"])
            others = [c for c in everything if c.service == service and c.id not in ids]
            if others:
                result.replaced.append(Replacement(entry, others[0]))
                handled.add(str(entry.get("name") or entry.get("id")))
            else:
                deleted.setdefault(service, []).append(entry)
        if deleted:
            services = sorted(deleted)
            outcome = (
                recreator.recreate(services, max(deadline - self.clock(), 0.0))
                if recreator is not None
                else RecreateResult(False, "", "no Compose project is known for this stack")
            )
            names = {str(e.get("name")) for entries in deleted.values() for e in entries}
            if outcome.ok:
                before = {c.id for c in everything}
                result.recreated.extend(
                    c for c in self.containers() if c.service in deleted and c.id not in before and c.id not in ids
                )
                handled |= names
            else:
                command = outcome.command or (recreator.manual_command(services) if recreator is not None else "")
                bring_back = f"; bring it back with: {command}" if command else ""
                for entry in (e for entries in deleted.values() for e in entries):
                    result.failed.append(
                        Failure(
                            ContainerRecord(
                                id=str(entry.get("id") or ""), name=str(entry.get("name")), state="", labels={}
                            ),
                            f"container {entry.get('name')!r} (service {entry.get('service')!r}) of stack "
                            f"{self.project!r} was deleted while the stack was down (a prune?) and Compose could not "
                            f"create it again: {outcome.error}{bring_back}",
                            gone=True,
                        )
                    )
                handled |= names
        return [k for k in unknown if k not in handled]

    def set_restart_policies(self, targets: t.Sequence[tuple[ContainerRef, RestartPolicy]]) -> list[str]:
        """Give each container its restart policy, in parallel; one message per container that failed."""
        refs = [(_prior_state(ref)[0] or str(ref), _ref_name(ref), policy) for ref, policy in targets]
        records = [ContainerRecord(id=cid, name=name, state="", labels={}) for cid, name, _p in refs]
        policies = {cid: policy for cid, _n, policy in refs}

        def update(c: ContainerRecord) -> None:
            policy = policies[c.id]
            self.api.update_restart_policy(c.id, policy, what=f"set the restart policy of {c.name} to {policy.name}")

        outcomes = self._parallel(update, records)
        return [
            f"cannot set the restart policy of container {c.name!r} to {policies[c.id].name!r}: {error_text(o)}"
            for c, o in zip(records, outcomes)
            if isinstance(o, BaseException)
        ]

    def _start_level(
        self, row: list[ContainerRecord], deadline: float, result: StartResult, prior: t.Mapping[str, str]
    ) -> None:
        # Up already (it was never stopped): left as it is; only a running one is waited for.
        to_start = [c for c in row if c.state not in UP_STATES]
        result.already_running.extend(c for c in row if c.state in UP_STATES)
        outcomes = self._start_all(to_start)
        waiting: dict[str, ContainerRecord] = {c.id: c for c in row if c.state == "running"}
        for c, outcome in zip(to_start, outcomes):
            if isinstance(outcome, BaseException):
                # A 404 also says "network ... not found" for a container that exists: only a missing one is gone.
                gone = isinstance(outcome, NotFoundError) and not self.api.container_exists(c.id)
                result.failed.append(
                    Failure(
                        c,
                        f"cannot start container {c.name!r} ({c.id[:12]}) of stack {self.project!r}: "
                        f"{error_text(outcome)}",
                        gone,
                        unavailable=isinstance(outcome, DockerUnavailableError),
                    )
                )
            else:
                result.started.append(c)
                if prior.get(c.id) == "paused":
                    self._pause_again(c, result)
                elif prior.get(c.id) == "restarting":
                    result.restarting.append(c)
                else:
                    waiting[c.id] = c
        # Wait for the level: running, and healthy where a healthcheck exists.
        while waiting:
            now = self._current(waiting)
            for cid, c in list(waiting.items()):
                cur = now.get(cid)
                if cur is None:
                    del waiting[cid]
                    result.failed.append(
                        Failure(
                            c,
                            f"container {c.name!r} ({cid[:12]}) of stack {self.project!r} vanished while starting",
                            gone=True,
                        )
                    )
                    self._forget(result, c)
                elif cur.state in ("exited", "dead"):
                    del waiting[cid]
                    result.failed.append(
                        Failure(
                            c,
                            f"container {c.name!r} ({cid[:12]}) of stack {self.project!r} stopped right after "
                            f"its start: {cur.status}",
                        )
                    )
                    self._forget(result, c)
                elif cur.state == "running":
                    health = health_of(cur.status)
                    if health is None or health == HEALTHY:
                        del waiting[cid]
                    elif health == UNHEALTHY:
                        del waiting[cid]
                        result.unhealthy.append(c)
            if not waiting:
                break
            if self.clock() >= deadline:
                for cid in waiting:
                    cur = now.get(cid)
                    result.seen[cid] = (
                        f"health: {health_of(cur.status)}"
                        if cur is not None and cur.state == "running"
                        else (cur.state if cur is not None else "gone")
                    )
                result.timed_out.extend(waiting.values())
                break
            self.sleep(_POLL_INTERVAL)

    def _start_all(self, row: list[ContainerRecord]) -> list[t.Any]:
        """Start the containers of one level at once; per container None or the exception of its last start.

        The starts refused while the Engine answers are tried again one by one, in passes while a pass starts one:
        Podman refuses some of the starts made at once of containers that require each other (a podman-compose
        1.x pod): "generating dependency graph ... not found in input list", "container state improper", and
        leaves them exited. A missing container and an Engine that does not answer are not tried again."""

        def start(c: ContainerRecord) -> None:
            self.api.start_container(c.id, what=f"start container {c.name}")

        outcomes = self._parallel(start, row)
        progress = True
        while progress:
            progress = False
            for i, c in enumerate(row):
                if not isinstance(outcomes[i], BaseException) or isinstance(
                    outcomes[i], (NotFoundError, DockerUnavailableError)
                ):
                    continue
                try:
                    start(c)
                except Exception as exc:  # pylint: disable=broad-exception-caught  # recorded, never lost
                    outcomes[i] = exc
                else:
                    outcomes[i], progress = None, True
        return outcomes

    def _thaw(self, thaw: t.Sequence[ContainerRecord], result: StartResult) -> None:
        outcomes = self._parallel(lambda c: self.api.unpause_container(c.id, what=f"unpause container {c.name}"), thaw)
        for c, outcome in zip(thaw, outcomes):
            if isinstance(outcome, BaseException):
                gone = isinstance(outcome, NotFoundError) and not self.api.container_exists(c.id)
                result.failed.append(
                    Failure(
                        c,
                        f"cannot unpause container {c.name!r} ({c.id[:12]}) of stack {self.project!r}: "
                        f"{error_text(outcome)}",
                        gone,
                    )
                )
            else:
                result.unpaused.append(c)

    def _pause_again(self, c: ContainerRecord, result: StartResult) -> None:
        try:
            self.api.pause_container(c.id, what=f"pause container {c.name} again")
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # It runs, just not paused: a retry of the start could not do better, so this keeps no lease.
            result.failed.append(
                Failure(
                    c,
                    f"started container {c.name!r} ({c.id[:12]}) of stack {self.project!r}, but could not pause it "
                    f"again as it was before the stop: {error_text(exc)}",
                    gone=True,
                )
            )
            return
        result.paused.append(c)

    @staticmethod
    def _forget(result: StartResult, c: ContainerRecord) -> None:
        result.started = [x for x in result.started if x.id != c.id]
        result.already_running = [x for x in result.already_running if x.id != c.id]
