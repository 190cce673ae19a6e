# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench: the performance figures of issue 7, measured side by side on the local Docker Engine.

Sections (BENCH_ONLY=downtime,parallel,discovery,scale,fleet,pipelining,lifecycle,role selects some):

1. downtime   the job through the role vs docker compose stop + docker run + docker compose start,
              6 SIGTERM-ignoring services in 3 levels with a 2 s grace; downtime from docker events
              (first container death to last container start), alternating A/B, medians
4. (overhead) from the same runs: the part of the downtime not spent in Docker's stop, the worker's run
              and container starts, and where it goes (event timeline segments, job_run steps)
2. parallel   1, 4 and 8 independent SIGTERM-ignoring services: job_run's stop vs docker compose stop
3. discovery  job_info with 0 and 1,000 unrelated created containers and 50 jobs: time and the number
              of Docker API requests (through a counting unix-socket proxy)
3b. scale     job_info and job_plan with 0 and 10,000 created containers, 50 and 500 jobs, through the container
              index (issue 17): module time, requests, and which runs walked the host
5. fleet      the role on BENCH_FLEET_HOSTS stacks as inventory hosts (local connection), forks N (linear and
              free) vs forks 1 vs one host: wall, CPU and memory of the process tree
7. role       the whole role run, task by task, vs the compose sequence; and with run_job_async false
   pipelining per-task overhead with ANSIBLE_PIPELINING off and on (local connection)
6. lifecycle  the job lifecycle (issue 12) on the downtime stack (bench/compose/lifecycle.yml), through the
              role, downtime from docker events (first die or pause to last start or unpause), alternating:
              a. stop mode pause vs stop: pause downtime against the worker's own run time
                 (2 x BENCH_LIFECYCLE_ROUNDS + 1 rounds: these runs are short)
              b. 1 s snapshot + 10 s upload as one worker vs worker + after-phase, in stop and pause mode
              c. stop scope writers vs stack: stop events and downtime of the services outside the writer chain

Knobs: BENCH_ROUNDS (3), BENCH_FLEET_ROUNDS (1), BENCH_PIPE_ROUNDS (2), BENCH_LIFECYCLE_ROUNDS (BENCH_ROUNDS
if set, else 2), BENCH_FILLERS (1000), BENCH_JOBS (50), BENCH_SCALE_FILLERS (10000), BENCH_FLEET_HOSTS (50),
BENCH_FLEET_SERIAL_HOSTS, BENCH_FLEET_NICE (10), BENCH_ONLY, BENCH_OUT (build/bench/results.json).
Everything the bench creates carries the label bosun-bench=1 or a bosun-bench-* project name and is
removed at the end, also on failure or Ctrl+C.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import contextlib
import typing as t
from pathlib import Path

import docker

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from sockproxy import CountingProxy  # noqa: E402

VENV_PY = Path(os.environ.get("BOSUN_VENV", ROOT / ".venv")) / "bin" / "python"
VENV_BIN = VENV_PY.parent
FARM = ROOT / "build" / "collections"
sys.path.insert(0, str(FARM))
IMAGE = os.environ.get("BOSUN_TEST_IMAGE", "bosun-test/busybox:latest")
COMPOSE = HERE / "compose"
PLAYBOOKS = HERE / "playbooks"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
FLEET_ROUNDS = int(os.environ.get("BENCH_FLEET_ROUNDS", "1"))
PIPE_ROUNDS = int(os.environ.get("BENCH_PIPE_ROUNDS", "2"))
# 2 by default (the section's runs are long: an 11 s worker); BENCH_ROUNDS applies here too when it is set.
LC_ROUNDS = int(os.environ.get("BENCH_LIFECYCLE_ROUNDS") or os.environ.get("BENCH_ROUNDS") or "2")
FILLERS = int(os.environ.get("BENCH_FILLERS", "1000"))
JOBS = int(os.environ.get("BENCH_JOBS", "50"))
ONLY = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "build" / "bench" / "results.json"))
BENCH_LABEL = "bosun-bench"
# Every container the bench creates outside a Compose project carries this run's own label too.
RUN_LABEL = f"{BENCH_LABEL}.run={secrets.token_hex(4)}"
PROJECT_PREFIX = "bosun-bench-"
WORK = Path(tempfile.mkdtemp(prefix="bosun-bench-"))

api = docker.APIClient(version="auto", timeout=300)
_projects: dict[str, Path] = {}  # project -> compose file, for the cleanup
_results: dict[str, t.Any] = {}


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def log(msg: str = "") -> None:
    print(msg, flush=True)


def figure(key: str, value: t.Any, text: str) -> None:
    """Record one figure and print it."""
    _results[key] = value
    log(f"  {text}")


