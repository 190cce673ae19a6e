# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report_lines filter of the role bosun.compose.run_job: the lines of its task "Show the run report"."""

from __future__ import annotations

DOCUMENTATION = r"""
name: report_lines
short_description: The lines that show a run report
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - Turns the report made by P(bosun.compose.run_report#filter) into the lines that the role
    C(bosun.compose.run_job) prints in its task C(Show the run report).
  - >-
    The lines are, in order: a header naming the run id, the job, the stack and the outcome, with a note in
    check mode; the message when there is one; one line per step, C(step:) followed by its type, status,
    duration and detail; C(Downtime:) with the downtime (V(n/a) without one, and in check mode, which stops
    nothing) and the deadline; when the worker ran, C(Worker:) with its exit code, whether it timed out, its
    duration and its log path; C(Worker log tail:)
    and one indented line per log line when there are any; and C(Safety net:) with what the safety net did.
  - Fails when the input is not a dict or lacks one of the report's keys.
options:
  _input:
    description: The report, as P(bosun.compose.run_report#filter) makes it.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show the run report
  ansible.builtin.debug:
    msg: "{{ report | bosun.compose.report_lines }}"
  # msg:
  #   - 'Run 5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f of job nightly-backup on stack shop: success'
  #   - 'step: stop_containers ok 1.2s'
  #   - 'step: run_worker ok 3.4s'
  #   - 'step: start_containers ok 2.1s'
  #   - 'Downtime: 6.8s (deadline 3690s)'
  #   - 'Worker: exit code 0, 3.4s, log /var/lib/bosun/logs/nightly-backup/5f0c2a7e.log'
  #   - 'Worker log tail:'
  #   - '  | done'
  #   - 'Safety net: none'
"""

RETURN = r"""
_value:
  description: The lines, one string each.
  type: list
  elements: str
"""

import typing as t

from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import field, mapping, sequence
from ansible_collections.bosun.compose.plugins.plugin_utils._report_text import text


def report_lines(report: t.Any) -> list[str]:
    """The lines of "Show the run report", from the dict that run_report makes."""
    name = "report_lines"
    rep = mapping(report, name, "the report")

    def get(key: str) -> t.Any:
        return field(rep, key, name, "the report")

    head = f"Run {text(get('run_id'))} of job {text(get('job'))} on stack {text(get('stack'))}: {text(get('outcome'))}"
    lines = [head + (" (check mode, nothing was touched)" if get("check_mode") else "")]
    if get("message"):
        lines.append(text(get("message")))
    for step in sequence(get("steps"), name, "steps"):
        s = mapping(step, name, "each step")
        words = [text(field(s, k, name, "each step")) for k in ("type", "status")]
        words.append(text(field(s, "duration", name, "each step")) + "s")
        words.append(text(s.get("detail") or ""))
        lines.append("step: " + " ".join(words).strip())
    # A check-mode run stops nothing: its 0.0 s is no downtime measured.
    downtime = None if get("check_mode") else get("downtime_seconds")
    lines.append(
        f"Downtime: {'n/a' if downtime is None else text(downtime) + 's'} (deadline {text(get('deadline_seconds'))}s)"
    )
    worker = get("worker")
    if worker is None:
        worker = {}
    worker = mapping(worker, name, "the report's worker")
    if "exit_code" in worker:
        lines.append(
            f"Worker: exit code {text(worker['exit_code'])}{', timed out' if worker.get('timed_out') else ''}"
            f", {text(worker.get('duration'))}s, log {text(worker.get('log_path', '-'))}"
        )
    tail = worker.get("log_tail") or []
    if tail:
        lines.append("Worker log tail:")
        lines += ["  | " + text(line) for line in sequence(tail, name, "the worker's log_tail")]
    lines.append(f"Safety net: {text(get('safety_net'))}")
    return lines


class FilterModule:
    """report_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"report_lines": report_lines}
