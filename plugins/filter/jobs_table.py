# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The jobs_table filter of the playbook bosun.compose.list_jobs: the table of the jobs that job_info found."""

from __future__ import annotations

DOCUMENTATION = r"""
name: jobs_table
short_description: A table of the jobs that job_info found
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - Turns the result of M(bosun.compose.job_info) into the lines that the playbook C(bosun.compose.list_jobs)
    prints.
  - A header (C(JOB), C(STACK), C(RUNNABLE), C(SCHEDULE), C(NEXT DUE) when a job has a C(next_due), C(LAST RUN),
    C(PROBLEMS), C(MEMBERS)), one row per job (or a line saying no jobs were found), then one line per problem of
    RV(bosun.compose.job_info#module:problems), its severity in capitals, a colon and its message.
  - C(LAST RUN) is the outcome of the job's RV(bosun.compose.job_info#module:jobs[].last_run) and when it started,
    in UTC to the minute (V(success 2026-12-01 02:30Z)), or V(-) when it never ran. C(NEXT DUE) is the job's
    C(next_due) to the minute, in its own time zone, or V(-) when it has none.
  - The columns are left-aligned, at least 24, 24, 9, 14, (17,) 8 and 8 characters wide and widened to their
    longest value, plus one blank; trailing blanks are cut.
  - Fails when the input is not a dict or a job lacks one of the keys shown.
options:
  _input:
    description: The registered result of M(bosun.compose.job_info), with C(jobs) and C(problems).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Discover the jobs
  bosun.compose.job_info:
  register: found

- name: Show the jobs
  ansible.builtin.debug:
    msg: "{{ found | bosun.compose.jobs_table }}"
"""

RETURN = r"""
_value:
  description: The lines, one string each.
  type: list
  elements: str
"""

import datetime
import re
import typing as t

from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import field, mapping, sequence

NAME = "jobs_table"
HEADER: tuple[str, ...] = ("JOB", "STACK", "RUNNABLE", "SCHEDULE", "LAST RUN", "PROBLEMS", "MEMBERS")
# The narrowest width of each column but the last; a column is widened to its longest value.
MIN_WIDTHS: tuple[int, ...] = (24, 24, 9, 14, 8, 8)
# The column shown after SCHEDULE when job_info returns when each job is due next, and its narrowest width.
NEXT_DUE = "NEXT DUE"
NEXT_DUE_WIDTH = 17


def minute(value: t.Any, *, in_utc: bool = False) -> str:
    """An ISO 8601 time to the minute: ``2026-12-01 02:30Z`` in UTC, else with its own offset (``+01:00``);
    with ``in_utc`` always in UTC. A value that is no such time is shown as it is."""
    try:
        moment = datetime.datetime.fromisoformat(re.sub(r"Z$", "+00:00", str(value)))
    except ValueError:
        return str(value)
    shown = "%Y-%m-%d %H:%M"
    offset = moment.utcoffset()
    if offset is None:
        return moment.strftime(shown)
    if in_utc or not offset:
        return moment.astimezone(datetime.timezone.utc).strftime(shown) + "Z"
    return moment.strftime(shown) + moment.isoformat()[-6:]


def last_run_cell(job: t.Mapping[str, t.Any]) -> str:
    """The outcome of the job's last run and when it started (UTC), or "-" when it never ran."""
    if not job.get("last_run"):
        return "-"
    run = mapping(job["last_run"], NAME, "a job's last_run")
    outcome = str(field(run, "outcome", NAME, "a job's last_run"))
    return f"{outcome} {minute(run['started_at'], in_utc=True)}" if run.get("started_at") else outcome


def jobs_table(found: t.Any) -> list[str]:
    """A header, one row per job (or "(no jobs found)") and one line per problem, from job_info's result."""
    found = mapping(found, NAME, "the job_info result")
    jobs = [mapping(j, NAME, "each job") for j in sequence(found.get("jobs", []), NAME, "jobs")]
    problems = [mapping(p, NAME, "each problem") for p in sequence(found.get("problems", []), NAME, "problems")]
    # job_info returns next_due once schedules are evaluated; the column is shown only then.
    with_due = any("next_due" in j for j in jobs)
    header, min_widths = HEADER, MIN_WIDTHS
    if with_due:
        header, min_widths = (*HEADER[:4], NEXT_DUE, *HEADER[4:]), (*MIN_WIDTHS[:4], NEXT_DUE_WIDTH, *MIN_WIDTHS[4:])
    cells: list[tuple[str, ...]] = [header]
    for j in jobs:
        members = ", ".join(
            str(mapping(c, NAME, "each container").get("name"))
            for c in sequence(field(j, "containers", NAME, "each job"), NAME, "a job's containers")
        )
        due = (minute(j["next_due"]) if j.get("next_due") else "-",) if with_due else ()
        cells.append(
            (
                str(field(j, "name", NAME, "each job")),
                str(field(j, "stack", NAME, "each job")),
                "yes" if field(j, "runnable", NAME, "each job") else "NO",
                str(j.get("schedule") or "-"),
                *due,
                last_run_cell(j),
                str(len(sequence(field(j, "problems", NAME, "each job"), NAME, "a job's problems"))),
                members,
            )
        )
    widths = [max(w, *(len(row[i]) for row in cells)) for i, w in enumerate(min_widths)]
    rows = [" ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]) for row in cells]
    if not jobs:
        rows.append("(no jobs found)")
    rows += [
        f"{str(field(p, 'severity', NAME, 'each problem')).upper()}: {field(p, 'message', NAME, 'each problem')}"
        for p in problems
    ]
    # A job without members would end its row in blanks.
    return [row.rstrip() for row in rows]


class FilterModule:
    """jobs_table."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"jobs_table": jobs_table}