def sh(
    argv: t.Sequence[t.Any], *, env: t.Mapping[str, str] | None = None, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess:
    argv = [str(a) for a in argv]
    res = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and res.returncode != 0:
        raise RuntimeError(f"rc={res.returncode}: {' '.join(argv)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return res


def med(xs: t.Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def spread(xs: t.Sequence[float]) -> str:
    return f"min {min(xs):.3f} max {max(xs):.3f}" if xs else "-"


def ansible_env(record: Path | None = None, **extra: str) -> dict[str, str]:
    env = {
        "ANSIBLE_COLLECTIONS_PATH": str(FARM),
        "ANSIBLE_PYTHON_INTERPRETER": str(VENV_PY),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    }
    if record is not None:
        env |= {
            "ANSIBLE_CALLBACK_PLUGINS": f"{ROOT / 'tests' / 'integration' / 'callback_plugins'}:{HERE / 'callback_plugins'}",
            "ANSIBLE_CALLBACKS_ENABLED": "bosun_record",
            "BOSUN_RECORD_FILE": str(record),
        }
        if "BENCH_TIMER_FILE" in extra:
            env["ANSIBLE_CALLBACKS_ENABLED"] += ",bosun_bench_timer"
    return env | extra


def playbook(
    name: str,
    inventory: str | Path,
    extra_vars: t.Mapping[str, t.Any] | None = None,
    *,
    forks: int = 5,
    env: t.Mapping[str, str] | None = None,
    timer: Path | None = None,
) -> tuple[float, list[dict]]:
    """Run a bench playbook; (wall seconds, recorded task results). With `timer`, when each task started and
    ended on each host goes to that file (bench/callback_plugins/bosun_bench_timer.py)."""
    record = WORK / f"record-{secrets.token_hex(4)}.jsonl"
    argv = [VENV_BIN / "ansible-playbook", "-i", inventory, "-f", forks, PLAYBOOKS / name]
    if extra_vars:
        argv += ["-e", json.dumps(dict(extra_vars))]
    extra = {"BENCH_TIMER_FILE": str(timer)} if timer is not None else {}
    t0 = time.monotonic()
    sh(argv, env=ansible_env(record, **extra) | dict(env or {}))
    wall = time.monotonic() - t0
    lines = record.read_text().splitlines() if record.exists() else []
    return wall, [json.loads(x) for x in lines if x.strip()]


def task_result(records: list[dict], action: str, host: str | None = None) -> dict:
    for r in records:
        if r.get("action", "").endswith(action) and (host is None or r.get("host") == host):
            return r["result"]
    raise RuntimeError(f"no {action} result recorded")


def job_result(records: list[dict], host: str | None = None) -> dict:
    """job_run's result in a role run: job_status's under async (it returns job_run's result), else job_run's
    (without async the role skips job_status)."""
    ran = [r for r in records if r.get("status") != "skipped"]
    try:
        return task_result(ran, "job_status", host)
    except RuntimeError:
        return task_result(ran, "job_run", host)


def stack_inventory(name: str, project: str, job: str) -> Path:
    """A one-host inventory (local connection) whose host runs `job` on `project`."""
    inventory = WORK / f"{name}.ini"
    inventory.write_text(
        f"bench ansible_connection=local ansible_python_interpreter={VENV_PY} bench_project={project} bench_job={job}\n"
    )
    return inventory


def role_run(inventory: Path) -> tuple[list[dict], dict, float]:
    """The job through the role (run_job.yml), events recorded live: (events, job_run result, wall seconds)."""
    with Events() as ev:
        wall, recs = playbook("run_job.yml", inventory)
    res = job_result(recs)
    if res.get("outcome") != "success":
        raise RuntimeError(f"role run failed: {res.get('msg') or res.get('message')}")
    return ev.list, res, wall


def compose(project: str, file: Path, *args: str, env: t.Mapping[str, str] | None = None) -> float:
    t0 = time.monotonic()
    sh(["docker", "compose", "-p", project, "-f", file, *args], env=env)
    return time.monotonic() - t0


def new_project(kind: str, file: Path) -> str:
    name = f"{PROJECT_PREFIX}{kind}-{secrets.token_hex(3)}"
    _projects[name] = file
    return name


class Events:
    """Container events recorded live while the block runs (the daemon keeps only its last 256 events, and
    the test suites sharing this daemon produce more than that during one run, so asking afterwards loses some).

        with Events() as ev: ...
        ev.list  # [{t (float seconds), action, attrs, name, id}, ...]
    """

    def __init__(self) -> None:
        self.list: list[dict] = []
        self._stream: t.Any = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Events:
        self._stream = api.events(decode=True, filters={"type": "container"})
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        time.sleep(0.2)  # the subscription is in place before the measured work starts
        return self

    def _read(self) -> None:
        try:
            for e in self._stream:
                attrs = (e.get("Actor") or {}).get("Attributes") or {}
                self.list.append(
                    {
                        "t": e.get("timeNano", 0) / 1e9,
                        "action": e.get("Action") or e.get("status") or "",
                        "attrs": attrs,
                        "name": attrs.get("name", ""),
                        "id": (e.get("Actor") or {}).get("ID", ""),
                    }
                )
        except Exception:  # closed
            pass

    def __exit__(self, *exc: t.Any) -> None:
        time.sleep(0.5)  # the last events are delivered
        with contextlib.suppress(Exception):
            self._stream.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


# A container is down from its "die" or "pause" event to its next "start" or "unpause".
DOWN_ACTIONS, UP_ACTIONS = ("die", "pause"), ("start", "unpause")


def stack_events(evs: list[dict], project: str, services: t.Collection[str] | None = None) -> list[dict]:
    return [
        e
        for e in evs
        if e["attrs"].get("com.docker.compose.project") == project
        and (services is None or e["attrs"].get("com.docker.compose.service") in services)
    ]


def down_window(evs: list[dict], project: str, services: t.Collection[str] | None = None) -> tuple[float, float] | None:
    """(first die or pause, last start or unpause after it) of the stack's containers, or of some of its
    services; None when none of them went down."""
    mine = stack_events(evs, project, services)
    down = [e["t"] for e in mine if e["action"] in DOWN_ACTIONS]
    if not down:
        return None
    up = [e["t"] for e in mine if e["action"] in UP_ACTIONS and e["t"] > min(down)]
    if not up:
        raise RuntimeError(f"{project}: containers went down and never came back ({sorted(services or [])})")
    return min(down), max(up)


def bosun_container(evs: list[dict], project: str, role: str) -> dict[str, float | None]:
    """First create/start/die of the run's worker (role "worker") or after-phase container ("after")."""
    mine = [
        e for e in evs if e["attrs"].get("bosun.worker.stack") == project and e["name"].startswith(f"bosun-{role}-")
    ]
    return {a: min((e["t"] for e in mine if e["action"] == a), default=None) for a in ("create", "start", "die")}


# ------------------------------------------------------------------------------------------------
# cleanup
# ------------------------------------------------------------------------------------------------


def _remove_containers(ids: list[str]) -> None:
    def rm(cid: str) -> None:
        try:
            api.remove_container(cid, force=True, v=True)
        except docker.errors.APIError as exc:  # gone, or being removed by someone else (409)
            if exc.status_code not in (404, 409):
                raise

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(rm, ids))


def cleanup() -> None:
    for project, file in list(_projects.items()):
        workers = [c["Id"] for c in api.containers(all=True, filters={"label": [f"bosun.worker.stack={project}"]})]
        _remove_containers(workers)
        with contextlib.suppress(docker.errors.NotFound):
            api.remove_container(f"bosun-lease-{project}", force=True)
        sh(["docker", "compose", "-p", project, "-f", file, "down", "-v", "-t", "0", "--remove-orphans"], check=False)
        _projects.pop(project, None)
    # fillers and baseline workers of this run (a bench running at the same time keeps its own)
    _remove_containers([c["Id"] for c in api.containers(all=True, filters={"label": [RUN_LABEL]})])


def sweep_stale(max_age: float = 1800) -> None:
    """Leftovers of an earlier bench that died (older than 30 min, so a concurrent bench is left alone)."""
    now = time.time()
    old = [c for c in api.containers(all=True, filters={"label": [f"{BENCH_LABEL}=1"]}) if now - c["Created"] > max_age]
    for p in sorted({(c.get("Labels") or {}).get("com.docker.compose.project") for c in old} - {None}):
        if p.startswith(PROJECT_PREFIX):
            sh(["docker", "compose", "-p", p, "down", "-v", "-t", "0", "--remove-orphans"], check=False)
            sh(["docker", "rm", "-f", f"bosun-lease-{p}"], check=False)
    _remove_containers([c["Id"] for c in old if not (c.get("Labels") or {}).get("com.docker.compose.project")])


# ------------------------------------------------------------------------------------------------
# 1 + 4: downtime and the overhead inside the window
# ------------------------------------------------------------------------------------------------

DT_LEVELS = [["db", "cache"], ["api", "queue"], ["web", "cron"]]  # start order; stop is the reverse
DT_WORKER_CMD = "sleep 1; tar -C /mnt/data -cf /mnt/out/data.tar ."


def _start_latency(project: str) -> float:
    """Docker's own time for one container start (stop with -t 0, then time the start API call), median."""
    c = api.containers(
        all=True, filters={"label": [f"com.docker.compose.project={project}", "com.docker.compose.service=db"]}
    )[0]
    samples = []
    for _round in range(3):
        api.kill(c["Id"])
        api.wait(c["Id"])
        t0 = time.monotonic()
        api.start(c["Id"])
        samples.append(time.monotonic() - t0)
    return med(samples)


def analyse_window(evs: list[dict], project: str, is_worker: t.Callable[[dict], bool], start_api: float) -> dict:
    """Downtime and its segments from the events of one run."""
    stack = [e for e in evs if e["attrs"].get("com.docker.compose.project") == project]
    svc = {e["id"]: e["attrs"].get("com.docker.compose.service") for e in stack}
    dies = [e for e in stack if e["action"] == "die"]
    starts = [e for e in stack if e["action"] == "start"]
    kills = [e for e in stack if e["action"] == "kill" and e["attrs"].get("signal") == "15"]
    w = [e for e in evs if is_worker(e)]
    if not dies or not starts:
        raise RuntimeError(f"no die/start events for {project}")
    first_die, last_start = min(e["t"] for e in dies), max(e["t"] for e in starts)

    def of(es: list[dict], level: list[str]) -> list[float]:
        return [e["t"] for e in es if svc.get(e["id"]) in level]

    seg: dict[str, float] = {}
    stop_docker = 0.0
    prev_last_die = None
    for i, level in enumerate(reversed(DT_LEVELS)):
        k, d = of(kills, level), of(dies, level)
        if prev_last_die is not None:
            seg[f"gap before stop level {i + 1}"] = min(k) - prev_last_die
            stop_docker += max(d) - min(k)
        else:
            stop_docker += max(d) - first_die  # the first level's grace lies before the window
        prev_last_die = max(d)
    wt = {a: min((e["t"] for e in w if e["action"] == a), default=None) for a in ("create", "start", "die", "destroy")}
    worker_run = (wt["die"] - wt["start"]) if wt["start"] and wt["die"] else 0.0
    seg["last stop -> worker create"] = (wt["create"] or prev_last_die) - prev_last_die
    seg["worker create -> start"] = (wt["start"] or 0) - (wt["create"] or 0)
    level_starts = [of(starts, level) for level in DT_LEVELS]
    seg["worker die -> first stack start"] = min(level_starts[0]) - (wt["die"] or 0)
    for i in range(1, len(DT_LEVELS)):
        seg[f"start level {i} -> start level {i + 1}"] = min(level_starts[i]) - max(level_starts[i - 1])
    seg["spread of the last start level"] = max(level_starts[-1]) - min(level_starts[-1])
    if wt["destroy"]:
        seg["(worker removed at +s after its death)"] = wt["destroy"] - (wt["die"] or 0)
    downtime = last_start - first_die
    # Docker's own work in the window: the stops, the worker's run, one container start per start level
    # and the worker's own start (the start API latency measured on this stack).
    docker_own = stop_docker + worker_run + start_api * (len(DT_LEVELS) + 1)
    return {
        "downtime": downtime,
        "stop_docker": stop_docker,
        "worker_run": worker_run,
        "docker_own": docker_own,
        "overhead": downtime - docker_own,
        "segments": seg,
    }


def _baseline_sequence(project: str, file: Path, env: t.Mapping[str, str], wname: str, job: str) -> None:
    """What an operator would type: docker compose stop, the same worker with docker run, docker compose start."""
    compose(project, file, "stop", env=env)
    sh(
        [
            "docker",
            "run",
            "--rm",
            "--name",
            wname,
            "--init",
            "--security-opt",
            "no-new-privileges",
            "--network",
            "none",
            "--label",
            f"{BENCH_LABEL}=1",
            "--label",
            RUN_LABEL,
            "--label",
            f"bench.worker={project}",
            "-e",
            f"BOSUN_JOB_NAME={job}",
            "-e",
            f"BOSUN_STACK={project}",
            "--mount",
            f"type=volume,source={project}_data,target=/mnt/data,readonly",
            "--mount",
            f"type=volume,source={project}_out,target=/mnt/out",
            IMAGE,
            "sh",
            "-c",
            DT_WORKER_CMD,
        ]
    )
    compose(project, file, "start", env=env)


def bench_downtime() -> None:
    log("\n== 1. Downtime: 6 services in 3 levels, SIGTERM ignored, 2 s grace ==")
    file = COMPOSE / "downtime.yml"
    project = new_project("dt", file)
    job = f"bench-dt-{secrets.token_hex(3)}"
    env = {"BENCH_JOB": job}
    compose(project, file, "up", "-d", env=env)
    start_api = _start_latency(project)
    figure("start_api_latency_s", round(start_api, 3), f"one container start (API call, median of 3): {start_api:.3f}s")
    inventory = stack_inventory("dt", project, job)
    runs: dict[str, list[dict]] = {"role": [], "compose": []}
    steps: list[list[dict]] = []

    def role(i: int) -> None:
        evs, res, wall = role_run(inventory)
        a = analyse_window(evs, project, lambda e: e["attrs"].get("bosun.worker.stack") == project, start_api)
        a |= {"wall": wall, "reported_downtime": res.get("downtime_seconds")}
        steps.append(res.get("steps") or [])
        runs["role"].append(a)

    def baseline(i: int) -> None:
        wname = f"{project}-w{i}"
        with Events() as ev:
            w0 = time.monotonic()
            _baseline_sequence(project, file, env, wname, job)
            wall = time.monotonic() - w0
        a = analyse_window(ev.list, project, lambda e: e["attrs"].get("bench.worker") == project, start_api)
        runs["compose"].append(a | {"wall": wall})

    for i in range(ROUNDS):
        order = (role, baseline) if i % 2 == 0 else (baseline, role)
        for fn in order:
            fn(i)
        r, c = runs["role"][-1], runs["compose"][-1]
        log(
            f"  round {i + 1}: role {r['downtime']:.3f}s (job_run says {r['reported_downtime']}s), "
            f"compose {c['downtime']:.3f}s, ratio {r['downtime'] / c['downtime']:.3f}"
        )
    rd = [r["downtime"] for r in runs["role"]]
    cd = [r["downtime"] for r in runs["compose"]]
    ratios = [a / b for a, b in zip(rd, cd)]
    figure(
        "downtime_role_s", round(med(rd), 3), f"downtime, job through the role: median {med(rd):.3f}s ({spread(rd)})"
    )
    figure(
        "downtime_compose_s",
        round(med(cd), 3),
        f"downtime, compose stop + docker run + compose start: median {med(cd):.3f}s ({spread(cd)})",
    )
    ratio = med(rd) / med(cd)
    figure(
        "downtime_ratio",
        round(ratio, 3),
        f"DOWNTIME RATIO role/compose: {ratio:.3f} (target <= 1.05; "
        f"per-round ratios {', '.join(f'{x:.3f}' for x in ratios)})",
    )
    floor = 2 * 2 + 1 + len(DT_LEVELS) * start_api
    figure(
        "downtime_floor_s",
        round(floor, 3),
        f"physical floor in the window (2 graces after the first death "
        f"+ 1 s worker sleep + 3 level starts): ~{floor:.2f}s",
    )
    figure(
        "role_wall_s",
        round(med([r["wall"] for r in runs["role"]]), 3),
        f"wall time of the role run (ansible-playbook, default run_job_poll): median {med([r['wall'] for r in runs['role']]):.2f}s; "
        f"compose sequence: {med([r['wall'] for r in runs['compose']]):.2f}s",
    )

    log("\n== 4. Overhead inside the downtime window ==")
    for kind in ("role", "compose"):
        ov = [r["overhead"] for r in runs[kind]]
        figure(
            f"overhead_{kind}_s",
            round(med(ov), 3),
            f"{kind}: downtime - (Docker stop in window + worker run + 4 x start latency) = median {med(ov):.3f}s "
            f"({spread(ov)}); stop {med([r['stop_docker'] for r in runs[kind]]):.3f}s, "
            f"worker run {med([r['worker_run'] for r in runs[kind]]):.3f}s",
        )
    log("  where it goes (median seconds per segment of the event timeline; role | compose):")
    segs: dict[str, dict[str, float]] = {}
    for name in runs["role"][0]["segments"]:
        segs[name] = {k: round(med([r["segments"].get(name, 0.0) for r in runs[k]]), 3) for k in runs}
        log(f"    {name:<42} {segs[name]['role']:>7.3f} | {segs[name]['compose']:>7.3f}")
    _results["overhead_segments"] = segs
    step_med = {}
    for name in ("stop_containers", "run_worker", "start_containers"):
        d = [s["duration"] for run in steps for s in run if s["type"] == name]
        step_med[name] = round(med(d), 3)
    _results["job_run_steps"] = step_med
    log("  job_run steps (median durations): " + ", ".join(f"{k} {v:.3f}s" for k, v in step_med.items()))
    _results["downtime_runs"] = runs
    _trace_window(project, job, start_api)


def _kind(what: str) -> str:
    """'stop container bosun-bench-dt-1a2b3c-web-1' -> 'stop container'."""
    words = what.replace("'", "").split()
    return " ".join(w for w in words if not w.startswith(("bosun-", "sha256:", PROJECT_PREFIX)) and len(w) < 40)


def traced_run(project: str, job: str) -> tuple[list[dict], list[list], dict]:
    """One job_run process with every Docker API call timestamped: (events, [[what, t0, t1], ...], result)."""
    args = WORK / "job_run_args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"name": job, "project": project}}))
    trace_file = WORK / "trace.json"
    with Events() as ev:
        res = sh(
            [VENV_PY, HERE / "trace_job_run.py", args],
            check=False,
            env={"PYTHONPATH": str(FARM), "BENCH_TRACE_FILE": str(trace_file)},
        )
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if out.get("outcome") != "success":
        raise RuntimeError(f"traced job_run failed: {out.get('msg')}")
    return ev.list, json.loads(trace_file.read_text()), out


def log_trace(evs: list[dict], trace: list[list], project: str, header: str, verbose: bool = True) -> dict:
    """The Docker API calls of a traced run inside its downtime window, and the window's timeline (one
    line only unless `verbose`)."""
    window = down_window(evs, project)
    if window is None:
        raise RuntimeError(f"traced run on {project}: no die/pause event")
    w0, w1 = window
    calls = [(what, max(t0, w0), min(t1, w1)) for what, t0, t1 in trace if t1 > w0 and t0 < w1]
    by_kind: dict[str, list[float]] = {}
    for what, t0, t1 in calls:
        by_kind.setdefault(_kind(what), []).append(t1 - t0)
    # Time inside the window when no Docker call of job_run was in flight: bosun's own Python, or a sleep.
    covered, last = 0.0, w0
    for _what, t0, t1 in sorted(calls, key=lambda c: c[1]):
        if t1 > last:
            covered += t1 - max(t0, last)
            last = t1
    idle = (w1 - w0) - covered
    # Bosun's own share: the window minus the time during which Docker did the job's own work (a stop, a
    # pause or unpause, a start, the worker's start or its run): what remains is our lists, inspects and Python.
    docker_own = _union([(t0, t1) for what, t0, t1 in calls if what.startswith(DOCKER_OWN)])
    ours = (w1 - w0) - docker_own
    log(
        f"  {header}: downtime {w1 - w0:.3f}s; no Docker call in flight for {idle:.3f}s of the window "
        f"(Python, polling sleeps); bosun's own share (no stop/start/pause/worker call in flight) {ours:.3f}s"
    )
    if not verbose:
        return {"downtime": round(w1 - w0, 3), "idle": round(idle, 3), "ours": round(ours, 3)}
    log("  Docker API calls inside the window (count, total seconds, clipped to the window):")
    rows = sorted(((k, len(v), sum(v)) for k, v in by_kind.items()), key=lambda r: -r[2])
    for k, n, total in rows:
        log(f"    {k:<48} {n:>3} {total:>7.3f}")
    log("  timeline (seconds after the first death or pause):")
    for what, t0, t1 in sorted(calls, key=lambda c: c[1]):
        log(f"    +{t0 - w0:6.3f} .. +{t1 - w0:6.3f}  {_kind(what)}")
    for e in sorted(
        (
            e
            for e in evs
            if (
                e["attrs"].get("com.docker.compose.project") == project
                or e["attrs"].get("bosun.worker.stack") == project
            )
            and w0 <= e["t"] <= w1
            and e["action"] in ("die", "create", "start", "destroy", "pause", "unpause")
        ),
        key=lambda e: e["t"],
    ):
        who = (
            e["attrs"].get("com.docker.compose.service") or e["name"].split("-")[1]
        )  # bosun-worker-..., bosun-after-...
        log(f"    +{e['t'] - w0:6.3f}  event {e['action']:<8} {who}")
    return {
        "downtime": round(w1 - w0, 3),
        "idle": round(idle, 3),
        "ours": round(ours, 3),
        "calls": {k: [n, round(total, 3)] for k, n, total in rows},
    }


# Calls in which Docker does the job's own work: what `docker compose stop`/`start` and `docker run` also wait for.
DOCKER_OWN = (
    "stop container",
    "start container",
    "pause container",
    "unpause container",
    "start worker container",
    "wait for worker container",
)


def _union(spans: t.Sequence[tuple[float, float]]) -> float:
    """Seconds covered by the union of the spans."""
    total, last = 0.0, float("-inf")
    for t0, t1 in sorted(spans):
        if t1 > last:
            total += t1 - max(t0, last)
            last = t1
    return total


TRACE_ROUNDS = int(os.environ.get("BENCH_TRACE_ROUNDS") or os.environ.get("BENCH_ROUNDS") or "3")


def _trace_window(project: str, job: str, start_api: float) -> None:
    """Traced job_runs on the downtime stack (every Docker call timestamped): what happens inside the window.
    The full timeline is printed for the last run; bosun's own share and the formula for each."""
    traces = []
    for i in range(TRACE_ROUNDS):
        evs, trace, out = traced_run(project, job)
        a = analyse_window(evs, project, lambda e: e["attrs"].get("bosun.worker.stack") == project, start_api)
        header = f"traced job_run {i + 1}/{TRACE_ROUNDS} (overhead by the formula {a['overhead']:.3f}s)"
        tr = log_trace(evs, trace, project, header, verbose=i + 1 == TRACE_ROUNDS)
        traces.append(
            tr
            | {
                "overhead": round(a["overhead"], 3),
                "segments": a["segments"],
                "steps": [{k: s[k] for k in ("type", "duration")} for s in out.get("steps", [])],
            }
        )
    ours = [x["ours"] for x in traces]
    figure(
        "trace_ours_s",
        round(med(ours), 3),
        f"BOSUN'S OWN SHARE OF THE WINDOW (traced runs, no stop/start/pause/worker call in flight): median "
        f"{med(ours):.3f}s (target < 0.1; per run {', '.join(f'{x:.3f}' for x in ours)})",
    )
    _results["trace"] = traces[-1]
    _results["traces"] = traces


# ------------------------------------------------------------------------------------------------
# 2: parallel stop
# ------------------------------------------------------------------------------------------------


def bench_parallel() -> None:
    log("\n== 2. Parallel stop: N independent SIGTERM-ignoring services, 2 s grace ==")
    file = COMPOSE / "parallel.yml"
    out: dict[str, t.Any] = {}
    for n in (1, 4, 8):
        project = new_project(f"par{n}", file)
        job = f"bench-par-{secrets.token_hex(3)}"
        env = {"BENCH_JOB": job}
        compose(project, file, "up", "-d", *[f"p{i}" for i in range(1, n + 1)], env=env)
        inventory = stack_inventory(f"par{n}", project, job)
        step, ev_b, ev_c, wall_c = [], [], [], []

        def stop_span(evs: list[dict]) -> float:
            mine = [e for e in evs if e["attrs"].get("com.docker.compose.project") == project]
            kills = [e["t"] for e in mine if e["action"] == "kill" and e["attrs"].get("signal") == "15"]
            dies = [e["t"] for e in mine if e["action"] == "die"]
            return max(dies) - min(kills)

        for i in range(ROUNDS):

            def bosun() -> None:
                with Events() as ev:
                    recs = playbook("job_run.yml", inventory)[1]
                res = job_result(recs)
                step.append(next(s["duration"] for s in res["steps"] if s["type"] == "stop_containers"))
                ev_b.append(stop_span(ev.list))

            def comp() -> None:
                with Events() as ev:
                    wall_c.append(compose(project, file, "stop", env=env))
                ev_c.append(stop_span(ev.list))
                compose(project, file, "start", env=env)

            for fn in (bosun, comp) if i % 2 == 0 else (comp, bosun):
                fn()
        out[str(n)] = {
            "job_run_step": round(med(step), 3),
            "bosun_events": round(med(ev_b), 3),
            "compose_events": round(med(ev_c), 3),
            "compose_wall": round(med(wall_c), 3),
        }
        log(
            f"  {n} service(s): job_run stop step {med(step):.3f}s (kill->last die {med(ev_b):.3f}s); "
            f"docker compose stop {med(wall_c):.3f}s wall (kill->last die {med(ev_c):.3f}s)"
        )
        compose(project, file, "down", "-v", "-t", "0", env=env)
        _projects.pop(project, None)
    ratio = out["8"]["job_run_step"] / out["1"]["job_run_step"]
    figure("parallel_stop", out, f"stop time 8 services / 1 service (job_run): {ratio:.3f} (one grace period each)")
    _results["parallel_stop_ratio_8_to_1"] = round(ratio, 3)


# ------------------------------------------------------------------------------------------------
# 3: discovery at scale
# ------------------------------------------------------------------------------------------------


def _jobs_compose(n: int, tag: str, name: str = "jobs.yml", first: int = 1) -> Path:
    lines = ["# generated by bench/run.py: one created (never started) service per job", "services:"]
    for i in range(first, first + n):
        lines += [
            f"  j{i:03d}:",
            f"    image: {IMAGE}",
            '    command: ["true"]',
            "    network_mode: none",
            "    labels:",
            f'      {BENCH_LABEL}: "1"',
            f"      bosun.job.name: bench-disc-{tag}-{i:03d}",
            f"      bosun.job.worker.image: {IMAGE}",
            "      bosun.job.worker.command: '[\"true\"]'",
        ]
    path = WORK / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _create_fillers(n: int) -> float:
    tag = secrets.token_hex(3)

    def create(i: int) -> None:
        api.create_container(
            IMAGE,
            command=["true"],
            name=f"bosun-bench-filler-{tag}-{i:04d}",
            labels={BENCH_LABEL: "1", **dict([RUN_LABEL.split("=", 1)])},
            network_disabled=True,
            host_config=api.create_host_config(network_mode="none"),
        )

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(create, range(n)))
    return time.monotonic() - t0


def bench_discovery() -> None:
    log(f"\n== 3. Discovery at scale: job_info with 0 and {FILLERS} unrelated containers, {JOBS} jobs ==")
    from ansible_collections.bosun.compose.plugins.module_utils._lease import list_leases
    from ansible_collections.bosun.compose.plugins.module_utils._discovery import discover
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import ConnectionOptions, DockerApi

    tag = secrets.token_hex(3)
    file = _jobs_compose(JOBS, tag)
    project = new_project("disc", file)
    t0 = time.monotonic()
    compose(project, file, "up", "--no-start")
    log(f"  {JOBS} job containers created in {time.monotonic() - t0:.1f}s")
    total0 = len(api.containers(all=True))
    sock = f"/tmp/bosun-bench-{os.getpid()}.sock"
    inventory = WORK / "disc.ini"
    inventory.write_text(f"bench ansible_connection=local ansible_python_interpreter={VENV_PY}\n")
    data: dict[str, dict[str, list]] = {}

    with CountingProxy(sock) as proxy:
        args = WORK / "job_info_args.json"
        args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"docker_host": proxy.url}}))

        def measure(phase: str) -> None:
            d = data.setdefault(phase, {"playbook": [], "module": [], "inproc": [], "requests": []})
            for _round in range(ROUNDS):
                proxy.reset()
                wall, recs = playbook("job_info.yml", inventory, {"bench_docker_host": proxy.url})
                res = task_result(recs, "job_info")
                mine = [j for j in res["jobs"] if j["name"].startswith(f"bench-disc-{tag}-")]
                if len(mine) != JOBS:
                    raise RuntimeError(f"job_info found {len(mine)} of the {JOBS} bench jobs")
                d["playbook"].append(wall)
                d["requests"].append(list(proxy.requests))
            for _round in range(4 * ROUNDS):
                # The module as a process (what the task costs on the host, without Ansible's own overhead).
                proxy.reset()
                t1 = time.monotonic()
                sh([VENV_PY, ROOT / "plugins" / "modules" / "job_info.py", args], env={"PYTHONPATH": str(FARM)})
                d["module"].append(time.monotonic() - t1)
                d["requests"].append(list(proxy.requests))
                # Discovery alone, in this process.
                t1 = time.monotonic()
                dapi = DockerApi.connect(ConnectionOptions(docker_host=proxy.url))
                discover(dapi)
                list_leases(dapi)
                d["inproc"].append(time.monotonic() - t1)

        measure("before")
        created = _create_fillers(FILLERS)
        log(f"  {FILLERS} filler containers created in {created:.1f}s (16 threads)")
        measure("fillers")
        t0 = time.monotonic()
        _remove_containers(
            [
                c["Id"]
                for c in api.containers(all=True, filters={"label": [f"{BENCH_LABEL}=1"]})
                if c["Names"][0].startswith("/bosun-bench-filler-")
            ]
        )
        log(f"  fillers removed in {time.monotonic() - t0:.1f}s")
        measure("after")

    def both(key: str) -> tuple[list[float], list[float]]:
        return data["before"][key] + data["after"][key], data["fillers"][key]

    base_pb, big_pb = both("playbook")
    base_mod, big_mod = both("module")
    base_in, big_in = both("inproc")
    n0 = {len(r) for r in data["before"]["requests"] + data["after"]["requests"]}
    n1 = {len(r) for r in data["fillers"]["requests"]}
    log(
        f"  containers on the daemon: {total0} without fillers, {total0 + FILLERS} with "
        f"(0-filler figures are measured before and after the fillers, pooled)"
    )
    figure(
        "discovery_playbook_s",
        {"0": round(med(base_pb), 3), str(FILLERS): round(med(big_pb), 3)},
        f"job_info task through ansible-playbook: {med(base_pb):.3f}s with 0, {med(big_pb):.3f}s with {FILLERS} "
        f"({spread(base_pb)} | {spread(big_pb)}); ratio {med(big_pb) / med(base_pb):.3f}",
    )
    figure(
        "discovery_module_s",
        {"0": round(med(base_mod), 3), str(FILLERS): round(med(big_mod), 3)},
        f"job_info module process: {med(base_mod):.3f}s with 0, {med(big_mod):.3f}s with {FILLERS} "
        f"({spread(base_mod)} | {spread(big_mod)})",
    )
    figure(
        "discovery_inproc_s",
        {"0": round(med(base_in), 4), str(FILLERS): round(med(big_in), 4)},
        f"discovery in process (connect + discover + list_leases): {med(base_in) * 1000:.1f}ms with 0, "
        f"{med(big_in) * 1000:.1f}ms with {FILLERS} (ratio {med(big_in) / med(base_in):.3f})",
    )
    ratio = med(big_mod) / med(base_mod)
    figure(
        "discovery_ratio",
        round(ratio, 3),
        f"DISCOVERY RATIO (job_info module process, {FILLERS} / 0 fillers): {ratio:.3f} (target ~1)",
    )
    figure(
        "discovery_requests",
        {"0": sorted(n0), str(FILLERS): sorted(n1)},
        f"Docker API requests per job_info: {sorted(n0)} with 0, {sorted(n1)} with {FILLERS} fillers "
        f"({'constant' if n0 == n1 and len(n0) == 1 else 'NOT constant'})",
    )
    reqs = data["fillers"]["requests"][0]
    _results["discovery_request_lines"] = [f"{m} {p.split('?')[0]}" for m, p in reqs]
    log("  requests of one job_info: " + "; ".join(_results["discovery_request_lines"]))
    compose(project, file, "down", "-v", "-t", "0")
    _projects.pop(project, None)


