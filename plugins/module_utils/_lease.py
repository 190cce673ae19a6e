# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lease: who stopped a stack and what must be started again, recorded on the Docker daemon.

The lease is a container named ``bosun-lease-<project>`` that is created and never started. Its labels
(``bosun.lease.*``) hold project, run id, job, owner (host, boot id, pid, pid start time), expiry,
creation time, the stop-set (each entry with its state before the run and how it was taken down: stopped
or paused, and the restart policy it had before the run set ``always``), the run's pending error and finally hooks
and the project's Compose files. Names are unique per daemon, so creating it is the atomic lock. It survives
controller crashes, dockerd restarts and host reboots. ``docker container prune`` removes it: so a run given a
state directory also writes its labels to a journal there (``<state_dir>/leases/<project>.json``), and reading the
lease falls back to that journal when the container is gone. The journal goes when the lease is released.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    ConflictError,
    EngineError,
    LeaseError,
    LeaseHeldError,
    error_text,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    ContainerRecord,
    Problem,
    RestartPolicy,
    utc_iso,
)
from ansible_collections.bosun.compose.plugins.module_utils._state import (
    lease_journal_path,
    lease_journal_paths,
    read_lease_journal,
    remove_lease_journal,
    write_lease_journal,
)

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

LEASE_PREFIX = "bosun.lease."
LEASE_PROJECT = "bosun.lease.project"
LEASE_RUN_ID = "bosun.lease.run-id"
LEASE_JOB = "bosun.lease.job"
LEASE_OWNER = "bosun.lease.owner"
LEASE_EXPIRES = "bosun.lease.expires"
LEASE_CREATED = "bosun.lease.created"
LEASE_STOP_SET = "bosun.lease.stop-set"
# Seconds after creation by which every stop the run may have begun has ended (the plan's stop budget).
LEASE_STOP_BUDGET = "bosun.lease.stop-budget"
# The run's error and finally hooks, which whoever recovers a dead run runs after the restart.
LEASE_HOOKS = "bosun.lease.hooks"
# The path of the lease's journal on the host, and the project's Compose files (to recreate pruned containers).
LEASE_JOURNAL = "bosun.lease.journal"
LEASE_COMPOSE = "bosun.lease.compose"
LEASE_NAME_PREFIX = "bosun-lease-"
# What a stop-set entry holds: identity, the state before the run, how it was taken down (stop, pause), and the
# restart policy to give it back (only when the run changed it).
STOP_SET_KEYS = ("id", "name", "service", "state", "action", "restart_policy")


