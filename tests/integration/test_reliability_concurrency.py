"""Reliability (issue 5, item 5): concurrent runs.

Two runs of one job, and two different jobs of one stack, started at the same moment (and, separately, the
second one started while the first has the stack down) with overlap policy queue: they never overlap - the
second's first stop comes after the first's last start - and both succeed. With policy skip the second
reports skipped and touches nothing. Runs on different stacks proceed in parallel.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import threading
import time

import pytest
import yaml

from harness import VENV_BIN, ComposeProject, TaskResult, event_log, project_workers
from stackcheck import event_action, lease_exists, release_worker, running_workers, snapshot, wait_for

pytestmark = pytest.mark.docker

STACK = "rel_stack.yml"
QUICK = ["sh", "-c", "sleep 2; echo done"]


class Run:
    """One `ansible-playbook` with a single job_run task named `run`, started in the background."""

    def __init__(self, ansible, tmp_path, project: ComposeProject, job_name: str, **args) -> None:
        self.dir, self.env = ansible._prepare()  # pylint: disable=protected-access
        args = {
            "name": job_name,
            "project": project.name,
            "state_dir": str(tmp_path / "state"),
            "lock_timeout": 120,
            **args,
        }
        (self.dir / "playbook.yml").write_text(
            yaml.safe_dump(
                [
                    {
                        "hosts": "localhost",
                        "gather_facts": False,
                        "tasks": [{"name": "run", "bosun.compose.job_run": args}],
                    }
                ],
                sort_keys=False,
            ),
            encoding="utf-8",
        )
        self.proc: subprocess.Popen | None = None
        self.out = ""

    def start(self) -> Run:
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "ansible-playbook"), "-i", str(self.dir / "hosts.ini"), str(self.dir / "playbook.yml")],
            cwd=self.dir,
            env=self.env,
            text=True,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        return self

    def wait(self, timeout: float = 200) -> dict:
        assert self.proc is not None
        try:
            self.out = self.proc.communicate(timeout=timeout)[0]
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        lines = (self.dir / "results.jsonl").read_text().splitlines() if (self.dir / "results.jsonl").exists() else []
        found = [TaskResult(**json.loads(x)) for x in lines]
        assert len(found) == 1, self.out
        return found[0].result


def brief(result: dict) -> dict:
    """What a failed assertion shows of a run's result (a module crash has no outcome, only msg/exception)."""
    return {k: result.get(k) for k in ("outcome", "msg", "exception", "module_stderr") if result.get(k)}


def start_together(*runs: Run) -> None:
    """Start the runs at the same moment (one barrier, one thread each)."""
    barrier = threading.Barrier(len(runs))

    def go(r: Run) -> None:
        barrier.wait()
        r.start()

    threads = [threading.Thread(target=go, args=(r,)) for r in runs]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def _ts(iso: str) -> float:
    return datetime.datetime.fromisoformat(iso).timestamp()


def window(result: dict) -> tuple[float, float]:
    """(first stop began, last start ended) of a run, from its step records."""
    steps = {s["type"]: s for s in result["steps"]}
    stop, start = steps["stop_containers"], steps["start_containers"]
    return _ts(stop["started_at"]), _ts(start["started_at"]) + start["duration"]


def assert_serial(first: dict, second: dict) -> None:
    """The two runs never had the stack at the same time: one's first stop after the other's last start."""
    (a0, a1), (b0, b1) = sorted([window(first), window(second)])
    assert a1 <= b0, f"runs overlap: {a0:.3f}-{a1:.3f} and {b0:.3f}-{b1:.3f}"


def stack_events(project: ComposeProject, since: float) -> list[str]:
    """The project's container die/start actions since `since`, in time order, with repeats squeezed."""
    evs = sorted(
        (e["timeNano"], event_action(e))
        for e in event_log().since(since, project=project.name)
        if event_action(e) in ("die", "start")
    )
    squeezed: list[str] = []
    for _t, action in evs:
        if not squeezed or squeezed[-1] != action:
            squeezed.append(action)
    return squeezed


@pytest.mark.parametrize("jobs", [("rel-a", "rel-a"), ("rel-a", "rel-b")], ids=["same-job", "two-jobs"])
def test_runs_started_together_with_queue_never_overlap_and_both_succeed(compose_project, ansible, tmp_path, jobs):
    p = compose_project(STACK)
    before = snapshot(p)
    t0 = time.time()
    runs = [Run(ansible, tmp_path, p, job, job={"command": QUICK}) for job in jobs]
    start_together(*runs)
    results = [r.wait() for r in runs]
    assert [r.get("outcome") for r in results] == ["success", "success"], [brief(r) for r in results]
    assert_serial(*results)
    # Exactly two stop/start cycles, one after the other, on the daemon's own clock.
    assert stack_events(p, t0) == ["die", "start", "die", "start"]
    assert snapshot(p) == before
    assert project_workers(p.name) == [] and not lease_exists(p.name)


