# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state directory on the Docker host: worker logs and run records.

Layout: ``<state_dir>/logs/<job>/<run_id>.log`` (the worker's whole log, secrets masked; the after-phase's
in ``<run_id>.after.log``) and
``<state_dir>/runs/<job>/<run_id>.json`` (one small record per run, with its provenance; ``runs()`` reads them
newest first). While a run that sends signals (a ping, a webhook, metrics) is in progress,
``<state_dir>/pending/<job>/<run_id>.json`` (mode 0600: it holds the signal URLs, which never leave the host)
keeps its start record and targets, for a recovery to send its end.
``<state_dir>/schedule/<job>/<stack>.json`` holds what job_due remembers (first_seen, reset_at, dispatched_at).
``<state_dir>/leases/<project>.json`` (mode 0600) mirrors the lease of a run in progress: a cleanup job that prunes
the lease container (``docker container prune``) does not lose the run's journal (see _lease.py).
``<state_dir>/index/<engine>.json`` (mode 0600) is the container index of one Engine (see _container_index.py).
``<state_dir>/heartbeat/<run_id>`` is the controller heartbeat of a run that cancels itself when the controller is
lost (its mtime is all that counts, see _heartbeat.py).

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import contextlib
import hashlib
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


def heartbeat_path(state_dir: str, run_id: str) -> str:
    """The controller heartbeat of a run: job_status refreshes it, the run's watcher checks it."""
    return os.path.join(state_dir, "heartbeat", run_id)


def pending_path(state_dir: str, job: str, run_id: str) -> str:
    return os.path.join(state_dir, "pending", job, f"{run_id}.json")


def read_object(path: str) -> dict[str, t.Any] | None:
    """The JSON object a state file holds; None when it is missing, unreadable, not JSON or not an object."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_private(path: str, data: t.Mapping[str, t.Any]) -> bool:
    """Write ``data`` as JSON atomically (a temporary file renamed over it), readable by its owner only (0600)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(dict(data), f, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def write_pending(state_dir: str, job: str, run_id: str, data: t.Mapping[str, t.Any]) -> str | None:
    """Write a run's pending record, readable by its owner only; its path, or None when it cannot be written."""
    path = pending_path(state_dir, job, run_id)
    return path if _write_private(path, data) else None


def take_pending(state_dir: str, job: str, run_id: str) -> dict[str, t.Any] | None:
    """Claim and remove a run's pending record: its data, or None when there is none (or another took it).

    The claim is a rename, so of two takers at once (a run ending and a recovery of it) only one gets it.
    """
    path = pending_path(state_dir, job, run_id)
    claimed = f"{path}.{os.getpid()}.taken"
    try:
        os.rename(path, claimed)
    except OSError:
        return None
    try:
        return read_object(claimed)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(claimed)


def index_path(state_dir: str, docker_host: str) -> str:
    """The container index of the Engine at ``docker_host`` (one file per Engine)."""
    digest = hashlib.sha256(docker_host.encode("utf-8")).hexdigest()[:16]
    return os.path.join(state_dir, "index", f"{digest}.json")


def write_index(path: str, data: t.Mapping[str, t.Any]) -> bool:
    """Write a container index atomically (mode 0600); False when the state directory is not writable."""
    return _write_private(path, data)


def lease_journal_path(state_dir: str, project: str) -> str:
    """``<state_dir>/leases/<project>.json``: the host's copy of a stack's lease, which outlives a pruned lease."""
    return os.path.join(state_dir, "leases", f"{project}.json")


def lease_journal_paths(state_dir: str) -> list[str]:
    """Every lease journal in the state directory, sorted; none when there is no folder (or no access)."""
    folder = os.path.join(state_dir, "leases")
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names]


def write_lease_journal(path: str, labels: t.Mapping[str, str]) -> bool:
    """Write a lease's labels to its journal atomically (mode 0600); False when it cannot be written."""
    return _write_private(path, labels)


def read_lease_journal(path: str) -> dict[str, str] | None:
    """The lease labels a journal holds, or None when there is none (or it cannot be read)."""
    data = read_object(path)
    return {str(k): str(v) for k, v in data.items()} if data is not None else None


def remove_lease_journal(path: str, run_key: str, run_id: str) -> bool:
    """Remove a lease journal if it is the one of ``run_id`` (label ``run_key``); another run's is left alone.

    True only for the caller whose unlink removed it: of two releases at the same moment, one.
    """
    labels = read_lease_journal(path)
    if labels is None or labels.get(run_key) != run_id:
        return False
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


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
        rec = read_object(os.path.join(folder, n))
        if rec is not None and (stack is None or rec.get("stack") == stack):
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


# ---- schedule state: what run_due remembers per job and stack, beside the run records ---------------------


def schedule_state_path(state_dir: str, job: str, stack: str) -> str:
    """``<state_dir>/schedule/<job>/<stack>.json``: first_seen, reset_at and dispatched_at of one job of one stack."""
    return os.path.join(state_dir, "schedule", job, f"{stack}.json")


def read_schedule_state(state_dir: str, job: str, stack: str) -> dict[str, t.Any]:
    """The schedule state of a job of a stack; empty when there is none yet (or it cannot be read)."""
    return read_object(schedule_state_path(state_dir, job, stack)) or {}


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
