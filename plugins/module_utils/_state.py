# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state directory on the Docker host: worker logs and run records.

Layout: ``<state_dir>/logs/<job>/<run_id>.log`` (the worker's whole log, secrets masked; the after-phase's
in ``<run_id>.after.log``) and
``<state_dir>/runs/<job>/<run_id>.json`` (one small record per run);
``<state_dir>/schedule/<job>/<stack>.json`` holds what job_due remembers (first_seen, reset_at, dispatched_at).

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


def last_run(state_dir: str, job: str, stack: str | None = None) -> dict[str, t.Any] | None:
    """The newest run record of a job (of a stack), or None when there is none or it cannot be read."""
    folder = runs_dir(state_dir, job)
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    records = []
    for n in names:
        try:
            with open(os.path.join(folder, n), encoding="utf-8") as f:
                rec = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict) and (stack is None or rec.get("stack") == stack):
            records.append(rec)
    return max(records, key=lambda r: r.get("started_at") or "", default=None)


# ---- schedule state: what run_due remembers per job and stack, beside the run records ---------------------


def run_records(state_dir: str, job: str, stack: str | None = None) -> list[dict[str, t.Any]]:
    """Every readable run record of a job (of a stack), newest ``started_at`` first."""
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
    return sorted(records, key=lambda r: str(r.get("started_at") or ""), reverse=True)


def schedule_state_path(state_dir: str, job: str, stack: str) -> str:
    """``<state_dir>/schedule/<job>/<stack>.json``: first_seen, reset_at and dispatched_at of one job of one stack."""
    return os.path.join(state_dir, "schedule", job, f"{stack}.json")


def read_schedule_state(state_dir: str, job: str, stack: str) -> dict[str, t.Any]:
    """The schedule state of a job of a stack; empty when there is none yet (or it cannot be read)."""
    try:
        with open(schedule_state_path(state_dir, job, stack), encoding="utf-8") as f:
            state = json.load(f)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_schedule_state(state_dir: str, job: str, stack: str, state: t.Mapping[str, t.Any]) -> str:
    """Write it atomically (a temporary file renamed over it); its path. Raises OSError when it cannot."""
    path = schedule_state_path(state_dir, job, stack)
    os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temp, "w", encoding="utf-8") as f:
            json.dump(dict(state), f, indent=1, sort_keys=True)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return path
