# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The planner: one job plus the current state of its stack become an execution plan.

The plan is data and the single source of truth: what check mode shows is what the executor runs.
Steps, in order: stop_containers (stop order, grouped by dependency level), run_worker,
start_containers (the exact reverse). Preflight checks everything that can fail before downtime.
PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import collections
import dataclasses
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._discovery import discover, select_jobs
from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    GraphError,
    ImageMissingError,
    JobNotFoundError,
    PlanError,
    WorkerSpecError,
)
from ansible_collections.bosun.compose.plugins.module_utils._graph import (
    StackGraph,
    build_graph,
    network_parent,
    running_stop_levels,
)
from ansible_collections.bosun.compose.plugins.module_utils._images import image_allowed, preflight_image
from ansible_collections.bosun.compose.plugins.module_utils._lease import Lease, owner_alive, read_lease
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    COMPOSE_PROJECT,
    DEFAULT_STOP_TIMEOUT,
    LABEL_IMAGE,
    UP_STATES,
    ContainerRecord,
    Job,
    Mount,
    new_run_id,
    utc_iso,
)
from ansible_collections.bosun.compose.plugins.module_utils._values import (
    LabelError,
    parse_command,
    parse_duration,
    parse_env,
    parse_mode,
    parse_mount_path,
    parse_network,
    parse_overlap,
    parse_text,
    parse_volume_name,
)
from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import PullPolicy, WorkerSpec

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

StepType = t.Literal["stop_containers", "run_worker", "start_containers"]
# Seconds added per stop level and to the deadline for Docker's own work around the grace periods.
STOP_LEVEL_MARGIN = 5
OVERRIDE_KEYS = frozenset(
    (
        "image",
        "command",
        "env",
        "secret_env",
        "user",
        "network",
        "timeout",
        "stop_timeout",
        "start_timeout",
        "mounts",
        "overlap_policy",
        "stack",
    )
)


@dataclasses.dataclass(frozen=True)
class Check:
    """One preflight check; a failed one names the object and what is wrong."""

    name: str
    object: str
    ok: bool
    message: str

    def to_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Step:
    type: StepType
    description: str
    levels: list[list[ContainerRecord]] = dataclasses.field(default_factory=list)
    timeout: int | None = None
    # Each container's own stop timeout (by id), read while planning so the stop needs no inspect.
    container_stop_timeouts: dict[str, int] = dataclasses.field(default_factory=dict)
    worker: WorkerSpec | None = None

    @property
    def containers(self) -> list[ContainerRecord]:
        return [c for level in self.levels for c in level]

    def to_dict(self) -> dict[str, t.Any]:
        d: dict[str, t.Any] = {"type": self.type, "description": self.description, "timeout": self.timeout}
        if self.worker is not None:
            d["worker"] = self.worker.to_dict()
        else:
            # A container that is up but not running (restarting, paused) shows its state: it is returned to it.
            d["levels"] = [
                [c.brief() if c.state == "running" else {**c.brief(), "state": c.state} for c in level]
                for level in self.levels
            ]
        return d


@dataclasses.dataclass
class Plan:
    run_id: str
    job: Job
    stack: str
    created_at: str
    steps: list[Step]
    stop_budget: int
    start_budget: int
    preflight: list[Check] = dataclasses.field(default_factory=list)

    def _step(self, type_: StepType) -> Step:
        return next(s for s in self.steps if s.type == type_)

    @property
    def stop_step(self) -> Step:
        return self._step("stop_containers")

    @property
    def worker_step(self) -> Step:
        return self._step("run_worker")

    @property
    def worker(self) -> WorkerSpec:
        return t.cast(WorkerSpec, self.worker_step.worker)

    @property
    def stop_set(self) -> list[ContainerRecord]:
        return self.stop_step.containers

    @property
    def deadline(self) -> int:
        """The maximum downtime: stop budget + worker timeout and its grace + start budget."""
        return self.stop_budget + self.worker.timeout + self.worker.stop_grace + self.start_budget

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.preflight)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.preflight if not c.ok]

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "run_id": self.run_id,
            "job": self.job.name,
            "stack": self.stack,
            "created_at": self.created_at,
            "steps": [s.to_dict() for s in self.steps],
            "stop_budget": self.stop_budget,
            "start_budget": self.start_budget,
            "deadline": self.deadline,
            "preflight": [c.to_dict() for c in self.preflight],
            "ok": self.ok,
        }