def _json_list(text: str) -> list[t.Any]:
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError(f"a JSON {type(value).__name__}, not a list")
    return value


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
    after_comm = stat.rindex(")") + 2  # comm may contain spaces and ')'
    fields = stat[after_comm:].split()  # fields from 3 on
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
    stop_budget: int = 0
    # {phase, id, name, service, command, user, timeout} of each error and finally hook, in run order.
    hooks: tuple[t.Mapping[str, t.Any], ...] = ()
    # The journal's path on the host ("" without one) and the project's Compose files (see _compose_cli.py).
    journal: str = ""
    compose: t.Mapping[str, t.Any] = dataclasses.field(default_factory=dict)
    # Where it was read from: "daemon" (the lease container) or "journal" (the container was pruned).
    source: str = "daemon"

    @property
    def held_policies(self) -> list[tuple[dict[str, t.Any], RestartPolicy]]:
        """Each stop-set entry whose restart policy the run changed, with the policy to give back."""
        return [
            (dict(e), RestartPolicy.from_dict(e["restart_policy"]))
            for e in self.stop_set
            if isinstance(e.get("restart_policy"), t.Mapping)
        ]

    @property
    def stops_settled_at(self) -> int:
        """When every stop this run may have begun has ended (Docker finishes a stop its client left)."""
        return self.created + self.stop_budget

    def to_labels(self) -> dict[str, str]:
        return {
            LEASE_PROJECT: self.project,
            LEASE_RUN_ID: self.run_id,
            LEASE_JOB: self.job,
            LEASE_OWNER: json.dumps(self.owner.to_dict(), sort_keys=True),
            LEASE_EXPIRES: str(self.expires),
            LEASE_CREATED: str(self.created),
            LEASE_STOP_SET: json.dumps([dict(e) for e in self.stop_set], sort_keys=True),
            LEASE_STOP_BUDGET: str(self.stop_budget),
            LEASE_HOOKS: json.dumps([dict(h) for h in self.hooks], sort_keys=True),
            LEASE_JOURNAL: self.journal,
            LEASE_COMPOSE: json.dumps(dict(self.compose), sort_keys=True),
        }

    @classmethod
    def from_labels(cls, labels: t.Mapping[str, str], container_id: str | None = None, source: str = "daemon") -> Lease:
        """The lease its labels describe. LeaseError (context: project, container, label, value, run_id when
        readable, source) when one is missing or invalid."""
        name = labels.get(LEASE_PROJECT, "?")
        label = LEASE_PROJECT

        def read(key: str, default: str | None = None) -> str:
            nonlocal label
            label = key
            text = labels.get(key) or default
            if text is None:
                raise KeyError(key)
            return text

        try:
            project, run_id = read(LEASE_PROJECT), read(LEASE_RUN_ID)
            owner = Owner.from_dict(json.loads(read(LEASE_OWNER)))
            expires, created = int(read(LEASE_EXPIRES)), int(read(LEASE_CREATED))
            stop_budget = int(read(LEASE_STOP_BUDGET, "0"))
            stop_set = tuple({k: e.get(k) for k in STOP_SET_KEYS if k in e} for e in _json_list(read(LEASE_STOP_SET)))
            hooks = tuple(dict(h) for h in _json_list(read(LEASE_HOOKS, "[]")))
            compose = json.loads(read(LEASE_COMPOSE, "{}"))
            if not isinstance(compose, dict):
                raise ValueError(f"a JSON {type(compose).__name__}, not an object")
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            value = labels.get(label) or None
            what = "is missing" if value is None else f"has value {value[:200]!r}, which is not valid ({exc})"
            raise LeaseError(
                f"the lease of stack {name!r}: label {label!r} {what}; allowed: the {LEASE_PREFIX}* labels written "
                f"by bosun.compose; remove the container {lease_name(name)!r} after checking the stack by hand",
                project=name,
                container=lease_name(name),
                label=label,
                value=value,
                run_id=labels.get(LEASE_RUN_ID) or None,
                source=source,
            ) from exc
        return cls(
            project=project,
            run_id=run_id,
            job=labels.get(LEASE_JOB, ""),
            owner=owner,
            expires=expires,
            created=created,
            stop_set=stop_set,
            container_id=container_id,
            stop_budget=stop_budget,
            hooks=hooks,
            journal=labels.get(LEASE_JOURNAL) or "",
            compose=compose,
            source=source,
        )

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
            "stop_budget": self.stop_budget,
            "hooks": [dict(h) for h in self.hooks],
            "container": lease_name(self.project),
            "journal": self.journal or None,
            "source": self.source,
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


def read_lease(api: DockerApi, project: str, state_dir: str | None = None) -> Lease | None:
    """The lease of the stack, or None (one inspect of the lease container by name).

    With ``state_dir``, a lease whose container is gone (pruned) is read from its journal there (``source``
    "journal"): the run it names may still be in progress, or have died with the stack down.
    """
    name = lease_name(project)
    info = api.inspect_container(name)
    if info is None:
        labels = read_lease_journal(lease_journal_path(state_dir, project)) if state_dir else None
        return Lease.from_labels(labels, source="journal") if labels and labels.get(LEASE_PROJECT) == project else None
    labels = (info.get("Config") or {}).get("Labels") or {}
    if labels.get(LEASE_PROJECT) != project:
        raise LeaseError(
            f"container {name!r} exists but is not the bosun lease of stack {project!r} "
            f"(label {LEASE_PROJECT} is {labels.get(LEASE_PROJECT)!r}); allowed: that name is reserved for bosun",
            project=project,
            container=name,
        )
    return Lease.from_labels(labels, container_id=info.get("Id"))


