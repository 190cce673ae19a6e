# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run records of the state directory: runs() newest first, last_run(), history entries."""

from __future__ import annotations

import os

import pytest

from ansible_collections.bosun.compose.plugins.module_utils import _state
from ansible_collections.bosun.compose.plugins.module_utils._state import (
    HISTORY_KEYS,
    history_entry,
    last_run,
    runs,
    runs_dir,
    write_record,
)


def record(run_id: str, started_at: str, stack: str = "shop", outcome: str = "success") -> dict:
    return {
        "run_id": run_id,
        "job": "backup",
        "stack": stack,
        "outcome": outcome,
        "message": "m",
        "started_at": started_at,
        "finished_at": started_at.replace(":00.000", ":09.000"),
        "downtime_seconds": 1.5,
        "duration_seconds": 9.0,
        "log_path": None,
    }


@pytest.fixture
def state(tmp_path) -> str:
    # Run ids are random: the file names sort in no particular time order.
    for run_id, at, stack in [
        ("c" * 32, "2026-03-01T02:00:00.000+00:00", "shop"),
        ("a" * 32, "2026-03-03T02:00:00.000+00:00", "shop"),
        ("d" * 32, "2026-03-04T02:00:00.000+00:00", "blog"),
        ("b" * 32, "2026-03-02T02:00:00.000+00:00", "shop"),
    ]:
        assert write_record(str(tmp_path), "backup", run_id, record(run_id, at, stack))
    return str(tmp_path)


def test_runs_are_newest_first_by_start_time_for_one_stack(state) -> None:
    assert [r["run_id"][0] for r in runs(state, "backup", "shop")] == ["a", "b", "c"]
    assert [r["run_id"][0] for r in runs(state, "backup")] == ["d", "a", "b", "c"]


def test_runs_returns_at_most_limit_records(state) -> None:
    assert [r["run_id"][0] for r in runs(state, "backup", "shop", limit=2)] == ["a", "b"]
    assert runs(state, "backup", "shop", limit=0) == []
    assert len(runs(state, "backup", "shop", limit=10)) == 3


def test_runs_skips_what_is_not_a_readable_record(state) -> None:
    folder = runs_dir(state, "backup")
    with open(os.path.join(folder, "broken.json"), "w", encoding="utf-8") as f:
        f.write("{not json")
    with open(os.path.join(folder, "list.json"), "w", encoding="utf-8") as f:
        f.write("[1, 2]")
    assert [r["run_id"][0] for r in runs(state, "backup", "shop")] == ["a", "b", "c"]


def test_no_records_is_an_empty_history_and_no_last_run(tmp_path) -> None:
    assert runs(str(tmp_path), "backup", "shop") == []
    assert last_run(str(tmp_path), "backup", "shop") is None


def test_last_run_is_the_newest_record_of_the_stack(state) -> None:
    newest = last_run(state, "backup", "shop")
    assert newest is not None and newest["run_id"] == "a" * 32 and newest["message"] == "m"


def test_a_history_entry_has_the_times_outcome_and_downtime_only() -> None:
    rec = record("a" * 32, "2026-03-03T02:00:00.000+00:00")
    assert history_entry(rec) == {
        "run_id": "a" * 32,
        "outcome": "success",
        "started_at": "2026-03-03T02:00:00.000+00:00",
        "finished_at": "2026-03-03T02:00:09.000+00:00",
        "downtime_seconds": 1.5,
        "duration_seconds": 9.0,
    }
    # An older or partial record gives None for what it lacks.
    assert history_entry({"outcome": "timeout"}) == {k: "timeout" if k == "outcome" else None for k in HISTORY_KEYS}


def test_the_lease_journal_is_private_listed_and_removed_only_by_its_own_run(tmp_path):
    path = _state.lease_journal_path(str(tmp_path), "shop")
    assert _state.write_lease_journal(path, {"bosun.lease.run-id": "a" * 32, "bosun.lease.project": "shop"})
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert _state.lease_journal_paths(str(tmp_path)) == [path]
    assert _state.read_lease_journal(path) == {"bosun.lease.run-id": "a" * 32, "bosun.lease.project": "shop"}
    _state.remove_lease_journal(path, "bosun.lease.run-id", "b" * 32)  # another run's: left alone
    assert os.path.exists(path)
    _state.remove_lease_journal(path, "bosun.lease.run-id", "a" * 32)
    assert not os.path.exists(path) and _state.lease_journal_paths(str(tmp_path)) == []
    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")
    assert not _state.write_lease_journal(str(blocked / "leases" / "shop.json"), {})
