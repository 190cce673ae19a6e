# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The list_jobs playbook's filter jobs_table, on results shaped like job_info's."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bosun.compose.plugins.filter.jobs_table import FilterModule, jobs_table


def job(name: str, stack: str | None, members: list[str], **kw) -> dict:
    """One entry of job_info's RV jobs (Job.to_dict())."""
    return {
        "name": name,
        "enabled": True,
        "runnable": True,
        "stack": stack,
        "containers": [{"id": f"id-{m}", "name": m, "service": m.split("-")[1], "state": "running"} for m in members],
        "image": "busybox:1.36",
        "command": ["sh", "-c", "true"],
        "env": {},
        "user": None,
        "network": None,
        "mounts": [],
        "timeout": 3600,
        "stop_timeout": None,
        "start_timeout": 300,
        "schedule": None,
        "overlap_policy": "queue",
        "problems": [],
        **kw,
    }


PROBLEM = {
    "severity": "error",
    "kind": "container",
    "object": "shop-cron-1",
    "label": "bosun.job.timeout",
    "value": "soon",
    "message": "container 'shop-cron-1': label bosun.job.timeout='soon' must be a duration",
}


def test_filter_module_names_the_filter():
    assert FilterModule().filters() == {"jobs_table": jobs_table}


def test_jobs_table_rows_and_problems():
    found = {
        "changed": False,
        "jobs": [
            job("nightly-backup", "shop", ["shop-db-1", "shop-app-1"], schedule="0 2 * * *"),
            job("vacuum", "shop", ["shop-cron-1"], runnable=False, problems=[PROBLEM]),
        ],
        "problems": [PROBLEM, dict(PROBLEM, severity="warning", message="job 'x' is declared twice")],
        "leases": [],
    }
    assert jobs_table(found) == [
        "JOB                      STACK                    RUNNABLE  SCHEDULE       LAST RUN PROBLEMS MEMBERS",
        "nightly-backup           shop                     yes       0 2 * * *      -        0        shop-db-1, shop-app-1",
        "vacuum                   shop                     NO        -              -        1        shop-cron-1",
        "ERROR: container 'shop-cron-1': label bosun.job.timeout='soon' must be a duration",
        "WARNING: job 'x' is declared twice",
    ]


def test_jobs_table_without_jobs():
    assert jobs_table({"jobs": [], "problems": []}) == [
        "JOB                      STACK                    RUNNABLE  SCHEDULE       LAST RUN PROBLEMS MEMBERS",
        "(no jobs found)",
    ]


def test_jobs_table_cuts_trailing_blanks_of_a_job_without_members():
    [_header, row] = jobs_table({"jobs": [job("inline", "shop", [])], "problems": []})
    assert row == "inline                   shop                     yes       -              -        0"


def test_jobs_table_sizes_the_columns_to_names_longer_than_24_characters():
    long_job = "nightly-backup-of-the-orders-database"  # 37 characters
    long_stack = "shop-production-eu-west-1a"  # 26 characters
    rows = jobs_table(
        {
            "jobs": [
                job(long_job, long_stack, ["shop-db-1"], schedule="0 2 * * *"),
                job("vacuum", "shop", ["shop-cron-1"]),
            ],
            "problems": [],
        }
    )
    assert rows == [
        "JOB                                   STACK                      RUNNABLE  SCHEDULE       LAST RUN PROBLEMS MEMBERS",
        "nightly-backup-of-the-orders-database shop-production-eu-west-1a yes       0 2 * * *      -        0        shop-db-1",
        "vacuum                                shop                       yes       -              -        0        shop-cron-1",
    ]
    # Every column starts at the same offset on every row.
    for title in ("STACK", "RUNNABLE", "SCHEDULE", "LAST RUN", "PROBLEMS", "MEMBERS"):
        start = rows[0].index(title)
        assert all(row[start - 1] == " " and row[start] != " " for row in rows[1:])


def test_jobs_table_widens_a_long_schedule_column():
    rows = jobs_table({"jobs": [job("x", "s", ["shop-a-1"], schedule="*/5 8-18 * * mon-fri")], "problems": []})
    assert rows[0].index("LAST RUN") == rows[1].index("-        0        shop-a-1")


@pytest.mark.parametrize(
    ("found", "message"),
    [
        ([], "jobs_table: the job_info result must be a dict, got list"),
        ({"jobs": "nightly-backup"}, "jobs_table: jobs must be a list, got str"),
        ({"jobs": [None]}, "jobs_table: each job must be a dict, got NoneType"),
        (
            {"jobs": [{"name": "x", "stack": "s", "runnable": True, "problems": []}]},
            "jobs_table: each job has no key 'containers'",
        ),
        ({"jobs": [], "problems": [{"severity": "error"}]}, "jobs_table: each problem has no key 'message'"),
    ],
)
def test_jobs_table_refuses_what_is_not_a_job_info_result(found, message):
    with pytest.raises(AnsibleFilterError) as err:
        jobs_table(found)
    assert message in str(err.value)


RUN_RECORD = {"run_id": "r1", "outcome": "worker_failed", "started_at": "2026-12-01T02:30:53.507+00:00"}


def test_jobs_table_shows_the_last_outcome_and_when_it_started_in_utc():
    rows = jobs_table(
        {
            "jobs": [
                job("nightly-backup", "shop", ["shop-db-1"], last_run=RUN_RECORD),
                job(
                    "vacuum", "shop", ["shop-cron-1"], last_run=dict(RUN_RECORD, started_at="2026-12-01T03:30:00+01:00")
                ),
                job("never", "shop", ["shop-cron-1"], last_run=None),
            ],
            "problems": [],
        }
    )
    assert rows == [
        "JOB                      STACK                    RUNNABLE  SCHEDULE       LAST RUN                        PROBLEMS MEMBERS",
        "nightly-backup           shop                     yes       -              worker_failed 2026-12-01 02:30Z 0        shop-db-1",
        "vacuum                   shop                     yes       -              worker_failed 2026-12-01 02:30Z 0        shop-cron-1",
        "never                    shop                     yes       -              -                               0        shop-cron-1",
    ]


def test_jobs_table_shows_next_due_only_when_job_info_returns_it():
    found = {
        "jobs": [
            job("nightly-backup", "shop", ["shop-db-1"], schedule="30 2 * * *", next_due="2026-12-02T02:30:00+01:00"),
            job("manual", "shop", ["shop-db-1"], next_due=None),
        ],
        "problems": [],
    }
    assert jobs_table(found) == [
        "JOB                      STACK                    RUNNABLE  SCHEDULE       NEXT DUE               LAST RUN PROBLEMS MEMBERS",
        "nightly-backup           shop                     yes       30 2 * * *     2026-12-02 02:30+01:00 -        0        shop-db-1",
        "manual                   shop                     yes       -              -                      -        0        shop-db-1",
    ]
    utc = jobs_table({"jobs": [job("x", "s", [], next_due="2026-12-02T01:30:00Z")], "problems": []})
    assert "2026-12-02 01:30Z" in utc[1]
    assert "NEXT DUE" not in jobs_table({"jobs": [job("x", "s", [])], "problems": []})[0]


def test_jobs_table_refuses_a_last_run_without_outcome():
    with pytest.raises(AnsibleFilterError) as err:
        jobs_table({"jobs": [job("x", "s", [], last_run={"started_at": "now"})], "problems": []})
    assert "jobs_table: a job's last_run has no key 'outcome'" in str(err.value)
