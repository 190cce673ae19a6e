# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job_result filter of the roles bosun.compose.run_job and run_due: job_run's result from the role's two tasks."""

from __future__ import annotations

DOCUMENTATION = r"""
name: job_result
short_description: The result of M(bosun.compose.job_run) in a run of the role bosun.compose.run_job
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - >-
    The role C(bosun.compose.run_job) runs M(bosun.compose.job_run) in one task (under async it only starts it) and,
    under async, waits for it with M(bosun.compose.job_status), which returns job_run's result when the job ends.
    This filter picks job_run's result from the two registered results.
  - >-
    Returns O(polled) when that task ran (a non-empty dict that is not a skipped result), else the input (the
    job_run task's result: the whole result without async, the async start's when the wait never ran), else an
    empty dict.
  - Fails when the input or O(polled) is neither a dict nor empty.
positional: polled
options:
  _input:
    description: The registered result of the job_run task, or an empty dict when it did not run.
    type: dict
    required: true
  polled:
    description: The registered result of the job_status task (skipped without async), or an empty dict.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Show how the job ended
  ansible.builtin.debug:
    msg: "{{ (_run_job_started | bosun.compose.job_result(_run_job_polled)).outcome | default('not started') }}"
"""

RETURN = r"""
_value:
  description: job_run's result (its keys are the RETURN values of M(bosun.compose.job_run)), or an empty dict.
  type: dict
"""

import typing as t

from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import mapping


def job_result(started: t.Any, polled: t.Any = None) -> dict[str, t.Any]:
    """The wait task's result when it ran, else the job_run task's, else {}."""
    name = "job_result"
    polled = dict(mapping(polled or {}, name, "polled"))
    if polled and not polled.get("skipped"):
        return polled
    return dict(mapping(started or {}, name, "the job_run result"))


class FilterModule:
    """job_result."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"job_result": job_result}
