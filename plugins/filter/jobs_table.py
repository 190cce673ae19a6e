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
  - A header (C(JOB), C(STACK), C(RUNNABLE), C(SCHEDULE), C(PROBLEMS), C(MEMBERS)), one row per job (or
    a line saying no jobs were found), then one line per problem of RV(bosun.compose.job_info#module:problems),
    its severity in capitals, a colon and its message.
  - The columns are left-aligned, at least 24, 24, 9, 14 and 8 characters wide and widened to their longest
    value, plus one blank; trailing blanks are cut.
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

import typing as t

from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import field, mapping, sequence


HEADER = ("JOB", "STACK", "RUNNABLE", "SCHEDULE", "PROBLEMS", "MEMBERS")
# The narrowest width of each column but the last; a column is widened to its longest value.
MIN_WIDTHS = (24, 24, 9, 14, 8)


def jobs_table(found: t.Any) -> list[str]:
    """A header, one row per job (or "(no jobs found)") and one line per problem, from job_info's result."""
    found = mapping(found, "jobs_table", "the job_info result")
    jobs = [mapping(j, "jobs_table", "each job") for j in sequence(found.get("jobs", []), "jobs_table", "jobs")]
    problems = [
        mapping(p, "jobs_table", "each problem") for p in sequence(found.get("problems", []), "jobs_table", "problems")
    ]
    cells: list[tuple[str, ...]] = [HEADER]
    for j in jobs:
        members = ", ".join(
            str(mapping(c, "jobs_table", "each container").get("name"))
            for c in sequence(field(j, "containers", "jobs_table", "each job"), "jobs_table", "a job's containers")
        )
        cells.append(
            (
                str(field(j, "name", "jobs_table", "each job")),
                str(field(j, "stack", "jobs_table", "each job")),
                "yes" if field(j, "runnable", "jobs_table", "each job") else "NO",
                str(j.get("schedule") or "-"),
                str(len(sequence(field(j, "problems", "jobs_table", "each job"), "jobs_table", "a job's problems"))),
                members,
            )
        )
    widths = [max(w, *(len(row[i]) for row in cells)) for i, w in enumerate(MIN_WIDTHS)]
    rows = [" ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]) for row in cells]
    if not jobs:
        rows.append("(no jobs found)")
    rows += [
        f"{str(field(p, 'severity', 'jobs_table', 'each problem')).upper()}: {field(p, 'message', 'jobs_table', 'each problem')}"
        for p in problems
    ]
    # A job without members would end its row in blanks.
    return [row.rstrip() for row in rows]


class FilterModule:
    """jobs_table."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"jobs_table": jobs_table}
