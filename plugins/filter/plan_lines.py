# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan_lines filter of the role bosun.compose.run_job: the lines of its task "Show the plan"."""

from __future__ import annotations

DOCUMENTATION = r"""
name: plan_lines
short_description: The lines that show a job's plan
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - Turns the plan of M(bosun.compose.job_plan) into the lines that the role C(bosun.compose.run_job) prints in
    its task C(Show the plan).
  - >-
    The lines are, in order: a header naming the job, the stack and the run id; one numbered line per step
    with its description; C(Stop order:) followed by the services of each stop level joined by C(+) and the
    levels joined by C(->); C(Deadline (maximum downtime\):) with the deadline, the stop budget and the start
    budget in seconds; and one line per preflight check, C(preflight ok:) or C(preflight FAIL:) followed by the
    check's message.
  - Fails when the input is not a dict or lacks one of the plan's keys.
options:
  _input:
    description: The plan, RV(bosun.compose.job_plan#module:plan).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan a job
  bosun.compose.job_plan:
    name: nightly-backup
  register: planned

- name: Show the plan
  ansible.builtin.debug:
    msg: "{{ planned.plan | bosun.compose.plan_lines }}"
  # msg:
  #   - Job nightly-backup on stack shop (run id 5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f)
  #   - 1. stop 2 running container(s) of stack 'shop' in 2 level(s)
  #   - 2. run worker bosun-worker-nightly-backup-5f0c2a7e (image busybox:1.36)
  #   - 3. start the 2 stopped container(s) of stack 'shop' in 2 level(s)
  #   - 'Stop order: web -> db'
  #   - 'Deadline (maximum downtime): 3690s (stop budget 40s, start budget 300s)'
  #   - 'preflight ok:   worker image busybox:1.36 is present'
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


def plan_lines(plan: t.Any) -> list[str]:
    """The lines of "Show the plan": header, numbered steps, stop order, deadline, one line per preflight check."""
    name = "plan_lines"
    plan = mapping(plan, name, "the plan")
    steps = [mapping(s, name, "each step") for s in sequence(field(plan, "steps", name, "the plan"), name, "steps")]
    checks = [
        mapping(c, name, "each preflight check")
        for c in sequence(field(plan, "preflight", name, "the plan"), name, "preflight")
    ]
    lines = [
        f"Job {text(field(plan, 'job', name, 'the plan'))} on stack {text(field(plan, 'stack', name, 'the plan'))}"
        f" (run id {text(field(plan, 'run_id', name, 'the plan'))})"
    ]
    lines += [f"{n}. {text(field(s, 'description', name, 'each step'))}" for n, s in enumerate(steps, start=1)]
    stop = next((s for s in steps if s.get("type") == "stop_containers"), {})
    levels = sequence(stop.get("levels", []), name, "the stop step's levels")
    order = " -> ".join(
        " + ".join(
            text(mapping(c, name, "each container of a level").get("service"))
            for c in sequence(level, name, "each level")
        )
        for level in levels
    )
    lines.append(f"Stop order: {order}")
    lines.append(
        f"Deadline (maximum downtime): {text(field(plan, 'deadline', name, 'the plan'))}s"
        f" (stop budget {text(field(plan, 'stop_budget', name, 'the plan'))}s,"
        f" start budget {text(field(plan, 'start_budget', name, 'the plan'))}s)"
    )
    lines += [
        ("preflight ok:   " if c.get("ok") else "preflight FAIL: ") + text(field(c, "message", name, "each check"))
        for c in checks
    ]
    return lines


class FilterModule:
    """plan_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"plan_lines": plan_lines}
