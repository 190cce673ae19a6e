# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The planner: one job plus the current state of its stack become an execution plan.

The plan is data and the single source of truth: what check mode shows is what the executor runs.
Steps, in order (each only when the job has it, the three middle ones always):
run_hooks pre (stop order), stop_containers (the stop scope, in stop order grouped by dependency level;
stop or pause), run_worker, start_containers (the exact reverse; or keep_stopped), run_hooks post (the run
succeeded) or error (it failed), run_after (the after-phase, with the stack up), run_hooks finally (always).
Preflight checks everything that can fail before downtime.
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
    is_member,
    network_parent,
    running_stop_levels,
)
from ansible_collections.bosun.compose.plugins.module_utils._hooks import KILL_GRACE, order_hooks
from ansible_collections.bosun.compose.plugins.module_utils._images import image_allowed, preflight_image
from ansible_collections.bosun.compose.plugins.module_utils._lease import Lease, owner_alive, read_lease
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    COMPOSE_PROJECT,
    DEFAULT_STOP_TIMEOUT,
    HOOK_PHASES,
    HOST_PROOF_POLICY,
    LABEL_IMAGE,
    PODMAN_SYSTEMD_UNIT,
    UP_STATES,
    ContainerRecord,
    Hook,
    HookPhase,
    Job,
    Mount,
    RestartPolicy,
    StopMode,
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
    parse_stop_mode,
    parse_stop_scope,
    parse_text,
    parse_volume_name,
)
from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import PullPolicy, WorkerSpec

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

StepType = t.Literal["run_hooks", "stop_containers", "run_worker", "start_containers", "keep_stopped", "run_after"]
StopAction = t.Literal["stop", "pause"]
# Seconds added per stop level and to the deadline for Docker's own work around the grace periods.
STOP_LEVEL_MARGIN = 5
# Seconds added per hook to its timeout: stopping one that outlived it (SIGTERM, grace, SIGKILL).
HOOK_MARGIN = KILL_GRACE + 2
# When each phase's hooks run.
HOOK_WHEN: dict[HookPhase, str] = {
    "pre": "before anything stops, in the running stack",
    "post": "after the restart, when the run succeeded",
    "error": "after the restart, when the run failed",
    "finally": "last, always, whatever the outcome",
}
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
        "stop_scope",
        "stop_mode",
        "after_command",
        "after_image",
        "after_timeout",
        "after_env",
        "after_user",
        "after_network",
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
    # run_hooks: the phase and its hooks in run order.
    phase: HookPhase | None = None
    hooks: list[Hook] = dataclasses.field(default_factory=list)
    # stop_containers: how each container (by id) is taken down; "pause" freezes it, "stop" stops it.
    actions: dict[str, StopAction] = dataclasses.field(default_factory=dict)
    # stop_containers: the restart policy of each container (by id) that gets ``always`` while it is down, so that
    # the daemon starts it again after a daemon restart or a reboot; given back once it runs again.
    restart_policies: dict[str, RestartPolicy] = dataclasses.field(default_factory=dict)
    when: str = ""

    @property
    def containers(self) -> list[ContainerRecord]:
        return [c for level in self.levels for c in level]

    def _entry(self, c: ContainerRecord) -> dict[str, t.Any]:
        # A container that is up but not running (restarting, paused) shows its state: it is returned to it.
        d = c.brief() if c.state == "running" else {**c.brief(), "state": c.state}
        if c.id in self.actions:
            d["action"] = self.actions[c.id]
        return d

    def to_dict(self) -> dict[str, t.Any]:
        d: dict[str, t.Any] = {"type": self.type, "description": self.description, "timeout": self.timeout}
        if self.when:
            d["when"] = self.when
        if self.worker is not None:
            d["worker"] = self.worker.to_dict()
        elif self.type == "run_hooks":
            d["phase"] = self.phase
            d["hooks"] = [h.to_dict() for h in self.hooks]
        else:
            d["levels"] = [[self._entry(c) for c in level] for level in self.levels]
        if self.restart_policies:
            d["restart_policies"] = {cid: p.to_dict() for cid, p in sorted(self.restart_policies.items())}
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
    # Up containers of the stack that the stop scope leaves alone: never touched by the run.
    stays_up: list[ContainerRecord] = dataclasses.field(default_factory=list)
    keep_stopped: bool = False
    # The stop mode the run uses: the job's, except that keep_stopped always stops.
    stop_mode: StopMode = "stop"
    # Why the stop/start order may be coarser than the stack declares (StackGraph.notes).
    graph_notes: tuple[str, ...] = ()

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
    def after(self) -> WorkerSpec | None:
        """The after-phase container, or None when the job has no after-phase (or keeps the stack stopped)."""
        return next((s.worker for s in self.steps if s.type == "run_after"), None)

    def hooks(self, phase: HookPhase) -> list[Hook]:
        """The hooks of ``phase`` in run order (none when the plan does not run that phase)."""
        return next((s.hooks for s in self.steps if s.type == "run_hooks" and s.phase == phase), [])

    @property
    def stop_set(self) -> list[ContainerRecord]:
        return self.stop_step.containers

    @property
    def deadline(self) -> int:
        """The maximum downtime: stop budget + worker timeout and its grace + start budget."""
        return self.stop_budget + self.worker.timeout + self.worker.stop_grace + self.start_budget

    @property
    def max_duration(self) -> int:
        """The longest the whole run may take: the downtime deadline plus every hook and the after-phase."""

        def phase(p: HookPhase) -> int:
            return sum(h.timeout + HOOK_MARGIN for h in self.hooks(p))

        after = self.after.timeout + self.after.stop_grace if self.after is not None else 0
        return phase("pre") + self.deadline + max(phase("post"), phase("error")) + after + phase("finally")

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
            "max_duration": self.max_duration,
            "stop_scope": self.job.stop_scope,
            "stop_mode": self.stop_mode,
            "stays_up": [c.to_dict() for c in self.stays_up],
            "keep_stopped": self.keep_stopped,
            "hooks": {p: [h.to_dict() for h in self.hooks(p)] for p in HOOK_PHASES},
            "after": self.after.to_dict() if self.after is not None else None,
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
    "stop_scope": parse_stop_scope,
    "stop_mode": parse_stop_mode,
    "after_command": parse_command,
    "after_image": parse_text,
    "after_timeout": parse_duration,
    "after_env": parse_env,
    "after_user": parse_text,
    "after_network": parse_network,
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
        dataclasses.replace(
            job,
            env=dict(job.env),
            after_env=dict(job.after_env),
            mounts=list(job.mounts),
            hooks=list(job.hooks),
            problems=list(job.problems),
        )
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
        if key in ("env", "after_env"):
            getattr(result, key).update(value)
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


