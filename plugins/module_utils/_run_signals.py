# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a run tells the outside world from the Docker host, and when (not OS signals: those are _cancel.py's).

- run_started(), once the lease is taken and before the pre hooks: the pending record (the run's start
  record and its targets, mode 0600 in the state directory, see _state.py), then the ``/start`` ping.
- run_finished(), after the restart, the hooks and the release of the lease, once the run record is
  written: the pending record is removed, then the metrics file, the success or fail ping (with the short
  run report as its body) and the webhook (the run record as JSON, plus ``host``).
- run_interrupted(), from a recovery of a run that died: the same end from the pending record, with
  outcome ``interrupted``; the dead run's ``/start`` stays open until then (that is the point).

Each returns the list of Sent; a failure is a warning for the result, never an exception.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import socket
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._metrics import epoch, write_metrics
from ansible_collections.bosun.compose.plugins.module_utils._model import INTERRUPTED, utc_iso
from ansible_collections.bosun.compose.plugins.module_utils._notify import Http, Sent, ping, webhook
from ansible_collections.bosun.compose.plugins.module_utils._state import take_pending, write_pending

# Worker log lines in the ping body.
REPORT_LOG_LINES = 20


@dataclasses.dataclass(frozen=True)
class SignalTargets:
    """Where a run's signals go: a Healthchecks-style ping URL, a webhook URL, a textfile-collector directory."""

    ping_url: str | None = None
    webhook_url: str | None = None
    metrics_dir: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.ping_url or self.webhook_url or self.metrics_dir)

    def to_dict(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: t.Any) -> SignalTargets:
        data = data if isinstance(data, dict) else {}
        return cls(**{k: data.get(k) if isinstance(data.get(k), str) else None for k in cls.__dataclass_fields__})


def run_started(
    state_dir: str, targets: SignalTargets, record: t.Mapping[str, t.Any], http: Http | None = None
) -> list[Sent]:
    """Write the pending record, then send the ``/start`` ping."""
    if not targets.configured:
        return []
    job, run_id = str(record["job"]), str(record["run_id"])
    start = {**record, "outcome": "running", "message": "", "finished_at": ""}
    sent: list[Sent] = []
    if write_pending(state_dir, job, run_id, {"targets": targets.to_dict(), "record": start}) is None:
        sent.append(Sent("pending record", False, "not written: a recovery of this run could not send its end"))
    if targets.ping_url:
        body = f"job {job!r} on stack {record.get('stack')!r}: run {run_id} started on {socket.gethostname()}\n"
        sent.append(ping(targets.ping_url, "start", body, http))
    return sent


def run_finished(
    state_dir: str,
    targets: SignalTargets,
    record: t.Mapping[str, t.Any],
    *,
    ok: bool,
    log_tail: t.Sequence[str] = (),
    http: Http | None = None,
) -> list[Sent]:
    """The run's end: the pending record removed, then metrics, the success (``ok``) or fail ping, the webhook."""
    if not targets.configured:
        return []
    take_pending(state_dir, str(record["job"]), str(record["run_id"]))
    return _send_end(targets, record, ok, log_tail, http)


def run_interrupted(
    state_dir: str, job: str, run_id: str, *, now: float | None = None, http: Http | None = None
) -> list[Sent]:
    """The end of a run that died, sent by its recovery from the run's pending record (nothing when none)."""
    pending = take_pending(state_dir, job, run_id)
    if pending is None:
        return []
    targets = SignalTargets.from_dict(pending.get("targets"))
    start = pending.get("record")
    record: dict[str, t.Any] = dict(start) if isinstance(start, dict) else {"job": job, "run_id": run_id}
    finished = time.time() if now is None else now
    began = epoch(record.get("started_at"))
    record.update(
        outcome=INTERRUPTED,
        message=f"run {run_id} died on the host; a recovery restarted what it had stopped",
        finished_at=utc_iso(finished),
        duration_seconds=round(finished - began, 3) if began is not None else None,
        downtime_seconds=None,
    )
    return _send_end(targets, record, False, (), http)


def report(record: t.Mapping[str, t.Any], log_tail: t.Sequence[str] = ()) -> str:
    """The short run report, the body of the end ping."""
    lines = [
        f"job {record.get('job')!r} on stack {record.get('stack')!r} ({socket.gethostname()}): {record.get('outcome')}",
        str(record.get("message") or ""),
        f"run {record.get('run_id')}: started {record.get('started_at')}, finished {record.get('finished_at')}, "
        f"duration {_seconds(record.get('duration_seconds'))}, downtime {_seconds(record.get('downtime_seconds'))}",
    ]
    tail = list(log_tail)[-REPORT_LOG_LINES:]
    if tail:
        lines += [f"worker log, last {len(tail)} line(s):", *tail]
    return "\n".join(lines) + "\n"


def _send_end(
    targets: SignalTargets, record: t.Mapping[str, t.Any], ok: bool, log_tail: t.Sequence[str], http: Http | None
) -> list[Sent]:
    sent: list[Sent] = []
    if targets.metrics_dir:
        try:
            path = write_metrics(targets.metrics_dir, record)
        except OSError as exc:
            sent.append(Sent("metrics", False, f"not written to {targets.metrics_dir}: {exc.strerror or exc}"))
        else:
            sent.append(Sent("metrics", True, f"written to {path}"))
    if targets.ping_url:
        sent.append(ping(targets.ping_url, "success" if ok else "fail", report(record, log_tail), http))
    if targets.webhook_url:
        sent.append(webhook(targets.webhook_url, {**record, "host": socket.gethostname()}, http))
    return sent


def _seconds(value: t.Any) -> str:
    return f"{value:.1f}s" if isinstance(value, (int, float)) else "unknown"
