# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller heartbeat: a run that cancels itself when the controller stops polling it.

``<state_dir>/heartbeat/<run_id>`` is created by job_run (``on_controller_loss=cancel``) when it starts, which is
the grace before the first poll; job_status, the controller's poll, refreshes it on each call and every second
while it waits (``touch_heartbeat()``). ``ControllerWatch``, a daemon thread of job_run, looks at it every second
and, once it has not changed for ``controller_timeout`` seconds, cancels the run through its Cancellation with
the reason ``controller lost: ...``; the executor then does what it does for SIGTERM. The run removes the file at
its end. Only a change of the file's mtime counts, timed on the monotonic clock: a step of the wall clock neither
cancels a run nor keeps one alive, and a heartbeat file that disappears is one that is no longer refreshed.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import HeartbeatError
from ansible_collections.bosun.compose.plugins.module_utils._state import heartbeat_path
from ansible_collections.bosun.compose.plugins.module_utils._values import LabelError, parse_duration, parse_run_id

ON_CONTROLLER_LOSS = ("finish", "cancel")


def _path(state_dir: str, run_id: t.Any) -> str:
    try:
        return heartbeat_path(state_dir, parse_run_id(run_id))
    except LabelError as exc:
        raise HeartbeatError(f"run_id {run_id!r} {exc}", run_id=run_id) from None


def controller_timeout(value: t.Any) -> int:
    """The seconds without a poll after which a run cancels itself: a positive duration of at most 7 days."""
    try:
        return parse_duration(value)
    except LabelError as exc:
        raise HeartbeatError(f"controller_timeout {value!r} {exc}", controller_timeout=value) from None


def touch_heartbeat(state_dir: str, run_id: str, *, create: bool = False) -> bool:
    """Refresh a run's heartbeat (mtime now); whether there was one to refresh.

    Without ``create`` a missing heartbeat stays missing: the run watches none (``on_controller_loss=finish``),
    has not created it yet, or has ended. Raises HeartbeatError when it cannot be written.
    """
    path = _path(state_dir, run_id)
    if create:
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            os.utime(path)
        except OSError as exc:
            raise HeartbeatError(
                f"cannot create the controller heartbeat {path}: {exc}; on_controller_loss=cancel needs a writable "
                "state directory",
                path=path,
            ) from exc
        return True
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise HeartbeatError(f"cannot refresh the controller heartbeat {path}: {exc}", path=path) from exc
    return True


class ControllerWatch:
    """Cancels the run (``cancel(reason)``) once its heartbeat has not changed for ``timeout`` seconds.

    As a context manager: creates the heartbeat, watches it from a daemon thread every ``interval`` seconds,
    and at the end stops the thread and removes the heartbeat. ``check()`` is one look, for tests.
    """

    def __init__(
        self,
        state_dir: str,
        run_id: str,
        timeout: t.Any,
        cancel: t.Callable[[str], None],
        *,
        clock: t.Callable[[], float] = time.monotonic,
        interval: float = 1.0,
    ) -> None:
        self.path = _path(state_dir, run_id)
        self.state_dir, self.run_id = state_dir, run_id
        self.timeout = controller_timeout(timeout)
        self.cancel = cancel
        self.clock = clock
        self.interval = interval
        self.reason: str | None = None
        self._mtime: int | None = None
        self._changed_at = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _seen(self) -> int | None:
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return None

    def check(self) -> bool:
        """One look at the heartbeat; True once the run was cancelled for a lost controller."""
        if self.reason is not None:
            return True
        mtime, now = self._seen(), self.clock()
        if mtime is not None and mtime != self._mtime:
            self._mtime, self._changed_at = mtime, now
        age = now - self._changed_at
        if age < self.timeout:
            return False
        self.reason = (
            f"controller lost: no poll from the controller for {int(age)}s (controller_timeout {self.timeout}s)"
        )
        self.cancel(self.reason)
        return True

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            if self.check():
                return

    def __enter__(self) -> ControllerWatch:
        touch_heartbeat(self.state_dir, self.run_id, create=True)
        self._mtime, self._changed_at = self._seen(), self.clock()
        self._thread = threading.Thread(target=self._watch, name=f"bosun-heartbeat-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: t.Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.interval + 1)
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def watch_controller(
    on_loss: str, state_dir: str, run_id: str | None, timeout: t.Any, cancel: t.Callable[[str], None]
) -> t.ContextManager[t.Any]:
    """job_run's watch: a ControllerWatch with ``on_loss`` V(cancel), nothing at all with V(finish)."""
    seconds = controller_timeout(timeout)
    if on_loss not in ON_CONTROLLER_LOSS:
        raise HeartbeatError(
            f"on_controller_loss {on_loss!r} must be one of {', '.join(ON_CONTROLLER_LOSS)}", on_controller_loss=on_loss
        )
    if on_loss == "finish":
        return contextlib.nullcontext()
    if not run_id:
        raise HeartbeatError(
            "on_controller_loss=cancel needs a run_id: the poll (bosun.compose.job_status) finds the run's heartbeat by it",
            on_controller_loss=on_loss,
        )
    return ControllerWatch(state_dir, run_id, seconds, cancel)