def _scope_levels(job: Job, graph: StackGraph) -> list[list[ContainerRecord]]:
    """The up containers the job's stop scope takes down, in stop levels; dependents of a chosen one included."""
    if job.stop_scope == "none":
        return []
    if job.stop_scope == "stack":
        return running_stop_levels(graph)[0]
    volumes = {m.volume for m in job.mounts}
    chosen = {
        t.cast(str, c.service)
        for cs in graph.containers.values()
        for c in cs
        if c.state in UP_STATES and any(v in volumes and (rw or job.stop_scope == "attached") for v, rw in c.volumes)
    }
    return running_stop_levels(graph, chosen)[0] if chosen else []


def _stop_actions(
    mode: StopMode, levels: list[list[ContainerRecord]]
) -> tuple[list[list[ContainerRecord]], dict[str, StopAction]]:
    """The levels and how each container goes down: stop mode stops all; pause mode freezes running ones,
    stops crash-looping ones (a restart policy cannot be frozen) and leaves paused ones as they are."""
    if mode == "stop":
        return levels, {c.id: "stop" for level in levels for c in level}
    kept = [[c for c in level if c.state != "paused"] for level in levels]
    kept = [level for level in kept if level]
    return kept, {c.id: "pause" if c.state == "running" else "stop" for level in kept for c in level}


