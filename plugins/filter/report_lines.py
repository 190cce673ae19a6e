# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report_lines filter of bosun.compose.run_job: the report in its task "Show the plan and the run report"."""

from __future__ import annotations

DOCUMENTATION = r"""
name: report_lines
short_description: The lines that show a run report
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - Turns the report made by P(bosun.compose.run_report#filter) into the lines that the role
    C(bosun.compose.run_job) prints in its task C(Show the plan and the run report), after the plan.
  - >-
    The lines are, in order: a header naming the run id, the job, the stack and the outcome, with a note in
    check mode; the message when there is one; one line per step, C(step:) followed by its type, status,
    duration and detail (for a C(run_hook) step the hook's phase, container and how it ended).
  - >-
    Then C(Downtime:) with the downtime (V(n/a) without one, and in check mode, which stops nothing; C(so far)
    and the number of containers left stopped on purpose with C(keep_stopped)) and the deadline; C(Duration:)
    with the time the whole run took, hooks and after-phase included (V(n/a) without one, and in check mode) and
    the plan's maximum duration; C(Left stopped on purpose (keep_stopped\):) naming those containers, when there
    are any.
  - >-
    Then, when the worker ran, C(Worker:) with its exit code, whether it timed out, its duration and its log path;
    C(Worker log tail:) and one indented line per log line when there are any; one line per hook that ran or was
    skipped, C(Hook <phase> in <container>:) followed by its exit code, C(timed out after <n>s), C(cancelled),
    its duration and error, or C(skipped,) and the reason, then its last output lines, indented; when the
    after-phase ran, C(After-phase:) and C(After-phase log tail:) as for the worker; when the report has a
    provenance, C(Provenance:) with the plan hash, the worker's image id, the project's compose files and working
    directory and each stopped container's image (image ids and config hashes shortened to 12 hex digits; the
    whole values are in the report and the run record); and C(Safety net:) with what the safety net did,
    followed by a C(Safety net hook) line for each hook of a dead run it ran.
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
  #   - job 'nightly-backup' succeeded; stack 'shop' was down 6.8s
  #   - "step: run_hook ok 1.3s pre hook in 'shop-db-1' exited with code 0"
  #   - 'step: stop_containers ok 1.2s'
  #   - 'step: run_worker ok 3.4s exited with code 0'
  #   - 'step: start_containers ok 2.1s 2/2 started'
  #   - 'step: run_after ok 5.0s exited with code 0'
  #   - 'Downtime: 6.8s (deadline 3690s)'
  #   - 'Duration: 13.9s in all, hooks and after-phase included (maximum 7395s)'
  #   - 'Worker: exit code 0, 3.4s, log /var/lib/bosun/logs/nightly-backup/5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f.log'
  #   - 'Worker log tail:'
  #   - '  | snapshot 3b1f0a2c saved'
  #   - 'Hook pre in shop-db-1: exit code 0, 1.3s'
  #   - '  | pg_dump: dumped 12 tables'
  #   - 'After-phase: exit code 0, 5.0s, log /var/lib/bosun/logs/nightly-backup/5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f.log'
  #   - 'Provenance: plan sha256:9f2c4e8a1b3d, worker restic/restic:0.17.3 sha256:3c1f0e9a8b7d, compose files
  #     /srv/shop/compose.yaml in /srv/shop, stopped shop-db-1 postgres:16.4 sha256:0f4e3a2b1c0d config 8d2f1b6e4c3a'
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
from ansible_collections.bosun.compose.plugins.plugin_utils._report_text import (
    hook_result_lines,
    one_shot_lines,
    seconds,
    text,
)

NAME = "report_lines"
# Hex digits of an image id or hash that the report shows, as ``docker images`` does.
SHORT_HEX = 12


def short(value: t.Any) -> str:
    """An image id or hash as the report shows it: its ``sha256:`` prefix kept, then the first 12 hex digits."""
    v = text(value)
    if v.startswith("sha256:"):
        return "sha256:" + v.split(":", 1)[1][:SHORT_HEX]
    return v[:SHORT_HEX]


def provenance_line(provenance: t.Any) -> str:
    """Provenance: plan <hash>, worker <image> <id>, compose files <files> in <dir>, stopped <name> <image> <id> ..."""

    def get(d: t.Any, what: str, key: str) -> t.Any:
        return field(mapping(d, NAME, what), key, NAME, what)

    what = "the provenance"
    worker, project = get(provenance, what, "worker"), get(provenance, what, "project")
    image = get(worker, "the provenance's worker", "image")
    image_id = get(worker, "the provenance's worker", "image_id")
    words = [
        f"plan {short(get(provenance, what, 'plan_hash'))}",
        f"worker {text(image)} {short(image_id) if image_id else '(no image id)'}",
    ]
    files = sequence(get(project, "the provenance's project", "config_files"), NAME, "config_files")
    working_dir = get(project, "the provenance's project", "working_dir")
    if files or working_dir:
        where = f" in {text(working_dir)}" if working_dir else ""
        words.append(f"compose files {' '.join(text(f) for f in files) or '(not labelled)'}{where}")
    stopped = []
    for c in sequence(get(provenance, what, "containers"), NAME, "the provenance's containers"):
        each = "each provenance container"
        config_hash = get(c, each, "config_hash")
        config = f" config {short(config_hash)}" if config_hash else ""
        stopped.append(
            f"{text(get(c, each, 'name'))} {text(get(c, each, 'image'))} {short(get(c, each, 'image_id'))}{config}"
        )
    if stopped:
        words.append("stopped " + ", ".join(stopped))
    return "Provenance: " + ", ".join(words)


def report_lines(report: t.Any) -> list[str]:
    """The report lines of "Show the plan and the run report", from the dict that run_report makes."""
    rep = mapping(report, NAME, "the report")

    def get(key: str) -> t.Any:
        return field(rep, key, NAME, "the report")

    head = f"Run {text(get('run_id'))} of job {text(get('job'))} on stack {text(get('stack'))}: {text(get('outcome'))}"
    check_mode = get("check_mode")
    lines = [head + (" (check mode, nothing was touched)" if check_mode else "")]
    if get("message"):
        lines.append(text(get("message")))
    for step in sequence(get("steps"), NAME, "steps"):
        s = mapping(step, NAME, "each step")
        words = [text(field(s, k, NAME, "each step")) for k in ("type", "status")]
        words.append(seconds(field(s, "duration", NAME, "each step")))
        words.append(text(s.get("detail") or ""))
        lines.append("step: " + " ".join(words).strip())
    kept = [text(n) for n in sequence(get("kept_stopped"), NAME, "kept_stopped")]
    # A check-mode run stops nothing: its 0.0 s is no downtime measured.
    downtime = None if check_mode else get("downtime_seconds")
    shown = "n/a" if downtime is None else seconds(downtime)
    if downtime is not None and kept:
        shown += f" so far, {len(kept)} container(s) left stopped on purpose"
    lines.append(f"Downtime: {shown} (deadline {seconds(get('deadline_seconds'))})")
    duration = None if check_mode else get("duration_seconds")
    took = "n/a" if duration is None else seconds(duration) + " in all, hooks and after-phase included"
    lines.append(f"Duration: {took} (maximum {seconds(get('max_duration_seconds'))})")
    if kept:
        lines.append("Left stopped on purpose (keep_stopped): " + ", ".join(kept))
    lines += one_shot_lines(get("worker"), "Worker", NAME)
    for hook in sequence(get("hooks"), NAME, "hooks"):
        lines += hook_result_lines(hook, NAME)
    lines += one_shot_lines(get("after"), "After-phase", NAME)
    if get("provenance"):
        lines.append(provenance_line(get("provenance")))
    lines.append(f"Safety net: {text(get('safety_net'))}")
    for hook in sequence(get("safety_net_hooks"), NAME, "safety_net_hooks"):
        lines += hook_result_lines(hook, NAME, prefix="Safety net hook ")
    return lines


class FilterModule:
    """report_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"report_lines": report_lines}
