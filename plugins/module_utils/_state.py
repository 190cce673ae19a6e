# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state directory on the Docker host: worker logs and run records.

Layout: ``<state_dir>/logs/<job>/<run_id>.log`` (the worker's whole log, secrets masked; the after-phase's
in ``<run_id>.after.log``) and
``<state_dir>/runs/<job>/<run_id>.json`` (one small record per run, with its provenance; ``runs()`` reads them
newest first).

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import json
import os
import typing as t


def default_state_dir() -> str:
    """/var/lib/bosun for root, else $XDG_STATE_HOME/bosun (default ~/.local/state/bosun)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "/var/lib/bosun"
    base = os.environ.get("XDG_STATE_HOME") or ""
    if not os.path.isabs(base):  # the XDG spec says relative values are invalid and must be ignored
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "bosun")


def log_path(state_dir: str, job: str, run_id: str, role: str = "worker") -> str:
    """The log file of a run's worker, or of its after-phase (``role`` "after")."""
    suffix = "" if role == "worker" else f".{role}"
    return os.path.join(state_dir, "logs", job, f"{run_id}{suffix}.log")


def runs_dir(state_dir: str, job: str) -> str:
    return os.path.join(state_dir, "runs", job)


def write_record(state_dir: str, job: str, run_id: str, record: t.Mapping[str, t.Any]) -> str | None:
    """Write one run's record; its path, or None when the state directory is not writable."""
    path = os.path.join(runs_dir(state_dir, job), f"{run_id or 'unplanned'}.json")
    try:
        os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(dict(record), f, indent=1, sort_keys=True)
    except OSError:
        return None
    return path


def runs(state_dir: str, job: str, stack: str | None = None, limit: int | None = None) -> list[dict[str, t.Any]]:
    """The run records of a job (of a stack), newest first (by ``started_at``), at most ``limit`` of them.

    A record that cannot be read or is not a JSON object is left out; no folder (or no access) is no records.
    """
    folder = runs_dir(state_dir, job)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    records = []
    for n in names:
        try:
            with open(os.path.join(folder, n), encoding="utf-8") as f:
                rec = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict) and (stack is None or rec.get("stack") == stack):
            records.append(rec)
    records.sort(key=lambda r: str(r.get("started_at") or ""), reverse=True)
    keep = len(records) if limit is None else max(limit, 0)
    return records[:keep]


def last_run(state_dir: str, job: str, stack: str | None = None) -> dict[str, t.Any] | None:
    """The newest run record of a job (of a stack), or None when there is none or it cannot be read."""
    newest = runs(state_dir, job, stack, limit=1)
    return newest[0] if newest else None


# The fields of a run record that a job's history shows.
HISTORY_KEYS = ("run_id", "outcome", "started_at", "finished_at", "downtime_seconds", "duration_seconds")


def history_entry(record: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """One run of a job's history: the record's HISTORY_KEYS (None for a key an older record lacks)."""
    return {k: record.get(k) for k in HISTORY_KEYS}
