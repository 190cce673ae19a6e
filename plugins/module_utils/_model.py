# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The domain model of bosun.compose: label keys, plain typed data, no Ansible and no Docker imports.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing as t
import uuid

Severity = t.Literal["error", "warning"]
ObjectKind = t.Literal["container", "volume", "job", "stack"]
MountMode = t.Literal["ro", "rw"]
OverlapPolicy = t.Literal["queue", "skip"]
HookPhase = t.Literal["pre", "post", "error", "finally"]
OnError = t.Literal["abort", "continue"]
StopScope = t.Literal["stack", "attached", "writers", "none"]
StopMode = t.Literal["stop", "pause"]
HOOK_PHASES: tuple[HookPhase, ...] = ("pre", "post", "error", "finally")
STOP_SCOPES: tuple[StopScope, ...] = ("stack", "attached", "writers", "none")
STOP_MODES: tuple[StopMode, ...] = ("stop", "pause")

# How a run ends (job_run's outcome), and the end a recovery records for a run that died (its signals, and the
# BOSUN_OUTCOME of its pending hooks).
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
    "hook_failed",
    "after_failed",
    "interfered",
    "locked",
    "skipped",
    "not_found",
    "invalid",
]
RUN_OUTCOMES: tuple[str, ...] = t.get_args(Outcome)
INTERRUPTED = "interrupted"

# The label contract guide (docs/docsite/rst/labels.rst), as users reach it from a message.
LABELS_GUIDE = "https://github.com/bosun-compose/bosun.compose/blob/main/docs/docsite/rst/labels.rst"

# Label keys of the v1 contract (the guide above).
LABEL_PREFIX = "bosun.job."
LABEL_NAME = "bosun.job.name"
LABEL_ENABLED = "bosun.job.enabled"
LABEL_IMAGE = "bosun.job.worker.image"
LABEL_COMMAND = "bosun.job.worker.command"
LABEL_ENV_PREFIX = "bosun.job.worker.env."
LABEL_USER = "bosun.job.worker.user"
LABEL_NETWORK = "bosun.job.worker.network"
LABEL_TIMEOUT = "bosun.job.timeout"
LABEL_STOP_TIMEOUT = "bosun.job.stop-timeout"
LABEL_START_TIMEOUT = "bosun.job.start-timeout"
LABEL_SCHEDULE = "bosun.job.schedule"
LABEL_OVERLAP = "bosun.job.overlap-policy"
LABEL_STACK = "bosun.stack"
LABEL_ATTACH = "bosun.job.attach"
LABEL_MOUNT_PATH = "bosun.job.mount.path"
LABEL_MOUNT_MODE = "bosun.job.mount.mode"
LABEL_STOP_SCOPE = "bosun.job.stop-scope"
LABEL_STOP_MODE = "bosun.job.stop-mode"
# bosun.job.hook.<phase> (the command), .user, .timeout, and .on-error for pre: per container, never merged.
LABEL_HOOK_PREFIX = "bosun.job.hook."
HOOK_OPTIONS = ("user", "timeout", "on-error")
LABEL_AFTER_COMMAND = "bosun.job.after.command"
LABEL_AFTER_IMAGE = "bosun.job.after.image"
LABEL_AFTER_TIMEOUT = "bosun.job.after.timeout"
LABEL_AFTER_USER = "bosun.job.after.user"
LABEL_AFTER_NETWORK = "bosun.job.after.network"
LABEL_AFTER_ENV_PREFIX = "bosun.job.after.env."
# Carried by worker containers this collection starts; such containers are never job members.
LABEL_WORKER_JOB = "bosun.worker.job"
LABEL_WORKER_RUN_ID = "bosun.worker.run-id"
LABEL_WORKER_STACK = "bosun.worker.stack"