# ------------------------------------------------------------------------------------------------
# 3b: discovery at fleet scale: 10,000 created containers, 50 and 500 jobs, job_info and job_plan
# ------------------------------------------------------------------------------------------------

SCALE_FILLERS = int(os.environ.get("BENCH_SCALE_FILLERS", "10000"))
SCALE_JOBS = (50, 500)


def _create_labelled_fillers(n: int, tag: str) -> float:
    """n created (never started) containers labelled bosun-bench=1 and bosun-bench.fillers=<tag>, 16 threads."""

    def create(i: int) -> None:
        api.create_container(
            IMAGE,
            command=["true"],
            name=f"bosun-bench-filler-{tag}-{i:05d}",
            labels={BENCH_LABEL: "1", f"{BENCH_LABEL}.fillers": tag, **dict([RUN_LABEL.split("=", 1)])},
            network_disabled=True,
            host_config=api.create_host_config(network_mode="none"),
        )

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(create, range(n)))
    return time.monotonic() - t0


def _remove_fillers(tag: str) -> tuple[int, float]:
    t0 = time.monotonic()
    ids = [c["Id"] for c in api.containers(all=True, filters={"label": [f"{BENCH_LABEL}.fillers={tag}"]})]
    _remove_containers(ids)
    return len(ids), time.monotonic() - t0


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs; iowait counts as busy: the disk is still writing what we did."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3]
    return sum(fields) - idle, sum(fields)


