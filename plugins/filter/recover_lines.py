# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The recover_lines filter of the playbook bosun.compose.recover: one line per stack it checked."""

from __future__ import annotations

DOCUMENTATION = r"""
name: recover_lines
short_description: One line per stack that the recover playbook checked
version_added: 0.1.0
author:
  - bosun.compose contributors (@bosun-compose)
description:
  - Turns the registered result of a loop of M(bosun.compose.stack) tasks (one item per project) into the lines
    that the playbook C(bosun.compose.recover) prints, each the project, a colon and the stack task's C(summary).
  - >-
    Under a stack whose recovery ran the dead run's pending error and finally hooks (C(recover.hooks) of
    M(bosun.compose.stack)), one indented line per hook, C(hook <phase> in <container>:) followed by its exit code,
    C(timed out after <n>s), its duration and error, or C(skipped,) and the reason; then its last output lines,
    indented further.
  - Fails when the input is not a dict with C(results), or a result lacks C(item) or C(summary).
options:
  _input:
    description: The registered result of the loop, with C(results).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Recover the stacks
  bosun.compose.stack:
    project: "{{ item }}"
    state: recovered
  loop: [shop]
  register: recovered

- name: Show what was done
  ansible.builtin.debug:
    msg: "{{ recovered | bosun.compose.recover_lines }}"
  # msg:
  #   - "shop: recovered stack 'shop' from run '5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f' of job 'nightly-backup' on host
  #     'docker1': 3/3 started; ran 1 pending hook(s)"
  #   - '  hook finally in shop-web-1: exit code 0, 0.2s'
  #   - '    | maintenance page removed'
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
from ansible_collections.bosun.compose.plugins.plugin_utils._report_text import hook_result_lines


def recover_lines(recovered: t.Any) -> list[str]:
    """One line per recovered stack, "<project>: <summary>", and under it one per hook the recovery ran,
    from the registered result of a stack task loop."""
    name = "recover_lines"
    results = sequence(
        field(mapping(recovered, name, "the loop result"), "results", name, "the loop result"), name, "results"
    )
    lines = []
    for res in results:
        res = mapping(res, name, "each result")
        lines.append(f"{field(res, 'item', name, 'each result')}: {field(res, 'summary', name, 'each result')}")
        recover = res.get("recover")
        hooks = recover.get("hooks") if isinstance(recover, cabc.Mapping) else None
        for hook in sequence(hooks or [], name, "a recovery's hooks"):
            lines += hook_result_lines(hook, name, prefix="hook ", indent="  ")
    return lines


class FilterModule:
    """recover_lines."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"recover_lines": recover_lines}
