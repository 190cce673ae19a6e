# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run_due_summary filter of the playbook bosun.compose.run_due: per host, what ran, failed, was held or skipped."""

from __future__ import annotations

DOCUMENTATION = r"""
name: run_due_summary
short_description: What run_due did on one Docker host - ran, failed, held, skipped and why
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - Builds the summary the playbook C(bosun.compose.run_due) shows and publishes as C(bosun_run_due.<host>), from
    the result of M(bosun.compose.job_due) and the runs the play made.
  - C(held) lists the jobs the circuit breaker holds; C(skipped) the jobs not run and why - those waiting for their
    next time, the scheduled ones that are disabled or have errors, and in check mode the due ones (C(check mode -
    would run)).
  - Fails when the input is not a dict with the lists C(due), C(held), C(waiting) and C(unscheduled) of dicts with
    C(job), C(stack) and C(reason).
positional: ran, failed
options:
  _input:
    description: The registered result of M(bosun.compose.job_due).
    type: dict
    required: true
  ran:
    description: The due jobs that ran and did not fail, as the play noted them (C(job), C(stack), C(outcome), C(run_id)).
    type: list
    elements: dict
    default: []
  failed:
    description: The due jobs that failed, as the play noted them (C(job), C(stack), C(outcome), C(run_id), C(message)).
    type: list
    elements: dict
    default: []
  check_mode:
    description: Whether the play runs in check mode; then the due jobs are skipped.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Build the summary
  ansible.builtin.set_fact:
    summary: "{{ found | bosun.compose.run_due_summary(ran, failed, check_mode=ansible_check_mode) }}"
  # summary:
  #   ran: [{job: nightly-backup, stack: shop, outcome: success, run_id: 5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f}]
  #   failed: []
  #   held: [{job: export, stack: blog, streak: 3, last_failure: {...}, reason: "held by the circuit breaker ..."}]
  #   skipped: [{job: weekly-check, stack: shop, reason: "next at 2026-06-21T04:00:00+02:00; ..."}]
"""

RETURN = r"""
_value:
  description: The summary.
  type: dict
  contains:
    ran:
      description: The O(ran) entries.
      type: list
      elements: dict
    failed:
      description: The O(failed) entries.
      type: list
      elements: dict
    held:
      description: The held jobs - C(job), C(stack), C(streak), C(last_failure) and C(reason).
      type: list
      elements: dict
    skipped:
      description: The jobs not run - C(job), C(stack) and C(reason).
      type: list
      elements: dict
"""

import typing as t

from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import field, mapping, sequence

_NAME = "run_due_summary"


def _entries(result: t.Mapping[str, t.Any], key: str) -> list[t.Mapping[str, t.Any]]:
    items = sequence(field(result, key, _NAME, "the result"), _NAME, key)
    return [mapping(x, _NAME, f"each entry of {key}") for x in items]


def _brief(x: t.Mapping[str, t.Any], key: str, reason: str | None = None, *extra: str) -> dict[str, t.Any]:
    what = f"each entry of {key}"
    brief = {k: field(x, k, _NAME, what) for k in ("job", "stack", *extra)}
    brief["reason"] = reason if reason is not None else field(x, "reason", _NAME, what)
    return brief


def run_due_summary(result: t.Any, ran: t.Any = (), failed: t.Any = (), check_mode: bool = False) -> dict[str, t.Any]:
    """ran, failed (as given), held and skipped (from job_due's result), each entry with its reason."""
    result = mapping(result, _NAME, "the result")
    skipped = [_brief(x, "waiting") for x in _entries(result, "waiting")]
    skipped += [_brief(x, "unscheduled") for x in _entries(result, "unscheduled") if x.get("schedule")]
    if check_mode:
        skipped += [_brief(x, "due", f"check mode - would run: {x.get('reason')}") for x in _entries(result, "due")]
    return {
        "ran": [mapping(x, _NAME, "each entry of ran") for x in sequence(ran, _NAME, "ran")],
        "failed": [mapping(x, _NAME, "each entry of failed") for x in sequence(failed, _NAME, "failed")],
        "held": [_brief(x, "held", None, "streak", "last_failure") for x in _entries(result, "held")],
        "skipped": skipped,
    }


class FilterModule:
    """run_due_summary."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"run_due_summary": run_due_summary}
