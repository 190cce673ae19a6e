# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HookRunner on the FakeEngine: exit codes, output, timeouts and their kill, cancel, skipped containers."""

from __future__ import annotations

import signal
import threading
import time
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._errors import EngineError
from ansible_collections.bosun.compose.plugins.module_utils._hooks import HookRunner, run_phase
from ansible_collections.bosun.compose.plugins.module_utils._model import Hook
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    FakeClock,
    FakeEngine,
    HookScript,
    build_shop,
)


@pytest.fixture
def engine() -> FakeEngine:
    return build_shop(FakeEngine(FakeClock(time.time())))


def hook(engine: FakeEngine, name: str = "shop-db-1", **kw: t.Any) -> Hook:
    record = next(c for c in engine.list_containers("com.docker.compose.project=shop") if c.name == name)
    return Hook(kw.pop("phase", "pre"), record, kw.pop("command", ["pg_dump"]), **kw)


def runner(engine: FakeEngine, kills: list[tuple[int, int]] | None = None) -> HookRunner:
    def kill(pid: int, sig: int) -> None:
        if kills is None:
            raise AssertionError("no process may be signalled here")
        kills.append((pid, sig))

    return HookRunner(engine, clock=engine.clock.monotonic, sleep=engine.clock.sleep, kill=kill)


def test_exit_code_output_user_and_env_reach_the_exec(engine: FakeEngine) -> None:
    engine.hook_scripts["shop-db-1"] = HookScript(exit_code=2, output=b"one\r\ntwo\nthree")
    res = runner(engine).run(hook(engine, user="postgres"), {"BOSUN_PHASE": "pre"})
    assert (res.exit_code, res.ok, res.output_tail) == (2, False, ["one", "two", "three"])
    assert res.reason == "pre hook in 'shop-db-1' exited with code 2"
    (e,) = engine.execs
    assert (e.argv, e.user, e.env) == (["pg_dump"], "postgres", {"BOSUN_PHASE": "pre"})


def test_a_hook_past_its_timeout_is_killed_when_the_engine_is_local(engine: FakeEngine) -> None:
    engine.local = True
    engine.hook_scripts["shop-db-1"] = HookScript(ends_after_inspects=None)
    kills: list[tuple[int, int]] = []
    res = runner(engine, kills).run(hook(engine, timeout=7), {})
    assert res.timed_out and not res.ok and res.exit_code is None
    assert kills == [(4242, signal.SIGTERM), (4242, signal.SIGKILL)]
    assert res.duration >= 7


def test_a_remote_engine_never_gets_a_local_signal(engine: FakeEngine) -> None:
    engine.hook_scripts["shop-db-1"] = HookScript(ends_after_inspects=None)
    res = runner(engine).run(hook(engine, timeout=2), {})
    assert res.timed_out and res.reason == "pre hook in 'shop-db-1' timed out after 2s"


def test_a_cancel_ends_a_pre_phase_and_stops_its_remaining_hooks(engine: FakeEngine) -> None:
    engine.hook_scripts["shop-db-1"] = HookScript(ends_after_inspects=None)
    cancel = threading.Event()
    engine.on("exec_inspect", "shop-db-1", lambda e, c: cancel.set(), after=2)
    hooks = [hook(engine), hook(engine, "shop-web-1")]
    results = run_phase(runner(engine), hooks, {}, cancel, stop_on_failure=True)
    assert [r.cancelled for r in results] == [True]
    assert [e.container for e in engine.execs] == ["shop-db-1"]


def test_a_failed_abort_hook_ends_the_pre_phase_but_continue_does_not(engine: FakeEngine) -> None:
    engine.hook_scripts["shop-db-1"] = HookScript(exit_code=1)
    go_on = [hook(engine, on_error="continue"), hook(engine, "shop-web-1")]
    assert [r.exit_code for r in run_phase(runner(engine), go_on, {}, stop_on_failure=True)] == [1, 0]
    stop = [hook(engine), hook(engine, "shop-web-1")]
    assert [r.exit_code for r in run_phase(runner(engine), stop, {}, stop_on_failure=True)] == [1]


def test_a_container_that_is_not_running_or_gone_is_skipped_with_the_reason(engine: FakeEngine) -> None:
    h = hook(engine)
    engine.get("shop-db-1").state = "paused"
    assert runner(engine).run(h, {}).skipped == "container 'shop-db-1' is paused, not running"
    del engine.containers[engine.get("shop-db-1").id]
    res = runner(engine).run(h, {})
    assert res.skipped == "container 'shop-db-1' is gone, not running" and not res.ok
    assert engine.execs == []


def test_an_exec_that_cannot_start_is_an_error_not_a_hang(engine: FakeEngine) -> None:
    engine.fail_on("exec_start", "shop-db-1", EngineError("cannot run the pre hook: OCI runtime exec failed"))
    res = runner(engine).run(hook(engine, timeout=60), {})
    assert res.error is not None and "OCI runtime exec failed" in res.error
    assert not res.timed_out and res.duration < 60
