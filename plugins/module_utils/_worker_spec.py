# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The worker spec: what one worker run is, and the safety rules it must meet. Validated when built.

The rules are those of _values.py (the same for labels, play overrides and the worker module), plus what
only a worker needs: reserved environment names, distinct mount paths, limits. Host networking,
``container:``/``service:`` networking and host paths are refused. Secret values never leave a spec
unmasked through ``to_dict()``.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import WorkerSpecError
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    DEFAULT_STOP_TIMEOUT,
    DEFAULT_TIMEOUT,
    LABEL_WORKER_JOB,
    LABEL_WORKER_RUN_ID,
    LABEL_WORKER_STACK,
    Mount,
)
from ansible_collections.bosun.compose.plugins.module_utils._values import (
    LabelError,
    parse_command,
    parse_duration,
    parse_env_name,
    parse_job_name,
    parse_mode,
    parse_mount_path,
    parse_network,
    parse_run_id,
    parse_text,
    parse_volume_name,
)

SECRET_MASK = "********"
KeepPolicy = t.Literal["never", "on_failure"]
PullPolicy = t.Literal["never", "missing"]
WorkerRole = t.Literal["worker", "after"]
KEEP_POLICIES = ("never", "on_failure")
PULL_POLICIES = ("never", "missing")
# Environment variables the runner sets itself; the job's env may not override them.
RESERVED_ENV = ("BOSUN_JOB_NAME", "BOSUN_RUN_ID", "BOSUN_STACK")
MAX_STOP_GRACE = 3600


def _rule(setting: str, value: t.Any, parse: t.Callable[[t.Any], t.Any], **context: t.Any) -> t.Any:
    """parse(value), with a LabelError turned into a WorkerSpecError naming the setting and the value."""
    try:
        return parse(value)
    except LabelError as exc:
        raise WorkerSpecError(f"{setting} {value!r} {exc}", **context) from None


def _check_mount(m: t.Any) -> Mount:
    if not isinstance(m, Mount):
        raise WorkerSpecError(f"mount {m!r} must be a Mount(volume, path, mode)", mount=repr(m))
    volume = _rule("mount source", m.volume, parse_volume_name, volume=m.volume)
    path = _rule(f"mount path of volume {m.volume!r}:", m.path, parse_mount_path, volume=m.volume, path=m.path)
    mode = _rule(f"mount mode of volume {m.volume!r}:", m.mode, parse_mode, volume=m.volume, mode=m.mode)
    return Mount(volume=volume, path=path, mode=mode)


