# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan_lines filter of bosun.compose.run_job: the plan in its task "Show the plan and the run report"."""

from __future__ import annotations

DOCUMENTATION = r"""
name: plan_lines
short_description: The lines that show a job's plan
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - Turns the plan of M(bosun.compose.job_plan) into the lines that the role C(bosun.compose.run_job) prints in
    its task C(Show the plan and the run report) (first the plan, then the report), so that a run with
    C(--check) shows every phase of the run before anything happens.
  - >-
    The lines are, in order: a header naming the job, the stack and the run id; one numbered line per step
    with its description, each followed by indented lines (starting with C(   - )) on what the step does. A
    C(run_hooks) step (C(pre), C(post), C(error) or C(finally)) has one line per hook, C(<phase> hook in
    <container>: <command> (as <user>, timeout <n>s, on error <abort|continue>\)) (C(as) only with a user,
    C(on error) only for C(pre)); a C(stop_containers) step names what stops (or pauses) level by level, joined by
    C(then), each container with its state when it is not running and its action when it differs from the stop
    mode; a C(run_worker) or C(run_after) step has its command, mounts, and user, network and environment names
    when set, and for the after-phase when it runs; a C(keep_stopped) step names what is left stopped on purpose.
  - >-
    Then C(Stop scope:) with the scope and the stop mode; C(Stop order:) followed by the services of each stop
    level joined by C(+) and the levels joined by C(->) (C(none, nothing stops) without any); C(Stays up,
    untouched:) naming the up containers the stop scope leaves alone, when there are any; C(Keep stopped:) when
    the plan keeps the stop-set stopped on purpose; C(Deadline (maximum downtime\):) with the deadline, the stop
    budget and the start budget in seconds; C(Maximum duration:) with the bound of the whole run, hooks and
    after-phase included; and one line per preflight check, C(preflight ok:) or C(preflight FAIL:) followed by the
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
  #   - "1. run 1 pre hook(s) in 'shop-db-1', before anything stops, in the running stack"
  #   - '   - pre hook in shop-db-1: pg_dump -U shop -f /backup/shop.sql shop (as postgres, timeout 300s, on error abort)'
  #   - "2. stop 2 container(s) of stack 'shop' in 2 level(s) (scope writers); 1 stay(s) up, untouched"
  #   - '   - stop shop-web-1, then shop-db-1'
  #   - "3. run worker 'bosun-worker-nightly-backup-5f0c2a7e' from image 'restic/restic:0.17.3' with 2 volume(s)
  #     mounted, for at most 3600s"
  #   - '   - command: restic backup /mnt/data; mounts: shop_data at /mnt/data (ro), shop_backup at /mnt/backup (rw);
  #     env: RESTIC_REPOSITORY, RESTIC_PASSWORD (secret)'
  #   - 4. start the same 2 container(s) in dependency order within 60s
  #   - "5. run the after-phase 'bosun-after-nightly-backup-5f0c2a7e' from image 'restic/restic:0.17.3' with the
  #     stack up, for at most 3600s"
  #   - '   - once the stack runs again, when the worker succeeded: command: restic check; mounts: ...'
  #   - "6. run 1 finally hook(s) in 'shop-web-1', last, always, whatever the outcome"
  #   - '   - finally hook in shop-web-1: rm -f /srv/maintenance (timeout 300s)'
  #   - 'Stop scope: writers, stop mode stop'
  #   - 'Stop order: web -> db'
  #   - 'Stays up, untouched: shop-cache-1'
  #   - 'Deadline (maximum downtime): 3720s (stop budget 50s, start budget 60s)'
  #   - 'Maximum duration (the whole run, hooks and after-phase included): 7944s'
  #   - "preflight ok:   volume 'shop_data' exists; mounted at /mnt/data (ro)"
"""

RETURN = r"""
_value:
  description: The lines, one string each.
  type: list
  elements: str
"""

import collections.abc as cabc
import typing as t

from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import field, mapping, sequence
from ansible_collections.bosun.compose.plugins.plugin_utils._report_text import (
    command_text,
    container_name,
    planned_hook,
    seconds,
    text,
)

NAME = "plan_lines"
# Under its step, each line on what the step does.
DETAIL = "   - "


def _levels(step: cabc.Mapping[str, t.Any]) -> list[list[cabc.Mapping[str, t.Any]]]:
    levels = sequence(step.get("levels", []), NAME, "a step's levels")
    return [
        [mapping(c, NAME, "each container of a level") for c in sequence(level, NAME, "each level")] for level in levels
    ]


def _container(c: cabc.Mapping[str, t.Any], mode: str) -> str:
    """A container of a level: its name, with its state when not running and its action when not the mode's."""
    notes = [text(c["state"])] if c.get("state") and c["state"] != "running" else []
    if c.get("action") and c["action"] != mode:
        notes.append(text(c["action"]))
    return container_name(c, NAME, "each container of a level") + (f" ({'; '.join(notes)})" if notes else "")


