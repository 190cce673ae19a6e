"""Helpers the integration tests share to observe a stack on the real daemon: its containers, its worker,
its lease and its container events. Plain functions (no fixtures), imported as `from stackcheck import ...`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from harness import TEST_IMAGE, Background, ComposeProject, event_log, project_workers, run, run_once
import contextlib

ROLE_STACK = "role_stack.yml"
# Task names of the role bosun.compose.run_job, as the recording callback sees them without the role's prefix.
RUN_TASK = "Run the job on the Docker host"  # job_run: under async it only starts the job
WAIT_TASK = "Wait for the job to end on the Docker host"  # job_status under async (skipped without)
SHOW_TASK = "Show the plan and the run report"


# ---- a job run in the background ------------------------------------------------------------------


def start_job_run(ansible, project: str, state_dir, name: str = "rel-a", **args: object) -> Background:
    """job_run of job ``name`` on ``project`` through ansible-playbook, in the background: the test acts on the
    stack while it runs, then calls job_run_result()."""
    task = {"name": name, "project": project, "state_dir": str(state_dir), **args}
    play = {"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "run", "bosun.compose.job_run": task}]}
    return ansible.start([play])


def job_run_result(job: Background, timeout: float = 200) -> tuple[int, dict]:
    """ansible-playbook's exit code and job_run's result, once the background run has ended."""
    done = job.finish(timeout)
    assert len(done.results) == 1, done
    return done.rc, done.results[0].result


# ---- the stack's containers -----------------------------------------------------------------------


def _inspect(project: ComposeProject) -> list[dict]:
    return json.loads(run(["docker", "inspect", *project.container_ids()]).stdout)


def snapshot(project: ComposeProject) -> dict[str, tuple[str, str]]:
    """container name -> (id, status) of every container of the project."""
    return {c["Name"].lstrip("/"): (c["Id"], c["State"]["Status"]) for c in _inspect(project)}


def snapshot_started(project: ComposeProject) -> dict[str, tuple[str, str, str]]:
    """container name -> (id, status, StartedAt): an unchanged StartedAt proves nothing was stopped and started."""
    return {c["Name"].lstrip("/"): (c["Id"], c["State"]["Status"], c["State"]["StartedAt"]) for c in _inspect(project)}


def states(project: ComposeProject) -> dict[str, str]:
    """container name -> status of every container of the project."""
    return {n: s for n, (_i, s) in snapshot(project).items()}


def ids_and_states(snap: dict[str, tuple[str, str, str]]) -> dict[str, tuple[str, str]]:
    """A snapshot_started() without the StartedAt."""
    return {name: (cid, state) for name, (cid, state, _started) in snap.items()}


def volume_file(
    project: ComposeProject, volume: str, path: str, image: str = TEST_IMAGE
) -> subprocess.CompletedProcess:
    """`cat` of a file in one of the project's volumes (read-only); check the returncode for a missing file."""
    return run_once(
        ["--network", "none", "-v", f"{project.name}_{volume}:/v:ro", image, "cat", f"/v/{path}"], check=False
    )


# ---- the worker and the lease ---------------------------------------------------------------------


def running_workers(stack: str) -> list[str]:
    """Ids of the running worker containers of stack `stack` (a project name)."""
    return run(["docker", "ps", "-q", "--filter", f"label=bosun.worker.stack={stack}"]).stdout.split()


def release_worker(project: ComposeProject) -> None:
    """The fixtures' workers wait for /mnt/out/go: create it in the project's `out` volume."""
    run(["docker", "run", "--rm", "--network", "none", "-v", f"{project.name}_out:/v", TEST_IMAGE, "touch", "/v/go"])


def lease_exists(stack: str) -> bool:
    """Whether the daemon-side lease container of stack `stack` (a project name) exists."""
    return bool(run(["docker", "ps", "-aq", "--filter", f"name=^bosun-lease-{stack}$"]).stdout.strip())


def lease(stack: str) -> dict | None:
    """The labels of the lease container of stack `stack` (a project name), or None if there is none."""
    out = run(["docker", "inspect", f"bosun-lease-{stack}"], check=False)
    return json.loads(out.stdout)[0]["Config"]["Labels"] if out.returncode == 0 else None


def create_lease(stack: str, labels: dict[str, str]) -> str:
    """A lease container of stack `stack` made by hand with exactly `labels` (a broken one, say); its name."""
    name = f"bosun-lease-{stack}"
    run(["docker", "create", "--name", name, *[f"--label={k}={v}" for k, v in labels.items()], TEST_IMAGE, "true"])
    return name


def stack_with_lease_cleanup(compose_project, default_spec: str = ROLE_STACK):
    """The body of a `stack` fixture: `yield from stack_with_lease_cleanup(compose_project)`.

    Yields make(spec=default_spec, **kw) -> ComposeProject (compose_project's factory); afterwards removes
    each made project's lease container, which Compose does not know."""
    made = []

    def make(spec=default_spec, **kw):
        project = compose_project(spec, **kw)
        made.append(project)
        return project

    yield make
    for project in made:
        run(["docker", "rm", "-f", f"bosun-lease-{project.name}"], check=False)


