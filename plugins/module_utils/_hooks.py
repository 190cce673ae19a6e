# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hooks: commands exec'd inside the job's own containers at the phases of a run (pre, post, error, finally).

A hook runs with the privileges of its container and nothing more (``docker exec``, never privileged, never
on the host), as the label's user or the container's own. It gets BOSUN_JOB_NAME, BOSUN_RUN_ID, BOSUN_STACK
and BOSUN_PHASE, and for ``post``, ``error`` and ``finally`` BOSUN_OUTCOME (``post`` sees ``success`` or
``skipped``). Its end is seen by polling the exec (one
inspect per poll); its output is read beside it and the last lines kept. A hook that outlives its timeout is
reported ``timed_out``; when the Engine is local its process is then sent SIGTERM, and SIGKILL after
KILL_GRACE seconds (Docker has no call to stop an exec). A hook whose container is not running when its phase
comes is skipped with the reason. Order: ``pre`` in stop order (dependents first), the other phases in start
order (dependencies first); ties by container name.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import codecs
import collections
import dataclasses
import os
import signal
import threading
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import BosunError, error_text
from ansible_collections.bosun.compose.plugins.module_utils._graph import StackGraph, start_levels
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    COMPOSE_PROJECT,
    COMPOSE_SERVICE,
    DEFAULT_HOOK_TIMEOUT,
    ContainerRecord,
    Hook,
    HookPhase,
    utc_iso,
)

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

POLL_INTERVAL = 0.1
# Seconds between SIGTERM and SIGKILL for a hook that outlived its timeout.
KILL_GRACE = 5
TAIL_LINES = 20


@dataclasses.dataclass
class HookResult:
    """What one hook did. A non-zero exit code is a result, not an exception."""

    hook: Hook
    exit_code: int | None = None
    timed_out: bool = False
    cancelled: bool = False
    # Why it did not run (its container was not running), or None.
    skipped: str | None = None
    started_at: str = ""
    duration: float = 0.0
    output_tail: list[str] = dataclasses.field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.skipped is None and self.exit_code == 0 and not self.timed_out and not self.cancelled

    @property
    def reason(self) -> str:
        """One phrase saying how the hook ended."""
        h = self.hook
        where = f"{h.phase} hook in {h.container.name!r}"
        if self.skipped:
            return f"{where} was skipped: {self.skipped}"
        if self.timed_out:
            return f"{where} timed out after {h.timeout}s"
        if self.cancelled:
            return f"{where} was cancelled"
        if self.exit_code is None:
            return f"{where} did not run to an exit code: {self.error or 'unknown error'}"
        return f"{where} exited with code {self.exit_code}"

    def to_dict(self) -> dict[str, t.Any]:
        return {
            **self.hook.to_dict(),
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "cancelled": self.cancelled,
            "skipped": self.skipped,
            "started_at": self.started_at,
            "duration": self.duration,
            "output_tail": list(self.output_tail),
            "error": self.error,
            "ok": self.ok,
            "reason": self.reason,
        }


def order_hooks(hooks: t.Iterable[Hook], phase: HookPhase, graph: StackGraph) -> list[Hook]:
    """The hooks of ``phase`` in run order: pre in stop order, the others in start order; ties by container name."""
    rank = {svc: i for i, level in enumerate(start_levels(graph)) for svc in level}
    deepest = len(rank)
    chosen = [h for h in hooks if h.phase == phase]

    def key(h: Hook) -> tuple[int, str]:
        level = rank.get(h.container.service or "", deepest)
        return (-level if phase == "pre" else level, h.container.name)

    return sorted(chosen, key=key)


def hook_env(job: str, run_id: str, stack: str, phase: HookPhase, outcome: str | None = None) -> dict[str, str]:
    env = {"BOSUN_JOB_NAME": job, "BOSUN_RUN_ID": run_id, "BOSUN_STACK": stack, "BOSUN_PHASE": phase}
    if phase != "pre" and outcome is not None:
        env["BOSUN_OUTCOME"] = outcome
    return env


