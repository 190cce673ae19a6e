# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every error the core raises. Each message says what was wrong, the value, and what is allowed.

The keyword arguments of an error are its context; the Ansible edge (_module.py) returns them under
the result key ``error`` together with the error's type.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import typing as t


class BosunError(Exception):
    """Base of every error the core raises."""

    def __init__(self, message: str, **context: t.Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class DockerUnavailableError(BosunError):
    """The Docker Engine could not be reached (transport failure, no SDK, bad TLS settings)."""


class EngineError(BosunError):
    """The Engine answered a request with an error; ``status`` is its HTTP status, ``explanation`` its words."""

    def __init__(self, message: str, *, status: int | None = None, explanation: str = "", **context: t.Any) -> None:
        super().__init__(message, status=status, **context)
        self.status = status
        self.explanation = explanation or message


class NotFoundError(EngineError):
    """HTTP 404: the object (container, image, volume, or a network it needs) does not exist."""


class ConflictError(EngineError):
    """HTTP 409: a name is taken, or the object is being removed."""


class JobNotFoundError(BosunError):
    """No job of that name (and project) exists on the host."""


class GraphError(BosunError):
    """The Compose dependency graph of a stack cannot be ordered (for example a cycle)."""


class PlanError(BosunError):
    """The job cannot be planned (invalid job, override or stack)."""


class StackControlError(BosunError):
    """A stack cannot be stopped or started as asked (unknown stack, container or service)."""


class LeaseError(BosunError):
    """The lease of a stack cannot be created, read or removed."""


class LeaseHeldError(LeaseError):
    """Another run holds the lease of the stack; the message names the holder."""


class WorkerError(BosunError):
    """The worker could not be created, started, waited for or cleaned up."""


class WorkerSpecError(WorkerError):
    """A worker setting is not allowed; the message names the setting, the value and what is allowed."""


class ImageMissingError(WorkerError):
    """The worker image is not on the Docker host and may not (or could not) be pulled."""


class ImagePullError(ImageMissingError):
    """Pulling the missing worker image failed."""


class VolumeMissingError(WorkerError):
    """A volume to mount does not exist; Docker would silently create it empty, so the run is refused."""


class CancelError(BosunError):
    """A run cannot be cancelled from here (dead, no process, another host, no permission)."""


class ScheduleError(BosunError):
    """A schedule or time zone that cannot be evaluated, or schedule state that cannot be kept on the host."""


class HeartbeatError(BosunError):
    """The controller heartbeat of a run cannot be kept (a bad run id or timeout, a state directory not writable)."""


class AsyncJobError(BosunError):
    """An Ansible async job's result cannot be found or read on the host."""


def error_text(exc: BaseException) -> str:
    """What went wrong, in words: the daemon's explanation, a core error's message, or the exception itself."""
    if isinstance(exc, EngineError):
        return exc.explanation
    if isinstance(exc, BosunError):
        return exc.message
    return str(exc) or type(exc).__name__