def _settle(limit: float = 120.0) -> str:
    """Wait until the machine is idle again (the Engine writes 10,000 containers' files for a while after the
    last create returned): flush, then wait for a second with under 15 % busy or iowait, at most ``limit`` s."""
    t0 = time.monotonic()
    os.sync()
    while time.monotonic() - t0 < limit:
        b0, a0 = _cpu_times()
        time.sleep(1.0)
        b1, a1 = _cpu_times()
        if (b1 - b0) / max(1, a1 - a0) < 0.15:
            return f"settled after {time.monotonic() - t0:.1f}s"
    return f"not settled after {limit:.0f}s (measured anyway)"


def bench_scale() -> None:
    log(
        f"\n== 3b. Discovery at fleet scale: job_info and job_plan with 0 and {SCALE_FILLERS} created containers, "
        f"{' and '.join(map(str, SCALE_JOBS))} jobs =="
    )
    from ansible_collections.bosun.compose.plugins.module_utils._container_index import ContainerIndex
    from ansible_collections.bosun.compose.plugins.module_utils._lease import list_leases
    from ansible_collections.bosun.compose.plugins.module_utils._discovery import discover
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import ConnectionOptions, DockerApi

    tag = secrets.token_hex(3)
    small, big = SCALE_JOBS
    # The first `small` jobs in one project, the others in a second one that comes and goes.
    file_a = _jobs_compose(small, tag, name="jobs-a.yml")
    file_b = _jobs_compose(big - small, tag, name="jobs-b.yml", first=small + 1)
    proj_a, proj_b = new_project("scalea", file_a), new_project("scaleb", file_b)
    compose(proj_a, file_a, "up", "--no-start")
    sock = f"/tmp/bosun-bench-scale-{os.getpid()}.sock"
    data: dict[str, dict[str, list]] = {}
    k = max(4, 2 * ROUNDS)  # module runs per phase and kind (they are short)
    # The modules' state directory holds the container index (_container_index.py) that the runs share.
    state = WORK / f"scale-state-{tag}"
    with CountingProxy(sock) as proxy:
        info_args, plan_args = WORK / "scale_info.json", WORK / "scale_plan.json"
        info_args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"docker_host": proxy.url, "state_dir": str(state)}}))
        plan_args.write_text(
            json.dumps(
                {
                    "ANSIBLE_MODULE_ARGS": {
                        "docker_host": proxy.url,
                        "name": f"bench-disc-{tag}-001",
                        "project": proj_a,
                        "state_dir": str(state),
                    }
                }
            )
        )

        def walks(reqs: list) -> int:
            """How many of a run's requests were container lists filtered by label only (a walk of the host)."""
            return sum(
                1
                for _m, path in reqs
                if path.startswith("/v")
                and "/containers/json" in path
                and "%22id%22" not in path
                and "%22label%22" in path
            )

        def module(path: Path, args: Path) -> tuple[float, list, dict]:
            proxy.reset()
            t1 = time.monotonic()
            # job_plan exits 1 here: its stack's containers are created, not running (a failed preflight check).
            res = sh([VENV_PY, path, args], env={"PYTHONPATH": str(FARM)}, check=False)
            wall = time.monotonic() - t1
            return wall, list(proxy.requests), json.loads(res.stdout.strip().splitlines()[-1])

        def measure(phase: str, jobs: int) -> None:
            keys = ("info", "plan", "inproc", "info_req", "plan_req", "info_walks", "plan_walks")
            d = data.setdefault(phase, {k2: [] for k2 in keys})
            for _round in range(k):
                wall, reqs, out = module(ROOT / "plugins" / "modules" / "job_info.py", info_args)
                mine = [j for j in out.get("jobs", []) if j["name"].startswith(f"bench-disc-{tag}-")]
                if len(mine) != jobs:
                    raise RuntimeError(f"job_info found {len(mine)} of the {jobs} bench jobs ({phase})")
                d["info"].append(wall)
                d["info_req"].append(reqs)
                d["info_walks"].append(walks(reqs))
                wall, reqs, out = module(ROOT / "plugins" / "modules" / "job_plan.py", plan_args)
                if not (out.get("plan") or {}).get("steps"):
                    raise RuntimeError(f"job_plan made no plan ({phase}): {out.get('msg')}")
                d["plan"].append(wall)
                d["plan_req"].append(reqs)
                d["plan_walks"].append(walks(reqs))
                t1 = time.monotonic()
                dapi = DockerApi.connect(ConnectionOptions(docker_host=proxy.url))
                dapi.index = ContainerIndex(dapi, str(state))
                discover(dapi)
                list_leases(dapi)
                d["inproc"].append(time.monotonic() - t1)
            # Single Engine requests (not through the proxy) and discovery both ways, in this process.
            ids = [
                c["Id"] for c in api.containers(all=True, filters={"label": [f"com.docker.compose.project={proj_a}"]})
            ]
            calls: dict[str, t.Callable[[], t.Any]] = {
                "list filtered by label (bosun.job.name)": lambda: api.containers(
                    all=True, filters={"label": ["bosun.job.name"]}
                ),
                f"list filtered by {len(ids)} ids and the project label": lambda: api.containers(
                    all=True, filters={"id": ids, "label": [f"com.docker.compose.project={proj_a}"]}
                ),
                "inspect one container by name": lambda: api.inspect_container(f"{proj_a}-j001-1"),
                "discover + list_leases": lambda: (discover(dapi), list_leases(dapi)),
            }
            for name, fn in calls.items():
                for _round in range(k):
                    t1 = time.monotonic()
                    fn()
                    d.setdefault(name, []).append(time.monotonic() - t1)
            log(
                f"  {phase}: job_info {med(d['info']):.3f}s, job_plan {med(d['plan']):.3f}s, in process "
                f"{med(d['inproc']) * 1000:.1f}ms ({len(api.containers(all=True))} containers on the daemon)"
            )

        try:
            log(f"  before the first phase: {_settle()}")
            measure(f"0/{small}", small)
            compose(proj_b, file_b, "up", "--no-start")
            measure(f"0/{big}", big)
            created = _create_labelled_fillers(SCALE_FILLERS, tag)
            log(f"  {SCALE_FILLERS} filler containers created in {created:.1f}s (16 threads); {_settle()}")
            measure(f"{SCALE_FILLERS}/{big}", big)
            compose(proj_b, file_b, "down", "-t", "0")
            _projects.pop(proj_b, None)
            measure(f"{SCALE_FILLERS}/{small}", small)
        finally:
            n, took = _remove_fillers(tag)
            log(f"  {n} fillers removed in {took:.1f}s; {_settle()}")
        measure(f"0/{small} after", small)
    compose(proj_a, file_a, "down", "-t", "0")
    _projects.pop(proj_a, None)

    def pooled(phase: str, key: str) -> list[float]:
        return data[phase][key] + (data[f"{phase} after"][key] if f"{phase} after" in data else [])

    out: dict[str, t.Any] = {}
    for jobs in SCALE_JOBS:
        base, full = f"0/{jobs}", f"{SCALE_FILLERS}/{jobs}"
        row: dict[str, t.Any] = {}
        for key in ("info", "plan", "inproc"):
            b, f = pooled(base, key), data[full][key]
            row[key] = {"0": round(med(b), 4), str(SCALE_FILLERS): round(med(f), 4), "ratio": round(med(f) / med(b), 3)}
        for key in ("info_req", "plan_req"):
            n0 = sorted({len(r) for r in pooled(base, key)})
            n1 = sorted({len(r) for r in data[full][key]})
            row[key] = {"0": n0, str(SCALE_FILLERS): n1, "constant": n0 == n1}
        for key in ("info", "plan"):
            # The runs the container index answered (no walk of the host) and those that walked (the index was
            # cold: the first run after 10,000 creations left its anchor out of the Engine's event buffer).
            for phase, name in ((base, "0"), (full, str(SCALE_FILLERS))):
                runs = list(
                    zip(
                        pooled(phase, key) if phase == base else data[phase][key],
                        pooled(phase, f"{key}_walks") if phase == base else data[phase][f"{key}_walks"],
                    )
                )
                row[f"{key}_walked"] = row.get(f"{key}_walked", {})
                row[f"{key}_walked"][name] = [round(w, 3) for w, n in runs if n]
        out[str(jobs)] = row
        log(
            f"  {jobs} jobs: job_info {row['info']['0']:.3f}s -> {row['info'][str(SCALE_FILLERS)]:.3f}s "
            f"(RATIO {row['info']['ratio']:.3f}, target < 1.2), job_plan {row['plan']['0']:.3f}s -> "
            f"{row['plan'][str(SCALE_FILLERS)]:.3f}s (ratio {row['plan']['ratio']:.3f}), in process "
            f"{row['inproc']['0'] * 1000:.1f} -> {row['inproc'][str(SCALE_FILLERS)] * 1000:.1f}ms "
            f"(ratio {row['inproc']['ratio']:.2f}); requests job_info {row['info_req']['0']} -> "
            f"{row['info_req'][str(SCALE_FILLERS)]}, job_plan {row['plan_req']['0']} -> "
            f"{row['plan_req'][str(SCALE_FILLERS)]}; runs that walked the host (cold index) job_info "
            f"{row['info_walked']}, job_plan {row['plan_walked']}"
        )
    jobs_ratio = out[str(big)]["info"]["0"] / out[str(small)]["info"]["0"]
    figure(
        "scale_discovery",
        out,
        f"job_info with {big} vs {small} jobs (0 fillers): ratio {jobs_ratio:.3f}; {k} module runs per phase and kind",
    )
    _results["scale_discovery_ratio"] = out[str(small)]["info"]["ratio"]
    _results["scale_discovery_ratio_500_jobs"] = out[str(big)]["info"]["ratio"]
    _results["scale_plan_ratio"] = out[str(small)]["plan"]["ratio"]
    _results["scale_requests"] = {
        "job_info": [f"{m} {p.split('?')[0]}" for m, p in data[f"{SCALE_FILLERS}/{big}"]["info_req"][0]],
        "job_plan": [f"{m} {p.split('?')[0]}" for m, p in data[f"{SCALE_FILLERS}/{big}"]["plan_req"][0]],
    }
    micro = {
        name: {ph: round(med(data[ph][name]) * 1000, 1) for ph in data}
        for name in data[f"0/{small}"]
        if name not in ("info", "plan", "inproc", "info_req", "plan_req", "info_walks", "plan_walks")
    }
    _results["scale_engine_ms"] = micro
    log("  single requests and discovery in process (median ms; " + " | ".join(data) + "):")
    for name, row in micro.items():
        log(f"    {name:<52} " + " | ".join(f"{v:>7.1f}" for v in row.values()))
    log("  requests of one job_info: " + "; ".join(_results["scale_requests"]["job_info"]))
    log("  requests of one job_plan: " + "; ".join(_results["scale_requests"]["job_plan"]))


