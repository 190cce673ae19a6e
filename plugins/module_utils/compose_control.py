# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Control of a Docker Compose stack: its dependency graph and the stop/start order derived from it.

The graph part is pure: it works on the containers the Engine's list endpoint returns (labels and
HostConfig.NetworkMode), never runs ``docker compose`` and imports neither Ansible nor Docker.

What Compose v2 (checked with v2.40.3) writes and this module relies on:

* ``com.docker.compose.depends_on`` is present on every service container, ``""`` without
  dependencies, otherwise comma-separated ``service:condition:restart`` entries in declaration order.
* ``network_mode: service:x``, ``links: [x]`` and ``volumes_from: [x]`` are folded into that label
  (``x:service_started:true`` for the first two, ``x:service_started:false`` for volumes_from; an
  explicit ``depends_on`` entry for ``x`` wins). ``HostConfig.NetworkMode`` of a network_mode
  consumer is ``container:<full id>``; it is used as a fallback for writers that omit the label.

Below the graph: :class:`StackControl` stops and starts containers through the Engine API (levels in
order, containers of a level in parallel threads) and the lease (see :func:`acquire_lease`) records on
the daemon which run stopped what, so that exactly that is started again, even after a crash.

This is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import re
import socket
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils.model import (
    COMPOSE_DEPENDS_ON,
    COMPOSE_NUMBER,
    COMPOSE_ONEOFF,
    COMPOSE_PROJECT,
    DEFAULT_START_TIMEOUT,
    LABEL_WORKER_RUN_ID,
    BosunError,
    ContainerRecord,
    GraphError,
    utc_iso,
)
from ansible_collections.bosun.compose.plugins.module_utils.docker_api import error_text, status_code
from ansible_collections.bosun.compose.plugins.module_utils.worker_runner import stop_workers

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils.docker_api import DockerApi

SERVICE_STARTED = "service_started"
SERVICE_HEALTHY = "service_healthy"
SERVICE_COMPLETED = "service_completed_successfully"
CONDITIONS = (SERVICE_STARTED, SERVICE_HEALTHY, SERVICE_COMPLETED)

# Compose's own rule for service names (compose-spec schema).
_SERVICE_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
_FORMAT = "comma-separated 'service[:condition[:restart]]' entries"


@dataclasses.dataclass(frozen=True)
class Dependency:
    """One entry of ``com.docker.compose.depends_on``: the service depended on and how."""

    service: str
    condition: str = SERVICE_STARTED
    restart: bool = False


@dataclasses.dataclass(frozen=True)
class MissingDependency:
    """A dependency on a service that has no container among those the graph was built from."""

    service: str
    dependency: str


@dataclasses.dataclass(frozen=True)
class StackGraph:
    """The services of one Compose project, their containers and their in-stack dependencies."""

    project: str
    # service -> every container of it (all replicas), by container number, then name
    containers: t.Mapping[str, tuple[ContainerRecord, ...]]
    # service -> dependencies on other services present in the stack, in label order
    dependencies: t.Mapping[str, tuple[Dependency, ...]]
    missing: tuple[MissingDependency, ...] = ()

    @property
    def services(self) -> list[str]:
        return sorted(self.containers)


def _entry_error(value: str, entry: str, reason: str) -> GraphError:
    return GraphError(
        f"invalid {COMPOSE_DEPENDS_ON} entry {entry!r} in {value!r}: {reason}",
        label=COMPOSE_DEPENDS_ON,
        value=value,
    )


def parse_depends_on(value: str) -> list[Dependency]:
    """Parse the ``com.docker.compose.depends_on`` label.

    Accepts ``svc:condition:restart`` (Compose v2), ``svc:condition`` and bare ``svc``; an empty
    value means no dependencies. Repeated services keep their first entry.
    """
    result: list[Dependency] = []
    seen: set[str] = set()
    if not value.strip():
        return result
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            raise _entry_error(value, raw, f"empty entry; allowed: {_FORMAT}")
        parts = [p.strip() for p in entry.split(":")]
        if len(parts) > 3:
            raise _entry_error(value, entry, f"too many ':' parts; allowed: {_FORMAT}")
        service = parts[0]
        if not _SERVICE_NAME.match(service):
            raise _entry_error(
                value, entry, f"service name {service!r} is not valid; allowed: letters, digits, '.', '_' and '-'"
            )
        condition = parts[1] if len(parts) > 1 else SERVICE_STARTED
        if condition not in CONDITIONS:
            raise _entry_error(
                value, entry, f"unknown condition {condition!r}; allowed: {', '.join(CONDITIONS)}"
            )
        restart = False
        if len(parts) > 2:
            flag = parts[2].lower()
            if flag not in ("true", "false"):
                raise _entry_error(value, entry, f"restart flag {parts[2]!r} is not valid; allowed: true, false")
            restart = flag == "true"
        if service not in seen:
            seen.add(service)
            result.append(Dependency(service, condition, restart))
    return result


