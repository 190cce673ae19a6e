# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The recover playbook's filter lease_lines, on leases shaped like job_info's."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bosun.compose.plugins.filter.lease_lines import FilterModule, lease_lines

RUN = "5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f"


def lease(project: str, run_id: str, alive: bool) -> dict:
    """One entry of job_info's RV leases (Lease.to_dict() plus owner_alive)."""
    return {
        "project": project,
        "run_id": run_id,
        "job": "nightly-backup",
        "stop_set": [],
        "owner": {"hostname": "docker1", "pid": 4242},
        "expires": 1772330400.0,
        "expires_iso": "2026-03-01T02:00:00+00:00",
        "owner_alive": alive,
    }


def test_filter_module_names_the_filter():
    assert FilterModule().filters() == {"lease_lines": lease_lines}


def test_lease_lines_one_line_per_lease():
    assert lease_lines([lease("shop", RUN, False), lease("blog", "0" * 32, True)], ["shop", "blog"]) == [
        f"shop | {RUN} | nightly-backup | owner dead: to recover",
        f"blog | {'0' * 32} | nightly-backup | owner alive: left alone",
    ]


@pytest.mark.parametrize(
    ("projects", "line"),
    [
        (["shop", "blog"], "no leases on this host; checking stacks: shop, blog"),
        ([], "no leases on this host; checking stacks: none"),
    ],
)
def test_lease_lines_without_leases_names_the_stacks_checked(projects, line):
    assert lease_lines([], projects) == [line]


@pytest.mark.parametrize(
    ("leases", "projects", "message"),
    [
        ({"project": "shop"}, [], "lease_lines: leases must be a list, got dict"),
        (["shop"], [], "lease_lines: each lease must be a dict, got str"),
        ([{"project": "shop", "run_id": RUN, "job": "x"}], [], "lease_lines: each lease has no key 'owner_alive'"),
        ([], "shop", "lease_lines: projects must be a list, got str"),
    ],
)
def test_lease_lines_refuses_wrong_inputs(leases, projects, message):
    with pytest.raises(AnsibleFilterError) as err:
        lease_lines(leases, projects)
    assert message in str(err.value)