# ------------------------------------------------------------------------------------------------
# 7: the whole role run, task by task, vs the compose sequence
# ------------------------------------------------------------------------------------------------


def task_table(timer: Path, wall_start: float, wall_end: float, host: str | None = None) -> dict[str, t.Any]:
    """Per task (in playbook order) its seconds from hand-out to result on `host` (the first host when None),
    and where the rest of the wall time went: start-up before the first task, between tasks, after the last."""
    lines = [json.loads(x) for x in timer.read_text().splitlines() if x.strip()]
    ends = [x for x in lines if x["event"] == "task_end" and x.get("start") and (host is None or x["host"] == host)]
    if not ends:
        raise RuntimeError(f"no task timings in {timer}")
    host = host or ends[0]["host"]
    ends = sorted((x for x in ends if x["host"] == host), key=lambda x: x["start"])
    tasks: list[dict[str, t.Any]] = []
    seen: dict[str, int] = {}
    for x in ends:
        n = seen[x["task"]] = seen.get(x["task"], 0) + 1
        name = x["task"] if n == 1 else f"{x['task']} ({n})"
        tasks.append({"task": name, "action": x["action"], "status": x["status"], "s": x["end"] - x["start"]})
    between = sum(max(0.0, b["start"] - a["end"]) for a, b in zip(ends, ends[1:]))
    return {
        "tasks": tasks,
        "startup": ends[0]["start"] - wall_start,
        "between": between,
        "shutdown": wall_end - ends[-1]["end"],
        "wall": wall_end - wall_start,
    }


