# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Compose dependency graph of one stack and the stop/start order derived from it. Pure.

It works on the containers the Engine's list endpoint returns (labels and HostConfig.NetworkMode),
never runs ``docker compose`` and imports neither Ansible nor Docker.

What Compose v2 (checked with v2.40.3) writes and this module relies on:

* ``com.docker.compose.depends_on`` is present on every service container, ``""`` without
  dependencies, otherwise comma-separated ``service:condition:restart`` entries in declaration order.
* ``network_mode: service:x``, ``links: [x]`` and ``volumes_from: [x]`` are folded into that label
  (``x:service_started:true`` for the first two, ``x:service_started:false`` for volumes_from; an
  explicit ``depends_on`` entry for ``x`` wins). ``HostConfig.NetworkMode`` of a network_mode
  consumer is ``container:<full id>``; it is used as a fallback for writers that omit the label.

podman-compose (checked with 1.0.3 and 1.6.0) writes no ``depends_on`` label (dependencies become
``podman run --requires``): for a stack without that label on any container, the dependencies are read from its
compose files (``com.docker.compose.project.config_files``, relative to ``...project.working_dir``) when they
are readable here, else the stack is one level and ``StackGraph.notes`` says why.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import os
import re
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import GraphError
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    COMPOSE_CONFIG_FILES,
    COMPOSE_DEPENDS_ON,
    COMPOSE_NUMBER,
    COMPOSE_ONEOFF,
    COMPOSE_WORKING_DIR,
    UP_STATES,
    ContainerRecord,
)

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
    # Why the order may be less than the stack declares (compose files that could not be read).
    notes: tuple[str, ...] = ()

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
            raise _entry_error(value, entry, f"unknown condition {condition!r}; allowed: {', '.join(CONDITIONS)}")
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


def _file_dependency(service: str, name: t.Any, spec: t.Any) -> Dependency:
    if not isinstance(name, str) or not _SERVICE_NAME.match(name):
        raise GraphError(f"service {service!r}: depends_on entry {name!r} is not a service name", service=service)
    if spec is None:
        return Dependency(name)
    if not isinstance(spec, t.Mapping):
        raise GraphError(f"service {service!r}: depends_on {name!r} must be a mapping, got {spec!r}", service=service)
    condition = spec.get("condition", SERVICE_STARTED)
    if condition not in CONDITIONS:
        raise GraphError(
            f"service {service!r}: depends_on {name!r} has condition {condition!r}; allowed: {', '.join(CONDITIONS)}",
            service=service,
        )
    return Dependency(name, condition, spec.get("restart") is True)


def compose_dependencies(documents: t.Sequence[t.Any]) -> dict[str, tuple[Dependency, ...]]:
    """service -> its depends_on (short list or long mapping syntax) from parsed compose files, merged in order."""
    result: dict[str, dict[str, Dependency]] = {}
    for doc in documents:
        services = doc.get("services") if isinstance(doc, t.Mapping) else None
        if services is None:
            continue
        if not isinstance(services, t.Mapping):
            raise GraphError(f"'services' must be a mapping, got {type(services).__name__}")
        for service, body in services.items():
            deps = result.setdefault(str(service), {})
            declared = body.get("depends_on") if isinstance(body, t.Mapping) else None
            if isinstance(declared, t.Mapping):
                entries = list(declared.items())
            elif isinstance(declared, list):
                entries = [(name, None) for name in declared]
            elif declared is None:
                entries = []
            else:
                raise GraphError(f"service {service!r}: depends_on must be a list or a mapping, got {declared!r}")
            for name, spec in entries:
                dep = _file_dependency(str(service), name, spec)
                deps[dep.service] = dep
    return {s: tuple(d.values()) for s, d in result.items()}


def compose_files(c: ContainerRecord) -> list[str]:
    """The compose files a container's labels name, made absolute against its working_dir label."""
    workdir = c.labels.get(COMPOSE_WORKING_DIR, "")
    files = [f.strip() for f in c.labels.get(COMPOSE_CONFIG_FILES, "").split(",") if f.strip()]
    return [f if os.path.isabs(f) else os.path.join(workdir, f) for f in files]


def _read_compose_files(paths: t.Sequence[str]) -> list[t.Any]:
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise OSError("PyYAML is not installed for this Python") from exc
    documents = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            try:
                documents.append(yaml.safe_load(f))
            except yaml.YAMLError as exc:
                raise OSError(f"{path} is not valid YAML: {exc}") from exc
    return documents