# Labels Docker Compose v2 writes on every container it creates.
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_NUMBER = "com.docker.compose.container-number"
COMPOSE_DEPENDS_ON = "com.docker.compose.depends_on"
COMPOSE_ONEOFF = "com.docker.compose.oneoff"
# What a run records of the deployment it stopped (_provenance.py): Compose's hash of the service's
# configuration, and the project's compose files (comma-separated) and working directory.
COMPOSE_CONFIG_HASH = "com.docker.compose.config-hash"
COMPOSE_CONFIG_FILES = "com.docker.compose.project.config_files"
COMPOSE_WORKING_DIR = "com.docker.compose.project.working_dir"
# Set by Quadlet, `podman generate systemd` and podman-compose: the systemd unit that runs the container.
PODMAN_SYSTEMD_UNIT = "PODMAN_SYSTEMD_UNIT"

# States in which a container counts as up: a stop must take it down.
UP_STATES = ("running", "restarting", "paused")

DEFAULT_TIMEOUT = 3600
DEFAULT_START_TIMEOUT = 60
DEFAULT_STOP_TIMEOUT = 10
DEFAULT_HOOK_TIMEOUT = 300
DEFAULT_AFTER_TIMEOUT = 3600
# A worker's exit code 75 (EX_TEMPFAIL, as watchtower and borgmatic use it): nothing to do this time.
EXIT_NOTHING_TO_DO = 75
MAX_DURATION = 7 * 24 * 3600


def utc_iso(epoch: float | None = None, timespec: str = "milliseconds") -> str:
    """An ISO 8601 UTC timestamp of `epoch` (default now)."""
    moment = (
        datetime.datetime.now(datetime.timezone.utc)
        if epoch is None
        else datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    )
    return moment.isoformat(timespec=timespec)


def new_run_id() -> str:
    """A fresh run id: 32 lowercase hex digits (a uuid4). It names the worker, the lease and the run record."""
    return uuid.uuid4().hex


@dataclasses.dataclass(frozen=True)
class Problem:
    """A validation error or warning about one labelled object."""

    severity: Severity
    kind: ObjectKind
    object: str
    label: str | None
    value: str | None
    message: str
    job: str | None = None

    def to_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ContainerRecord:
    """One container as the Engine's list endpoint returns it (no inspect needed)."""

    id: str
    name: str
    state: str
    labels: t.Mapping[str, str]
    image: str = ""
    network_mode: str = ""
    image_id: str = ""
    # The list endpoint's human status, e.g. "Up 5 seconds (healthy)"; tells health without an inspect.
    status: str = ""
    # The named volumes it mounts, as (volume, read-write) pairs, from the list endpoint's Mounts.
    volumes: tuple[tuple[str, bool], ...] = ()

    @property
    def project(self) -> str | None:
        return self.labels.get(COMPOSE_PROJECT) or None

    @property
    def service(self) -> str | None:
        return self.labels.get(COMPOSE_SERVICE) or None

    @property
    def is_worker(self) -> bool:
        return LABEL_WORKER_RUN_ID in self.labels or LABEL_WORKER_JOB in self.labels

    def brief(self) -> dict[str, t.Any]:
        """The short identity used in plans, results and the lease: id, name, service."""
        return {"id": self.id, "name": self.name, "service": self.service}

    def to_dict(self) -> dict[str, t.Any]:
        return {**self.brief(), "state": self.state}


# The restart policy a stop-set container gets while it is down: Docker starts such a container when the daemon
# starts (after a daemon restart or a host reboot), even though it was stopped by hand.
HOST_PROOF_POLICY = "always"


@dataclasses.dataclass(frozen=True)
class RestartPolicy:
    """A container's restart policy (HostConfig.RestartPolicy): ``no``, ``always``, ``unless-stopped``, ``on-failure``."""

    name: str = "no"
    max_retries: int = 0

    def to_dict(self) -> dict[str, t.Any]:
        return {"name": self.name, "max_retries": self.max_retries}

    @classmethod
    def from_dict(cls, d: t.Mapping[str, t.Any]) -> RestartPolicy:
        return cls(str(d.get("name") or "no"), int(d.get("max_retries") or 0))