def bench_role() -> None:
    log("\n== 7. The whole role run, task by task, vs docker compose stop + docker run + docker compose start ==")
    file = COMPOSE / "downtime.yml"
    project = new_project("role", file)
    job = f"bench-role-{secrets.token_hex(3)}"
    env = {"BENCH_JOB": job}
    compose(project, file, "up", "-d", env=env)
    inventory = stack_inventory("role", project, job)
    role_runs: list[dict[str, t.Any]] = []
    sync_walls: list[float] = []
    comp: list[float] = []

    def role() -> None:
        timer = WORK / f"timer-{secrets.token_hex(4)}.jsonl"
        w0 = time.time()
        wall, recs = playbook("run_job.yml", inventory, timer=timer)
        res = job_result(recs)
        if res.get("outcome") != "success":
            raise RuntimeError(f"role run failed: {res.get('msg') or res.get('message')}")
        table = task_table(timer, w0, w0 + wall)
        table["job_run_duration"] = res.get("duration_seconds")
        role_runs.append(table)

    def role_sync() -> None:
        """The role with run_job_async false: job_run as an ordinary task (no async start, no job_status)."""
        wall, recs = playbook("run_job.yml", inventory, {"run_job_async": False})
        res = job_result(recs)
        if res.get("outcome") != "success":
            raise RuntimeError(f"role run (run_job_async false) failed: {res.get('msg') or res.get('message')}")
        sync_walls.append(wall)

    def compose_seq(i: int) -> None:
        w0 = time.monotonic()
        _baseline_sequence(project, file, env, f"{project}-w{i}", job)
        comp.append(time.monotonic() - w0)

    for i in range(ROUNDS):
        order = (role, role_sync, lambda: compose_seq(i))
        for fn in order if i % 2 == 0 else tuple(reversed(order)):
            fn()
        log(
            f"  round {i + 1}: role {role_runs[-1]['wall']:.2f}s, role with run_job_async false "
            f"{sync_walls[-1]:.2f}s, compose sequence {comp[-1]:.2f}s"
        )
    walls = [r["wall"] for r in role_runs]
    ratio = med(walls) / med(comp)
    names = [x["task"] for x in role_runs[0]["tasks"]]
    rows = []
    for k, name in enumerate(names):
        d = [r["tasks"][k]["s"] for r in role_runs if k < len(r["tasks"]) and r["tasks"][k]["task"] == name]
        x = role_runs[0]["tasks"][k]
        rows.append({"task": name, "action": x["action"], "status": x["status"], "median_s": round(med(d), 3)})
    over = {k: round(med([r[k] for r in role_runs]), 3) for k in ("startup", "between", "shutdown")}
    log("  per task (median seconds from hand-out to result, in playbook order):")
    for r in rows:
        log(f"    {r['median_s']:>7.3f}  {r['task']:<62} {r['action']} ({r['status']})")
    log(
        f"    {over['startup']:>7.3f}  ansible-playbook start-up until the first task\n"
        f"    {over['between']:>7.3f}  between tasks (the controller: templating, conditionals, strategy)\n"
        f"    {over['shutdown']:>7.3f}  after the last task (stats, exit)"
    )
    job_run = med([r["job_run_duration"] for r in role_runs if r["job_run_duration"] is not None])
    figure(
        "role_tasks",
        {"tasks": rows, **over, "job_run_duration_s": round(job_run, 3)},
        f"job_run's own duration_seconds (inside its task): median {job_run:.3f}s",
    )
    figure(
        "role_wall_ratio",
        round(ratio, 3),
        f"ROLE WALL RATIO role / compose sequence: {ratio:.3f} (target <= 1.3; role {med(walls):.2f}s "
        f"({spread(walls)}), compose sequence {med(comp):.2f}s ({spread(comp)}); per round "
        f"{', '.join(f'{a / b:.3f}' for a, b in zip(walls, comp))})",
    )
    sync_ratio = med(sync_walls) / med(comp)
    figure(
        "role_sync_wall_ratio",
        round(sync_ratio, 3),
        f"role with run_job_async false / compose sequence: {sync_ratio:.3f} (role {med(sync_walls):.2f}s "
        f"({spread(sync_walls)}); per round {', '.join(f'{a / b:.3f}' for a, b in zip(sync_walls, comp))})",
    )
    compose(project, file, "down", "-v", "-t", "0", env=env)
    _projects.pop(project, None)


# ------------------------------------------------------------------------------------------------
# 5: fleet and pipelining
# ------------------------------------------------------------------------------------------------