def file_dependencies(
    project: str, members: t.Sequence[ContainerRecord], read: t.Callable[[t.Sequence[str]], list[t.Any]] | None = None
) -> tuple[dict[str, tuple[Dependency, ...]] | None, str | None]:
    """The dependencies of a stack whose containers carry no depends_on label, from its compose files:
    (dependencies, None), or (None, why they could not be read: the stack is then one level)."""
    paths = next((compose_files(c) for c in members if c.labels.get(COMPOSE_CONFIG_FILES)), [])
    one_level = f"stack {project!r} is stopped and started in one level"
    if not paths:
        return None, f"{one_level}: its containers carry neither {COMPOSE_DEPENDS_ON} nor {COMPOSE_CONFIG_FILES}"
    try:
        return compose_dependencies((read or _read_compose_files)(paths)), None
    except GraphError as exc:
        return None, f"{one_level}: its compose files ({', '.join(paths)}) cannot be used: {exc.message}"
    except OSError as exc:
        why = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
        return None, f"{one_level}: its compose files ({', '.join(paths)}) cannot be read here: {why}"


def is_member(c: ContainerRecord) -> bool:
    """A service container of the stack: not a bosun worker, not a one-off (``compose run``)."""
    return bool(c.service) and not c.is_worker and c.labels.get(COMPOSE_ONEOFF, "False").strip().lower() != "true"


def _number(container: ContainerRecord) -> int:
    try:
        return int(container.labels.get(COMPOSE_NUMBER, ""))
    except ValueError:
        return 2**31  # unnumbered containers after numbered ones


def _network_target(network_mode: str, by_ref: t.Mapping[str, str]) -> str | None:
    """by_ref's value for the container that ``container:<id-or-name>`` names (a name, a full id or a unique
    prefix of at least 12 characters, as Docker resolves it), if it is there."""
    if not network_mode.startswith("container:"):
        return None
    ref = network_mode.removeprefix("container:").lstrip("/")
    if ref in by_ref:
        return by_ref[ref]
    if len(ref) >= 12:  # a unique short id, as Docker resolves it
        matches = {svc for key, svc in by_ref.items() if key.startswith(ref)}
        if len(matches) == 1:
            return matches.pop()
    return None


def network_parent(c: ContainerRecord, containers: t.Sequence[ContainerRecord]) -> ContainerRecord | None:
    """The container of ``containers`` whose network namespace ``c`` joins (``network_mode: container:...``)."""
    by_id = {p.id: p for p in containers}
    by_ref = {**{p.name: p.id for p in containers}, **{p.id: p.id for p in containers}}
    parent_id = _network_target(c.network_mode, by_ref)
    return by_id.get(parent_id) if parent_id else None


def build_graph(
    containers: t.Sequence[ContainerRecord], read: t.Callable[[t.Sequence[str]], list[t.Any]] | None = None
) -> StackGraph:
    """Build the graph of one Compose project from its containers (running or not).

    Containers without a service label, one-off (``docker compose run``) containers and bosun
    workers are left out. Dependencies on services without containers are collected in
    ``missing`` instead of failing. Without any depends_on label (podman-compose), the compose files are read
    (``read`` parses a list of paths; the default opens them with PyYAML).
    """
    members = [c for c in containers if is_member(c)]
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

    from_files: dict[str, tuple[Dependency, ...]] | None = None
    notes: tuple[str, ...] = ()
    if members and not any(COMPOSE_DEPENDS_ON in c.labels for c in members):
        from_files, note = file_dependencies(project, members, read)
        notes = (note,) if note else ()
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
            for dep in declared if from_files is None else from_files.get(service, ()):
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
    return StackGraph(project, grouped, dependencies, tuple(missing), notes)


def _find_cycle(graph: StackGraph, remaining: set[str]) -> list[str]:
    """A cycle among ``remaining`` (every one of them has a dependency inside it), smallest name first."""
    node = min(remaining)
    path: list[str] = []
    index: dict[str, int] = {}
    while node not in index:
        index[node] = len(path)
        path.append(node)
        node = min(d.service for d in graph.dependencies[node] if d.service in remaining)
    first = index[node]
    cycle = path[first:]
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


def running_stop_levels(
    graph: StackGraph, services: t.Iterable[str] | None = None
) -> tuple[list[list[ContainerRecord]], list[str]]:
    """The up containers to stop, in stop levels (empty levels dropped), and the dependents added.

    Up means running, but also ``restarting`` (crash-looping under a restart policy: Docker would start it
    again beside the worker) and ``paused`` (its processes still hold their files open).

    Without ``services`` the whole stack; with them, those services and every service depending on
    them (a dependent must never keep running while what it depends on is stopped).
    """
    wanted = set(graph.containers)
    added: list[str] = []
    if services:
        asked = set(services)
        wanted = dependents_closure(graph, asked)
        added = sorted(wanted - asked)
    levels = []
    for level in container_levels(graph, stop_levels(graph)):
        row = [c for c in level if c.service in wanted and c.state in UP_STATES]
        if row:
            levels.append(row)
    return levels, added
