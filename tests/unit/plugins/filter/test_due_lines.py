# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run_due filters due_lines and run_due_summary, on results shaped like job_due's."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bosun.compose.plugins.filter.due_lines import FilterModule as DueLines
from ansible_collections.bosun.compose.plugins.filter.due_lines import due_lines
from ansible_collections.bosun.compose.plugins.filter.run_due_summary import FilterModule as Summary
from ansible_collections.bosun.compose.plugins.filter.run_due_summary import run_due_summary


def status(job: str, reason: str, schedule: str | None = "30 2 * * *", **kw: object) -> dict:
    """One entry of job_due's lists (DueStatus.to_dict())."""
    return {
        "job": job,
        "stack": "shop",
        "schedule": schedule,
        "due": False,
        "held": False,
        "reason": reason,
        "last_scheduled": None,
        "next_scheduled": None,
        "last_run": None,
        "streak": 0,
        "last_failure": None,
        **kw,
    }


RESULT = {
    "now": "2026-06-15T02:35:01+02:00",
    "timezone": "Europe/Berlin",
    "due": [status("backup", "scheduled at 2026-06-15T02:30:00+02:00", due=True)],
    "held": [status("export", "held by the circuit breaker", held=True, streak=3, last_failure={"outcome": "timeout"})],
    "waiting": [status("check", "next at 2026-06-21T04:00:00+02:00")],
    "unscheduled": [
        status("adhoc", "no bosun.job.schedule label", schedule=None),
        status("old", "disabled (bosun.job.enabled is false); run_due does not run it"),
    ],
}


def test_filter_modules_name_their_filters() -> None:
    assert DueLines().filters() == {"due_lines": due_lines}
    assert Summary().filters() == {"run_due_summary": run_due_summary}


def test_due_lines_count_then_one_line_per_job_due_first() -> None:
    assert due_lines(RESULT) == [
        "2026-06-15T02:35:01+02:00 (Europe/Berlin): 1 due, 1 held, 1 waiting, 2 unscheduled",
        "due: backup on shop: scheduled at 2026-06-15T02:30:00+02:00",
        "held: export on shop: held by the circuit breaker",
        "waiting: check on shop: next at 2026-06-21T04:00:00+02:00",
        "not run: old on shop: disabled (bosun.job.enabled is false); run_due does not run it",
    ]


def test_summary_lists_ran_failed_held_and_skipped_with_reasons() -> None:
    ran = [{"job": "backup", "stack": "shop", "outcome": "success", "run_id": "r1"}]
    s = run_due_summary(RESULT, ran, [])
    assert s["ran"] == ran and s["failed"] == []
    assert s["held"] == [
        {
            "job": "export",
            "stack": "shop",
            "streak": 3,
            "last_failure": {"outcome": "timeout"},
            "reason": "held by the circuit breaker",
        }
    ]
    assert [(x["job"], x["reason"]) for x in s["skipped"]] == [
        ("check", "next at 2026-06-21T04:00:00+02:00"),
        ("old", "disabled (bosun.job.enabled is false); run_due does not run it"),
    ]


def test_summary_in_check_mode_skips_the_due_jobs() -> None:
    s = run_due_summary(RESULT, check_mode=True)
    assert s["skipped"][-1] == {
        "job": "backup",
        "stack": "shop",
        "reason": "check mode - would run: scheduled at 2026-06-15T02:30:00+02:00",
    }


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([], "due_lines: the result must be a dict, got list"),
        ({"due": []}, "due_lines: the result has no key 'held'"),
        ({**RESULT, "due": "backup"}, "due_lines: due must be a list, got str"),
        ({**RESULT, "due": [{"job": "x", "stack": "s"}]}, "due_lines: each entry of due has no key 'reason'"),
    ],
)
def test_due_lines_names_what_is_wrong_with_its_input(bad: object, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        due_lines(bad)


def test_summary_names_what_is_wrong_with_its_input() -> None:
    with pytest.raises(AnsibleFilterError, match="run_due_summary: ran must be a list, got dict"):
        run_due_summary(RESULT, {"job": "x"})
    with pytest.raises(AnsibleFilterError, match="run_due_summary: each entry of held has no key 'streak'"):
        run_due_summary({**RESULT, "held": [{"job": "x", "stack": "s", "reason": "r"}]})
