# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An Ansible async job's result file on the host: wait for it, read it, collect it (job_status).

Ansible's async wrapper writes ``<async_dir>/<jid>``: first ``{"started": true, "finished": false, ...}``, then,
replaced atomically, the module's own result, or ``{"failed": true, "msg": "Timeout exceeded", ...}`` when it
killed the job at its async limit. As for ``async_status``, a result without ``started`` is final; an empty file
is a job still starting. A finished result is returned once and its file removed (``async_status mode=cleanup``).

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import AsyncJobError

_JID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_WAIT = 3600


@dataclasses.dataclass
class AsyncPoll:
    """One poll: whether the job has finished and, when it has, its result (as async_status returns it)."""

    jid: str
    results_file: str
    finished: bool
    result: dict[str, t.Any] = dataclasses.field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed"))

    @property
    def warnings(self) -> list[str]:
        """The job's warnings and deprecations as text (plain strings, or the summaries of ansible-core >= 2.19)."""
        texts = [_text(w) for w in _as_list(self.result.get("warnings"))]
        texts += [f"deprecated: {_text(d)}" for d in _as_list(self.result.get("deprecations"))]
        return [x for x in texts if x]

    def to_dict(self) -> dict[str, t.Any]:
        """The job's result without its warnings and deprecations (see ``warnings``), and the poll's own keys."""
        out = {k: v for k, v in self.result.items() if k not in ("warnings", "deprecations")}
        out.update(ansible_job_id=self.jid, started=True, finished=self.finished, results_file=self.results_file)
        return out


def _as_list(value: t.Any) -> list[t.Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _text(item: t.Any) -> str:
    if isinstance(item, dict):
        event = item.get("event")
        msg = event.get("msg") if isinstance(event, dict) else item.get("msg")
        return str(msg or "")
    return str(item)


def result_path(async_dir: str, jid: t.Any) -> str:
    if not isinstance(jid, str) or not _JID.match(jid):
        raise AsyncJobError(
            f"jid {jid!r} is not an async job id: it must be the ansible_job_id that the async task returned "
            "(letters, digits, '_', '.', '-')",
            jid=jid,
        )
    return os.path.join(async_dir, jid)


def read_result(async_dir: str, jid: str) -> dict[str, t.Any] | None:
    """The job's final result, or None while it runs. Raises AsyncJobError when there is no such job."""
    path = result_path(async_dir, jid)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise AsyncJobError(
            f"no async job {jid!r} in {async_dir}: it never ran on this host with this async_dir, or its result was "
            "already collected",
            jid=jid,
            async_dir=async_dir,
        ) from None
    except OSError as exc:
        raise AsyncJobError(f"cannot read the result of async job {jid!r} ({path}): {exc}", jid=jid) from exc
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise AsyncJobError(
            f"the result of async job {jid!r} ({path}) is not JSON: {text[:200]!r}", jid=jid, results_file=path
        ) from None
    if not isinstance(data, dict):
        raise AsyncJobError(
            f"the result of async job {jid!r} ({path}) is a JSON {type(data).__name__}, not an object",
            jid=jid,
            results_file=path,
        )
    if "started" in data and not data.get("finished"):
        return None
    return data


def wait_for_result(
    async_dir: str,
    jid: str,
    wait: int,
    *,
    tick: t.Callable[[], t.Any] | None = None,
    clock: t.Callable[[], float] = time.monotonic,
    sleep: t.Callable[[float], None] = time.sleep,
    interval: float = 0.05,
    tick_every: float = 1.0,
) -> AsyncPoll:
    """Wait up to ``wait`` seconds for the job to finish, looking every ``interval`` seconds; return at once when
    it has. ``tick`` (the heartbeat) is called first and every ``tick_every`` seconds while waiting. A finished
    job's result file is removed."""
    if isinstance(wait, bool) or not isinstance(wait, int) or not 0 <= wait <= MAX_WAIT:
        raise AsyncJobError(f"wait {wait!r} must be a whole number of seconds from 0 to {MAX_WAIT}", wait=wait)
    path = result_path(async_dir, jid)
    start = clock()
    ticked = None
    while True:
        now = clock()
        if tick is not None and (ticked is None or now - ticked >= tick_every):
            tick()
            ticked = now
        data = read_result(async_dir, jid)
        if data is not None:
            with contextlib.suppress(OSError):  # collected is collected; another poller may have removed it
                os.unlink(path)
            return AsyncPoll(jid, path, True, data)
        left = start + wait - clock()
        if left <= 0:
            return AsyncPoll(jid, path, False)
        sleep(min(interval, left))
