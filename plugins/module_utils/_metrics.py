# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Metrics for node_exporter's textfile collector: one ``bosun_<job>_<stack>.prom`` file per job and stack.

Each run rewrites its file atomically (a hidden temporary file in the same directory, then a rename), so
the collector never reads half a file; the temporary name does not end in ``.prom``. The gauges, each with
the labels ``job`` and ``stack``: ``bosun_job_last_run_timestamp_seconds`` (when the last run ended),
``bosun_job_last_success_timestamp_seconds`` (when the last run with outcome ``success`` ended; kept from
the previous file when this run did not succeed, absent until one did), ``bosun_job_last_duration_seconds``,
``bosun_job_last_downtime_seconds`` (absent when unknown: a run that died) and
``bosun_job_last_outcome{outcome="..."}``, 1 for the last run's outcome and 0 for each other known one.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import tempfile
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._model import INTERRUPTED, RUN_OUTCOMES

# Every outcome of a run, and the end a recovery records for a run that died.
OUTCOMES: tuple[str, ...] = (*RUN_OUTCOMES, INTERRUPTED)
LAST_SUCCESS = "bosun_job_last_success_timestamp_seconds"
HELP: dict[str, str] = {
    "bosun_job_last_run_timestamp_seconds": "When the job's last run on this stack ended (Unix time).",
    LAST_SUCCESS: "When the job's last run with outcome success on this stack ended (Unix time).",
    "bosun_job_last_duration_seconds": "How long the job's last run took, lease wait and hooks included.",
    "bosun_job_last_downtime_seconds": "How long the job's last run kept containers of the stack down.",
    "bosun_job_last_outcome": "The outcome of the job's last run: 1 for that outcome, 0 for the others.",
}


def metrics_file(metrics_dir: str, job: str, stack: str | None) -> str:
    """The job's file for ``stack``: ``bosun_<job>_<stack>.prom``, each name with [^A-Za-z0-9_] made ``_``."""
    return os.path.join(metrics_dir, f"bosun_{_safe(job)}_{_safe(stack or '')}.prom")


def render(record: t.Mapping[str, t.Any], last_success: float | None) -> str:
    """The file's text for one run record (``job``, ``stack``, ``outcome``, ``finished_at``, durations)."""
    labels = f'job="{_escape(str(record["job"]))}",stack="{_escape(str(record.get("stack") or ""))}"'
    finished = epoch(record.get("finished_at"))
    if record.get("outcome") == "success" and finished is not None:
        last_success = finished
    values: dict[str, float | None] = {
        "bosun_job_last_run_timestamp_seconds": finished,
        LAST_SUCCESS: last_success,
        "bosun_job_last_duration_seconds": _number(record.get("duration_seconds")),
        "bosun_job_last_downtime_seconds": _number(record.get("downtime_seconds")),
    }
    lines: list[str] = []
    for name, value in values.items():
        if value is not None:
            lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} gauge", f"{name}{{{labels}}} {value:.3f}"]
    name = "bosun_job_last_outcome"
    lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} gauge"]
    outcome = record.get("outcome")
    known = OUTCOMES if outcome in OUTCOMES else (*OUTCOMES, str(outcome))
    lines += [f'{name}{{{labels},outcome="{_escape(o)}"}} {int(o == outcome)}' for o in known]
    return "\n".join(lines) + "\n"


def previous_success(path: str) -> float | None:
    """The last success time in an existing file of ours, or None (no file, none recorded, unreadable)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, ValueError):
        return None
    found = re.search(rf"^{LAST_SUCCESS}\{{[^}}]*\}} (\S+)$", text, re.M)
    return _number(found.group(1)) if found else None


def write_metrics(metrics_dir: str, record: t.Mapping[str, t.Any]) -> str:
    """Write the run's file atomically; its path. Raises OSError when the directory is not writable."""
    path = metrics_file(metrics_dir, str(record["job"]), record.get("stack"))
    text = render(record, previous_success(path))
    fd, tmp = tempfile.mkstemp(prefix=".bosun_", suffix=".tmp", dir=metrics_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # node_exporter often runs as another user
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def epoch(iso: t.Any) -> float | None:
    """Unix time of an ISO 8601 timestamp (as utc_iso() writes them), or None."""
    if not isinstance(iso, str) or not iso:
        return None
    try:
        moment = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def _number(value: t.Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _escape(value: str) -> str:
    """A label value in the text format: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
