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


def _mapping(value: t.Any, filter_name: str, what: str) -> cabc.Mapping[str, t.Any]:
    if not isinstance(value, cabc.Mapping):
        raise AnsibleFilterError(f"{filter_name}: {what} must be a dict, got {type(value).__name__}")
    return value


def _list(value: t.Any, filter_name: str, what: str) -> list[t.Any]:
    if isinstance(value, (str, bytes, cabc.Mapping)) or not isinstance(value, cabc.Sequence):
        raise AnsibleFilterError(f"{filter_name}: {what} must be a list, got {type(value).__name__}")
    return list(value)


def _key(value: cabc.Mapping[str, t.Any], key: str, filter_name: str, what: str) -> t.Any:
    try:
        return value[key]
    except KeyError:
        raise AnsibleFilterError(f"{filter_name}: {what} has no key {key!r}") from None


def _text(value: t.Any) -> str:
    """A value as Jinja's ~ renders it (None as 'None', numbers as Python prints them)."""
    return value if isinstance(value, str) else str(value)


def plan_lines(plan: t.Any) -> list[str]:
    """The lines of "Show the plan": header, numbered steps, stop order, deadline, one line per preflight check."""
    name = "plan_lines"
    plan = _mapping(plan, name, "the plan")
    steps = [_mapping(s, name, "each step") for s in _list(_key(plan, "steps", name, "the plan"), name, "steps")]
    checks = [
        _mapping(c, name, "each preflight check")
        for c in _list(_key(plan, "preflight", name, "the plan"), name, "preflight")
    ]
    lines = [
        f"Job {_text(_key(plan, 'job', name, 'the plan'))} on stack {_text(_key(plan, 'stack', name, 'the plan'))}"
        f" (run id {_text(_key(plan, 'run_id', name, 'the plan'))})"
    ]
    lines += [f"{n}. {_text(_key(s, 'description', name, 'each step'))}" for n, s in enumerate(steps, start=1)]
    stop = next((s for s in steps if s.get("type") == "stop_containers"), {})
    levels = _list(stop.get("levels", []), name, "the stop step's levels")
    order = " -> ".join(
        " + ".join(
            _text(_mapping(c, name, "each container of a level").get("service"))
            for c in _list(level, name, "each level")
        )
        for level in levels
    )
    lines.append(f"Stop order: {order}")
    lines.append(
        f"Deadline (maximum downtime): {_text(_key(plan, 'deadline', name, 'the plan'))}s"
        f" (stop budget {_text(_key(plan, 'stop_budget', name, 'the plan'))}s,"
        f" start budget {_text(_key(plan, 'start_budget', name, 'the plan'))}s)"
    )
    lines += [
        ("preflight ok:   " if c.get("ok") else "preflight FAIL: ") + _text(_key(c, "message", name, "each check"))
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
    r = _mapping(result, name, "the job_run result")
    plan = _mapping(plan, name, "plan")
    rec = _mapping({} if recovered is None else recovered, name, "recovered")
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
        "run_id": _key(plan, "run_id", name, "plan"),
        "job": r.get("job") or job,
        "stack": r.get("stack") or _key(plan, "stack", name, "plan"),
        "check_mode": check_mode,
        "outcome": r.get("outcome", "unknown"),
        "message": r["message"] if "message" in r else r.get("msg", ""),
        "failed": r.get("failed", True),
        "started_at": r.get("started_at"),
        "finished_at": r.get("finished_at"),
        "downtime_seconds": r.get("downtime_seconds"),
        "deadline_seconds": _key(plan, "deadline", name, "plan"),
        "steps": _list(r.get("steps", []), name, "the result's steps"),
        "stopped": [
            _mapping(c, name, "each stopped container").get("name")
            for c in _list(r.get("stopped", []), name, "the result's stopped")
        ],
        "restarted": [
            _mapping(c, name, "each restarted container").get("name")
            for c in _list(r.get("restarted", []), name, "the result's restarted")
        ],
        "worker": r.get("worker", {}),
        "safety_net": safety_net,
        "record_path": r.get("record_path"),
    }
    return {k: report[k] for k in REPORT_KEYS}


def report_lines(report: t.Any) -> list[str]:
    """The lines of "Show the run report", from the dict that run_report makes."""
    name = "report_lines"
    rep = _mapping(report, name, "the report")

    def get(key: str) -> t.Any:
        return _key(rep, key, name, "the report")

    head = (
        f"Run {_text(get('run_id'))} of job {_text(get('job'))} on stack {_text(get('stack'))}: {_text(get('outcome'))}"
    )
    lines = [head + (" (check mode, nothing was touched)" if get("check_mode") else "")]
    if get("message"):
        lines.append(_text(get("message")))
    for step in _list(get("steps"), name, "steps"):
        s = _mapping(step, name, "each step")
        words = [_text(_key(s, k, name, "each step")) for k in ("type", "status")]
        words.append(_text(_key(s, "duration", name, "each step")) + "s")
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
    worker = _mapping(worker, name, "the report's worker")
    if "exit_code" in worker:
        lines.append(
            f"Worker: exit code {_text(worker['exit_code'])}{', timed out' if worker.get('timed_out') else ''}"
            f", {_text(worker.get('duration'))}s, log {_text(worker.get('log_path', '-'))}"
        )
    tail = worker.get("log_tail") or []
    if tail:
        lines.append("Worker log tail:")
        lines += ["  | " + _text(line) for line in _list(tail, name, "the worker's log_tail")]
    lines.append(f"Safety net: {_text(get('safety_net'))}")
    return lines


class FilterModule:
    """plan_lines, run_report and report_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"plan_lines": plan_lines, "run_report": run_report, "report_lines": report_lines}