def _mounts(value: t.Any) -> list[Mount]:
    if not isinstance(value, list):
        raise LabelError("must be a list of {volume, path, mode} dicts")
    mounts = []
    for m in value:
        if not isinstance(m, dict) or not m.get("volume"):
            raise LabelError(f"entry {m!r} must be a dict with at least 'volume'")
        volume = parse_volume_name(m["volume"])
        mounts.append(
            Mount(
                volume=volume,
                path=parse_mount_path(m.get("path") or "/mnt/" + volume),
                mode=parse_mode(m.get("mode") or "ro"),
            )
        )
    return mounts


# Play override -> its rule; the same rules as the labels (_values.py).
_PARSERS: dict[str, t.Callable[[t.Any], t.Any]] = {
    "image": parse_text,
    "command": parse_command,
    "env": parse_env,
    "secret_env": parse_env,
    "user": parse_text,
    "network": parse_network,
    "timeout": parse_duration,
    "stop_timeout": parse_duration,
    "start_timeout": parse_duration,
    "mounts": _mounts,
    "overlap_policy": parse_overlap,
    "stack": parse_text,
}


def apply_overrides(job: Job | None, name: str, overrides: t.Mapping[str, t.Any] | None) -> tuple[Job, dict[str, str]]:
    """The job with the play's values winning over the labels; also the secret env (never shown).

    Without a discovered job, the overrides are a complete inline definition (stack and image required).
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(overrides) - OVERRIDE_KEYS)
    if unknown:
        raise PlanError(
            f"job {name!r}: unknown override(s) {', '.join(unknown)}; allowed: {', '.join(sorted(OVERRIDE_KEYS))}",
            job=name,
            unknown=unknown,
        )
    result = (
        dataclasses.replace(job, env=dict(job.env), mounts=list(job.mounts), problems=list(job.problems))
        if job
        else Job(name=name)
    )
    secret: dict[str, str] = {}
    for key in sorted(overrides):
        try:
            value = _PARSERS[key](overrides[key])
        except LabelError as exc:
            shown = "(hidden)" if key == "secret_env" else repr(overrides[key])
            raise PlanError(f"job {name!r}: override {key!r} has value {shown}: {exc}", job=name, option=key) from None
        if key == "env":
            result.env.update(value)
        elif key == "secret_env":
            secret = value
        else:
            setattr(result, key, value)
    if job is None:
        missing = [k for k in ("stack", "image") if not getattr(result, k)]
        if missing:
            raise PlanError(
                f"job {name!r} has no labels on this host, so the play must define it completely; "
                f"missing: {', '.join(missing)}",
                job=name,
                missing=missing,
            )
    elif "image" in overrides:
        # The play supplied what the labels lacked; that problem no longer applies.
        result.problems = [p for p in result.problems if not (p.kind == "job" and p.label == LABEL_IMAGE)]
    return result, secret


def resolve_job(
    api: DockerApi, name: str, project: str | None, overrides: t.Mapping[str, t.Any] | None
) -> tuple[Job, dict[str, str]]:
    """Discovery (one pass) plus the play's overrides; JobNotFoundError lists the jobs that do exist."""
    jobs = discover(api)[0]
    matches = select_jobs(jobs, name, project)
    if len(matches) > 1:
        stacks = ", ".join(repr(j.stack) for j in matches)
        raise PlanError(
            f"job {name!r} exists in stacks {stacks}; allowed: set project to one of them",
            job=name,
            stacks=[j.stack for j in matches],
        )
    job = matches[0] if matches else None
    if job is None and not (overrides and overrides.get("image") and overrides.get("stack")):
        existing = [f"{j.name} (stack {j.stack})" for j in jobs]
        where = f" in stack {project!r}" if project else ""
        raise JobNotFoundError(
            f"job {name!r} not found{where} on this Docker host; jobs here: {', '.join(existing) or 'none'}",
            job=name,
            project=project,
            existing=[j.name for j in jobs],
        )
    return apply_overrides(job, name, overrides)


