# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""StackControl with containers that are up but not running (restarting, paused), on the in-memory FakeEngine."""

from __future__ import annotations

import time

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._maintenance import start_stop_set
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    PROJECT,
    FakeClock,
    FakeEngine,
    build_shop,
)


@pytest.fixture
def engine() -> FakeEngine:
    return build_shop(FakeEngine(FakeClock(time.time())))


def control_of(engine: FakeEngine) -> StackControl:
    return StackControl(engine, PROJECT, clock=engine.clock.monotonic, sleep=engine.clock.sleep)


def test_plan_stop_includes_restarting_and_paused_containers(engine):
    engine.get("shop-cache-1").state = "restarting"
    engine.get("shop-web-1").state = "paused"
    levels, _added = control_of(engine).plan_stop()
    assert [sorted(c.name for c in level) for level in levels] == [
        ["shop-web-1"],
        ["shop-api-1", "shop-api-2"],
        ["shop-cache-1", "shop-db-1"],
    ]


def test_only_a_paused_container_is_unpaused_before_its_stop(engine):
    engine.get("shop-web-1").state = "paused"
    levels, _added = control_of(engine).plan_stop()
    stop = control_of(engine).stop(levels, None)
    assert stop.ok and len(stop.stopped) == 5
    assert engine.names("unpause_container") == ["shop-web-1"]
    calls = [c.method for c in engine.calls if c.target == "shop-web-1" and c.method.endswith("_container")]
    assert calls[calls.index("unpause_container") + 1] == "stop_container"


def test_a_container_that_is_up_already_is_left_as_it_is_by_the_start(engine):
    engine.get("shop-web-1").state = "paused"
    engine.get("shop-cache-1").state = "restarting"
    engine.calls.clear()
    start = control_of(engine).start(["shop-web-1", "shop-cache-1"], 5)
    assert (
        start.ok and start.healthy and sorted(c.name for c in start.already_running) == ["shop-cache-1", "shop-web-1"]
    )
    assert engine.names("start_container") == [] and engine.names("pause_container") == []
    assert engine.state_of("shop-web-1") == "paused"


def test_the_stack_modules_check_mode_agrees_with_the_start_about_up_containers(engine):
    engine.get("shop-web-1").state = "paused"
    engine.get("shop-api-1").state = "exited"
    check = start_stop_set(
        control_of(engine), run_id=None, containers=["shop-web-1", "shop-api-1"], start_timeout=5, check=True
    )
    assert check.start is not None and [c["name"] for c in check.start["started"]] == ["shop-api-1"]
    real = start_stop_set(control_of(engine), run_id=None, containers=["shop-web-1", "shop-api-1"], start_timeout=5)
    assert real.start is not None and [c["name"] for c in real.start["started"]] == ["shop-api-1"]
