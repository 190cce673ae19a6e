# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Text helpers shared by the filters of the role bosun.compose.run_job (plan_lines, run_report, report_lines)
and of the playbook bosun.compose.recover (recover_lines): values, commands, containers, hooks, output tails.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import collections.abc as cabc
import shlex
import typing as t

from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import field, mapping, sequence

# How a line of a worker's log or a hook's output is shown under the line it belongs to.
TAIL_PREFIX = "  | "


def text(value: t.Any) -> str:
    """A value as Jinja's ~ renders it (None as 'None', numbers as Python prints them)."""
    return value if isinstance(value, str) else str(value)


def seconds(value: t.Any) -> str:
    """A number of seconds as the reports show it: the number and ``s``."""
    return text(value) + "s"


def command_text(command: t.Any, default: str = "the image's own command") -> str:
    """A command (a list of arguments, as the plans hold it, or a string) as one shell-quoted line."""
    if command is None:
        return default
    if isinstance(command, str):
        return command
    if isinstance(command, cabc.Sequence):
        return shlex.join(text(a) for a in command)
    return text(command)


def container_name(container: t.Any, filter_name: str, what: str) -> str:
    """The name of a container entry ({id, name, service, ...}) of a plan or a result."""
    return text(field(mapping(container, filter_name, what), "name", filter_name, what))


def tail(lines: t.Any, filter_name: str, what: str, prefix: str = TAIL_PREFIX) -> list[str]:
    """The lines of a log or output tail, each under ``prefix``; none for an empty or missing tail."""
    return [prefix + text(line) for line in sequence(lines or [], filter_name, what)]


def planned_hook(hook: t.Any, filter_name: str) -> str:
    """A hook of a plan: "<phase> hook in <container>: <command> (as <user>, timeout <n>s, on error <x>)"."""
    h = mapping(hook, filter_name, "each hook")
    where = container_name(field(h, "container", filter_name, "each hook"), filter_name, "a hook's container")
    how = [f"as {text(h['user'])}"] if h.get("user") else []
    how.append("timeout " + seconds(field(h, "timeout", filter_name, "each hook")))
    if h.get("on_error"):
        how.append(f"on error {text(h['on_error'])}")
    command = command_text(field(h, "command", filter_name, "each hook"))
    return f"{text(field(h, 'phase', filter_name, 'each hook'))} hook in {where}: {command} ({', '.join(how)})"


def hook_outcome(h: cabc.Mapping[str, t.Any]) -> str:
    """How a hook ended, in words: skipped and why, or its exit code, timeout, cancel, duration and error."""
    if h.get("skipped"):
        return f"skipped, {text(h['skipped'])}"
    words = []
    if h.get("exit_code") is not None:
        words.append(f"exit code {text(h['exit_code'])}")
    if h.get("timed_out"):
        words.append(f"timed out after {seconds(h.get('timeout'))}")
    if h.get("cancelled"):
        words.append("cancelled")
    if not words:
        words.append("no exit code")
    words.append(seconds(h.get("duration")))
    if h.get("error"):
        words.append(f"error: {text(h['error'])}")
    if h.get("phase") == "pre" and h.get("on_error") == "continue" and h.get("ok") is False:
        words.append("on error continue: the run went on")
    return ", ".join(words)


def hook_result_lines(hook: t.Any, filter_name: str, prefix: str = "Hook ", indent: str = "") -> list[str]:
    """A hook's result: "<prefix><phase> in <container>: <outcome>", then its last output lines, indented."""
    h = mapping(hook, filter_name, "each hook result")
    where = container_name(field(h, "container", filter_name, "each hook result"), filter_name, "a hook's container")
    phase = text(field(h, "phase", filter_name, "each hook result"))
    head = f"{indent}{prefix}{phase} in {where}: {hook_outcome(h)}"
    return [head, *tail(h.get("output_tail"), filter_name, "a hook's output_tail", indent + TAIL_PREFIX)]


def one_shot_lines(result: t.Any, label: str, filter_name: str) -> list[str]:
    """A worker's or the after-phase's result: "<label>: exit code ..., <duration>s, log <path>", its log tail.

    Nothing when the container never reached an exit code (no ``exit_code`` key).
    """
    r = mapping({} if result is None else result, filter_name, f"the report's {label.lower()}")
    lines = []
    if "exit_code" in r:
        lines.append(
            f"{label}: exit code {text(r['exit_code'])}{', timed out' if r.get('timed_out') else ''}"
            f", {seconds(r.get('duration'))}, log {text(r.get('log_path', '-'))}"
        )
    log = tail(r.get("log_tail"), filter_name, f"the {label.lower()}'s log_tail")
    if log:
        lines += [f"{label} log tail:", *log]
    return lines