def _number(container: ContainerRecord) -> int:
    try:
        return int(container.labels.get(COMPOSE_NUMBER, ""))
    except ValueError:
        return 2**31  # unnumbered containers after numbered ones


def _network_target(network_mode: str, by_ref: t.Mapping[str, str]) -> str | None:
    """The service whose container ``container:<id-or-name>`` names, if it is in the stack."""
    if not network_mode.startswith("container:"):
        return None
    ref = network_mode[len("container:"):].lstrip("/")
    if ref in by_ref:
        return by_ref[ref]
    if len(ref) >= 12:  # a unique short id, as Docker resolves it
        matches = {svc for key, svc in by_ref.items() if key.startswith(ref)}
        if len(matches) == 1:
            return matches.pop()
    return None


def build_graph(containers: t.Sequence[ContainerRecord]) -> StackGraph:
    """Build the graph of one Compose project from its containers (running or not).

    Containers without a service label, one-off (``docker compose run``) containers and bosun
    workers are left out. Dependencies on services without containers are collected in
    ``missing`` instead of failing.
    """
    members = [
        c
        for c in containers
        if c.service
        and not c.is_worker
        and c.labels.get(COMPOSE_ONEOFF, "False").strip().lower() != "true"
    ]
    projects = sorted({c.project or "" for c in members})
    if len(projects) > 1:
        raise GraphError(
            f"containers of {len(projects)} Compose projects given ({', '.join(map(repr, projects))}); "
            "allowed: the containers of exactly one project",
            projects=projects,
        )
    project = projects[0] if projects else ""

    by_service: dict[str, list[ContainerRecord]] = {}
    for c in members:
        by_service.setdefault(t.cast(str, c.service), []).append(c)
    grouped = {s: tuple(sorted(cs, key=lambda c: (_number(c), c.name))) for s, cs in by_service.items()}

    by_ref: dict[str, str] = {}
    for service, cs in grouped.items():
        for c in cs:
            by_ref[c.id] = service
            by_ref[c.name.lstrip("/")] = service

    dependencies: dict[str, tuple[Dependency, ...]] = {}
    missing: list[MissingDependency] = []
    for service in sorted(grouped):
        deps: dict[str, Dependency] = {}
        # Replicas normally carry identical labels; the lowest-numbered one wins on conflicts.
        for c in grouped[service]:
            try:
                declared = parse_depends_on(c.labels.get(COMPOSE_DEPENDS_ON, ""))
            except GraphError as exc:
                raise GraphError(
                    f"container {c.name!r} of service {service!r} in stack {project!r}: {exc.message}",
                    container=c.name,
                    **exc.context,
                ) from exc
            for dep in declared:
                deps.setdefault(dep.service, dep)
            # network_mode: service:x, for writers that do not fold it into depends_on.
            target = _network_target(c.network_mode, by_ref)
            if target is not None and target != service:
                deps.setdefault(target, Dependency(target, SERVICE_STARTED, True))
        present = []
        for name, dep in deps.items():
            if name in grouped:
                present.append(dep)
            else:
                missing.append(MissingDependency(service, name))
        dependencies[service] = tuple(present)
    return StackGraph(project, grouped, dependencies, tuple(missing))


