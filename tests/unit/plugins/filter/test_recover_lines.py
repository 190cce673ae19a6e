# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The recover playbook's filter recover_lines, on loop results shaped like the stack module's."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bosun.compose.plugins.filter.recover_lines import FilterModule, recover_lines

RUN = "5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f"


def test_filter_module_names_the_filter():
    assert FilterModule().filters() == {"recover_lines": recover_lines}


def test_recover_lines_one_line_per_loop_item():
    registered = {
        "changed": True,
        "msg": "All items completed",
        "skipped": False,
        "results": [
            {
                "item": "shop",
                "ansible_loop_var": "item",
                "changed": True,
                "failed": False,
                "summary": f"recovered stack 'shop' from run '{RUN}' of job 'nightly-backup' on host 'docker1': 3/3 started",
                "recover": {"action": "recovered"},
            },
            {
                "item": "blog",
                "ansible_loop_var": "item",
                "changed": False,
                "failed": False,
                "summary": "nothing to recover",
                "recover": {"action": "none"},
            },
        ],
    }
    assert recover_lines(registered) == [
        f"shop: recovered stack 'shop' from run '{RUN}' of job 'nightly-backup' on host 'docker1': 3/3 started",
        "blog: nothing to recover",
    ]


def test_recover_lines_of_an_empty_loop():
    assert recover_lines({"changed": False, "results": [], "skipped": True}) == []


@pytest.mark.parametrize(
    ("registered", "message"),
    [
        ([{"item": "shop", "summary": "x"}], "recover_lines: the loop result must be a dict, got list"),
        ({"changed": False}, "recover_lines: the loop result has no key 'results'"),
        ({"results": [{"item": "shop"}]}, "recover_lines: each result has no key 'summary'"),
        ({"results": "shop"}, "recover_lines: results must be a list, got str"),
    ],
)
def test_recover_lines_refuses_wrong_inputs(registered, message):
    with pytest.raises(AnsibleFilterError) as err:
        recover_lines(registered)
    assert message in str(err.value)
