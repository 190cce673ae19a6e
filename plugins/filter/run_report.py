# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the role bosun.compose.run_job: the plan's lines, the run report and its lines.

The documentation of each filter is in plugins/filter/<filter name>.yml.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import field, mapping, sequence

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
    "steps",
    "stopped",
    "restarted",
    "worker",
    "safety_net",
    "record_path",
)


def _text(value: t.Any) -> str:
    """A value as Jinja's ~ renders it (None as 'None', numbers as Python prints them)."""
    return value if isinstance(value, str) else str(value)


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
        f"Job {_text(field(plan, 'job', name, 'the plan'))} on stack {_text(field(plan, 'stack', name, 'the plan'))}"
        f" (run id {_text(field(plan, 'run_id', name, 'the plan'))})"
    ]
    lines += [f"{n}. {_text(field(s, 'description', name, 'each step'))}" for n, s in enumerate(steps, start=1)]
    stop = next((s for s in steps if s.get("type") == "stop_containers"), {})
    levels = sequence(stop.get("levels", []), name, "the stop step's levels")
    order = " -> ".join(
        " + ".join(
            _text(mapping(c, name, "each container of a level").get("service"))
            for c in sequence(level, name, "each level")
        )
        for level in levels
    )
    lines.append(f"Stop order: {order}")
    lines.append(
        f"Deadline (maximum downtime): {_text(field(plan, 'deadline', name, 'the plan'))}s"
        f" (stop budget {_text(field(plan, 'stop_budget', name, 'the plan'))}s,"
        f" start budget {_text(field(plan, 'start_budget', name, 'the plan'))}s)"
    )
    lines += [
        ("preflight ok:   " if c.get("ok") else "preflight FAIL: ") + _text(field(c, "message", name, "each check"))
        for c in checks
    ]
    return lines


def run_report(
    result: t.Any,
    plan: t.Any,
    recovered: t.Any = None,
    host: t.Any = None,
    job: t.Any = None,
    check_mode: t.Any = False,
) -> dict[str, t.Any]:
    """The run report published as bosun_run.<host>, from job_run's result, the plan and the safety net's result.

    `result` and `recovered` may be empty dicts when their task never registered a result.
    """
    name = "run_report"
    r = mapping(result, name, "the job_run result")
    plan = mapping(plan, name, "plan")
    rec = mapping({} if recovered is None else recovered, name, "recovered")
    if not isinstance(host, str) or not host:
        raise AnsibleFilterError(f"{name}: host must be a non-empty string (the inventory hostname), got {host!r}")
    if job is not None and not isinstance(job, str):
        raise AnsibleFilterError(f"{name}: job must be a string, got {type(job).__name__}")
    if not isinstance(check_mode, bool):
        raise AnsibleFilterError(f"{name}: check_mode must be a boolean, got {type(check_mode).__name__}")
    recover = rec.get("recover")
    if isinstance(recover, cabc.Mapping) and "action" in recover:
        safety_net = recover["action"]
    else:
        safety_net = "failed: " + _text(rec.get("msg", "did not run"))
    report = {
        "host": host,
        "run_id": field(plan, "run_id", name, "plan"),
        "job": r.get("job") or job,
        "stack": r.get("stack") or field(plan, "stack", name, "plan"),
        "check_mode": check_mode,
        "outcome": r.get("outcome", "unknown"),
        "message": r["message"] if "message" in r else r.get("msg", ""),
        "failed": r.get("failed", True),
        "started_at": r.get("started_at"),
        "finished_at": r.get("finished_at"),
        "downtime_seconds": r.get("downtime_seconds"),
        "deadline_seconds": field(plan, "deadline", name, "plan"),
        "steps": sequence(r.get("steps", []), name, "the result's steps"),
        "stopped": [
            mapping(c, name, "each stopped container").get("name")
            for c in sequence(r.get("stopped", []), name, "the result's stopped")
        ],
        "restarted": [
            mapping(c, name, "each restarted container").get("name")
            for c in sequence(r.get("restarted", []), name, "the result's restarted")
        ],
        "worker": r.get("worker", {}),
        "safety_net": safety_net,
        "record_path": r.get("record_path"),
    }
    return {k: report[k] for k in REPORT_KEYS}


def report_lines(report: t.Any) -> list[str]:
    """The lines of "Show the run report", from the dict that run_report makes."""
    name = "report_lines"
    rep = mapping(report, name, "the report")

    def get(key: str) -> t.Any:
        return field(rep, key, name, "the report")

    head = (
        f"Run {_text(get('run_id'))} of job {_text(get('job'))} on stack {_text(get('stack'))}: {_text(get('outcome'))}"
    )
    lines = [head + (" (check mode, nothing was touched)" if get("check_mode") else "")]
    if get("message"):
        lines.append(_text(get("message")))
    for step in sequence(get("steps"), name, "steps"):
        s = mapping(step, name, "each step")
        words = [_text(field(s, k, name, "each step")) for k in ("type", "status")]
        words.append(_text(field(s, "duration", name, "each step")) + "s")
        words.append(_text(s.get("detail") or ""))
        lines.append("step: " + " ".join(words).strip())
    # A check-mode run stops nothing: its 0.0 s is no downtime measured.
    downtime = None if get("check_mode") else get("downtime_seconds")
    lines.append(
        f"Downtime: {'n/a' if downtime is None else _text(downtime) + 's'} (deadline {_text(get('deadline_seconds'))}s)"
    )
    worker = get("worker")
    if worker is None:
        worker = {}
    worker = mapping(worker, name, "the report's worker")
    if "exit_code" in worker:
        lines.append(
            f"Worker: exit code {_text(worker['exit_code'])}{', timed out' if worker.get('timed_out') else ''}"
            f", {_text(worker.get('duration'))}s, log {_text(worker.get('log_path', '-'))}"
        )
    tail = worker.get("log_tail") or []
    if tail:
        lines.append("Worker log tail:")
        lines += ["  | " + _text(line) for line in sequence(tail, name, "the worker's log_tail")]
    lines.append(f"Safety net: {_text(get('safety_net'))}")
    return lines


class FilterModule:
    """plan_lines, run_report and report_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"plan_lines": plan_lines, "run_report": run_report, "report_lines": report_lines}