def _find_cycle(graph: StackGraph, remaining: set[str]) -> list[str]:
    """A cycle among ``remaining`` (every one of them has a dependency inside it), smallest name first."""
    node = min(remaining)
    path: list[str] = []
    index: dict[str, int] = {}
    while node not in index:
        index[node] = len(path)
        path.append(node)
        node = min(d.service for d in graph.dependencies[node] if d.service in remaining)
    cycle = path[index[node]:]
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def start_levels(graph: StackGraph) -> list[list[str]]:
    """Services grouped by topological level, dependencies first; level 0 has no in-stack dependencies."""
    remaining = set(graph.containers)
    placed: set[str] = set()
    levels: list[list[str]] = []
    while remaining:
        level = sorted(s for s in remaining if all(d.service in placed for d in graph.dependencies.get(s, ())))
        if not level:
            cycle = _find_cycle(graph, remaining)
            raise GraphError(
                f"dependency cycle in stack {graph.project!r}: {' -> '.join(cycle + cycle[:1])}",
                project=graph.project,
                cycle=cycle,
            )
        levels.append(level)
        placed.update(level)
        remaining.difference_update(level)
    return levels


def stop_levels(graph: StackGraph) -> list[list[str]]:
    """The exact reverse of :func:`start_levels`: dependents first."""
    return list(reversed(start_levels(graph)))


def container_levels(graph: StackGraph, levels: t.Sequence[t.Sequence[str]]) -> list[list[ContainerRecord]]:
    """Map service levels to their containers, every replica in order."""
    result: list[list[ContainerRecord]] = []
    for level in levels:
        row: list[ContainerRecord] = []
        for service in level:
            if service not in graph.containers:
                raise GraphError(
                    f"unknown service {service!r} in stack {graph.project!r}; allowed: {', '.join(graph.services)}",
                    project=graph.project,
                    service=service,
                )
            row.extend(graph.containers[service])
        result.append(row)
    return result


def dependents_closure(graph: StackGraph, services: t.Iterable[str]) -> set[str]:
    """The given services plus every service that depends on them, directly or transitively."""
    wanted = set(services)
    unknown = sorted(wanted - set(graph.containers))
    if unknown:
        raise GraphError(
            f"unknown service(s) {', '.join(map(repr, unknown))} in stack {graph.project!r}; "
            f"allowed: {', '.join(graph.services)}",
            project=graph.project,
            services=unknown,
        )
    dependents: dict[str, set[str]] = {}
    for service, deps in graph.dependencies.items():
        for dep in deps:
            dependents.setdefault(dep.service, set()).add(service)
    result = set(wanted)
    todo = list(wanted)
    while todo:
        for dependent in dependents.get(todo.pop(), ()):
            if dependent not in result:
                result.add(dependent)
                todo.append(dependent)
    return result


def healthy_gates(graph: StackGraph) -> dict[str, set[str]]:
    """For every service, the in-stack dependencies that must be healthy before it may start."""
    return {
        service: {d.service for d in graph.dependencies.get(service, ()) if d.condition == SERVICE_HEALTHY}
        for service in graph.services
    }


# --------------------------------------------------------------------------------------------------
# Stopping and starting a stack through the Engine API.
# --------------------------------------------------------------------------------------------------

class StackControlError(BosunError):
    """A stack cannot be stopped or started as asked (unknown stack, container or service)."""


class LeaseError(BosunError):
    """The lease of a stack cannot be created, read or removed."""


class LeaseHeldError(LeaseError):
    """Another run holds the lease of the stack; the message names the holder."""


# Docker's list endpoint appends the health to Status: "Up 3 seconds (health: starting)".
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
HEALTH_STARTING = "starting"
_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_MAX_THREADS = 16
_POLL_INTERVAL = 0.25


def health_of(status: str) -> str | None:
    """``healthy``, ``unhealthy``, ``starting`` or None (no healthcheck) from the list endpoint's Status."""
    m = _HEALTH.search(status or "")
    if not m:
        return None
    return HEALTH_STARTING if m.group(1) == "health: starting" else m.group(1)


def ref(c: ContainerRecord) -> dict[str, t.Any]:
    """The short identity of a container used in results and in the lease: id, name, service."""
    return {"id": c.id, "name": c.name, "service": c.service}


def is_member(c: ContainerRecord) -> bool:
    """A service container of the stack: not a bosun worker, not a one-off (``compose run``)."""
    return bool(c.service) and not c.is_worker and c.labels.get(COMPOSE_ONEOFF, "False").strip().lower() != "true"


@dataclasses.dataclass
class Failure:
    """A container that could not be stopped or started, and why."""

    container: ContainerRecord
    error: str
    # The container no longer exists; retrying cannot help.
    gone: bool = False

    def to_dict(self) -> dict[str, t.Any]:
        return {"container": ref(self.container), "error": self.error, "gone": self.gone}


