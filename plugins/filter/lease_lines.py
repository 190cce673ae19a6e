# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lease_lines filter of the playbook bosun.compose.recover: one line per lease on a Docker host."""

from __future__ import annotations

DOCUMENTATION = r"""
name: lease_lines
short_description: One line per lease on a Docker host
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - Turns the leases of M(bosun.compose.job_info) into the lines that the playbook C(bosun.compose.recover) prints.
  - >-
    One line per lease: its project, run id and job, and C(owner alive: left alone) or C(owner dead: to recover),
    joined by C( | ). Without leases, one line C(no leases on this host; checking stacks:) followed by the
    projects (C(none) when there are none).
  - Fails when the input is not a list of dicts with C(project), C(run_id), C(job) and C(owner_alive).
positional: projects
options:
  _input:
    description: The leases, RV(bosun.compose.job_info#module:leases).
    type: list
    elements: dict
    required: true
  projects:
    description: The stacks that will be checked, named in the line shown when there are no leases.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Show the leases
  ansible.builtin.debug:
    msg: "{{ found.leases | bosun.compose.lease_lines(['shop']) }}"
  # msg:
  #   - shop | 5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f | nightly-backup | owner dead: to recover
"""

RETURN = r"""
_value:
  description: The lines, one string each.
  type: list
  elements: str
"""

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


class FilterModule:
    """lease_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"lease_lines": lease_lines}
