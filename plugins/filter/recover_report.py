# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lease_lines and recover_lines filters of the playbook bosun.compose.recover.

The documentation of each filter is in plugins/filter/<filter name>.yml.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from ansible.errors import AnsibleFilterError


def _mapping(value: t.Any, filter_name: str, what: str) -> cabc.Mapping[str, t.Any]:
    if not isinstance(value, cabc.Mapping):
        raise AnsibleFilterError(f"{filter_name}: {what} must be a dict, got {type(value).__name__}")
    return value


def _list(value: t.Any, filter_name: str, what: str) -> list[t.Any]:
    if isinstance(value, (str, bytes, cabc.Mapping)) or not isinstance(value, cabc.Sequence):
        raise AnsibleFilterError(f"{filter_name}: {what} must be a list, got {type(value).__name__}")
    return list(value)


def _field(value: cabc.Mapping[str, t.Any], key: str, filter_name: str, what: str) -> t.Any:
    try:
        return value[key]
    except KeyError:
        raise AnsibleFilterError(f"{filter_name}: {what} has no key {key!r}") from None


def lease_lines(leases: t.Any, projects: t.Any = ()) -> list[str]:
    """One line per lease (project | run id | job | what recover does with it), or which stacks get checked."""
    name = "lease_lines"
    leases = [_mapping(x, name, "each lease") for x in _list(leases, name, "leases")]
    projects = [str(p) for p in _list(projects, name, "projects")]
    if not leases:
        return ["no leases on this host; checking stacks: " + (", ".join(projects) or "none")]
    return [
        " | ".join(
            (
                str(_field(x, "project", name, "each lease")),
                str(_field(x, "run_id", name, "each lease")),
                str(_field(x, "job", name, "each lease")),
                "owner alive: left alone" if _field(x, "owner_alive", name, "each lease") else "owner dead: to recover",
            )
        )
        for x in leases
    ]


def recover_lines(recovered: t.Any) -> list[str]:
    """One line per recovered stack, "<project>: <summary>", from the registered result of a stack task loop."""
    name = "recover_lines"
    results = _list(
        _field(_mapping(recovered, name, "the loop result"), "results", name, "the loop result"), name, "results"
    )
    lines = []
    for res in results:
        res = _mapping(res, name, "each result")
        lines.append(f"{_field(res, 'item', name, 'each result')}: {_field(res, 'summary', name, 'each result')}")
    return lines


class FilterModule:
    """lease_lines and recover_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"lease_lines": lease_lines, "recover_lines": recover_lines}