@pytest.mark.parametrize("jobs", [("rel-a", "rel-a"), ("rel-a", "rel-b")], ids=["same-job", "two-jobs"])
def test_queued_run_started_while_another_holds_the_stack_waits_then_succeeds(compose_project, ansible, tmp_path, jobs):
    """The second run starts while the first has the stack down (its worker runs): it must wait, not fail."""
    p = compose_project(STACK)
    before = snapshot(p)
    first = Run(ansible, tmp_path, p, jobs[0]).start()  # its worker waits for the test
    try:
        wait_for(lambda: running_workers(p.name), 120, "the first run's worker")
        second = Run(ansible, tmp_path, p, jobs[1], job={"command": QUICK}).start()
        time.sleep(8)  # the second run is planning, then queueing behind the first
        assert second.proc is not None and second.proc.poll() is None, "the second run ended instead of queueing"
    finally:
        release_worker(p)
    r1 = first.wait()
    r2 = second.wait()
    assert r1["outcome"] == "success", r1.get("msg")
    assert r2["outcome"] == "success", r2.get("msg")
    assert_serial(r1, r2)
    assert snapshot(p) == before
    assert project_workers(p.name) == [] and not lease_exists(p.name)


def test_runs_started_together_with_skip_one_runs_one_is_skipped(compose_project, ansible, tmp_path):
    p = compose_project(STACK)
    before = snapshot(p)
    t0 = time.time()
    runs = [
        Run(ansible, tmp_path, p, "rel-a", job={"command": ["sh", "-c", "sleep 5"], "overlap_policy": "skip"})
        for _run in range(2)
    ]
    start_together(*runs)
    results = [r.wait() for r in runs]
    outcomes = sorted(r["outcome"] for r in results)
    assert outcomes == ["skipped", "success"], [r.get("msg") for r in results]
    skipped = next(r for r in results if r["outcome"] == "skipped")
    assert skipped["stopped"] == [] and skipped["steps"] == [], skipped
    assert skipped["message"].startswith("skipped (overlap policy skip): run "), skipped["message"]
    assert runs[results.index(skipped)].proc.returncode == 0  # skipped does not fail the play
    assert stack_events(p, t0) == ["die", "start"]
    assert snapshot(p) == before


def test_skip_run_started_while_another_holds_the_stack_reports_skipped(compose_project, ansible, tmp_path):
    p = compose_project(STACK)
    before = snapshot(p)
    first = Run(ansible, tmp_path, p, "rel-a").start()
    try:
        wait_for(lambda: running_workers(p.name), 120, "the first run's worker")
        r2 = Run(ansible, tmp_path, p, "rel-b", job={"command": QUICK, "overlap_policy": "skip"}).start().wait()
    finally:
        release_worker(p)
    r1 = first.wait()
    assert r1["outcome"] == "success", r1.get("msg")
    assert r2["outcome"] == "skipped", r2.get("msg")
    assert r2["stopped"] == [] and r2["steps"] == [], r2
    assert snapshot(p) == before


def test_runs_on_different_stacks_proceed_in_parallel(compose_project, ansible, tmp_path):
    p1, p2 = compose_project(STACK), compose_project(STACK)
    before = {p.name: snapshot(p) for p in (p1, p2)}
    runs = [Run(ansible, tmp_path, p, "rel-a") for p in (p1, p2)]
    start_together(*runs)
    try:
        # Both workers run at the same time: neither run waits for the other's stack.
        wait_for(lambda: running_workers(p1.name) and running_workers(p2.name), 120, "both workers at once")
    finally:
        release_worker(p1)
        release_worker(p2)
    results = [r.wait() for r in runs]
    assert [r.get("outcome") for r in results] == ["success", "success"], [brief(r) for r in results]
    (a0, a1), (b0, b1) = window(results[0]), window(results[1])
    assert a0 < b1 and b0 < a1, "the downtimes of the two stacks did not overlap"
    for p in (p1, p2):
        assert snapshot(p) == before[p.name]
        assert project_workers(p.name) == [] and not lease_exists(p.name)
