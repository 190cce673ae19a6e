# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A run's signals: the pending record, when the executor sends the ping, webhook and metrics (against the
FakeEngine and a real HTTP server on 127.0.0.1), and the end a recovery sends for a run that died."""

from __future__ import annotations

import json
import os
import stat
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._executor import NOT_FAILED, Executor, RunOptions, RunResult
from ansible_collections.bosun.compose.plugins.module_utils._lease import Owner, acquire_lease, lease_name
from ansible_collections.bosun.compose.plugins.module_utils._planner import resolve_job
from ansible_collections.bosun.compose.plugins.module_utils._recovery import recover
from ansible_collections.bosun.compose.plugins.module_utils._run_signals import (
    SignalTargets,
    report,
    run_interrupted,
    run_started,
)
from ansible_collections.bosun.compose.plugins.module_utils._state import pending_path, take_pending, write_pending
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import (
    PROJECT,
    RUN_ID,
    FakeClock,
    FakeEngine,
    WorkerScript,
    build_shop,
)
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.http_recorder import Recorder, Request

LEASE = lease_name(PROJECT)
TOKEN = "b5d3-secret"


@pytest.fixture
def engine(clock: FakeClock) -> FakeEngine:
    return build_shop(FakeEngine(clock))


@pytest.fixture
def server() -> t.Iterator[Recorder]:
    with Recorder() as rec:
        yield rec


def targets(server: Recorder, metrics_dir: t.Any = None) -> SignalTargets:
    return SignalTargets(
        f"{server.url}/ping/{TOKEN}", f"{server.url}/hook/{TOKEN}", str(metrics_dir) if metrics_dir else None
    )


def run(engine: FakeEngine, state_dir: t.Any, signals: SignalTargets, **options: t.Any) -> RunResult:
    job, secret = resolve_job(engine, "backup", PROJECT, None)
    executor = Executor(
        engine, str(state_dir), wall=engine.clock.wall, clock=engine.clock.monotonic, sleep=engine.clock.sleep
    )
    return executor.run(job, RunOptions(secret_env=secret, run_id=RUN_ID, signals=signals, **options))


def test_the_pending_record_is_private_and_taken_once(tmp_path) -> None:
    path = write_pending(str(tmp_path), "backup", RUN_ID, {"targets": {"ping_url": "http://x/secret"}})
    assert path == pending_path(str(tmp_path), "backup", RUN_ID)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert take_pending(str(tmp_path), "backup", RUN_ID) == {"targets": {"ping_url": "http://x/secret"}}
    assert take_pending(str(tmp_path), "backup", RUN_ID) is None
    assert os.listdir(os.path.dirname(path)) == []


def test_no_target_no_pending_record_and_nothing_sent(tmp_path) -> None:
    assert run_started(str(tmp_path), SignalTargets(), {"job": "backup", "run_id": RUN_ID}) == []
    assert not (tmp_path / "pending").exists()


def test_a_successful_run_pings_start_before_any_stop_and_ends_after_the_release(engine, tmp_path, server) -> None:
    seen: dict[str, tuple[bool, int, list[str]]] = {}

    def observe(req: Request) -> None:  # in the server thread, while the run waits for the answer
        stops = len(engine.names("stop_container", "shop-*"))
        seen[req.path] = (engine.find(LEASE) is not None, stops, engine.running(PROJECT))

    server.on_request = observe
    engine.worker_script = WorkerScript(exit_code=0, exits_after_waits=2, logs=b"dumped 3 tables\nok\n")
    result = run(engine, tmp_path / "state", targets(server, tmp_path))
    assert result.outcome == "success", result.message
    assert server.paths() == [f"/ping/{TOKEN}/start", f"/ping/{TOKEN}", f"/hook/{TOKEN}"]
    running = engine.running(PROJECT)
    assert seen[f"/ping/{TOKEN}/start"] == (True, 0, running)  # lease taken, nothing stopped yet
    assert seen[f"/ping/{TOKEN}"] == (False, len(running), running)  # stopped, started again, lease released
    start, end, hook = server.requests
    assert f"run {RUN_ID} started" in start.text
    assert end.text.splitlines()[0].endswith(": success") and end.text.splitlines()[-2:] == ["dumped 3 tables", "ok"]
    record = json.loads((tmp_path / "state" / "runs" / "backup" / f"{RUN_ID}.json").read_text())
    assert hook.json() == {**record, "host": hook.json()["host"]}
    assert [(s.signal, s.ok) for s in result.signals] == [
        ("ping start", True),
        ("metrics", True),
        ("ping success", True),
        ("webhook", True),
    ]
    assert result.warnings == [] and result.to_dict()["signals"][0]["detail"] == "sent (HTTP 200)"
    assert (tmp_path / "bosun_backup_shop.prom").exists()
    assert not os.listdir(tmp_path / "state" / "pending" / "backup")  # the pending record is gone


def test_a_failed_run_pings_fail(engine, tmp_path, server) -> None:
    engine.worker_script = WorkerScript(exit_code=3)
    result = run(engine, tmp_path, targets(server))
    assert result.outcome == "worker_failed"
    assert server.paths("/ping") == [f"/ping/{TOKEN}/start", f"/ping/{TOKEN}/fail"]
    assert server.requests[-1].json()["outcome"] == "worker_failed"


def test_a_failure_to_send_is_a_warning_never_a_failed_run_and_names_no_url(engine, tmp_path, server) -> None:
    server.statuses = [404, 404, 404]  # a client error is not retried
    engine.worker_script = WorkerScript(exit_code=0)
    result = run(engine, tmp_path, targets(server, tmp_path / "missing"))
    assert result.outcome == "success" and result.ok
    assert result.warnings == [
        "ping start failed: HTTP 404 Not Found",
        f"metrics not written to {tmp_path / 'missing'}: No such file or directory",
        "ping success failed: HTTP 404 Not Found",
        "webhook failed: HTTP 404 Not Found",
    ]
    assert TOKEN not in json.dumps(result.to_dict())
    assert engine.find(LEASE) is None


def test_a_run_that_never_took_the_lease_sends_no_start_but_its_end(engine, tmp_path, server) -> None:
    stack = [engine.get("shop-web-1").record()]
    acquire_lease(engine, PROJECT, "f" * 32, "other", stack, 3600, Owner.current(), stack[0].image_id)
    result = run(engine, tmp_path, targets(server), lock_timeout=0)
    assert result.outcome == "locked"
    assert server.paths() == [f"/ping/{TOKEN}/fail", f"/hook/{TOKEN}"]


def test_check_mode_sends_nothing(engine, tmp_path, server) -> None:
    result = run(engine, tmp_path, targets(server, tmp_path), check_mode=True)
    assert result.outcome == "success" and result.signals == []
    assert server.requests == [] and not list(tmp_path.glob("*.prom"))


def test_the_ping_success_follows_the_task_the_skipped_outcome_included() -> None:
    assert NOT_FAILED == ("success", "skipped")


def dead_run(engine: FakeEngine, state_dir: t.Any, signals: SignalTargets, run_id: str = "d" * 32) -> None:
    """What a killed run leaves: its lease (a dead owner) with web stopped, and its pending record."""
    here = Owner.current()
    dead = Owner(here.hostname, here.boot_id, here.pid, (here.pid_start or 0) + 12345)
    records = [engine.get("shop-web-1").record()]
    acquire_lease(engine, PROJECT, run_id, "backup", records, 3600, dead, records[0].image_id)
    engine.get("shop-web-1").state = "exited"
    start = {"job": "backup", "stack": PROJECT, "run_id": run_id, "started_at": "2026-01-31T02:30:00.000+00:00"}
    run_started(str(state_dir), signals, start)


def test_recovery_sends_the_dead_runs_end_from_its_pending_record(engine, tmp_path, server) -> None:
    dead_run(engine, tmp_path, targets(server, tmp_path))
    assert server.paths() == [f"/ping/{TOKEN}/start"]
    rec = recover(engine, PROJECT, state_dir=str(tmp_path))
    assert rec.action == "recovered" and rec.released
    assert server.paths() == [f"/ping/{TOKEN}/start", f"/ping/{TOKEN}/fail", f"/hook/{TOKEN}"]
    body = server.requests[-1].json()
    assert (body["outcome"], body["run_id"], body["downtime_seconds"]) == ("interrupted", "d" * 32, None)
    assert body["duration_seconds"] > 0 and body["finished_at"] > body["started_at"]
    assert [(s.signal, s.ok) for s in rec.signals] == [("metrics", True), ("ping fail", True), ("webhook", True)]
    assert rec.to_dict()["signals"][2]["detail"] == "sent (HTTP 200)"
    assert 'outcome="interrupted"} 1' in (tmp_path / "bosun_backup_shop.prom").read_text()
    # A second recovery finds nothing left to send.
    assert run_interrupted(str(tmp_path), "backup", "d" * 32) == []


def test_the_next_run_recovers_a_dead_run_sends_its_end_then_its_own(engine, tmp_path, server) -> None:
    dead_run(engine, tmp_path, targets(server))
    server.statuses = [410]  # the dead run's /fail is refused: a warning of this run, which goes on
    engine.worker_script = WorkerScript(exit_code=0)
    result = run(engine, tmp_path, targets(server))
    assert result.outcome == "success", result.message
    assert server.paths("/ping") == [f"/ping/{TOKEN}/{p}".rstrip("/") for p in ("start", "fail", "start", "")]
    hooks = [r.json() for r in server.requests if r.path.startswith("/hook")]
    assert [(h["run_id"], h["outcome"]) for h in hooks] == [("d" * 32, "interrupted"), (RUN_ID, "success")]
    assert result.warnings == [f"the recovery of run {'d' * 32!r}: ping fail failed: HTTP 410 Gone"]


def test_recovery_without_a_state_dir_or_pending_record_sends_nothing(engine, tmp_path, server) -> None:
    dead_run(engine, tmp_path, SignalTargets())
    rec = recover(engine, PROJECT, state_dir=str(tmp_path))
    assert rec.action == "recovered" and rec.signals == [] and server.requests == []


def test_the_report_is_short_and_says_what_happened() -> None:
    text = report(
        {
            "job": "backup",
            "stack": "shop",
            "run_id": "r1",
            "outcome": "worker_failed",
            "message": "worker 'w' exited with code 3",
            "started_at": "s",
            "finished_at": "f",
            "duration_seconds": 12.34,
            "downtime_seconds": None,
        },
        [f"line {i}" for i in range(30)],
    )
    lines = text.splitlines()
    assert lines[0].startswith("job 'backup' on stack 'shop' (") and lines[0].endswith("): worker_failed")
    assert lines[1:3] == [
        "worker 'w' exited with code 3",
        "run r1: started s, finished f, duration 12.3s, downtime unknown",
    ]
    assert lines[3] == "worker log, last 20 line(s):" and lines[4:] == [f"line {i}" for i in range(10, 30)]