def build_plan(
    job: Job,
    stack_containers: t.Sequence[ContainerRecord],
    *,
    run_id: str,
    secret_env: t.Mapping[str, str],
    container_stop_timeouts: t.Mapping[str, int],
    stop_grace: int = 10,
    created_at: str | None = None,
) -> Plan:
    """The plan for a job from the containers of its stack (pure). Only running containers are stopped.

    container_stop_timeouts maps container ids to their own stop timeout, used when the job sets none.
    """
    if job.stack is None or job.image is None:
        raise PlanError(f"job {job.name!r} cannot be planned without a stack and a worker image", job=job.name)
    graph: StackGraph = build_graph(stack_containers)
    levels, _added = running_stop_levels(graph)

    def grace(c: ContainerRecord) -> int:
        return (
            job.stop_timeout
            if job.stop_timeout is not None
            else container_stop_timeouts.get(c.id, DEFAULT_STOP_TIMEOUT)
        )

    stop_budget = sum(max(grace(c) for c in level) + STOP_LEVEL_MARGIN for level in levels)
    try:
        worker = WorkerSpec(
            job=job.name,
            run_id=run_id,
            image=job.image,
            command=job.command,
            env={**job.env, **secret_env},
            secret_env_names=frozenset(secret_env),
            mounts=list(job.mounts),
            network=job.network,
            user=job.user,
            timeout=job.timeout,
            stop_grace=stop_grace,
            stack=job.stack,
        )
    except WorkerSpecError as exc:
        raise PlanError(f"job {job.name!r}: the worker is not allowed: {exc.message}", job=job.name) from None
    n = sum(len(lv) for lv in levels)
    odd = collections.Counter(c.state for lv in levels for c in lv if c.state != "running")
    also = f" ({', '.join(f'{k} {s}' for s, k in sorted(odd.items()))}: returned to that state)" if odd else ""
    steps = [
        Step(
            "stop_containers",
            f"stop {n} running container(s) of stack {job.stack!r} in {len(levels)} level(s){also}",
            levels=levels,
            timeout=job.stop_timeout,
            container_stop_timeouts=dict(container_stop_timeouts),
        ),
        Step(
            "run_worker",
            f"run worker {worker.name!r} from image {job.image!r} with "
            f"{len(job.mounts)} volume(s) mounted, for at most {job.timeout}s",
            worker=worker,
        ),
        Step(
            "start_containers",
            f"start the same {n} container(s) in dependency order within {job.start_timeout}s",
            levels=list(reversed(levels)),
            timeout=job.start_timeout,
        ),
    ]
    return Plan(
        run_id=run_id,
        job=job,
        stack=job.stack,
        created_at=created_at or utc_iso(timespec="seconds"),
        steps=steps,
        stop_budget=stop_budget,
        start_budget=job.start_timeout,
    )


