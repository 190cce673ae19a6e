# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lease_lines and recover_lines filters of the playbook bosun.compose.recover.

The documentation of each filter is in plugins/filter/<filter name>.yml.
"""

from __future__ import annotations

import typing as t


from ansible_collections.bosun.compose.plugins.plugin_utils._filter_input import field, mapping, sequence


def lease_lines(leases: t.Any, projects: t.Any = ()) -> list[str]:
    """One line per lease (project | run id | job | what recover does with it), or which stacks get checked."""
    name = "lease_lines"
    leases = [mapping(x, name, "each lease") for x in sequence(leases, name, "leases")]
    projects = [str(p) for p in sequence(projects, name, "projects")]
    if not leases:
        return ["no leases on this host; checking stacks: " + (", ".join(projects) or "none")]
    return [
        " | ".join(
            (
                str(field(x, "project", name, "each lease")),
                str(field(x, "run_id", name, "each lease")),
                str(field(x, "job", name, "each lease")),
                "owner alive: left alone" if field(x, "owner_alive", name, "each lease") else "owner dead: to recover",
            )
        )
        for x in leases
    ]


def recover_lines(recovered: t.Any) -> list[str]:
    """One line per recovered stack, "<project>: <summary>", from the registered result of a stack task loop."""
    name = "recover_lines"
    results = sequence(
        field(mapping(recovered, name, "the loop result"), "results", name, "the loop result"), name, "results"
    )
    lines = []
    for res in results:
        res = mapping(res, name, "each result")
        lines.append(f"{field(res, 'item', name, 'each result')}: {field(res, 'summary', name, 'each result')}")
    return lines


class FilterModule:
    """lease_lines and recover_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"lease_lines": lease_lines, "recover_lines": recover_lines}
