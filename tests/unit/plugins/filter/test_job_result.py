# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filter job_result: job_run's result from the run_job role's job_run and job_status tasks."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bosun.compose.plugins.filter.job_result import FilterModule, job_result

START = {"started": 1, "finished": 0, "ansible_job_id": "j1.42", "results_file": "/root/.ansible_async/j1.42"}
SYNC = {"changed": True, "outcome": "success", "run_id": "a" * 32, "lease_kept": False}
POLLED = {"finished": 1, "outcome": "failed", "run_id": "a" * 32, "lease_kept": False, "failed": True}
SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}


def test_filter_module_names_the_filter():
    assert FilterModule().filters() == {"job_result": job_result}


@pytest.mark.parametrize(
    ("started", "polled", "expected"),
    [
        (START, POLLED, POLLED),  # under async: job_status returned job_run's result
        (SYNC, SKIPPED, SYNC),  # without async: the wait was skipped
        (START, {}, START),  # the wait never ran (the start failed, or the role reset it)
        ({}, {}, {}),  # nothing ran
        (SYNC, None, SYNC),
        (None, None, {}),
    ],
)
def test_job_result_picks_the_task_that_returned_job_runs_result(started, polled, expected):
    assert job_result(started, polled) == expected


@pytest.mark.parametrize(
    ("started", "polled", "message"),
    [
        ("done", {}, "job_result: the job_run result must be a dict, got str"),
        ({}, ["x"], "job_result: polled must be a dict, got list"),
    ],
)
def test_job_result_rejects_what_is_no_task_result(started, polled, message):
    with pytest.raises(AnsibleFilterError, match=message):
        job_result(started, polled)
