# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run_report filter of the role bosun.compose.run_job: the report it publishes as bosun_run.<host>."""

from __future__ import annotations

DOCUMENTATION = r"""
name: run_report
short_description: The report of one run of the role run_job
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - Builds the report that the role C(bosun.compose.run_job) publishes with C(ansible.builtin.set_stats) as
    C(bosun_run.<inventory_hostname>), from the registered result of M(bosun.compose.job_run), the plan of
    the plan it ran (the result's C(plan), or O(plan)) and the result of the safety net (M(bosun.compose.stack) with
    C(state=recovered)).
  - The run id, the deadline, the maximum duration and (when the result has none) the stack come from the plan;
    without a plan (job_run failed before it made one, or registered nothing), the run id is the result's or
    O(run_id), the stack the safety net's, and the deadline and maximum duration are null.
  - A result without a key gives the report a default for it (for example outcome C(unknown) and C(failed=true)
    when the job_run task registered nothing).
  - Fails when an input has the wrong type or a plan lacks C(run_id), C(stack), C(deadline) or C(max_duration).
options:
  _input:
    description: The registered result of M(bosun.compose.job_run); an empty dict when the task registered none.
    type: dict
    required: true
  plan:
    description:
      - The plan, RV(bosun.compose.job_plan#module:plan) or RV(bosun.compose.job_run#module:plan).
      - Default the result's C(plan).
    type: dict
  run_id:
    description: The run id to report when neither the plan nor the result has one.
    type: str
  recovered:
    description:
      - The registered result of the safety net task; an empty dict (or null) when it registered none.
      - >-
        Its C(recover.action) becomes the report's C(safety_net); without it, C(failed:), the result's C(msg) and
        the command that checks the stack (the playbook C(bosun.compose.recover) for this stack and host).
      - Its C(recover.hooks), the error and finally hooks of a dead run that the safety net ran, become the
        report's C(safety_net_hooks).
    type: dict
  host:
    description: The host the run was for, normally C(inventory_hostname).
    type: str
    required: true
  job:
    description: The job name to report when the result has none.
    type: str
  check_mode:
    description: Whether the play runs in check mode (C(ansible_check_mode)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Build the run report
  ansible.builtin.set_fact:
    report: >-
      {{ ran | default({}) | bosun.compose.run_report(recovered=recovered | default({}), run_id=my_run_id,
                                                        host=inventory_hostname, job='nightly-backup',
                                                        check_mode=ansible_check_mode) }}
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    host:
      description: The host.
      type: str
    run_id:
      description: The run id, from the plan (else the result, else O(run_id)), or null.
      type: str
    job:
      description: The job name.
      type: str
    stack:
      description: The stack (Compose project) - the result's, else the plan's, else the one the safety net found, or null.
      type: str
    check_mode:
      description: Whether the run was in check mode.
      type: bool
    outcome:
      description: The outcome of M(bosun.compose.job_run), V(unknown) when there is none.
      type: str
    message:
      description: The result's C(message), else its C(msg), else empty.
      type: str
    failed:
      description: Whether the job_run task failed (true when it registered nothing).
      type: bool
    started_at:
      description: When the run started (UTC, ISO 8601), or null.
      type: str
    finished_at:
      description: When the run finished (UTC, ISO 8601), or null.
      type: str
    downtime_seconds:
      description:
        - Seconds from the first stop to the end of the restart, or null.
        - With C(keep_stopped), to the moment the run left the stop-set stopped.
      type: float
    deadline_seconds:
      description: The plan's deadline (maximum downtime) in seconds, or null without a plan.
      type: int
    duration_seconds:
      description: Seconds the whole run took, hooks and after-phase included, or null.
      type: float
    max_duration_seconds:
      description:
        - The plan's maximum duration of the whole run in seconds (RV(bosun.compose.job_plan#module:plan.max_duration)),
          or null without a plan.
      type: int
    steps:
      description: The steps that ran, as M(bosun.compose.job_run) returns them.
      type: list
      elements: dict
    stopped:
      description: The names of the containers the run stopped (or paused).
      type: list
      elements: str
    restarted:
      description: The names of the containers running again afterwards.
      type: list
      elements: str
    kept_stopped:
      description: The names of the containers the run left stopped on purpose (C(keep_stopped)); empty otherwise.
      type: list
      elements: str
    worker:
      description: The worker's result as M(bosun.compose.job_run) returns it (null when no worker ran).
      type: dict
    hooks:
      description:
        - The hooks that ran (or were skipped), in order, as M(bosun.compose.job_run) returns them in
          RV(bosun.compose.job_run#module:hooks); empty when none ran.
      type: list
      elements: dict
    after:
      description:
        - The after-phase's result as M(bosun.compose.job_run) returns it in RV(bosun.compose.job_run#module:after);
          null when no after-phase ran.
      type: dict
    safety_net:
      description:
        - >-
          What the safety net did (for example V(none) or V(recovered)), or C(failed:), why, and the
          C(ansible-playbook bosun.compose.recover -e project=<stack> -e target=<host>) command to run.
        - >-
          C(skipped: the run released its lease) when M(bosun.compose.job_run) returned
          RV(bosun.compose.job_run#module:lease_kept) false, so the role did not run it.
      type: str
    safety_net_hooks:
      description:
        - The error and finally hooks of a dead run that the safety net ran after restarting the stack (with
          C(BOSUN_OUTCOME=interrupted)), in the format of C(hooks); empty when it ran none.
      type: list
      elements: dict
    provenance:
      description:
        - What the run ran against (the plan hash, the project's compose files, the worker's image id, each stopped
          container's image, image id and Compose config hash), as M(bosun.compose.job_run) returns it in
          RV(bosun.compose.job_run#module:provenance); null when the result has none.
      type: dict
    record_path:
      description: The run record on the Docker host, or null.
      type: str
"""

