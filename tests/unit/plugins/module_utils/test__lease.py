# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the stack lease: labels, owner liveness, holder message (no Docker at test time)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._errors import LeaseError
from ansible_collections.bosun.compose.plugins.module_utils._lease import (
    LEASE_EXPIRES,
    LEASE_OWNER,
    LEASE_RUN_ID,
    LEASE_STOP_SET,
    held_message,
    Lease,
    Owner,
    owner_alive,
    pid_start_time,
)
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import health_of
from ansible_collections.bosun.compose.plugins.module_utils._model import COMPOSE_PROJECT, LABEL_PREFIX

NOW = 1_800_000_000
HERE = Owner("host-a", "boot-1", None, None)
STOP_SET = (
    {"id": "a" * 64, "name": "shop-web-1", "service": "web"},
    {"id": "b" * 64, "name": "shop-db-1", "service": "db"},
)


def lease(owner: Owner, expires: int = NOW + 60, **kw) -> Lease:
    return Lease(
        project="shop",
        run_id="run-1",
        job=kw.pop("job", "backup"),
        owner=owner,
        expires=expires,
        created=NOW - 10,
        stop_set=STOP_SET,
        **kw,
    )


def test_labels_round_trip():
    original = lease(Owner("host-a", "boot-1", 4242, 987654))
    labels = original.to_labels()
    assert Lease.from_labels(labels, container_id="c1") == lease(
        Owner("host-a", "boot-1", 4242, 987654), container_id="c1"
    )
    assert all(k.startswith("bosun.lease.") for k in labels)
    assert not any(k.startswith((COMPOSE_PROJECT.rsplit(".", 1)[0], LABEL_PREFIX)) for k in labels)
    assert json.loads(labels[LEASE_OWNER]) == {
        "hostname": "host-a",
        "boot_id": "boot-1",
        "pid": 4242,
        "pid_start": 987654,
    }
    assert json.loads(labels[LEASE_STOP_SET]) == [dict(e) for e in STOP_SET]


def test_labels_round_trip_without_pid_or_job():
    original = lease(Owner("host-a", None), job="")
    assert Lease.from_labels(original.to_labels()) == original


@pytest.mark.parametrize(
    "broken, label, what",
    [
        pytest.param(
            {LEASE_OWNER: "not json"}, LEASE_OWNER, "has value 'not json', which is not valid", id="owner-not-json"
        ),
        pytest.param(
            {LEASE_STOP_SET: "{}"}, LEASE_STOP_SET, "has value '{}', which is not valid", id="stop-set-not-a-list"
        ),
        pytest.param(
            {LEASE_EXPIRES: "soon"}, LEASE_EXPIRES, "has value 'soon', which is not valid", id="expires-not-a-number"
        ),
        pytest.param({LEASE_RUN_ID: None}, LEASE_RUN_ID, "is missing", id="run-id-missing"),
        pytest.param({LEASE_OWNER: ""}, LEASE_OWNER, "is missing", id="owner-empty"),
    ],
)
def test_broken_labels_raise_a_lease_error_naming_the_stack_label_and_value(broken, label, what):
    labels = lease(HERE).to_labels()
    for k, v in broken.items():
        if v is None:
            del labels[k]
        else:
            labels[k] = v
    with pytest.raises(LeaseError) as info:
        Lease.from_labels(labels, source="journal")
    assert info.value.message.startswith(f"the lease of stack 'shop': label {label!r} {what}")
    assert "remove the container 'bosun-lease-shop' after checking the stack by hand" in info.value.message
    ctx = info.value.context
    assert ctx["project"] == "shop" and ctx["container"] == "bosun-lease-shop" and ctx["source"] == "journal"
    assert ctx["label"] == label and ctx["value"] == (broken[label] or None)
    assert ctx["run_id"] == (None if label == LEASE_RUN_ID else labels[LEASE_RUN_ID])


def fake_proc(table):
    return table.get


@pytest.mark.parametrize(
    "owner, expires, proc, alive",
    [
        pytest.param(Owner("host-a", "boot-1", 10, 500), NOW + 60, {10: 500}, True, id="same-host-pid-alive"),
        pytest.param(Owner("host-a", "boot-1", 10, 500), NOW - 1, {10: 500}, False, id="expired-though-pid-alive"),
        pytest.param(Owner("host-a", "boot-1", 10, 500), NOW, {10: 500}, False, id="expires-exactly-now"),
        pytest.param(Owner("host-a", "boot-1", 10, 500), NOW + 60, {}, False, id="dead-pid"),
        pytest.param(Owner("host-a", "boot-1", 10, 500), NOW + 60, {10: 501}, False, id="pid-reused-other-start-time"),
        pytest.param(Owner("host-a", "boot-1", 10, None), NOW + 60, {10: 501}, True, id="pid-without-start-time"),
        pytest.param(Owner("host-a", "boot-0", 10, 500), NOW + 60, {}, True, id="other-boot-trust-expiry"),
        pytest.param(Owner("host-a", "boot-0", 10, 500), NOW - 1, {}, False, id="other-boot-expired"),
        pytest.param(Owner("host-b", "boot-9", 10, 500), NOW + 60, {}, True, id="other-host-trust-expiry"),
        pytest.param(Owner("host-b", "boot-9", 10, 500), NOW - 1, {}, False, id="other-host-expired"),
        pytest.param(Owner("host-a", "boot-1"), NOW + 60, {}, True, id="no-pid-trust-expiry"),
        pytest.param(Owner("host-a", "boot-1"), NOW - 1, {}, False, id="no-pid-expired"),
    ],
)
def test_owner_alive(owner, expires, proc, alive):
    assert owner_alive(lease(owner, expires), NOW, here=HERE, start_time_of=fake_proc(proc)) is alive


def test_owner_current_is_alive_and_an_exited_pid_is_not(tmp_path):
    me = Owner.current()
    assert me.pid == os.getpid()
    assert me.pid_start is not None and me.pid_start == pid_start_time(os.getpid())
    assert owner_alive(lease(me), NOW) is True
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    assert owner_alive(lease(Owner.current(pid)), NOW) is False
    assert Owner.current(with_pid=False).pid is None


@pytest.mark.parametrize(
    "owner, job, alive, expected",
    [
        pytest.param(
            Owner("host-a", "boot-1", 4242, 1),
            "backup",
            True,
            "stack 'shop' is held by run 'run-1' of job 'backup' on host 'host-a' pid 4242, "
            "expires 2027-01-15T08:01:00+00:00 (alive); allowed: one run per stack at a time",
            id="alive-with-pid",
        ),
        pytest.param(
            Owner("host-b"),
            "",
            False,
            "stack 'shop' is held by run 'run-1' on host 'host-b', expires 2027-01-15T08:01:00+00:00 "
            "(expired or dead: run state=recovered to restart its stop-set and release it); "
            "allowed: one run per stack at a time",
            id="dead-without-pid-or-job",
        ),
    ],
)
def test_holder_message(owner, job, alive, expected):
    assert held_message(lease(owner, job=job), alive) == expected


@pytest.mark.parametrize(
    "status, health",
    [
        pytest.param("Up 5 seconds (healthy)", "healthy", id="healthy"),
        pytest.param("Up 1 second (health: starting)", "starting", id="starting"),
        pytest.param("Up 2 minutes (unhealthy)", "unhealthy", id="unhealthy"),
        pytest.param("Up 5 seconds", None, id="no-healthcheck"),
        pytest.param("Exited (0) 3 seconds ago", None, id="exited"),
        pytest.param("", None, id="empty"),
    ],
)
def test_health_of_list_status(status, health):
    assert health_of(status) == health