@dataclasses.dataclass(frozen=True)
class LeaseListing:
    """The leases on the daemon (and pruned ones' journals), and apart those whose labels cannot be read: one
    broken lease must not hide the others from a recovery by run id or from job_info."""

    leases: tuple[Lease, ...]
    # Each names its stack, container, label and (when readable) run id in its context.
    broken: tuple[LeaseError, ...] = ()

    def problems(self, project: str | None = None) -> list[Problem]:
        """The broken leases (of ``project`` only, when given) as job_info's problems."""
        return [
            Problem(
                severity="error",
                kind="container",
                object=str(e.context.get("container")),
                label=e.context.get("label"),
                value=None if e.context.get("value") is None else str(e.context["value"])[:200],
                message=f"container {e.context.get('container')!r}: {e.message}",
            )
            for e in self.broken
            if project is None or e.context.get("project") == project
        ]


def list_leases(api: DockerApi, state_dir: str | None = None) -> LeaseListing:
    """Every lease on the daemon (one list request filtered by label), sorted by project; apart, those whose
    labels cannot be read.

    With ``state_dir``, also each lease whose container is gone (pruned) but whose journal is there.
    """
    leases: list[Lease] = []
    broken: list[LeaseError] = []

    def add(labels: t.Mapping[str, str], **kw: t.Any) -> None:
        try:
            leases.append(Lease.from_labels(labels, **kw))
        except LeaseError as exc:
            broken.append(exc)

    for c in api.find_containers(LEASE_PROJECT):
        add(c.labels, container_id=c.id)
    seen = {lease.project for lease in leases} | {e.context.get("project") for e in broken}
    for path in lease_journal_paths(state_dir) if state_dir else []:
        labels = read_lease_journal(path)
        if labels and labels.get(LEASE_PROJECT) and labels[LEASE_PROJECT] not in seen:
            add(labels, source="journal")
    return LeaseListing(
        tuple(sorted(leases, key=lambda lease: lease.project)),
        tuple(sorted(broken, key=lambda e: str(e.context.get("project")))),
    )


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
    stop_budget: int = 0,
    actions: t.Mapping[str, str] | None = None,
    hooks: t.Sequence[t.Mapping[str, t.Any]] = (),
    restart_policies: t.Mapping[str, RestartPolicy] | None = None,
    compose: t.Mapping[str, t.Any] | None = None,
    state_dir: str | None = None,
    now: float | None = None,
) -> Lease:
    """Record the stop-set and its owner on the daemon before anything is stopped; atomic by name.

    The lease is a container named ``bosun-lease-<project>`` that is created and never started, from
    ``image`` (the image id of one of the stack's own containers, so it is present locally). Its labels
    (``bosun.lease.*``) hold project, run id, job, owner (host, boot id, pid, pid start time), expiry,
    creation time, the stop-set (with each container's state and action), the stop budget and the run's
    pending error and finally hooks. Names are unique per daemon, so a 409 Conflict on create means the
    stack is held: :class:`LeaseHeldError` names the holder. It carries no ``com.docker.compose.*``
    label (Compose never sees it) and no ``bosun.job.*`` label (discovery ignores it). It survives
    controller crashes and host reboots; ``docker container prune`` would remove it, so with ``state_dir`` the
    labels are also written to a journal there, right after the create (see read_lease()). ``restart_policies``
    maps the ids of stop-set containers whose restart policy the run will change to the policy to give back.
    """
    if ttl <= 0:
        raise LeaseError(
            f"lease ttl {ttl!r} for stack {project!r} is not valid; allowed: a positive number of seconds",
            project=project,
            ttl=ttl,
        )
    created = int(time.time() if now is None else now)
    policies = restart_policies or {}
    lease = Lease(
        project,
        run_id,
        job or "",
        owner,
        created + int(ttl),
        created,
        tuple(
            {
                **c.brief(),
                "state": c.state,
                "action": (actions or {}).get(c.id, "stop"),
                **({"restart_policy": policies[c.id].to_dict()} if c.id in policies else {}),
            }
            for c in stop_set
        ),
        stop_budget=stop_budget,
        hooks=tuple(hooks),
        journal=lease_journal_path(state_dir, project) if state_dir else "",
        compose=dict(compose or {}),
    )
    name = lease_name(project)
    for attempt in range(10):
        try:
            cid = api.create_container(
                f"create the lease {name}",
                image,
                name=name,
                command=["bosun-lease"],
                labels=lease.to_labels(),
                network_disabled=True,
                host_config={"network_mode": "none"},
            )
            if lease.journal and not write_lease_journal(lease.journal, lease.to_labels()):
                lease = dataclasses.replace(lease, journal="")  # no journal: the daemon's copy is the only one
            return dataclasses.replace(lease, container_id=cid)
        except ConflictError:
            pass
        except EngineError as exc:
            raise LeaseError(
                f"cannot create the lease {name!r} of stack {project!r} from image {image!r}: {error_text(exc)}",
                project=project,
                image=image,
            ) from exc
        holder = read_lease(api, project)
        if holder is not None:
            alive = owner_alive(holder, time.time())
            raise LeaseHeldError(
                held_message(holder, alive), project=project, holder=holder.to_dict(), owner_alive=alive
            )
        # Released between our create and our read, or still being created (Docker reserves the name
        # before inspect can see the container): try again shortly.
        time.sleep(0.1 * (attempt + 1))
    raise LeaseError(
        f"cannot acquire the lease of stack {project!r}: it is being created and removed concurrently", project=project
    )