@dataclasses.dataclass
class StopResult:
    stopped: list[ContainerRecord] = dataclasses.field(default_factory=list)
    failed: list[Failure] = dataclasses.field(default_factory=list)
    # Planned but left alone: not running any more, or in a level after a failed one.
    skipped: list[ContainerRecord] = dataclasses.field(default_factory=list)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "stopped": [ref(c) for c in self.stopped],
            "failed": [f.to_dict() for f in self.failed],
            "skipped": [ref(c) for c in self.skipped],
            "duration": round(self.duration, 3),
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
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def changed(self) -> bool:
        return bool(self.started)

    @property
    def summary(self) -> str:
        return f"{len(self.started) + len(self.already_running)}/{self.total} started"

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "summary": self.summary,
            "started": [ref(c) for c in self.started],
            "already_running": [ref(c) for c in self.already_running],
            "failed": [f.to_dict() for f in self.failed],
            "unhealthy": [ref(c) for c in self.unhealthy],
            "timed_out": [ref(c) for c in self.timed_out],
            "duration": round(self.duration, 3),
        }


ContainerRef = t.Union[ContainerRecord, str, t.Mapping[str, t.Any]]


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

    def containers(self) -> list[ContainerRecord]:
        """Every service container of the project, running or not (one list request)."""
        return [c for c in self.api.list_containers([f"{COMPOSE_PROJECT}={self.project}"], all=True) if is_member(c)]

    def graph(self, containers: t.Sequence[ContainerRecord] | None = None) -> StackGraph:
        return build_graph(self.containers() if containers is None else containers)

    def plan_stop(
        self, services: t.Sequence[str] | None = None, graph: StackGraph | None = None
    ) -> tuple[list[list[ContainerRecord]], list[str]]:
        """The running containers to stop, in stop levels, and the dependent services added to ``services``.

        Without ``services`` the whole project; with them, those services and every service depending
        on them (a dependent must never keep running while what it depends on is stopped).
        """
        graph = graph or self.graph()
        if not graph.containers:
            raise StackControlError(
                f"no containers of Compose project {self.project!r} on this Docker host; "
                "allowed: the name of a project created with docker compose",
                project=self.project,
            )
        wanted = set(graph.containers)
        added: list[str] = []
        if services:
            wanted = dependents_closure(graph, services)
            added = sorted(wanted - set(services))
        levels = []
        for level in container_levels(graph, stop_levels(graph)):
            row = [c for c in level if c.service in wanted and c.state == "running"]
            if row:
                levels.append(row)
        return levels, added

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

    def _stop_one(self, c: ContainerRecord, timeout: int | None, graces: t.Mapping[str, int]) -> None:
        if timeout is None:
            # Docker would use the container's own StopTimeout (Compose's stop_grace_period); pass it so
            # the HTTP request waits long enough when it exceeds the client timeout.
            timeout = graces[c.id] if c.id in graces else self.api.stop_timeout(c.id)
        self.api.call(f"stop container {c.name}", self.api.client.stop, c.id, timeout=timeout)

    def stop(self, levels: t.Sequence[t.Sequence[ContainerRecord]], timeout: int | None,
             graces: t.Mapping[str, int] | None = None) -> StopResult:
        """Stop the containers level by level (the given order), each level in parallel.

        Only containers running right now are stopped (one list request per level). After a level with a
        failure (other than a container that vanished), deeper levels are not touched: they hold what
        the still-running container depends on. What was stopped is always reported.
        """
        t0 = self.clock()
        result = StopResult()
        for index, level in enumerate(levels):
            if result.failed and any(not f.gone for f in result.failed):
                result.skipped.extend(c for row in levels[index:] for c in row)
                break
            current = {c.id: c for c in self.api.list_containers([f"{COMPOSE_PROJECT}={self.project}"], all=True)}
            running = []
            for c in level:
                now = current.get(c.id)
                if now is not None and now.state in ("running", "restarting", "paused"):
                    running.append(c)
                else:
                    result.skipped.append(c)
            for c, outcome in zip(running, self._parallel(lambda c: self._stop_one(c, timeout, graces or {}), running)):
                if isinstance(outcome, BaseException):
                    gone = status_code(outcome) == 404
                    result.failed.append(Failure(c, f"cannot stop container {c.name!r} ({c.id[:12]}) of stack "
                                                    f"{self.project!r}: {error_text(outcome)}", gone))
                else:
                    result.stopped.append(c)
        result.duration = self.clock() - t0
        return result

    def resolve(self, stop_set: t.Sequence[ContainerRef], containers: t.Sequence[ContainerRecord]) -> tuple[
            list[ContainerRecord], list[str]]:
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

    def start(self, stop_set: t.Sequence[ContainerRef], timeout: int = DEFAULT_START_TIMEOUT) -> StartResult:
        """Start exactly the containers of ``stop_set``, dependencies first, and never any other.

        The order comes from the current graph of the stack restricted to the stop-set. Each level is
        started in parallel, then polled (one list request per poll) until its containers run and, where
        they have a healthcheck, are healthy, within ``timeout`` seconds for the whole start. Once the
        time is up the remaining levels are still started, without waiting: a stack left stopped is worse
        than one started out of health order. Failures are recorded and starting goes on.
        """
        t0 = self.clock()
        deadline = t0 + timeout
        everything = self.containers()
        members, unknown = self.resolve(stop_set, everything)
        result = StartResult(total=len(members) + len(unknown))
        for key in unknown:
            gone = ContainerRecord(id=key, name=key, state="", labels={})
            result.failed.append(Failure(gone, f"container {key!r} of the stop-set no longer exists in stack "
                                               f"{self.project!r}; it cannot be started", gone=True))
        graph = build_graph(everything)
        wanted = {c.id for c in members}
        for level in container_levels(graph, start_levels(graph)):
            row = [c for c in level if c.id in wanted]
            if row:
                self._start_level(row, deadline, result)
        result.duration = self.clock() - t0
        return result

    def _start_level(self, row: list[ContainerRecord], deadline: float, result: StartResult) -> None:
        to_start = [c for c in row if c.state != "running"]
        result.already_running.extend(c for c in row if c.state == "running")
        outcomes = self._parallel(
            lambda c: self.api.call(f"start container {c.name}", self.api.client.start, c.id), to_start)
        waiting: dict[str, ContainerRecord] = {c.id: c for c in row if c.state == "running"}
        for c, outcome in zip(to_start, outcomes):
            if isinstance(outcome, BaseException):
                # A 404 also says "network ... not found" for a container that exists: only a missing one is gone.
                gone = status_code(outcome) == 404 and not self._exists(c)
                result.failed.append(Failure(c, f"cannot start container {c.name!r} ({c.id[:12]}) of stack "
                                                f"{self.project!r}: {error_text(outcome)}", gone))
            else:
                result.started.append(c)
                waiting[c.id] = c
        # Wait for the level: running, and healthy where a healthcheck exists.
        while waiting:
            now = {c.id: c for c in self.api.list_containers([f"{COMPOSE_PROJECT}={self.project}"], all=True)}
            for cid, c in list(waiting.items()):
                cur = now.get(cid)
                if cur is None:
                    del waiting[cid]
                    result.failed.append(Failure(c, f"container {c.name!r} ({cid[:12]}) of stack {self.project!r} "
                                                    "vanished while starting", gone=True))
                    self._forget(result, c)
                elif cur.state in ("exited", "dead"):
                    del waiting[cid]
                    result.failed.append(Failure(c, f"container {c.name!r} ({cid[:12]}) of stack {self.project!r} "
                                                    f"stopped right after its start: {cur.status}"))
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
                result.timed_out.extend(waiting.values())
                break
            self.sleep(_POLL_INTERVAL)

    def _exists(self, c: ContainerRecord) -> bool:
        try:
            self.api.inspect_container(c.id)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            if status_code(exc) == 404:
                return False
            raise
        return True

    @staticmethod
    def _forget(result: StartResult, c: ContainerRecord) -> None:
        result.started = [x for x in result.started if x.id != c.id]
        result.already_running = [x for x in result.already_running if x.id != c.id]