@dataclasses.dataclass(frozen=True)
class WorkerSpec:
    """What one worker run is: image, command, environment, mounts and limits. Validated when built."""

    job: str
    run_id: str
    image: str
    command: list[str] | None = None
    env: t.Mapping[str, str] = dataclasses.field(default_factory=dict)
    secret_env_names: t.AbstractSet[str] = frozenset()
    mounts: list[Mount] = dataclasses.field(default_factory=list)
    network: str | None = None
    user: str | None = None
    timeout: int = DEFAULT_TIMEOUT
    stop_grace: int = DEFAULT_STOP_TIMEOUT
    stack: str | None = None
    # The image id preflight found; when set the worker runs exactly that image, not whatever the tag means later.
    image_id: str | None = None
    # "after": the after-phase container, run once the stack is up again; named bosun-after-...
    role: WorkerRole = "worker"

    def __post_init__(self) -> None:
        object.__setattr__(self, "job", _rule("job name", self.job, parse_job_name, job=repr(self.job)))
        _rule("run id", self.run_id, parse_run_id, run_id=self.run_id)
        if not isinstance(self.image, str) or not self.image.strip() or any(c.isspace() for c in self.image):
            raise WorkerSpecError(
                f"image {self.image!r} must be a non-empty image reference without spaces", image=repr(self.image)
            )
        if self.command is not None:
            object.__setattr__(
                self, "command", _rule("command", self.command, parse_command, command=repr(self.command))
            )
        env = dict(self.env)
        for k, v in env.items():
            try:
                parse_env_name(k)
            except LabelError as exc:
                raise WorkerSpecError(str(exc), name=repr(k)) from None
            if k in RESERVED_ENV:
                raise WorkerSpecError(
                    f"environment variable {k!r} is set by bosun itself and cannot be given; "
                    f"reserved names are {', '.join(RESERVED_ENV)}",
                    name=k,
                )
            if not isinstance(v, str):
                raise WorkerSpecError(
                    f"environment variable {k!r} must have a string value, not {type(v).__name__}", name=k
                )
        object.__setattr__(self, "env", env)
        object.__setattr__(self, "secret_env_names", frozenset(self.secret_env_names))
        if self.network is not None:
            object.__setattr__(self, "network", _rule("network", self.network, parse_network, network=self.network))
        if self.user is not None:
            object.__setattr__(self, "user", _rule("user", self.user, parse_text, user=repr(self.user)))
        object.__setattr__(self, "timeout", _rule("timeout", self.timeout, parse_duration, timeout=repr(self.timeout)))
        grace_ok = isinstance(self.stop_grace, int) and not isinstance(self.stop_grace, bool)
        if not grace_ok or not 0 <= self.stop_grace <= MAX_STOP_GRACE:
            raise WorkerSpecError(
                f"stop_grace {self.stop_grace!r} must be a whole number of seconds from 0 to {MAX_STOP_GRACE}",
                stop_grace=repr(self.stop_grace),
            )
        mounts = [_check_mount(m) for m in self.mounts]
        seen: dict[str, str] = {}
        for m in mounts:
            if m.path in seen:
                raise WorkerSpecError(
                    f"mount path {m.path!r} is used twice (volumes {seen[m.path]!r} and {m.volume!r}): "
                    "each mount needs its own path",
                    path=m.path,
                )
            seen[m.path] = m.volume
        object.__setattr__(self, "mounts", mounts)
        if self.stack is not None and (not isinstance(self.stack, str) or not self.stack):
            raise WorkerSpecError(
                f"stack {self.stack!r} must be a Compose project name or unset", stack=repr(self.stack)
            )

    @property
    def name(self) -> str:
        """The container name: bosun-worker-<job>-<first 8 of run_id> (bosun-after-... for the after-phase)."""
        return f"bosun-{self.role}-{self.job}-{self.run_id[:8]}"

    @property
    def labels(self) -> dict[str, str]:
        labels = {LABEL_WORKER_JOB: self.job, LABEL_WORKER_RUN_ID: self.run_id}
        if self.stack:
            labels[LABEL_WORKER_STACK] = self.stack
        return labels

    @property
    def container_env(self) -> dict[str, str]:
        """The environment the container gets: the job's env plus BOSUN_JOB_NAME, BOSUN_RUN_ID, BOSUN_STACK."""
        env = dict(self.env)
        env["BOSUN_JOB_NAME"] = self.job
        env["BOSUN_RUN_ID"] = self.run_id
        if self.stack:
            env["BOSUN_STACK"] = self.stack
        return env

    @property
    def secret_values(self) -> list[str]:
        """The values to hide wherever they appear, longest first."""
        values = {v for k, v in self.env.items() if k in self.secret_env_names and v}
        return sorted(values, key=len, reverse=True)

    def masked_env(self) -> dict[str, str]:
        return {k: (SECRET_MASK if k in self.secret_env_names else v) for k, v in self.env.items()}

    def to_dict(self) -> dict[str, t.Any]:
        """The spec as shown in plans and results; secret values are always masked."""
        return {
            "name": self.name,
            "job": self.job,
            "run_id": self.run_id,
            "image": self.image,
            "image_id": self.image_id,
            "command": list(self.command) if self.command is not None else None,
            "env": self.masked_env(),
            "secret_env_names": sorted(self.secret_env_names),
            "mounts": [m.to_dict() for m in self.mounts],
            "network": self.network,
            "user": self.user,
            "timeout": self.timeout,
            "stop_grace": self.stop_grace,
            "stack": self.stack,
            "labels": self.labels,
            "role": self.role,
        }