def plan_job(
    api: DockerApi,
    job: Job,
    *,
    secret_env: t.Mapping[str, str] | None = None,
    run_id: str | None = None,
    pull: PullPolicy = "never",
    check_mode: bool = False,
    allowed_images: t.Sequence[str] | None = None,
) -> Plan:
    """Plan the job against the current state of its stack, then run the preflight checks.

    Raises PlanError only when no plan can be made at all; failed checks are in plan.preflight.
    """
    checks: list[Check] = []
    if not job.enabled:
        checks.append(Check("enabled", job.name, False, f"job {job.name!r} is disabled (label bosun.job.enabled)"))
    for p in job.errors:
        checks.append(Check("labels", p.object, False, p.message))
    if job.stack is None or job.image is None:
        raise PlanError(
            "; ".join(c.message for c in checks) or f"job {job.name!r} has no stack or no image",
            job=job.name,
            checks=[c.to_dict() for c in checks],
        )
    lease = read_lease(api, job.stack)
    containers = api.list_containers(f"{COMPOSE_PROJECT}={job.stack}")
    held = {str(e.get("id")) for e in lease.stop_set} if lease is not None else set()
    # Containers another run stopped run again once it is done (or recovered): plan with them running.
    containers = [dataclasses.replace(c, state="running") if c.id in held else c for c in containers]
    running = [c for c in containers if c.state in UP_STATES and not c.is_worker]
    stop_timeouts = {} if job.stop_timeout is not None else {c.id: api.stop_timeout(c.id) for c in running}
    try:
        plan = build_plan(
            job,
            containers,
            run_id=run_id or new_run_id(),
            secret_env=secret_env or {},
            container_stop_timeouts=stop_timeouts,
        )
    except GraphError as exc:
        raise PlanError(f"stack {job.stack!r} cannot be ordered: {exc.message}", job=job.name, stack=job.stack) from exc
    by_holder = f" ({len(held)} of them stopped by {lease.describe()})" if lease is not None and held else ""
    checks.append(
        Check(
            "stack",
            job.stack,
            bool(running),
            f"stack {job.stack!r} has {len(running)} running of {len(containers)} container(s){by_holder}"
            if containers
            else f"stack {job.stack!r} has no containers on this Docker host",
        )
    )
    if allowed_images is not None and not image_allowed(job.image, allowed_images):
        checks.append(
            Check(
                "allowed_images",
                job.image,
                False,
                f"worker image {job.image!r} matches none of the allowed images: {', '.join(allowed_images) or 'none'}",
            )
        )
        plan.preflight = checks
        return plan  # never pull or inspect an image that is not allowed
    image_check, image_id = _image_check(api, plan.worker, pull, check_mode)
    checks.append(image_check)
    if image_id:
        plan.worker_step.worker = dataclasses.replace(plan.worker, image_id=image_id)
    checks.extend(_volume_checks(api, job))
    checks.extend(_network_parent_checks(plan.stop_set, containers))
    checks.append(_lease_check(job, lease))
    plan.preflight = checks
    return plan


def _image_check(api: DockerApi, worker: WorkerSpec, pull: PullPolicy, check_mode: bool) -> tuple[Check, str | None]:
    """The image check, and the image id the worker will run (pinned, whatever the tag means later)."""
    try:
        info = preflight_image(api, worker.image, pull, check_mode=check_mode)
    except ImageMissingError as exc:
        return Check("image", worker.image, False, exc.message), None
    return Check("image", worker.image, True, info.summary), info.id


def _network_parent_checks(
    stop_set: t.Sequence[ContainerRecord], containers: t.Sequence[ContainerRecord]
) -> list[Check]:
    """A container of the stop-set that shares the network of a stack container which is not running.

    Docker cannot start it again once stopped ("cannot join network of a non running container"), so the
    job is refused before anything stops, naming both.
    """
    checks = []
    for c in stop_set:
        parent = network_parent(c, containers)
        if parent is not None and parent.state != "running":
            checks.append(
                Check(
                    "network",
                    c.name,
                    False,
                    f"container {c.name!r} shares the network of {parent.name!r} (network_mode), which is "
                    f"{parent.state or 'not running'}: once stopped, {c.name!r} could not be started again; start "
                    f"{parent.name!r} or stop {c.name!r} before the job",
                )
            )
    return checks


def _volume_checks(api: DockerApi, job: Job) -> list[Check]:
    return [
        Check("volume", m.volume, True, f"volume {m.volume!r} exists; mounted at {m.path} ({m.mode})")
        if api.volume_exists(m.volume)
        else Check(
            "volume", m.volume, False, f"volume {m.volume!r} of job {job.name!r} does not exist on this Docker host"
        )
        for m in job.mounts
    ]


def _lease_check(job: Job, lease: Lease | None) -> Check:
    """Informational: a held stack is waited for (policy queue) or skipped (skip), never a failed preflight."""
    stack = job.stack or ""
    if lease is None:
        return Check("lease", stack, True, f"no other run holds stack {stack!r}")
    if owner_alive(lease, time.time()):
        then = (
            "this run waits for it (overlap policy queue)"
            if job.overlap_policy == "queue"
            else "this run will be skipped (overlap policy skip)"
        )
        return Check("lease", stack, True, f"stack {stack!r} is held by {lease.describe()}; {then}")
    return Check(
        "lease",
        stack,
        True,
        f"stack {stack!r} was left by a dead run ({lease.describe()}); it is recovered before this run takes the stack",
    )
