# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The textfile-collector metrics: file name, gauges, the kept last success, atomic writes.

(prometheus_client's own parser reads these files in tests/integration/test_notify.py.)
"""

from __future__ import annotations

import os
import pathlib
import re
import stat
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils import _executor
from ansible_collections.bosun.compose.plugins.module_utils._metrics import (
    OUTCOMES,
    epoch,
    metrics_file,
    write_metrics,
)

SAMPLE = re.compile(r"^(\w+)\{([^}]*)\} (\S+)$")


def record(outcome: str = "success", finished: str = "2026-01-31T02:30:10.500+00:00", **extra: t.Any) -> dict:
    return {
        "job": "nightly-backup",
        "stack": "shop.prod",
        "run_id": "r1",
        "outcome": outcome,
        "started_at": "2026-01-31T02:30:00.000+00:00",
        "finished_at": finished,
        "duration_seconds": 10.5,
        "downtime_seconds": 8.25,
        **extra,
    }


def samples(path: str) -> dict[tuple[str, str], float]:
    """(metric, labels) -> value of each sample line in the file."""
    with open(path, encoding="utf-8") as f:
        found = [SAMPLE.match(line) for line in f if not line.startswith("#")]
    return {(m.group(1), m.group(2)): float(m.group(3)) for m in found if m}


LABELS = 'job="nightly-backup",stack="shop.prod"'


def test_the_outcomes_are_the_executors_and_interrupted() -> None:
    assert set(OUTCOMES) == set(t.get_args(_executor.Outcome)) | {"interrupted"}
    assert len(OUTCOMES) == len(set(OUTCOMES))


def test_the_file_is_named_after_the_job_and_stack_sanitized(tmp_path) -> None:
    assert metrics_file(str(tmp_path), "nightly-backup", "shop.prod") == str(
        tmp_path / "bosun_nightly_backup_shop_prod.prom"
    )


def test_a_success_writes_every_gauge_with_help_and_type(tmp_path) -> None:
    path = write_metrics(str(tmp_path), record())
    finished = epoch("2026-01-31T02:30:10.500+00:00")
    got = samples(path)
    assert got[("bosun_job_last_run_timestamp_seconds", LABELS)] == finished == 1769826610.5
    assert got[("bosun_job_last_success_timestamp_seconds", LABELS)] == finished
    assert got[("bosun_job_last_duration_seconds", LABELS)] == 10.5
    assert got[("bosun_job_last_downtime_seconds", LABELS)] == 8.25
    outcomes = {k[1]: v for k, v in got.items() if k[0] == "bosun_job_last_outcome"}
    assert outcomes == {f'{LABELS},outcome="{o}"': float(o == "success") for o in OUTCOMES}
    text = pathlib.Path(path).read_text(encoding="utf-8")
    for name in ("run_timestamp", "success_timestamp", "duration", "downtime"):
        assert f"# TYPE bosun_job_last_{name}_seconds gauge\n" in text
    assert "# HELP bosun_job_last_outcome " in text and text.endswith("\n")


def test_a_failure_keeps_the_last_success_of_the_previous_file(tmp_path) -> None:
    write_metrics(str(tmp_path), record())
    path = write_metrics(str(tmp_path), record("worker_failed", finished="2026-02-01T02:30:00.000+00:00"))
    got = samples(path)
    assert got[("bosun_job_last_success_timestamp_seconds", LABELS)] == 1769826610.5
    assert got[("bosun_job_last_run_timestamp_seconds", LABELS)] == epoch("2026-02-01T02:30:00.000+00:00")
    assert got[("bosun_job_last_outcome", f'{LABELS},outcome="worker_failed"')] == 1
    assert got[("bosun_job_last_outcome", f'{LABELS},outcome="success"')] == 0


def test_without_any_success_there_is_no_success_gauge_and_skipped_is_no_success(tmp_path) -> None:
    path = write_metrics(str(tmp_path), record("skipped"))
    assert "bosun_job_last_success_timestamp_seconds" not in pathlib.Path(path).read_text(encoding="utf-8")


def test_an_unknown_downtime_is_left_out(tmp_path) -> None:
    path = write_metrics(str(tmp_path), record("interrupted", downtime_seconds=None))
    got = samples(path)
    assert ("bosun_job_last_downtime_seconds", LABELS) not in got
    assert got[("bosun_job_last_outcome", f'{LABELS},outcome="interrupted"')] == 1


def test_label_values_are_escaped(tmp_path) -> None:
    path = write_metrics(str(tmp_path), record(job='a"b\\c'))
    assert 'job="a\\"b\\\\c"' in pathlib.Path(path).read_text(encoding="utf-8")


def test_the_write_is_atomic_and_readable_by_the_collector(tmp_path) -> None:
    path = write_metrics(str(tmp_path), record())
    assert os.listdir(tmp_path) == [os.path.basename(path)]  # no temporary file left
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_a_missing_directory_raises_oserror(tmp_path) -> None:
    with pytest.raises(OSError):
        write_metrics(str(tmp_path / "missing"), record())


@pytest.mark.parametrize("value", [None, "", "yesterday", 5])
def test_epoch_of_no_timestamp_is_none(value: t.Any) -> None:
    assert epoch(value) is None