# ---- waiting and events ---------------------------------------------------------------------------


def wait_for(predicate, timeout: float, what: str, interval: float = 0.3):
    """Call `predicate` every `interval` s until it returns something true, and return that; after `timeout` s
    (checked after each call) fail naming `what`."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def event_action(event: dict) -> str:
    """The action of a raw container event (`Action`, or `status` in older Engine API versions)."""
    return event.get("Action") or event.get("status")


def events(label: str, since: float, *actions: str) -> list[tuple[float, str, str]]:
    """(time, action, container name) of container events with `label` since `since`, in time order.

    `label` is "key=value" (or "key": any value), as `docker events --filter label=...` takes it; with
    `actions`, only events of those actions. From the session's event stream (harness.event_log())."""
    key, sep, value = label.partition("=")
    found = []
    for e in event_log().since(since):
        attributes = e["Actor"]["Attributes"]
        if key not in attributes or (sep and attributes[key] != value):
            continue
        if actions and event_action(e) not in actions:
            continue
        found.append((e["timeNano"] / 1e9, event_action(e), attributes.get("name", "")))
    return sorted(found)


def observe_unattended_finish(project: ComposeProject, before: dict) -> dict:
    """Release the worker of a run nobody watches any more, then observe how the run ends on its own.

    back_after: seconds from the release until snapshot() equals `before` (None if not within 60 s);
    after: the snapshot() then; workers_left, lease_left: the project's workers and whether its lease still
    exists, once both are gone or 30 s more have passed."""
    obs: dict = {}
    t_release = time.time()
    release_worker(project)
    try:
        wait_for(lambda: snapshot(project) == before, 60, "the stack to run exactly as before")
        obs["back_after"] = time.time() - t_release
    except AssertionError:
        obs["back_after"] = None
    obs["after"] = snapshot(project)
    with contextlib.suppress(AssertionError):
        wait_for(
            lambda: not project_workers(project.name) and not lease_exists(project.name), 30, "worker and lease to go"
        )
    obs["workers_left"] = project_workers(project.name)
    obs["lease_left"] = lease_exists(project.name)
    return obs


def role_tasks(result, name: str) -> list:
    """The recorded results of a role task (the callback names it `<role> : <task>`), in playbook order."""
    return [r for r in result.results if r.task == name or r.task.endswith(f" : {name}")]


def role_task(result, name: str):
    """The recorded result of a role task that ran once."""
    found = role_tasks(result, name)
    assert len(found) == 1, (name, [(r.task, r.status) for r in result.results], str(result))
    return found[0]


def _shown(result) -> tuple[list[str], list[str]]:
    lines = role_task(result, SHOW_TASK).result["msg"]
    start = next((i for i, line in enumerate(lines) if line.startswith("Run ") and " of job " in line), None)
    assert start is not None, ("no report header in the task's lines", lines)
    return lines[:start], lines[start:]


def shown_plan(result) -> list[str]:
    """The plan's lines in the role's task "Show the plan and the run report" (none when job_run returned no plan)."""
    return _shown(result)[0]


def shown_report(result) -> list[str]:
    """The report's lines in that task: they follow the plan's, from report_lines' header ("Run <id> of job ...")."""
    return _shown(result)[1]


def job_task(result):
    """The recorded role task that returned job_run's result: the wait under async, else job_run's own task
    (without async, where the wait is skipped, and when job_run's task failed before the wait)."""
    waited = [r for r in role_tasks(result, WAIT_TASK) if r.status != "skipped"]
    return waited[0] if len(waited) == 1 else role_task(result, RUN_TASK)


def kill_left_behind(marker: str) -> None:
    """SIGKILL the processes whose command line holds ``marker`` (a run's private data dir).

    ansible-runner's cancel and job timeout kill ansible-playbook but not the worker it forked for the current
    task (its own session, stdio on /dev/null), which then blocks for ever writing its result to the dead
    controller. AWX's job container takes it away; here it would outlive the suite."""
    out = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False).stdout
    for pid in (int(p) for p in out.split() if int(p) != os.getpid()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def module_pid(run_id: str) -> int | None:
    """The pid of the job_run module process of this run (found by the BOSUN_TEST_RUN it inherited).

    The ``/bin/sh -c`` that starts it and, under async, AnsiballZ_async_wrapper.py match too: the module is the
    Python process that is not the async wrapper."""
    out = subprocess.run(["pgrep", "-f", "AnsiballZ_job_run.py"], capture_output=True, text=True, check=False).stdout
    for pid in out.split():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
            argv0 = cmdline.split(b"\0")[0]
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue
        # Under async, AnsiballZ_async_wrapper.py names the module in its argv too: that is the watcher, not the module.
        if (
            b"python" in os.path.basename(argv0)
            and b"async_wrapper" not in cmdline
            and f"BOSUN_TEST_RUN={run_id}".encode() in environ
        ):
            return int(pid)
    return None