# --------------------------------------------------------------------------------------------------
# The lease: who stopped a stack and what must be started again, recorded on the Docker daemon.
# --------------------------------------------------------------------------------------------------

LEASE_PREFIX = "bosun.lease."
LEASE_PROJECT = "bosun.lease.project"
LEASE_RUN_ID = "bosun.lease.run-id"
LEASE_JOB = "bosun.lease.job"
LEASE_OWNER = "bosun.lease.owner"
LEASE_EXPIRES = "bosun.lease.expires"
LEASE_CREATED = "bosun.lease.created"
LEASE_STOP_SET = "bosun.lease.stop-set"
LEASE_NAME_PREFIX = "bosun-lease-"


def lease_name(project: str) -> str:
    return LEASE_NAME_PREFIX + project


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def boot_id() -> str | None:
    return _read_text("/proc/sys/kernel/random/boot_id")


def pid_start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); None if no such live process."""
    stat = _read_text(f"/proc/{pid}/stat")
    if not stat or ")" not in stat:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # fields from 3 on; comm may contain spaces and ')'
    if not fields or fields[0] in ("Z", "X"):  # a zombie or dead task has finished
        return None
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


@dataclasses.dataclass(frozen=True)
class Owner:
    """The process holding a lease. Without ``pid`` only the expiry tells whether it is alive."""

    hostname: str
    boot_id: str | None = None
    pid: int | None = None
    pid_start: int | None = None

    @classmethod
    def current(cls, pid: int | None = None, *, with_pid: bool = True) -> Owner:
        """This host and boot, and the process ``pid`` (default: this one) unless ``with_pid`` is false."""
        if not with_pid:
            return cls(socket.gethostname(), boot_id())
        pid = os.getpid() if pid is None else pid
        return cls(socket.gethostname(), boot_id(), pid, pid_start_time(pid))

    def to_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: t.Mapping[str, t.Any]) -> Owner:
        pid, start = d.get("pid"), d.get("pid_start")
        return cls(
            hostname=str(d.get("hostname") or ""),
            boot_id=d.get("boot_id") or None,
            pid=int(pid) if pid is not None else None,
            pid_start=int(start) if start is not None else None,
        )

    def describe(self) -> str:
        return f"host {self.hostname!r}" + (f" pid {self.pid}" if self.pid is not None else "")


@dataclasses.dataclass(frozen=True)
class Lease:
    """The record of one stopped stack: which run stopped what, owned by whom, until when."""

    project: str
    run_id: str
    job: str
    owner: Owner
    expires: int
    created: int
    stop_set: tuple[t.Mapping[str, t.Any], ...] = ()
    # The id of the lease container; set when read from the daemon.
    container_id: str | None = None

    def to_labels(self) -> dict[str, str]:
        return {
            LEASE_PROJECT: self.project,
            LEASE_RUN_ID: self.run_id,
            LEASE_JOB: self.job,
            LEASE_OWNER: json.dumps(self.owner.to_dict(), sort_keys=True),
            LEASE_EXPIRES: str(self.expires),
            LEASE_CREATED: str(self.created),
            LEASE_STOP_SET: json.dumps([dict(e) for e in self.stop_set], sort_keys=True),
        }

    @classmethod
    def from_labels(cls, labels: t.Mapping[str, str], container_id: str | None = None) -> Lease:
        name = labels.get(LEASE_PROJECT, "?")
        try:
            owner = Owner.from_dict(json.loads(labels[LEASE_OWNER]))
            stop_set = json.loads(labels[LEASE_STOP_SET])
            if not isinstance(stop_set, list):
                raise ValueError("stop-set is not a list")
            return cls(
                project=labels[LEASE_PROJECT],
                run_id=labels[LEASE_RUN_ID],
                job=labels.get(LEASE_JOB, ""),
                owner=owner,
                expires=int(labels[LEASE_EXPIRES]),
                created=int(labels[LEASE_CREATED]),
                stop_set=tuple({"id": e.get("id"), "name": e.get("name"), "service": e.get("service")}
                               for e in stop_set),
                container_id=container_id,
            )
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise LeaseError(
                f"the lease of stack {name!r} has missing or invalid labels ({exc}); allowed: the "
                f"{LEASE_PREFIX}* labels written by bosun.compose; remove the container {lease_name(name)!r} "
                "after checking the stack by hand",
                project=name,
            ) from exc

    def describe(self) -> str:
        job = f" of job {self.job!r}" if self.job else ""
        expires = utc_iso(self.expires, timespec="seconds")
        return f"run {self.run_id!r}{job} on {self.owner.describe()}, expires {expires}"

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "project": self.project,
            "run_id": self.run_id,
            "job": self.job,
            "owner": self.owner.to_dict(),
            "expires": self.expires,
            "expires_iso": utc_iso(self.expires, timespec="seconds"),
            "created": self.created,
            "stop_set": [dict(e) for e in self.stop_set],
            "container": lease_name(self.project),
        }


def held_message(lease: Lease, alive: bool) -> str:
    state = "alive" if alive else "expired or dead: run state=recovered to restart its stop-set and release it"
    return f"stack {lease.project!r} is held by {lease.describe()} ({state}); allowed: one run per stack at a time"


def owner_alive(
    lease: Lease,
    now: float,
    *,
    here: Owner | None = None,
    start_time_of: t.Callable[[int], int | None] = pid_start_time,
) -> bool:
    """Whether the lease's owner may still be running.

    Alive iff not expired and: the owner has no pid, or it lives on another host or boot (we cannot
    look, so the expiry decides), or its pid exists here with the same start time (pid reuse check).
    """
    if now >= lease.expires:
        return False
    owner = lease.owner
    if owner.pid is None:
        return True
    here = here or Owner.current(with_pid=False)
    if owner.hostname != here.hostname or (owner.boot_id or None) != (here.boot_id or None):
        return True
    start = start_time_of(owner.pid)
    if start is None:
        return False
    return owner.pid_start is None or start == owner.pid_start


def read_lease(api: DockerApi, project: str) -> Lease | None:
    """The lease of the stack, or None (one inspect of the lease container by name)."""
    name = lease_name(project)
    try:
        info = api.call(f"read the lease {name}", api.client.inspect_container, name)
    except Exception as exc:
        if status_code(exc) == 404:
            return None
        raise
    labels = (info.get("Config") or {}).get("Labels") or {}
    if labels.get(LEASE_PROJECT) != project:
        raise LeaseError(
            f"container {name!r} exists but is not the bosun lease of stack {project!r} "
            f"(label {LEASE_PROJECT} is {labels.get(LEASE_PROJECT)!r}); allowed: that name is reserved for bosun",
            project=project, container=name,
        )
    return Lease.from_labels(labels, container_id=info.get("Id"))


def list_leases(api: DockerApi) -> list[Lease]:
    """Every lease on the daemon (one list request filtered by label), sorted by project."""
    found = api.list_containers([LEASE_PROJECT], all=True)
    return sorted((Lease.from_labels(c.labels, container_id=c.id) for c in found), key=lambda lease: lease.project)


def acquire_lease(
    api: DockerApi,
    project: str,
    run_id: str,
    job: str,
    stop_set: t.Sequence[ContainerRecord],
    ttl: int,
    owner: Owner,
    image: str,
    *,
    now: float | None = None,
) -> Lease:
    """Record the stop-set and its owner on the daemon before anything is stopped; atomic by name.

    The lease is a container named ``bosun-lease-<project>`` that is created and never started, from
    ``image`` (the image id of one of the stack's own containers, so it is present locally). Its labels
    (``bosun.lease.*``) hold project, run id, job, owner (host, boot id, pid, pid start time), expiry,
    creation time and the stop-set. Names are unique per daemon, so a 409 Conflict on create means the
    stack is held: :class:`LeaseHeldError` names the holder. It carries no ``com.docker.compose.*``
    label (Compose never sees it) and no ``bosun.job.*`` label (discovery ignores it). It survives
    controller crashes and host reboots; ``docker container prune`` would remove it.
    """
    if ttl <= 0:
        raise LeaseError(f"lease ttl {ttl!r} for stack {project!r} is not valid; allowed: a positive number of seconds",
                         project=project, ttl=ttl)
    created = int(time.time() if now is None else now)
    lease = Lease(project, run_id, job or "", owner, created + int(ttl), created, tuple(ref(c) for c in stop_set))
    name = lease_name(project)
    for attempt in range(10):
        try:
            res = api.call(
                f"create the lease {name}", api.client.create_container,
                image=image, name=name, command=["bosun-lease"], labels=lease.to_labels(),
                network_disabled=True, host_config=api.client.create_host_config(network_mode="none"),
            )
            return dataclasses.replace(lease, container_id=res.get("Id"))
        except Exception as exc:
            if status_code(exc) != 409:
                if isinstance(exc, BosunError):
                    raise
                raise LeaseError(f"cannot create the lease {name!r} of stack {project!r} from image {image!r}: "
                                 f"{error_text(exc)}", project=project, image=image) from exc
        holder = read_lease(api, project)
        if holder is not None:
            alive = owner_alive(holder, time.time())
            raise LeaseHeldError(held_message(holder, alive), project=project, holder=holder.to_dict(),
                                 owner_alive=alive)
        # Released between our create and our read, or still being created (Docker reserves the name
        # before inspect can see the container): try again shortly.
        time.sleep(0.1 * (attempt + 1))
    raise LeaseError(f"cannot acquire the lease of stack {project!r}: it is being created and removed concurrently",
                     project=project)


def release_lease(api: DockerApi, lease: Lease) -> bool:
    """Remove the lease if it is still ours (same run id); False if it is gone or someone else's."""
    current = read_lease(api, lease.project)
    if current is None or current.run_id != lease.run_id:
        return False
    try:
        api.call(f"remove the lease {lease_name(lease.project)}", api.client.remove_container,
                 current.container_id or lease_name(lease.project), force=True)
    except Exception as exc:
        if status_code(exc) == 404:
            return False
        raise
    return True


@dataclasses.dataclass
class RecoverResult:
    changed: bool
    action: str  # none | in_progress | other_run | recovered | would_recover
    message: str
    lease: Lease | None = None
    workers_stopped: list[str] = dataclasses.field(default_factory=list)
    start: StartResult | None = None
    released: bool = False

    @property
    def ok(self) -> bool:
        return self.start is None or self.start.ok

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "changed": self.changed,
            "action": self.action,
            "message": self.message,
            "lease": self.lease.to_dict() if self.lease else None,
            "workers_stopped": list(self.workers_stopped),
            "start": self.start.to_dict() if self.start else None,
            "released": self.released,
        }