def release_lease(api: DockerApi, lease: Lease) -> bool:
    """Remove the lease if it is still ours (same run id), and its journal; False if it is gone or someone else's.

    The lease goes with its anonymous volumes (an image's VOLUME, see lease_image()). False too when another
    caller (a concurrent recovery of the same lease) removed it first, or was removing it (HTTP 409). A lease
    whose container was pruned is released by removing its journal (True when the journal was still ours).
    """
    current = read_lease(api, lease.project)
    if current is None:
        # Pruned: the journal is the lease. Of two releases at once only the one whose unlink removed it says so.
        return bool(lease.journal) and remove_lease_journal(lease.journal, LEASE_RUN_ID, lease.run_id)
    if current.run_id != lease.run_id:
        return False
    # The journal first: a concurrent release that finds the container gone then finds no journal either, so it
    # does not count itself as the one that released.
    if current.journal:
        remove_lease_journal(current.journal, LEASE_RUN_ID, lease.run_id)
    return api.remove_container_settled(
        current.container_id or lease_name(lease.project),
        volumes=True,
        what=f"remove the lease {lease_name(lease.project)}",
    )


def lease_image(api: DockerApi, candidates: t.Sequence[ContainerRecord]) -> str:
    """The image to create the lease from: the first image of ``candidates`` that declares no VOLUME.

    The lease is created, never started, but Docker still gives it an anonymous volume for each VOLUME of its
    image. One image inspect per distinct image, before anything stops. When every image declares volumes
    (or none can be inspected) the first one is used: the release removes its anonymous volumes.
    """
    refs = list(dict.fromkeys(c.image_id or c.image for c in candidates if c.image_id or c.image))
    for ref in refs:
        info = api.inspect_image(ref)
        if info is not None and not (info.get("Config") or {}).get("Volumes"):
            return ref
    return refs[0] if refs else ""