import collections.abc as cabc
import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import field, mapping, sequence
from ansible_collections.bosun.compose.plugins.plugin_utils._report_text import text


# The keys of the published report bosun_run.<host>, in this order.
REPORT_KEYS = (
    "host",
    "run_id",
    "job",
    "stack",
    "check_mode",
    "outcome",
    "message",
    "failed",
    "started_at",
    "finished_at",
    "downtime_seconds",
    "deadline_seconds",
    "duration_seconds",
    "max_duration_seconds",
    "steps",
    "stopped",
    "restarted",
    "kept_stopped",
    "worker",
    "hooks",
    "after",
    "safety_net",
    "safety_net_hooks",
    "provenance",
    "record_path",
)


def run_report(
    result: t.Any,
    plan: t.Any = None,
    recovered: t.Any = None,
    host: t.Any = None,
    job: t.Any = None,
    check_mode: t.Any = False,
    run_id: t.Any = None,
) -> dict[str, t.Any]:
    """The run report published as bosun_run.<host>, from job_run's result, its plan and the safety net's result.

    `result` and `recovered` may be empty dicts when their task never registered a result.
    """
    name = "run_report"
    r = mapping(result, name, "the job_run result")
    if plan is None:
        plan = {} if r.get("plan") is None else r["plan"]
    plan = mapping(plan, name, "plan")
    rec = mapping({} if recovered is None else recovered, name, "recovered")
    if run_id is not None and not isinstance(run_id, str):
        raise AnsibleFilterError(f"{name}: run_id must be a string, got {type(run_id).__name__}")

    def planned(key: str) -> t.Any:
        return field(plan, key, name, "plan") if plan else None

    if not isinstance(host, str) or not host:
        raise AnsibleFilterError(f"{name}: host must be a non-empty string (the inventory hostname), got {host!r}")
    if job is not None and not isinstance(job, str):
        raise AnsibleFilterError(f"{name}: job must be a string, got {type(job).__name__}")
    if not isinstance(check_mode, bool):
        raise AnsibleFilterError(f"{name}: check_mode must be a boolean, got {type(check_mode).__name__}")
    stack = r.get("stack") or planned("stack") or rec.get("project")
    recover = rec.get("recover")
    safety_net_hooks: list[t.Any] = []
    if isinstance(recover, cabc.Mapping) and "action" in recover:
        safety_net = recover["action"]
        safety_net_hooks = sequence(recover.get("hooks") or [], name, "the safety net's hooks")
    elif rec.get("skipped") and r.get("lease_kept") is False:
        safety_net = "skipped: the run released its lease"
    else:
        safety_net = (
            f"failed: {text(rec.get('msg', 'did not run'))} (the stack may be down: run "
            f"ansible-playbook bosun.compose.recover -e project={stack or '<the stack>'} -e target={host})"
        )

    def names(key: str, what: str) -> list[t.Any]:
        return [
            mapping(c, name, f"each {what} container").get("name")
            for c in sequence(r.get(key, []), name, f"the result's {key}")
        ]

    report = {
        "host": host,
        "run_id": planned("run_id") or r.get("run_id") or run_id,
        "job": r.get("job") or job,
        "stack": stack,
        "check_mode": check_mode,
        "outcome": r.get("outcome", "unknown"),
        "message": r["message"] if "message" in r else r.get("msg", ""),
        "failed": r.get("failed", True),
        "started_at": r.get("started_at"),
        "finished_at": r.get("finished_at"),
        "downtime_seconds": r.get("downtime_seconds"),
        "deadline_seconds": planned("deadline"),
        "duration_seconds": r.get("duration_seconds"),
        "max_duration_seconds": planned("max_duration"),
        "steps": sequence(r.get("steps", []), name, "the result's steps"),
        "stopped": names("stopped", "stopped"),
        "restarted": names("restarted", "restarted"),
        "kept_stopped": names("kept_stopped", "kept stopped"),
        "worker": r.get("worker", {}),
        "hooks": sequence(r.get("hooks") or [], name, "the result's hooks"),
        "after": r.get("after"),
        "safety_net": safety_net,
        "safety_net_hooks": safety_net_hooks,
        "provenance": mapping(r["provenance"], name, "the result's provenance") if r.get("provenance") else None,
        "record_path": r.get("record_path"),
    }
    return {k: report[k] for k in REPORT_KEYS}


class FilterModule:
    """run_report."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"run_report": run_report}