class HookRunner:
    """Runs hooks through one Engine client; ``clock``/``sleep`` are injectable for tests."""

    def __init__(
        self,
        api: DockerApi,
        *,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
        kill: t.Callable[[int, int], None] = os.kill,
    ) -> None:
        self.api = api
        self.clock = clock
        self.sleep = sleep
        self.kill = kill

    def run(self, hook: Hook, env: t.Mapping[str, str], cancel: threading.Event | None = None) -> HookResult:
        """Run one hook to its end, its timeout or the cancel event. Never raises for what the hook does."""
        result = HookResult(hook, started_at=utc_iso())
        c = hook.container
        t0 = self.clock()
        try:
            current = self.api.inspect_container(c.id)
            state = ((current or {}).get("State") or {}).get("Status") or "gone"
            project = (((current or {}).get("Config") or {}).get("Labels") or {}).get(COMPOSE_PROJECT)
            if current is None or state != "running":
                result.skipped = f"container {c.name!r} is {'gone' if current is None else state}, not running"
                return result
            if project != c.project:
                result.skipped = f"container {c.name!r} is no longer part of stack {c.project!r}"
                return result
            what = f"{hook.phase} hook in container {c.name!r}"
            exec_id = self.api.exec_create(c.id, hook.command, user=hook.user, env=env, what=f"set up the {what}")
            tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
            broken: list[str] = []
            reader = threading.Thread(target=self._read, args=(exec_id, tail, broken, what), daemon=True)
            reader.start()
            self._wait(exec_id, hook, result, cancel, t0, reader, broken)
            reader.join(timeout=1.0)
            result.output_tail = list(tail)
        except BosunError as exc:
            result.error = error_text(exc)
        finally:
            result.duration = round(self.clock() - t0, 3)
        return result

    def _read(self, exec_id: str, tail: collections.deque[str], broken: list[str], what: str) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        # The output is best effort: the exit code (inspect) is the truth; a stream that breaks only loses lines.
        try:
            for chunk in self.api.exec_start(exec_id, what=f"run the {what}"):
                pending += decoder.decode(chunk)
                *lines, pending = pending.split("\n")
                tail.extend(line.rstrip("\r") for line in lines)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            broken.append(error_text(exc))
        pending += decoder.decode(b"", final=True)
        if pending.rstrip("\r"):
            tail.append(pending.rstrip("\r"))

    def _wait(
        self,
        exec_id: str,
        hook: Hook,
        result: HookResult,
        cancel: threading.Event | None,
        t0: float,
        reader: threading.Thread,
        broken: list[str],
    ) -> None:
        deadline = t0 + hook.timeout
        while True:
            reader_done = not reader.is_alive()
            info = self.api.exec_inspect(exec_id)
            if not info.get("Running") and info.get("ExitCode") is not None:
                result.exit_code = info.get("ExitCode")
                return
            if reader_done and broken and not info.get("Running"):
                result.error = f"the hook did not start: {broken[0]}"
                return
            if cancel is not None and cancel.is_set():
                result.cancelled = True
            elif self.clock() >= deadline:
                result.timed_out = True
            if result.cancelled or result.timed_out:
                self._end(exec_id, info)
                return
            self.sleep(POLL_INTERVAL)

    def _end(self, exec_id: str, info: t.Mapping[str, t.Any]) -> None:
        """Stop a hook that must end now: SIGTERM, then SIGKILL, when its process is visible on this host."""
        pid = info.get("Pid")
        if not isinstance(pid, int) or pid <= 0 or not self.api.is_local:
            return
        for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 1)):
            try:
                self.kill(pid, sig)
            except OSError:
                return  # already gone, or not ours to see
            until = self.clock() + wait
            while self.clock() < until:
                if not self.api.exec_inspect(exec_id).get("Running"):
                    return
                self.sleep(POLL_INTERVAL)


def run_phase(
    runner: HookRunner,
    hooks: t.Sequence[Hook],
    env: t.Mapping[str, str],
    cancel: threading.Event | None = None,
    *,
    stop_on_failure: bool = False,
) -> list[HookResult]:
    """Run the hooks of one phase in the order given; with ``stop_on_failure`` an ``abort`` hook that did not
    succeed (failed, timed out, or skipped because its container was not running) ends it."""
    results = []
    for hook in hooks:
        res = runner.run(hook, env, cancel)
        results.append(res)
        if stop_on_failure and not res.ok and hook.on_error == "abort":
            break
        if cancel is not None and cancel.is_set():
            break
    return results


def hook_entries(hooks: t.Iterable[Hook]) -> list[dict[str, t.Any]]:
    """Hooks as the lease records them, so that whoever recovers a dead run can run them."""
    return [
        {**h.container.brief(), "phase": h.phase, "command": list(h.command), "user": h.user, "timeout": h.timeout}
        for h in hooks
    ]


def hooks_from_entries(entries: t.Iterable[t.Mapping[str, t.Any]], project: str) -> list[Hook]:
    """The hooks a lease recorded (see hook_entries); entries that do not parse are left out."""
    hooks = []
    for e in entries:
        phase, command = e.get("phase"), e.get("command")
        if phase not in ("error", "finally") or not isinstance(command, list) or not command:
            continue
        labels = {COMPOSE_PROJECT: project, COMPOSE_SERVICE: str(e.get("service") or "")}
        container = ContainerRecord(id=str(e.get("id") or ""), name=str(e.get("name") or ""), state="", labels=labels)
        timeout = e.get("timeout")
        hooks.append(
            Hook(
                phase=t.cast(HookPhase, phase),
                container=container,
                command=[str(a) for a in command],
                user=str(e["user"]) if e.get("user") else None,
                timeout=timeout if isinstance(timeout, int) and timeout > 0 else DEFAULT_HOOK_TIMEOUT,
            )
        )
    return hooks
