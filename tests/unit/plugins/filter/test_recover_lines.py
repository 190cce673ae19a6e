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


def test_recover_lines_show_the_pending_hooks_a_recovery_ran():
    web = {"id": "id-web", "name": "shop-web-1", "service": "web"}
    db = {"id": "id-db", "name": "shop-db-1", "service": "db"}
    hooks = [
        {
            "phase": "error",
            "container": db,
            "command": ["sh", "-c", "rm -f /backup/partial.sql"],
            "user": None,
            "timeout": 300,
            "exit_code": 0,
            "timed_out": False,
            "cancelled": False,
            "skipped": None,
            "duration": 0.31,
            "output_tail": ["removed the partial dump"],
            "error": None,
            "ok": True,
            "reason": "error hook in 'shop-db-1' exited with code 0",
        },
        {
            "phase": "finally",
            "container": web,
            "command": ["rm", "/srv/maintenance"],
            "user": None,
            "timeout": 30,
            "exit_code": None,
            "timed_out": False,
            "cancelled": False,
            "skipped": "container 'shop-web-1' is exited, not running",
            "duration": 0.0,
            "output_tail": [],
            "error": None,
            "ok": False,
            "reason": "finally hook in 'shop-web-1' was skipped: container 'shop-web-1' is exited, not running",
        },
    ]
    registered = {
        "results": [
            {
                "item": "shop",
                "summary": "recovered stack 'shop': 2/3 started; ran 2 pending hook(s)",
                "recover": {"action": "recovered", "hooks": hooks},
            },
            # A failed stack task (no recover) and a state without hooks (older result) show the summary only.
            {"item": "blog", "summary": "cannot connect", "failed": True},
            {"item": "wiki", "summary": "nothing to recover", "recover": {"action": "none"}},
        ]
    }
    assert recover_lines(registered) == [
        "shop: recovered stack 'shop': 2/3 started; ran 2 pending hook(s)",
        "  hook error in shop-db-1: exit code 0, 0.31s",
        "    | removed the partial dump",
        "  hook finally in shop-web-1: skipped, container 'shop-web-1' is exited, not running",
        "blog: cannot connect",
        "wiki: nothing to recover",
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
        (
            {"results": [{"item": "shop", "summary": "x", "recover": {"hooks": {"error": []}}}]},
            "recover_lines: a recovery's hooks must be a list, got dict",
        ),
        (
            {"results": [{"item": "shop", "summary": "x", "recover": {"hooks": [{"phase": "error"}]}}]},
            "recover_lines: each hook result has no key 'container'",
        ),
    ],
)
def test_recover_lines_refuses_wrong_inputs(registered, message):
    with pytest.raises(AnsibleFilterError) as err:
        recover_lines(registered)
    assert message in str(err.value)
