# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cancelling a run: signals become a cancel event inside a run, and cancel_run() sends that signal from outside.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import CancelError
from ansible_collections.bosun.compose.plugins.module_utils._lease import Owner, owner_alive, read_lease
from ansible_collections.bosun.compose.plugins.module_utils._state import last_run

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

# What an interrupted controller, a closed SSH session, AWX's cancel or Ctrl+C send to the module process.
CANCEL_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class Cancellation:
    """SIGTERM, SIGHUP and SIGINT become a cancel event for the duration of a `with` block.

    Later signals are absorbed too: nothing may interrupt the restart of the stack. The previous
    handlers are restored when the block ends.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal: int | None = None
        self._why: str | None = None
        self._previous: dict[int, t.Any] = {}

    def _handle(self, signum: int, _frame: t.Any) -> None:
        if self.signal is None and self._why is None:
            self.signal = signum
        self.event.set()

    def trigger(self, reason: str) -> None:
        """Cancel from inside the process (a watcher thread), for ``reason``; the first cause is the one reported."""
        if self.signal is None and self._why is None:
            self._why = reason
        self.event.set()

    def __enter__(self) -> Cancellation:
        for s in CANCEL_SIGNALS:
            self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: t.Any) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)
        self._previous.clear()

    @property
    def is_set(self) -> bool:
        return self.event.is_set()

    @property
    def reason(self) -> str:
        if self._why is not None:
            return self._why
        return f"received {signal.Signals(self.signal).name}" if self.signal else "cancelled"


@dataclasses.dataclass
class CancelResult:
    changed: bool
    action: t.Literal["none", "other_run", "would_cancel", "cancelled"]
    message: str
    lease: dict[str, t.Any] | None = None
    run: dict[str, t.Any] | None = None

    def to_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


def cancel_run(
    api: DockerApi,
    project: str,
    *,
    run_id: str | None = None,
    wait: int = 120,
    check: bool = False,
    state_dir: str | None = None,
    sleep: t.Callable[[float], None] = time.sleep,
) -> CancelResult:
    """Cancel the run holding a stack: SIGTERM to its job_run process, found through the lease.

    The run itself then stops its worker, restarts the stack and reports outcome cancelled; this waits
    up to `wait` seconds for it to release the lease. The process must run on this host.
    """
    lease = read_lease(api, project)
    if lease is None:
        return CancelResult(False, "none", f"no run holds stack {project!r}: nothing to cancel")
    if run_id is not None and lease.run_id != run_id:
        return CancelResult(
            False,
            "other_run",
            f"stack {project!r} is held by another run, {lease.describe()}; run {run_id!r} is not running",
            lease.to_dict(),
        )
    context = {"project": project, "run_id": lease.run_id}
    if not owner_alive(lease, time.time()):
        raise CancelError(
            f"{lease.describe()} is dead or expired, so there is nothing to cancel; restart what it "
            "stopped with bosun.compose.stack state=recovered",
            **context,
        )
    owner, here = lease.owner, Owner.current(with_pid=False)
    if owner.pid is None:
        raise CancelError(
            f"{lease.describe()} has no process to signal (the stack module's state=stopped took it); "
            "end it with bosun.compose.stack state=started",
            **context,
        )
    if (owner.hostname, owner.boot_id) != (here.hostname, here.boot_id):
        raise CancelError(
            f"the process of {lease.describe()} runs on host {owner.hostname!r}, not here "
            f"({here.hostname!r}); cancel it on that host",
            **context,
        )
    if check:
        return CancelResult(
            True, "would_cancel", f"would send SIGTERM to pid {owner.pid} of {lease.describe()}", lease.to_dict()
        )
    try:
        os.kill(owner.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass  # it ended between the check and the signal; the lease tells what happened
    except PermissionError as exc:
        raise CancelError(
            f"not allowed to signal pid {owner.pid} of {lease.describe()}: {exc}; run as the same user (become: true)",
            **context,
        ) from exc
    for _tick in range(max(1, wait) * 5):
        current = read_lease(api, project)
        if current is None or current.run_id != lease.run_id:
            break
        sleep(0.2)
    else:
        return CancelResult(
            True,
            "cancelled",
            f"sent SIGTERM to {lease.describe()}, but it still holds stack {project!r} after {wait}s",
            lease.to_dict(),
        )
    record = last_run(state_dir, lease.job, project) if state_dir else None
    return CancelResult(
        True,
        "cancelled",
        f"cancelled {lease.describe()}; it restarted stack {project!r} and released it",
        lease.to_dict(),
        record,
    )
