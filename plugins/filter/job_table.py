# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The jobs_table filter of the playbook bosun.compose.list_jobs (documented in plugins/filter/jobs_table.yml)."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from ansible.errors import AnsibleFilterError

HEADER = ("JOB", "STACK", "RUNNABLE", "SCHEDULE", "PROBLEMS", "MEMBERS")
# The narrowest width of each column but the last; a column is widened to its longest value.
MIN_WIDTHS = (24, 24, 9, 14, 8)


def _mapping(value: t.Any, what: str) -> cabc.Mapping[str, t.Any]:
    if not isinstance(value, cabc.Mapping):
        raise AnsibleFilterError(f"jobs_table: {what} must be a dict, got {type(value).__name__}")
    return value


def _list(value: t.Any, what: str) -> list[t.Any]:
    if isinstance(value, (str, bytes, cabc.Mapping)) or not isinstance(value, cabc.Sequence):
        raise AnsibleFilterError(f"jobs_table: {what} must be a list, got {type(value).__name__}")
    return list(value)


def _field(value: cabc.Mapping[str, t.Any], key: str, what: str) -> t.Any:
    try:
        return value[key]
    except KeyError:
        raise AnsibleFilterError(f"jobs_table: {what} has no key {key!r}") from None


def jobs_table(found: t.Any) -> list[str]:
    """A header, one row per job (or "(no jobs found)") and one line per problem, from job_info's result."""
    found = _mapping(found, "the job_info result")
    jobs = [_mapping(j, "each job") for j in _list(found.get("jobs", []), "jobs")]
    problems = [_mapping(p, "each problem") for p in _list(found.get("problems", []), "problems")]
    cells: list[tuple[str, ...]] = [HEADER]
    for j in jobs:
        members = ", ".join(
            str(_mapping(c, "each container").get("name"))
            for c in _list(_field(j, "containers", "each job"), "a job's containers")
        )
        cells.append(
            (
                str(_field(j, "name", "each job")),
                str(_field(j, "stack", "each job")),
                "yes" if _field(j, "runnable", "each job") else "NO",
                str(j.get("schedule") or "-"),
                str(len(_list(_field(j, "problems", "each job"), "a job's problems"))),
                members,
            )
        )
    widths = [max(w, *(len(row[i]) for row in cells)) for i, w in enumerate(MIN_WIDTHS)]
    rows = [" ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]) for row in cells]
    if not jobs:
        rows.append("(no jobs found)")
    rows += [
        f"{str(_field(p, 'severity', 'each problem')).upper()}: {_field(p, 'message', 'each problem')}"
        for p in problems
    ]
    # A job without members would end its row in blanks.
    return [row.rstrip() for row in rows]


class FilterModule:
    """jobs_table."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"jobs_table": jobs_table}