def must_keep_lease(result: StartResult) -> bool:
    """Keep the lease when a container that still exists failed to start: a later run can retry it."""
    return any(not f.gone for f in result.failed)


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
) -> RecoverResult:
    """Restart the stop-set of a lease whose owner is dead or expired, then release the lease.

    The run's worker containers (label ``bosun.worker.run-id``) are stopped (SIGTERM, ``grace``
    seconds, then SIGKILL) and removed first, so the stack never runs beside that run's worker.
    """
    lease = read_lease(api, project)
    if lease is None:
        return RecoverResult(False, "none", f"stack {project!r} holds no lease: nothing to recover")
    if run_id is not None and lease.run_id != run_id:
        return RecoverResult(False, "other_run", f"stack {project!r} is held by another run, {lease.describe()}; "
                                                 f"run {run_id!r} has nothing to recover", lease)
    if owner_alive(lease, time.time() if now is None else now):
        what = "the run is still in progress" if run_id is not None else "its owner is alive"
        return RecoverResult(False, "in_progress", f"stack {project!r} is held by {lease.describe()}: {what}; "
                                                   "nothing touched", lease)
    workers = api.list_containers([f"{LABEL_WORKER_RUN_ID}={lease.run_id}"], all=True)
    if check:
        return RecoverResult(True, "would_recover", f"would stop {len(workers)} worker(s) of run {lease.run_id!r}, "
                                                    f"start {len(lease.stop_set)} container(s) of stack {project!r} "
                                                    "and release its lease", lease,
                             workers_stopped=[w.name for w in workers])
    result = RecoverResult(True, "recovered", "", lease)
    try:
        result.workers_stopped = stop_workers(api, run_id=lease.run_id, grace=grace)
    except Exception as exc:
        raise LeaseError(
            f"cannot stop the workers of run {lease.run_id!r}: {error_text(exc)}; stack {project!r} was not started, "
            "as it must never run beside that run's worker", project=project) from exc
    control = control or StackControl(api, project)
    result.start = control.start(list(lease.stop_set), start_timeout)
    if not must_keep_lease(result.start):
        result.released = release_lease(api, lease)
    result.message = (f"recovered stack {project!r} from {lease.describe()}: {result.start.summary}"
                      + ("" if result.released else "; the lease is kept so that a later run can retry"))
    return result