FLEET_HOSTS = int(os.environ.get("BENCH_FLEET_HOSTS", "50"))
# Niceness of the fleet's ansible-playbook (0: none); see sampled_playbook.
FLEET_NICE = int(os.environ.get("BENCH_FLEET_NICE", "10"))
# Hosts of the forks-1 run (a subset through --limit when fewer than FLEET_HOSTS; its per-host time is what scales).
FLEET_SERIAL_HOSTS = int(os.environ.get("BENCH_FLEET_SERIAL_HOSTS", str(FLEET_HOSTS)))
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(root: int) -> list[int]:
    """root and all its descendants (through /proc/<pid>/task/<tid>/children)."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                todo += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return out


def _mem(pid: int) -> tuple[int, int, bool] | None:
    """(RSS bytes, PSS bytes, is an ansible-playbook process) of one process, None when it is gone."""
    try:
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
        pss = 0
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
                break
        controller = b"ansible-playbook" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return rss, pss, controller


def sampled_playbook(
    name: str, inventory: Path, forks: int, argv_extra: t.Sequence[str] = (), timer: Path | None = None
) -> dict[str, t.Any]:
    """ansible-playbook with its process tree sampled from /proc every 0.2 s: wall, CPU seconds (user + sys of
    the whole tree), peak summed RSS and PSS (PSS counts pages shared by the forks once), peak processes."""
    record = WORK / f"record-{secrets.token_hex(4)}.jsonl"
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(forks), *argv_extra]
    env = {**os.environ, **ansible_env(record, **({"BENCH_TIMER_FILE": str(timer)} if timer else {}))}
    peak = {"rss": 0, "pss": 0, "controller_pss": 0, "controller_rss": 0, "modules_pss": 0, "processes": 0}
    before = os.times()
    w0, t0 = time.time(), time.monotonic()
    proc = subprocess.Popen(
        [*argv, str(PLAYBOOKS / name)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # The controller (and, with the local connection, the modules) below the Engine: on real hosts the Engine
        # has each target's CPUs, here it shares 2 cores with 50 forks and would starve (start read timeouts).
        preexec_fn=(lambda: os.nice(FLEET_NICE)) if FLEET_NICE else None,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
    reader.start()
    while proc.poll() is None:
        mems = [m for m in map(_mem, _tree(proc.pid)) if m is not None]
        ctl = [m for m in mems if m[2]]
        mod = [m for m in mems if not m[2]]
        for key, value in (
            ("rss", sum(m[0] for m in mems)),
            ("pss", sum(m[1] for m in mems)),
            ("controller_rss", sum(m[0] for m in ctl)),
            ("controller_pss", sum(m[1] for m in ctl)),
            ("modules_pss", sum(m[1] for m in mod)),
            ("processes", len(mems)),
        ):
            peak[key] = max(peak[key], value)
        time.sleep(0.2)
    wall = time.monotonic() - t0
    reader.join(timeout=10)
    after = os.times()
    if proc.returncode != 0:
        fatal = [x for x in output if x.startswith(("fatal:", "failed:"))][:3]
        raise RuntimeError(f"rc={proc.returncode}: {' '.join(argv)}\n{''.join(fatal)[:3000]}{''.join(output)[-1500:]}")
    recs = [json.loads(x) for x in record.read_text().splitlines() if x.strip()] if record.exists() else []
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {
        "wall": wall,
        "wall_start": w0,
        "cpu": cpu,
        "records": recs,
        **{k: (v if k == "processes" else round(v / 2**20, 1)) for k, v in peak.items()},
    }


def bench_fleet() -> None:
    n = FLEET_HOSTS
    serial = min(FLEET_SERIAL_HOSTS, n)
    log(
        f"\n== 5. Fleet: the role on {n} stacks as {n} inventory hosts: forks {n} (linear and free strategy) vs "
        f"forks 1 ({serial} hosts) vs one host; controller memory =="
    )
    file = COMPOSE / "fleet.yml"
    job = f"bench-fleet-{secrets.token_hex(3)}"
    env = {"BENCH_JOB": job}
    projects = [new_project(f"fleet{i}", file) for i in range(1, n + 1)]
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda p: compose(p, file, "up", "-d", env=env), projects))
    log(f"  {n} stacks up in {time.monotonic() - t0:.1f}s")
    inventory = WORK / "fleet.ini"
    inventory.write_text(
        "[fleet]\n"
        + "".join(
            f"h{i} ansible_connection=local ansible_python_interpreter={VENV_PY} bench_project={p} bench_job={job}\n"
            for i, p in enumerate(projects, 1)
        )
    )
    limit_serial = ["--limit", f"h1:h{serial}"] if serial < n else []
    subset = ",".join(f"h{i}" for i in range(1, serial + 1))
    variants: dict[str, tuple[int, list[str], int]] = {
        f"forks {n}": (n, [], n),
        f"forks {n}, strategy free": (n, [], n),
        "forks 1": (1, ["--limit", subset] if limit_serial else [], serial),
        "one host": (1, ["--limit", "h1"], 1),
    }
    runs: dict[str, list[dict]] = {k: [] for k in variants}
    for i in range(FLEET_ROUNDS):
        for key in list(variants) if i % 2 == 0 else list(variants)[::-1]:
            forks, extra, hosts = variants[key]
            timer = WORK / f"fleet-timer-{secrets.token_hex(3)}.jsonl"
            strategy = {"ANSIBLE_STRATEGY": "free"} if "free" in key else {}
            with _env(strategy):
                r = sampled_playbook("run_job.yml", inventory, forks, extra, timer=timer)
            recs = r.pop("records")
            # Under async job_status returns job_run's result (job_run's own record is the async start).
            done = [x for x in recs if x.get("action", "").endswith("job_status")] or [
                x for x in recs if x.get("action", "").endswith("job_run")
            ]
            bad = [x["host"] for x in done if x["result"].get("outcome") != "success"]
            if len(done) != hosts or bad:
                raise RuntimeError(f"fleet run {key}: {len(done)} of {hosts} job_run results, failed on {bad}")
            r["hosts"] = hosts
            r["tasks"] = _fleet_tasks(timer)
            runs[key].append(r)
            log(
                f"  round {i + 1}, {key} ({hosts} hosts): {r['wall']:.2f}s wall, {r['cpu']:.1f}s CPU, peak "
                f"{r['processes']} processes, PSS {r['pss']:.0f} MB (ansible-playbook and forks {r['controller_pss']:.0f} "
                f"MB, RSS {r['controller_rss']:.0f} MB), module processes {r['modules_pss']:.0f} MB"
            )
    summary = {
        k: {
            "hosts": v[0]["hosts"],
            "wall_s": round(med([r["wall"] for r in v]), 2),
            "per_host_s": round(med([r["wall"] / r["hosts"] for r in v]), 3),
            "cpu_s": round(med([r["cpu"] for r in v]), 1),
            "cpu_per_host_s": round(med([r["cpu"] / r["hosts"] for r in v]), 3),
            **{m: max(r[m] for r in v) for m in ("rss", "pss", "controller_rss", "controller_pss", "modules_pss")},
            "processes": max(r["processes"] for r in v),
        }
        for k, v in runs.items()
    }
    par, free, one = summary[f"forks {n}"], summary[f"forks {n}, strategy free"], summary["one host"]
    serial_total = summary["forks 1"]["per_host_s"] * n
    figure(
        "fleet",
        summary,
        f"{n} hosts: forks {n} {par['wall_s']:.2f}s, free strategy {free['wall_s']:.2f}s, forks 1 "
        f"{summary['forks 1']['wall_s']:.2f}s for {serial} hosts ({summary['forks 1']['per_host_s']:.2f}s per host, "
        f"{serial_total:.0f}s for {n}), one host {one['wall_s']:.2f}s",
    )
    _results["fleet_speedup"] = round(serial_total / par["wall_s"], 2)
    _results["fleet_vs_one_host"] = round(par["wall_s"] / one["wall_s"], 2)
    log(
        f"  FLEET: forks {n} is {_results['fleet_speedup']:.2f}x faster than forks 1 and takes "
        f"{_results['fleet_vs_one_host']:.2f}x one host's time; CPU {par['cpu_per_host_s']:.2f}s per host "
        f"({os.cpu_count()} cores); controller peak PSS {par['controller_pss']:.0f} MB with {n} forks vs "
        f"{one['controller_pss']:.0f} MB with 1"
    )
    _results["fleet_tasks"] = {k: v[0]["tasks"] for k, v in runs.items()}
    log(f"  per task with forks {n} (first hand-out to last result over the hosts, median per host):")
    for row in runs[f"forks {n}"][0]["tasks"]:
        log(f"    {row['span_s']:>7.2f}s span {row['median_s']:>6.2f}s per host  {row['task']}")
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda p: compose(p, file, "down", "-v", "-t", "0", env=env), projects))
    for p in projects:
        _projects.pop(p, None)


@contextlib.contextmanager
def _env(values: t.Mapping[str, str]) -> t.Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _fleet_tasks(timer: Path) -> list[dict[str, t.Any]]:
    """Per task over all hosts: the span from its first hand-out to its last result, and the median per host."""
    lines = [json.loads(x) for x in timer.read_text().splitlines() if x.strip()]
    by: dict[str, list[dict]] = {}
    for x in lines:
        if x["event"] == "task_end" and x.get("start"):
            by.setdefault(x["task"], []).append(x)
    rows = [
        {
            "task": k,
            "span_s": round(max(x["end"] for x in v) - min(x["start"] for x in v), 3),
            "median_s": round(med([x["end"] - x["start"] for x in v]), 3),
            "hosts": len(v),
            "first": min(x["start"] for x in v),
        }
        for k, v in by.items()
    ]
    rows.sort(key=lambda r: r["first"])
    for r in rows:
        r.pop("first")
    return rows


def _per_task(label: str, inventories: t.Mapping[str, Path], n: int = 10) -> dict[str, float]:
    """Per-task seconds for each inventory: (wall of n+1 pings - wall of 1 ping) / n, alternating, medians."""
    for count in (1, n + 1):
        tasks = "".join(f"    - name: ping {k}\n      ansible.builtin.ping:\n" for k in range(count))
        (WORK / f"ping{count}.yml").write_text(f"- hosts: all\n  gather_facts: false\n  tasks:\n{tasks}")
    walls: dict[tuple[str, int], list[float]] = {}
    keys = list(inventories)
    for i in range(PIPE_ROUNDS):
        for key in keys if i % 2 == 0 else keys[::-1]:
            for count in (1, n + 1):
                t0 = time.monotonic()
                sh(
                    [VENV_BIN / "ansible-playbook", "-i", inventories[key], WORK / f"ping{count}.yml"],
                    env=ansible_env(),
                )
                walls.setdefault((key, count), []).append(time.monotonic() - t0)
    per = {k: (med(walls[(k, n + 1)]) - med(walls[(k, 1)])) / n for k in keys}
    log(f"  {label}: " + ", ".join(f"{k} {v * 1000:.0f}ms" for k, v in per.items()))
    return per


def bench_pipelining() -> None:
    log("\n== 5b. Per-task overhead (11 ping tasks minus 1, per task), pipelining off vs on ==")
    inv = {}
    for pipe in ("off", "on"):
        inv[pipe] = WORK / f"local-{pipe}.ini"
        inv[pipe].write_text(
            f"bench ansible_connection=local ansible_python_interpreter={VENV_PY} ansible_pipelining={pipe == 'on'}\n"
        )
    per = _per_task("local connection", inv)
    figure(
        "per_task_local_s",
        {k: round(v, 3) for k, v in per.items()},
        f"local connection: {per['off'] * 1000:.0f}ms per task without pipelining, {per['on'] * 1000:.0f}ms with "
        f"(saving {(per['off'] - per['on']) * 1000:.0f}ms)",
    )
    try:  # the real sshd target of the remote integration tests (tests/integration/remote.py)
        sys.path.insert(0, str(ROOT / "tests" / "integration"))
        import yaml
        from remote import start_sshd
    except Exception as exc:  # noqa: BLE001
        log(f"  ssh: no sshd target available ({exc}); the ssh figure belongs to the remote tests")
        return
    target = start_sshd(WORK / "sshd", VENV_PY)
    try:
        for pipe in ("off", "on"):
            inv[pipe] = WORK / f"ssh-{pipe}.yml"
            inv[pipe].write_text(yaml.safe_dump(target.inventory(python=VENV_PY, pipelining=pipe == "on")))
        per = _per_task("ssh to 127.0.0.1 (ControlPersist)", inv)
        figure(
            "per_task_ssh_s",
            {k: round(v, 3) for k, v in per.items()},
            f"ssh connection: {per['off'] * 1000:.0f}ms per task without pipelining, {per['on'] * 1000:.0f}ms with "
            f"(saving {(per['off'] - per['on']) * 1000:.0f}ms, {(1 - per['on'] / per['off']) * 100:.0f}%)",
        )
    finally:
        target.stop()


# ------------------------------------------------------------------------------------------------
# 6: job lifecycle (issue 12): pause mode, after-phase, stop scope writers
# ------------------------------------------------------------------------------------------------

LC_FILE = COMPOSE / "lifecycle.yml"
LC_AFTER_FILE = COMPOSE / "lifecycle-after.yml"
LC_SNAPSHOT = "sleep 1; tar -C /mnt/data -cf /mnt/out/data.tar ."  # the worker of the downtime section
LC_UPLOAD = "sleep 10; wc -c /mnt/out/data.tar"
LC_UNTOUCHED = ("cache", "queue", "cron")  # no rw mount of the job's volumes and no writer to depend on
STOP_ACTIONS = ("kill", "die", "stop", "pause")  # any of these on an untouched service is a failure of scope


class LcStack(t.NamedTuple):
    project: str
    job: str
    inventory: Path


def _lc_stack(kind: str, env: t.Mapping[str, str] | None = None, *, after: bool = False) -> LcStack:
    """One project of lifecycle.yml (plus lifecycle-after.yml with `after`), its labels set through `env`."""
    project = new_project(kind, LC_FILE)
    job = f"bench-{kind}-{secrets.token_hex(3)}"
    extra = ["-f", str(LC_AFTER_FILE)] if after else []
    compose(project, LC_FILE, *extra, "up", "-d", env={"BENCH_JOB": job, **(env or {})})
    return LcStack(project, job, stack_inventory(kind, project, job))


def _lc_down(*stacks: LcStack) -> None:
    for st in stacks:
        compose(st.project, LC_FILE, "down", "-v", "-t", "0", "--remove-orphans")
        _projects.pop(st.project, None)


def _lc_run(st: LcStack) -> dict:
    """One role run on a lifecycle stack: downtime, its segments, the worker's and after container's run
    times, and what happened to the services outside the writer chain."""
    evs, res, wall = role_run(st.inventory)
    window = down_window(evs, st.project)
    if window is None:
        raise RuntimeError(f"{st.project}: no die/pause event in the run")
    w, a = bosun_container(evs, st.project, "worker"), bosun_container(evs, st.project, "after")
    if w["start"] is None or w["die"] is None:
        raise RuntimeError(f"{st.project}: no worker start/die event in the run")
    mine = stack_events(evs, st.project)
    down = sorted(e["t"] for e in mine if e["action"] in DOWN_ACTIONS)
    up = sorted(e["t"] for e in mine if e["action"] in UP_ACTIONS and e["t"] > window[0])
    untouched = stack_events(evs, st.project, LC_UNTOUCHED)
    u_window = down_window(evs, st.project, LC_UNTOUCHED)
    return {
        "downtime": window[1] - window[0],
        "worker_run": w["die"] - w["start"],
        "after_run": (a["die"] - a["start"]) if a["start"] and a["die"] else None,
        # seconds from the last start/unpause to the after container's start (it runs with the stack up)
        "after_start_after_up": (a["start"] - window[1]) if a["start"] else None,
        "segments": {
            "first -> last die/pause": down[-1] - down[0],
            "last die/pause -> worker start": w["start"] - down[-1],
            "worker run (start -> die)": w["die"] - w["start"],
            "worker die -> first start/unpause": up[0] - w["die"],
            "first -> last start/unpause": up[-1] - up[0],
        },
        "untouched_stop_events": [
            f"{e['attrs'].get('com.docker.compose.service')} {e['action']}"
            for e in untouched
            if e["action"] in STOP_ACTIONS
        ],
        "untouched_downtime": (u_window[1] - u_window[0]) if u_window else 0.0,
        "stays_up": sorted(c.get("service") or c.get("name") for c in (res.get("plan") or {}).get("stays_up", [])),
        "reported_downtime": res.get("downtime_seconds"),
        "duration": res.get("duration_seconds"),
        "wall": wall,
    }


def alternate(
    variants: t.Mapping[str, t.Callable[[], dict]], line: t.Callable[[dict[str, dict]], str], rounds: int = LC_ROUNDS
) -> dict:
    """`rounds` rounds of every variant, the order reversed every other round; one log line per round."""
    keys = list(variants)
    runs: dict[str, list[dict]] = {k: [] for k in keys}
    for i in range(rounds):
        for k in keys if i % 2 == 0 else keys[::-1]:
            runs[k].append(variants[k]())
        log(f"  round {i + 1}: " + line({k: v[-1] for k, v in runs.items()}))
    return runs


def col(runs: list[dict], key: str) -> list[float]:
    return [r[key] for r in runs]


def _log_segments(runs: t.Mapping[str, list[dict]]) -> dict[str, dict[str, float]]:
    """Median seconds per segment of the event timeline, one column per variant."""
    keys = list(runs)
    log("  where the downtime goes (median seconds; " + " | ".join(keys) + "):")
    segs: dict[str, dict[str, float]] = {}
    for name in runs[keys[0]][0]["segments"]:
        segs[name] = {k: round(med([r["segments"][name] for r in runs[k]]), 3) for k in keys}
        log(f"    {name:<36} " + " | ".join(f"{segs[name][k]:>7.3f}" for k in keys))
    return segs


def _lc_pause() -> None:
    log("\n== 6a. Stop mode pause vs stop: 6 services in 3 levels, SIGTERM ignored, 2 s grace, 1 s worker ==")
    pause, stop = _lc_stack("lcpause", {"BENCH_STOP_MODE": "pause"}), _lc_stack("lcstop")
    # More rounds than the other figures (their runs are short, ~18 s a round): the pause figure is a
    # difference of 0.3 s in which one slow worker start under load (0.2 -> 0.6 s) weighs a lot.
    runs = alternate(
        {"pause": lambda: _lc_run(pause), "stop": lambda: _lc_run(stop)},
        lambda r: (
            f"pause {r['pause']['downtime']:.3f}s (worker run {r['pause']['worker_run']:.3f}s, "
            f"+{r['pause']['downtime'] - r['pause']['worker_run']:.3f}s), stop {r['stop']['downtime']:.3f}s"
        ),
        rounds=2 * LC_ROUNDS + 1,
    )
    pd, wr, sd = col(runs["pause"], "downtime"), col(runs["pause"], "worker_run"), col(runs["stop"], "downtime")
    extra = [d - w for d, w in zip(pd, wr)]
    figure("pause_downtime_s", round(med(pd), 3), f"downtime, stop mode pause: median {med(pd):.3f}s ({spread(pd)})")
    figure("pause_worker_run_s", round(med(wr), 3), f"the worker's own run (start -> die): median {med(wr):.3f}s")
    figure(
        "pause_over_worker_s",
        round(med(extra), 3),
        f"PAUSE DOWNTIME - WORKER RUN: median {med(extra):.3f}s (target <= 0.3; per round "
        f"{', '.join(f'{x:.3f}' for x in extra)})",
    )
    figure("stop_downtime_s", round(med(sd), 3), f"downtime, stop mode stop: median {med(sd):.3f}s ({spread(sd)})")
    _results["pause_segments"] = _log_segments(runs)
    _results["pause_runs"] = runs
    evs, trace, out = traced_run(pause.project, pause.job)
    _results["pause_trace"] = log_trace(evs, trace, pause.project, "traced job_run, stop mode pause") | {
        "steps": [{k: s[k] for k in ("type", "duration")} for s in out.get("steps", [])]
    }
    _lc_down(pause, stop)


def _lc_after() -> None:
    log("\n== 6b. After-phase: 1 s snapshot + 10 s upload as one worker vs worker + after-phase ==")
    variants: dict[str, t.Callable[[], dict]] = {}
    stacks = []
    for mode in ("stop", "pause"):
        env = {"BENCH_STOP_MODE": mode, "BENCH_AFTER_SCRIPT": LC_UPLOAD}
        one = _lc_stack(f"lcone{mode}", env | {"BENCH_WORKER_SCRIPT": f"{LC_SNAPSHOT}; {LC_UPLOAD}"})
        after = _lc_stack(f"lcafter{mode}", env | {"BENCH_WORKER_SCRIPT": LC_SNAPSHOT}, after=True)
        variants[f"one {mode}"] = lambda st=one: _lc_run(st)
        variants[f"after {mode}"] = lambda st=after: _lc_run(st)
        stacks += [one, after]
    runs = alternate(variants, lambda r: ", ".join(f"{k} {v['downtime']:.3f}s" for k, v in r.items()))
    out: dict[str, dict[str, float]] = {}
    for mode in ("stop", "pause"):
        one, after = runs[f"one {mode}"], runs[f"after {mode}"]
        od, ad = col(one, "downtime"), col(after, "downtime")
        ratio = med(ad) / med(od)
        out[mode] = {
            "one_worker_s": round(med(od), 3),
            "after_phase_s": round(med(ad), 3),
            "ratio": round(ratio, 3),
            "after_run_s": round(med(col(after, "after_run")), 3),
            "after_start_after_up_s": round(med(col(after, "after_start_after_up")), 3),
            "wall_one_s": round(med(col(one, "wall")), 2),
            "wall_after_s": round(med(col(after, "wall")), 2),
        }
        log(
            f"  stop mode {mode}: one worker {med(od):.3f}s ({spread(od)}), worker + after-phase {med(ad):.3f}s "
            f"({spread(ad)}); the after container ran {out[mode]['after_run_s']:.3f}s, starting "
            f"{out[mode]['after_start_after_up_s']:.3f}s after the last start; role wall {out[mode]['wall_one_s']:.1f}s "
            f"vs {out[mode]['wall_after_s']:.1f}s"
        )
        figure(
            "after_phase_ratio" + ("" if mode == "stop" else f"_{mode}"),
            round(ratio, 3),
            f"AFTER-PHASE RATIO ({mode}) after-phase / one worker downtime: {ratio:.3f} (target <= 0.2; per round "
            f"{', '.join(f'{a / o:.3f}' for a, o in zip(ad, od))})",
        )
    _results["after_phase"] = out
    _results["after_phase_runs"] = runs
    _lc_down(*stacks)


def _lc_writers() -> None:
    log(
        "\n== 6c. Stop scope writers vs stack: writer chain db <- api <- web, untouched "
        + " <- ".join(LC_UNTOUCHED)
        + " =="
    )
    writers, stack = _lc_stack("lcwriters", {"BENCH_STOP_SCOPE": "writers"}), _lc_stack("lcstack")
    runs = alternate(
        {"writers": lambda: _lc_run(writers), "stack": lambda: _lc_run(stack)},
        lambda r: (
            f"writers: {len(r['writers']['untouched_stop_events'])} stop events on the untouched services, "
            f"their downtime {r['writers']['untouched_downtime']:.3f}s, the writer chain's {r['writers']['downtime']:.3f}s; "
            f"stack: {len(r['stack']['untouched_stop_events'])} events, {r['stack']['untouched_downtime']:.3f}s, "
            f"{r['stack']['downtime']:.3f}s"
        ),
    )
    w, s = runs["writers"], runs["stack"]
    events = sorted({x for r in w for x in r["untouched_stop_events"]})
    n_events = sum(len(r["untouched_stop_events"]) for r in w)
    figure(
        "writers_untouched_stop_events",
        n_events,
        f"WRITERS SCOPE: die/stop/kill/pause events of {', '.join(LC_UNTOUCHED)} over {len(w)} runs: {n_events} "
        f"(target 0){': ' + ', '.join(events) if events else ''}; the plan kept up {w[0]['stays_up']}",
    )
    figure(
        "writers_untouched_downtime_s",
        round(max(col(w, "untouched_downtime")), 3),
        f"downtime of the untouched services, scope writers: max {max(col(w, 'untouched_downtime')):.3f}s "
        f"(scope stack: median {med(col(s, 'untouched_downtime')):.3f}s)",
    )
    figure(
        "writers_downtime_s",
        {"writers": round(med(col(w, "downtime")), 3), "stack": round(med(col(s, "downtime")), 3)},
        f"downtime of the writer chain: scope writers median {med(col(w, 'downtime')):.3f}s, "
        f"scope stack (all six) {med(col(s, 'downtime')):.3f}s",
    )
    _results["writers_runs"] = runs
    _lc_down(writers, stack)


def bench_lifecycle() -> None:
    _lc_pause()
    _lc_after()
    _lc_writers()


# ------------------------------------------------------------------------------------------------

SECTIONS = {
    "downtime": bench_downtime,
    "parallel": bench_parallel,
    "discovery": bench_discovery,
    "scale": bench_scale,
    "fleet": bench_fleet,
    "pipelining": bench_pipelining,
    "lifecycle": bench_lifecycle,
    "role": bench_role,
}


def machine() -> dict[str, t.Any]:
    info = api.info()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "host": platform.node(),
        "kernel": platform.release(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(info.get("MemTotal", 0) / 2**30, 1),
        "docker": info.get("ServerVersion"),
        "storage_driver": info.get("Driver"),
        "containers_on_daemon": info.get("Containers"),
        "compose": sh(["docker", "compose", "version", "--short"]).stdout.strip(),
        "ansible_core": sh([VENV_BIN / "ansible", "--version"]).stdout.splitlines()[0],
        "python": platform.python_version(),
        "load_avg_at_start": os.getloadavg(),
    }


def main() -> int:
    def on_signal(signum: int, _frame: t.Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    _results["machine"] = machine()
    _results["started_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    _results["rounds"] = ROUNDS
    _results["lifecycle_rounds"] = LC_ROUNDS
    m = _results["machine"]
    log(
        f"bosun.compose bench: {m['cpu']} x{m['cores']}, {m['memory_gb']} GB, Docker {m['docker']} "
        f"({m['storage_driver']}), Compose {m['compose']}, {m['ansible_core']}; load {m['load_avg_at_start']}; "
        f"rounds {ROUNDS} (lifecycle {LC_ROUNDS})"
    )
    rc = 0
    try:
        sweep_stale()
        for name, fn in SECTIONS.items():
            if not ONLY or name in ONLY:
                fn()
    except KeyboardInterrupt as exc:
        log(f"\ninterrupted ({exc}); cleaning up")
        rc = 130
    except Exception as exc:  # report, clean up, fail
        log(f"\nbench failed: {exc}")
        rc = 1
    finally:
        cleanup()
        _results["wall_s"] = round(time.monotonic() - started, 1)
        _results["load_avg_at_end"] = os.getloadavg()
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(_results, indent=1, default=str))
        shutil.rmtree(WORK, ignore_errors=True)
    log(f"\nbench wall time {_results['wall_s']}s; figures in {OUT}")
    summary = [
        (k, _results[k])
        for k in (
            "downtime_ratio",
            "overhead_role_s",
            "parallel_stop_ratio_8_to_1",
            "discovery_ratio",
            "discovery_requests",
            "fleet_speedup",
            "per_task_local_s",
            "per_task_ssh_s",
            "pause_over_worker_s",
            "after_phase_ratio",
            "after_phase_ratio_pause",
            "writers_untouched_stop_events",
        )
        if k in _results
    ]
    for k, v in summary:
        log(f"  {k}: {v}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