@dataclasses.dataclass(frozen=True)
class ContainerSettings:
    """What the plan reads from one container's inspect: its own stop timeout and its restart policy."""

    stop_timeout: int
    restart_policy: RestartPolicy
    # Docker refuses a restart policy for a container started with --rm.
    auto_remove: bool = False


@dataclasses.dataclass(frozen=True)
class VolumeRecord:
    """One volume as the Engine's volume list returns it."""

    name: str
    labels: t.Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class Mount:
    """A named volume mounted into the worker."""

    volume: str
    path: str
    mode: MountMode = "ro"

    def to_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Hook:
    """One lifecycle hook: a command exec'd inside the container that carries the label."""

    phase: HookPhase
    container: ContainerRecord
    command: list[str]
    user: str | None = None
    timeout: int = DEFAULT_HOOK_TIMEOUT
    on_error: OnError = "abort"

    @property
    def label(self) -> str:
        return LABEL_HOOK_PREFIX + self.phase

    def to_dict(self) -> dict[str, t.Any]:
        d: dict[str, t.Any] = {
            "phase": self.phase,
            "container": self.container.brief(),
            "command": list(self.command),
            "user": self.user,
            "timeout": self.timeout,
        }
        if self.phase == "pre":
            d["on_error"] = self.on_error
        return d


@dataclasses.dataclass
class Job:
    """A maintenance job, merged from the labels of its member containers and attached volumes."""

    name: str
    enabled: bool = True
    stack: str | None = None
    containers: list[ContainerRecord] = dataclasses.field(default_factory=list)
    image: str | None = None
    command: list[str] | None = None
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    user: str | None = None
    network: str | None = None
    mounts: list[Mount] = dataclasses.field(default_factory=list)
    timeout: int = DEFAULT_TIMEOUT
    stop_timeout: int | None = None
    start_timeout: int = DEFAULT_START_TIMEOUT
    schedule: str | None = None
    overlap_policy: OverlapPolicy = "queue"
    stop_scope: StopScope = "stack"
    stop_mode: StopMode = "stop"
    hooks: list[Hook] = dataclasses.field(default_factory=list)
    # The after-phase: a second one-shot container once the stack runs again; off without a command.
    after_command: list[str] | None = None
    after_image: str | None = None
    after_timeout: int = DEFAULT_AFTER_TIMEOUT
    after_env: dict[str, str] = dataclasses.field(default_factory=dict)
    after_user: str | None = None
    after_network: str | None = None
    problems: list[Problem] = dataclasses.field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def runnable(self) -> bool:
        return self.enabled and not self.errors

    def after_dict(self) -> dict[str, t.Any] | None:
        """The after-phase settings, or None when the job has none (no after command)."""
        if self.after_command is None:
            return None
        return {
            "command": list(self.after_command),
            "image": self.after_image or self.image,
            "timeout": self.after_timeout,
            "env": dict(self.after_env),
            "user": self.after_user,
            "network": self.after_network,
        }

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "name": self.name,
            "enabled": self.enabled,
            "runnable": self.runnable,
            "stack": self.stack,
            "containers": [c.to_dict() for c in self.containers],
            "image": self.image,
            "command": self.command,
            "env": dict(self.env),
            "user": self.user,
            "network": self.network,
            "mounts": [m.to_dict() for m in self.mounts],
            "timeout": self.timeout,
            "stop_timeout": self.stop_timeout,
            "start_timeout": self.start_timeout,
            "schedule": self.schedule,
            "overlap_policy": self.overlap_policy,
            "stop_scope": self.stop_scope,
            "stop_mode": self.stop_mode,
            "hooks": [h.to_dict() for h in self.hooks],
            "after": self.after_dict(),
            "problems": [p.to_dict() for p in self.problems],
        }