def _stop_detail(step: cabc.Mapping[str, t.Any], mode: str) -> list[str]:
    levels = _levels(step)
    if not levels:
        return []
    order = ", then ".join(" + ".join(_container(c, mode) for c in level) for level in levels)
    return [f"{DETAIL}{mode} {order}"]


def _worker_detail(worker: t.Any) -> str:
    """The command, mounts and, when set, user, network and environment of a worker or after-phase spec."""
    w = mapping(worker, NAME, "a step's worker")
    parts = ["command: " + command_text(w.get("command"))]
    mounts = [mapping(m, NAME, "each mount") for m in sequence(w.get("mounts") or [], NAME, "a worker's mounts")]
    if mounts:
        shown = [f"{text(m.get('volume'))} at {text(m.get('path'))} ({text(m.get('mode'))})" for m in mounts]
        parts.append("mounts: " + ", ".join(shown))
    for key in ("user", "network"):
        if w.get(key):
            parts.append(f"{key}: {text(w[key])}")
    env = mapping(w.get("env") or {}, NAME, "a worker's env")
    secret = {text(n) for n in sequence(w.get("secret_env_names") or [], NAME, "a worker's secret_env_names")}
    if env:
        parts.append("env: " + ", ".join(text(k) + (" (secret)" if text(k) in secret else "") for k in env))
    return "; ".join(parts)


def _hook_detail(hook: t.Any, kept: cabc.Set[str]) -> str:
    """A planned hook; one in a container the run leaves stopped (keep_stopped) is said to be skipped."""
    line = DETAIL + planned_hook(hook, NAME)
    container = mapping(hook, NAME, "each hook").get("container")
    if isinstance(container, cabc.Mapping) and container.get("id") in kept:
        line += "; skipped, as its container is left stopped"
    return line


def _step_detail(step: cabc.Mapping[str, t.Any], mode: str, kept: cabc.Set[str]) -> list[str]:
    """The indented lines under a step: its hooks, what it stops, the worker, what it leaves stopped."""
    kind = step.get("type")
    if kind == "run_hooks":
        return [_hook_detail(h, kept) for h in sequence(step.get("hooks", []), NAME, "a step's hooks")]
    if kind == "stop_containers":
        return _stop_detail(step, mode)
    if kind == "run_worker":
        return [DETAIL + _worker_detail(field(step, "worker", NAME, "the run_worker step"))]
    if kind == "run_after":
        when = text(step.get("when") or "")
        return [
            DETAIL + (when + ": " if when else "") + _worker_detail(field(step, "worker", NAME, "the run_after step"))
        ]
    if kind == "keep_stopped":
        names = [container_name(c, NAME, "each container of a level") for level in _levels(step) for c in level]
        left = ", ".join(names) or "nothing"
        return [f"{DETAIL}left stopped: {left}; no post or error hook and no after-phase runs"]
    return []


def plan_lines(plan: t.Any) -> list[str]:
    """The plan's lines: header, numbered steps with their details, stop scope, order and what stays up,
    deadline and maximum duration, one line per preflight check."""
    plan = mapping(plan, NAME, "the plan")

    def get(key: str) -> t.Any:
        return field(plan, key, NAME, "the plan")

    steps = [mapping(s, NAME, "each step") for s in sequence(get("steps"), NAME, "steps")]
    checks = [mapping(c, NAME, "each preflight check") for c in sequence(get("preflight"), NAME, "preflight")]
    mode = text(get("stop_mode"))
    lines = [f"Job {text(get('job'))} on stack {text(get('stack'))} (run id {text(get('run_id'))})"]
    keep = next((s for s in steps if s.get("type") == "keep_stopped"), {})
    kept = {text(c.get("id")) for level in _levels(keep) for c in level}
    for n, s in enumerate(steps, start=1):
        lines.append(f"{n}. {text(field(s, 'description', NAME, 'each step'))}")
        lines += _step_detail(s, mode, kept)
    lines.append(f"Stop scope: {text(get('stop_scope'))}, stop mode {mode}")
    stop = next((s for s in steps if s.get("type") == "stop_containers"), {})
    order = " -> ".join(" + ".join(text(c.get("service")) for c in level) for level in _levels(stop))
    lines.append(f"Stop order: {order or 'none, nothing stops'}")
    stays_up = [mapping(c, NAME, "each container that stays up") for c in sequence(get("stays_up"), NAME, "stays_up")]
    if stays_up:
        lines.append("Stays up, untouched: " + ", ".join(_container(c, mode) for c in stays_up))
    if get("keep_stopped"):
        lines.append("Keep stopped: yes, the stop-set stays stopped after the worker (keep_stopped)")
    lines.append(
        f"Deadline (maximum downtime): {seconds(get('deadline'))}"
        f" (stop budget {seconds(get('stop_budget'))}, start budget {seconds(get('start_budget'))})"
    )
    lines.append(f"Maximum duration (the whole run, hooks and after-phase included): {seconds(get('max_duration'))}")
    lines += [
        ("preflight ok:   " if c.get("ok") else "preflight FAIL: ") + text(field(c, "message", NAME, "each check"))
        for c in checks
    ]
    return lines


class FilterModule:
    """plan_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"plan_lines": plan_lines}
