# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The due_lines filter of the playbook bosun.compose.run_due: what is due, held and next on a Docker host."""

from __future__ import annotations

DOCUMENTATION = r"""
name: due_lines
short_description: What is due, held and next on a Docker host, one line per job
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - Turns the result of M(bosun.compose.job_due) into the lines that the playbook C(bosun.compose.run_due) prints.
  - >-
    A first line C(<now> (<timezone>): <n> due, <n> held, <n> waiting, <n> unscheduled), then one line per job, due
    ones first in their run order - C(due: <job> on <stack>: <reason>), C(held: <job> on <stack>: <reason>),
    C(waiting: <job> on <stack>: <reason>) (the reason names the next time); jobs in RV(bosun.compose.job_due#module:unscheduled)
    only when they have a schedule (a disabled job or one with errors), as C(not run: <job> on <stack>: <reason>).
  - Fails when the input is not a dict with the lists C(due), C(held), C(waiting) and C(unscheduled) of dicts with
    C(job), C(stack) and C(reason).
options:
  _input:
    description: The registered result of M(bosun.compose.job_due).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show what is due
  ansible.builtin.debug:
    msg: "{{ found | bosun.compose.due_lines }}"
  # msg:
  #   - "2026-06-15T02:35:01+02:00 (Europe/Berlin): 1 due, 0 held, 1 waiting, 0 unscheduled"
  #   - "due: nightly-backup on shop: scheduled at 2026-06-15T02:30:00+02:00; the last run started at ..."
  #   - "waiting: weekly-check on shop: next at 2026-06-21T04:00:00+02:00; the last run started at ..."
"""

RETURN = r"""
_value:
  description: The lines, one string each.
  type: list
  elements: str
"""

import typing as t

from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import field, mapping, sequence

_NAME = "due_lines"
_LISTS = ("due", "held", "waiting", "unscheduled")


def _entries(result: t.Mapping[str, t.Any], key: str) -> list[t.Mapping[str, t.Any]]:
    return [
        mapping(x, _NAME, f"each entry of {key}") for x in sequence(field(result, key, _NAME, "the result"), _NAME, key)
    ]


def _line(prefix: str, x: t.Mapping[str, t.Any], key: str) -> str:
    what = f"each entry of {key}"
    return f"{prefix}: {field(x, 'job', _NAME, what)} on {field(x, 'stack', _NAME, what)}: {field(x, 'reason', _NAME, what)}"


def due_lines(result: t.Any) -> list[str]:
    """A count line, then due, held, waiting and not run (unscheduled with a schedule) lines."""
    result = mapping(result, _NAME, "the result")
    lists = {key: _entries(result, key) for key in _LISTS}
    counts = ", ".join(f"{len(lists[key])} {key}" for key in _LISTS)
    lines = [f"{result.get('now')} ({result.get('timezone')}): {counts}"]
    lines += [_line("due", x, "due") for x in lists["due"]]
    lines += [_line("held", x, "held") for x in lists["held"]]
    lines += [_line("waiting", x, "waiting") for x in lists["waiting"]]
    lines += [_line("not run", x, "unscheduled") for x in lists["unscheduled"] if x.get("schedule")]
    return lines


class FilterModule:
    """due_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"due_lines": due_lines}