def _worker_spec(job: Job, run_id: str, secret_env: t.Mapping[str, str], stop_grace: int) -> WorkerSpec:
    try:
        return WorkerSpec(
            job=job.name,
            run_id=run_id,
            image=t.cast(str, job.image),
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


def _after_spec(job: Job, worker: WorkerSpec) -> WorkerSpec | None:
    """The after-phase container: hardened like the worker, same volumes and paths, the worker's env under
    its own after.env, the worker's image, user and network unless the after-phase names its own."""
    if job.after_command is None:
        return None
    try:
        return dataclasses.replace(
            worker,
            role="after",
            image=job.after_image or worker.image,
            image_id=None,
            command=job.after_command,
            env={**worker.env, **job.after_env},
            secret_env_names=frozenset(n for n in worker.secret_env_names if n not in job.after_env),
            network=job.after_network or worker.network,
            user=job.after_user or worker.user,
            timeout=job.after_timeout,
        )
    except WorkerSpecError as exc:
        raise PlanError(f"job {job.name!r}: the after-phase is not allowed: {exc.message}", job=job.name) from None


def _hook_step(job: Job, phase: HookPhase, graph: StackGraph) -> Step | None:
    hooks = order_hooks(job.hooks, phase, graph)
    if not hooks:
        return None
    where = ", ".join(f"{h.container.name!r}" for h in hooks)
    return Step(
        "run_hooks",
        f"run {len(hooks)} {phase} hook(s) in {where}, {HOOK_WHEN[phase]}",
        timeout=sum(h.timeout for h in hooks),
        phase=phase,
        hooks=hooks,
        when=HOOK_WHEN[phase],
    )


def build_plan(
    job: Job,
    stack_containers: t.Sequence[ContainerRecord],
    *,
    run_id: str,
    secret_env: t.Mapping[str, str],
    container_stop_timeouts: t.Mapping[str, int],
    stop_grace: int = 10,
    created_at: str | None = None,
    keep_stopped: bool = False,
    restart_policies: t.Mapping[str, RestartPolicy] | None = None,
) -> Plan:
    """The plan for a job from the containers of its stack (pure). Only up containers in the stop scope stop.

    container_stop_timeouts maps container ids to their own stop timeout, used when the job sets none.
    restart_policies maps container ids to their restart policy: each stop-set container whose policy is not
    ``always`` gets ``always`` while it is down (listed in the stop step, with the policy given back after).
    With ``keep_stopped`` the stop-set is left stopped on purpose: only the pre and finally hooks run.
    """
    if job.stack is None or job.image is None:
        raise PlanError(f"job {job.name!r} cannot be planned without a stack and a worker image", job=job.name)
    graph: StackGraph = build_graph(stack_containers)
    # A stack kept stopped on purpose is stopped, never left frozen.
    mode: StopMode = "stop" if keep_stopped else job.stop_mode
    levels, actions = _stop_actions(mode, _scope_levels(job, graph))
    in_stop_set = set(actions)
    stays_up = sorted(
        (c for c in stack_containers if is_member(c) and c.state in UP_STATES and c.id not in in_stop_set),
        key=lambda c: c.name,
    )

    def grace(c: ContainerRecord) -> int:
        if actions[c.id] == "pause":
            return 0
        return (
            job.stop_timeout
            if job.stop_timeout is not None
            else container_stop_timeouts.get(c.id, DEFAULT_STOP_TIMEOUT)
        )

    stop_budget = sum(max(grace(c) for c in level) + STOP_LEVEL_MARGIN for level in levels)
    worker = _worker_spec(job, run_id, secret_env, stop_grace)
    after = None if keep_stopped else _after_spec(job, worker)
    n = sum(len(lv) for lv in levels)
    odd = collections.Counter(c.state for lv in levels for c in lv if c.state != "running")
    also = f" ({', '.join(f'{k} {s}' for s, k in sorted(odd.items()))}: returned to that state)" if odd else ""
    verb = "pause" if mode == "pause" else "stop"
    up = f"; {len(stays_up)} stay(s) up, untouched" if stays_up else ""
    held = {
        cid: policy
        for cid, policy in (restart_policies or {}).items()
        if cid in in_stop_set and policy.name != HOST_PROOF_POLICY
    }
    up += (
        f"; while down, {len(held)} of them have restart policy {HOST_PROOF_POLICY} (a daemon restart or a reboot "
        "starts them again), given back once they run"
        if held
        else ""
    )
    stop_what = (
        f"{verb} {n} container(s) of stack {job.stack!r} in {len(levels)} level(s) (scope {job.stop_scope}){also}{up}"
        if n
        else f"stop nothing (scope {job.stop_scope}): the stack stays up{up}"
    )
    steps = [
        _hook_step(job, "pre", graph),
        Step(
            "stop_containers",
            stop_what,
            levels=levels,
            timeout=job.stop_timeout,
            container_stop_timeouts=dict(container_stop_timeouts),
            actions=actions,
            restart_policies=held,
        ),
        Step(
            "run_worker",
            f"run worker {worker.name!r} from image {job.image!r} with "
            f"{len(job.mounts)} volume(s) mounted, for at most {job.timeout}s",
            worker=worker,
        ),
        Step(
            "keep_stopped",
            f"leave the same {n} container(s) stopped on purpose (keep_stopped) and release the stack",
            levels=list(reversed(levels)),
        )
        if keep_stopped
        else Step(
            "start_containers",
            (
                f"{'unpause' if mode == 'pause' else 'start'} the same {n} container(s) in dependency "
                f"order within {job.start_timeout}s"
                if n
                else "start nothing: nothing was stopped"
            ),
            levels=list(reversed(levels)),
            timeout=job.start_timeout,
        ),
        None if keep_stopped else _hook_step(job, "post", graph),
        None if keep_stopped else _hook_step(job, "error", graph),
        None
        if after is None
        else Step(
            "run_after",
            f"run the after-phase {after.name!r} from image {after.image!r} with the stack up, "
            f"for at most {after.timeout}s",
            worker=after,
            when="once the stack runs again, when the worker succeeded",
        ),
        _hook_step(job, "finally", graph),
    ]
    return Plan(
        run_id=run_id,
        job=job,
        stack=job.stack,
        created_at=created_at or utc_iso(timespec="seconds"),
        steps=[s for s in steps if s is not None],
        stop_budget=stop_budget,
        start_budget=job.start_timeout,
        stays_up=stays_up,
        keep_stopped=keep_stopped,
        stop_mode=mode,
        graph_notes=graph.notes,
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
    keep_stopped: bool = False,
    max_duration: int | None = None,
    state_dir: str | None = None,
) -> Plan:
    """Plan the job against the current state of its stack, then run the preflight checks.

    Raises PlanError only when no plan can be made at all; failed checks are in plan.preflight. With
    ``state_dir``, a lease whose container was pruned is seen through its journal there. With ``max_duration``, a
    plan whose whole run can take longer fails the check ``max_duration`` (the async limit it runs under).
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
    lease = read_lease(api, job.stack, state_dir)
    containers = api.find_containers(f"{COMPOSE_PROJECT}={job.stack}")
    held = {str(e.get("id")) for e in lease.stop_set} if lease is not None else set()
    # Containers another run stopped run again once it is done (or recovered): plan with them running.
    containers = [dataclasses.replace(c, state="running") if c.id in held else c for c in containers]
    running = [c for c in containers if c.state in UP_STATES and not c.is_worker]
    # One inspect per up container: its own stop timeout and its restart policy (set aside while it is down).
    settings = {c.id: api.container_settings(c.id) for c in running}
    stop_timeouts = {} if job.stop_timeout is not None else {cid: s.stop_timeout for cid, s in settings.items()}
    # Podman has no daemon whose restart stops containers, and cannot update a restart policy: nothing to hold there.
    host_proof = api.engine().can_update_restart_policy
    policies = {cid: s.restart_policy for cid, s in settings.items() if host_proof and not s.auto_remove}
    try:
        plan = build_plan(
            job,
            containers,
            run_id=run_id or new_run_id(),
            secret_env=secret_env or {},
            container_stop_timeouts=stop_timeouts,
            keep_stopped=keep_stopped,
            restart_policies=policies,
        )
    except GraphError as exc:
        raise PlanError(f"stack {job.stack!r} cannot be ordered: {exc.message}", job=job.name, stack=job.stack) from exc
    checks.extend(Check("graph", job.stack, True, f"warning: {note}") for note in plan.graph_notes)
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
    images = [plan.worker.image] + ([plan.after.image] if plan.after and plan.after.image != plan.worker.image else [])
    refused = [i for i in images if allowed_images is not None and not image_allowed(i, allowed_images)]
    if allowed_images is not None and refused:
        checks.extend(
            Check(
                "allowed_images",
                image,
                False,
                f"{'worker' if image == plan.worker.image else 'after-phase'} image {image!r} matches none of the "
                f"allowed images: {', '.join(allowed_images) or 'none'}",
            )
            for image in refused
        )
        plan.preflight = checks
        return plan  # never pull or inspect an image that is not allowed
    for step in (s for s in plan.steps if s.worker is not None):
        spec = t.cast(WorkerSpec, step.worker)
        image_check, image_id = _image_check(api, spec, pull, check_mode)
        if spec.role == "worker" or spec.image != plan.worker.image:
            checks.append(image_check)
        if image_id:
            step.worker = dataclasses.replace(spec, image_id=image_id)
    checks.extend(_volume_checks(api, job))
    checks.extend(_hook_checks(plan, containers))
    if job.stop_scope in ("attached", "writers") and not plan.stop_set:
        how = "mounts" if job.stop_scope == "attached" else "mounts read-write"
        volumes = ", ".join(repr(m.volume) for m in job.mounts) or "none"
        checks.append(
            Check(
                "scope",
                job.stack,
                True,
                f"stop scope {job.stop_scope}: no running container of stack {job.stack!r} {how} one of the job's "
                f"volumes ({volumes}); nothing stops",
            )
        )
    checks.extend(_network_parent_checks(plan.stop_set, containers))
    if max_duration is not None:
        checks.append(_duration_check(plan, max_duration))
    if job.stop_mode == "stop":
        checks.extend(_systemd_checks(plan.stop_set))
    checks.append(_lease_check(job, lease))
    plan.preflight = checks
    return plan


def _duration_check(plan: Plan, limit: int) -> Check:
    """The whole run fits the time it is given (the async limit it runs under, less the lock wait and a margin)."""
    took = f"the whole run of job {plan.job.name!r} takes at most {plan.max_duration} s"
    parts = f"the downtime deadline {plan.deadline} s plus the hooks and the after-phase"
    if plan.max_duration <= limit:
        return Check("max_duration", plan.job.name, True, f"{took}, within the limit of {limit} s")
    return Check(
        "max_duration",
        plan.job.name,
        False,
        f"{took} ({parts}), more than the limit of {limit} s (option max_duration; the role's run_job_async_limit "
        "less run_job_lock_timeout and run_job_async_margin): raise the limit or lower the job's timeouts",
    )


def _image_check(api: DockerApi, worker: WorkerSpec, pull: PullPolicy, check_mode: bool) -> tuple[Check, str | None]:
    """The image check, and the image id the worker will run (pinned, whatever the tag means later)."""
    try:
        info = preflight_image(api, worker.image, pull, check_mode=check_mode)
    except ImageMissingError as exc:
        return Check("image", worker.image, False, exc.message), None
    return Check("image", worker.image, True, info.summary), info.id


def _hook_checks(plan: Plan, containers: t.Sequence[ContainerRecord]) -> list[Check]:
    """Each pre hook's container runs now (the hook runs before anything stops); other phases are checked
    when they come (their container may be stopped and started by the run)."""
    now = {c.id: c for c in containers}
    checks = []
    for hook in plan.hooks("pre"):
        c = now.get(hook.container.id)
        state = c.state if c is not None else "gone"
        checks.append(
            Check(
                "hook",
                hook.container.name,
                state == "running",
                f"pre hook in {hook.container.name!r} ({' '.join(hook.command)!r}) can run: the container is running"
                if state == "running"
                else f"pre hook in {hook.container.name!r} cannot run: the container is {state}, not running; "
                f"start it or remove the label {hook.label!r}",
            )
        )
    return checks


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


def systemd_unit(c: ContainerRecord) -> str | None:
    """The systemd unit that runs ``c`` (label PODMAN_SYSTEMD_UNIT), or None.

    podman-compose 1.x puts ``podman-compose@<project>.service`` on every container, registered or not; that
    template unit neither removes its containers on stop nor restarts them, so it does not count."""
    unit = c.labels.get(PODMAN_SYSTEMD_UNIT, "").strip()
    if not unit or unit == f"podman-compose@{c.project}.service":
        return None
    return unit


def _systemd_checks(stop_set: t.Sequence[ContainerRecord]) -> list[Check]:
    """A container of the stop-set that a systemd unit runs (Quadlet, ``podman generate systemd --new``).

    Such units run the container with ``--rm`` and restart it: a stop through the API deletes the container
    and systemd may start a new one while the worker runs. The job is refused before anything stops."""
    checks = []
    for c in stop_set:
        unit = systemd_unit(c)
        if unit is not None:
            checks.append(
                Check(
                    "systemd",
                    c.name,
                    False,
                    f"container {c.name!r} is run by the systemd unit {unit!r} (label {PODMAN_SYSTEMD_UNIT}): "
                    "stopping it through the API removes it and systemd may restart it; stop and start that unit "
                    "with systemctl around the job instead, or leave the container out of the job's stop scope",
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
