# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Discovery: from Docker labels to jobs (label contract v1, docs/docsite/rst/labels.rst).

The merging here is pure: it takes the containers and volumes the Engine listed and returns jobs plus
problems. Each value is checked by the rules of _values.py. A bad label is a problem, never an exception.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._model import (
    LABELS_GUIDE,
    COMPOSE_PROJECT,
    HOOK_OPTIONS,
    HOOK_PHASES,
    LABEL_AFTER_COMMAND,
    LABEL_AFTER_ENV_PREFIX,
    LABEL_AFTER_IMAGE,
    LABEL_AFTER_NETWORK,
    LABEL_AFTER_TIMEOUT,
    LABEL_AFTER_USER,
    LABEL_ATTACH,
    LABEL_COMMAND,
    LABEL_ENABLED,
    LABEL_ENV_PREFIX,
    LABEL_HOOK_PREFIX,
    LABEL_IMAGE,
    LABEL_MOUNT_MODE,
    LABEL_MOUNT_PATH,
    LABEL_NAME,
    LABEL_NETWORK,
    LABEL_OVERLAP,
    LABEL_PREFIX,
    LABEL_SCHEDULE,
    LABEL_STACK,
    LABEL_START_TIMEOUT,
    LABEL_STOP_MODE,
    LABEL_STOP_SCOPE,
    LABEL_STOP_TIMEOUT,
    LABEL_TIMEOUT,
    LABEL_USER,
    ContainerRecord,
    Hook,
    HookPhase,
    Job,
    Mount,
    Problem,
    VolumeRecord,
)
from ansible_collections.bosun.compose.plugins.module_utils._values import (
    LabelError,
    parse_bool,
    parse_command,
    parse_duration,
    parse_env_name,
    parse_job_name,
    parse_job_names,
    parse_mode,
    parse_mount_path,
    parse_network,
    parse_on_error,
    parse_overlap,
    parse_schedule,
    parse_stop_mode,
    parse_stop_scope,
    parse_text,
)

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

_MAX_VALUE_LENGTH = 4096
VOLUME_KEYS = frozenset((LABEL_ATTACH, LABEL_MOUNT_PATH, LABEL_MOUNT_MODE))


# label -> (Job attribute, parser). The worker.env.* prefix is handled apart.
_CONTAINER_FIELDS: dict[str, tuple[str, t.Callable[[str], t.Any]]] = {
    LABEL_ENABLED: ("enabled", parse_bool),
    LABEL_IMAGE: ("image", parse_text),
    LABEL_COMMAND: ("command", parse_command),
    LABEL_USER: ("user", parse_text),
    LABEL_NETWORK: ("network", parse_network),
    LABEL_TIMEOUT: ("timeout", parse_duration),
    LABEL_STOP_TIMEOUT: ("stop_timeout", parse_duration),
    LABEL_START_TIMEOUT: ("start_timeout", parse_duration),
    LABEL_SCHEDULE: ("schedule", parse_schedule),
    LABEL_OVERLAP: ("overlap_policy", parse_overlap),
    LABEL_STACK: ("stack", parse_text),
    LABEL_STOP_SCOPE: ("stop_scope", parse_stop_scope),
    LABEL_STOP_MODE: ("stop_mode", parse_stop_mode),
    LABEL_AFTER_COMMAND: ("after_command", parse_command),
    LABEL_AFTER_IMAGE: ("after_image", parse_text),
    LABEL_AFTER_TIMEOUT: ("after_timeout", parse_duration),
    LABEL_AFTER_USER: ("after_user", parse_text),
    LABEL_AFTER_NETWORK: ("after_network", parse_network),
}
# Environment label prefix -> the Job attribute it fills.
_ENV_PREFIXES = {LABEL_ENV_PREFIX: "env", LABEL_AFTER_ENV_PREFIX: "after_env"}
_AFTER_KEYS = frozenset(lb for lb, (attr, _p) in _CONTAINER_FIELDS.items() if attr.startswith("after_"))


def _shown(value: str) -> str:
    return value if len(value) <= 200 else value[:200] + f"... ({len(value)} characters)"


def label_problem(
    kind: t.Literal["container", "volume"],
    obj: str,
    label: str,
    value: str,
    why: str,
    *,
    severity: t.Literal["error", "warning"] = "error",
    job: str | None = None,
) -> Problem:
    """A problem about one label; the message names the object, the label, the value and the rule."""
    return Problem(
        severity=severity,
        kind=kind,
        object=obj,
        label=label,
        value=_shown(value),
        job=job,
        message=f"{kind} {obj!r}: label {label!r} has value {_shown(value)!r}: {why}",
    )


def _check_value(
    kind: t.Literal["container", "volume"], obj: str, label: str, value: str, job: str | None
) -> Problem | None:
    if len(value) > _MAX_VALUE_LENGTH:
        return label_problem(kind, obj, label, value, f"must be at most {_MAX_VALUE_LENGTH} characters", job=job)
    if "\x00" in value or "\ufffd" in value:
        return label_problem(kind, obj, label, value, "must be valid UTF-8 text without NUL characters", job=job)
    return None


def _container_settings(c: ContainerRecord, job_name: str, problems: list[Problem]) -> dict[str, t.Any]:
    """The settings one member container declares, each parsed; bad or unknown labels become problems."""
    settings: dict[str, t.Any] = {}
    envs: dict[str, dict[str, str]] = {}
    for label in sorted(c.labels):
        value = c.labels[label]
        if label != LABEL_STACK and not label.startswith(LABEL_PREFIX):
            continue
        if label == LABEL_NAME or label.startswith(LABEL_HOOK_PREFIX):
            continue  # hooks belong to their container: _container_hooks()
        bad = _check_value("container", c.name, label, value, job_name)
        if bad:
            problems.append(bad)
            continue
        prefix = next((p for p in _ENV_PREFIXES if label.startswith(p)), None)
        if prefix is not None:
            env = envs.setdefault(_ENV_PREFIXES[prefix], {})
            name = label.removeprefix(prefix)
            try:
                parse_env_name(name)
            except LabelError as exc:
                problems.append(label_problem("container", c.name, label, value, str(exc), job=job_name))
                continue
            clash = next((n for n in env if n.lower() == name.lower()), None)
            if clash is not None:
                problems.append(
                    label_problem(
                        "container",
                        c.name,
                        label,
                        value,
                        f"environment variable {name!r} differs from {clash!r} only in case; keep one",
                        job=job_name,
                    )
                )
                continue
            env[name] = value
            continue
        field = _CONTAINER_FIELDS.get(label)
        if field is None:
            where = "volumes" if label in VOLUME_KEYS else "nothing"
            problems.append(
                label_problem(
                    "container",
                    c.name,
                    label,
                    value,
                    f"unknown label for a container ({'it belongs on ' + where if where == 'volumes' else 'ignored'}); "
                    f"see the label contract ({LABELS_GUIDE}) for the container labels",
                    severity="warning",
                    job=job_name,
                )
            )
            continue
        attr, parse = field
        try:
            settings[attr] = parse(value)
        except LabelError as exc:
            problems.append(label_problem("container", c.name, label, value, str(exc), job=job_name))
    settings.update((attr, env) for attr, env in envs.items() if env)
    return settings


def _container_hooks(c: ContainerRecord, job_name: str, problems: list[Problem]) -> list[Hook]:
    """The hooks one member container carries (bosun.job.hook.<phase>[.user|.timeout|.on-error])."""
    by_phase: dict[str, dict[str, str]] = {}
    for label in sorted(c.labels):
        if not label.startswith(LABEL_HOOK_PREFIX):
            continue
        value = c.labels[label]
        phase, _dot, option = label.removeprefix(LABEL_HOOK_PREFIX).partition(".")
        if phase not in HOOK_PHASES:
            why = f"unknown hook phase {phase!r}; allowed: {', '.join(HOOK_PHASES)}"
        elif option and option not in HOOK_OPTIONS:
            why = f"unknown hook option {option!r}; allowed: {', '.join(HOOK_OPTIONS)}"
        elif option == "on-error" and phase != "pre":
            why = "only the pre hook takes on-error (a failing pre hook can abort the run before anything stops)"
        else:
            bad = _check_value("container", c.name, label, value, job_name)
            if bad:
                problems.append(bad)
            else:
                by_phase.setdefault(phase, {})[option or "command"] = value
            continue
        problems.append(label_problem("container", c.name, label, value, why, job=job_name))
    hooks = []
    for phase, opts in sorted(by_phase.items(), key=lambda kv: HOOK_PHASES.index(t.cast(HookPhase, kv[0]))):
        label = LABEL_HOOK_PREFIX + phase
        if "command" not in opts:
            for option, value in sorted(opts.items()):
                problems.append(
                    label_problem(
                        "container",
                        c.name,
                        f"{label}.{option}",
                        value,
                        f"sets an option of a hook that has no command; set {label!r} on {c.name!r} too",
                        job=job_name,
                    )
                )
            continue
        parsed: dict[str, t.Any] = {}
        valid = True
        for option, key, parse in (
            ("command", "command", parse_command),
            ("user", "user", parse_text),
            ("timeout", "timeout", parse_duration),
            ("on-error", "on_error", parse_on_error),
        ):
            if option in opts:
                full = label if option == "command" else f"{label}.{option}"
                try:
                    parsed[key] = parse(opts[option])
                except LabelError as exc:
                    valid = False
                    problems.append(label_problem("container", c.name, full, opts[option], str(exc), job=job_name))
        if valid:
            hooks.append(Hook(phase=t.cast(HookPhase, phase), container=c, **parsed))
    return hooks


def _job_problem(
    job: Job, label: str, value: str | None, message: str, severity: t.Literal["error", "warning"] = "error"
) -> None:
    """Record a problem of the job as a whole (not of one container's label value)."""
    job.problems.append(Problem(severity, "job", job.name, label, value, message, job=job.name))


def _conflict(
    job: Job, c: ContainerRecord, label: str, value: str, first: ContainerRecord, first_value: str
) -> Problem:
    return Problem(
        severity="error",
        kind="container",
        object=c.name,
        label=label,
        value=_shown(value),
        job=job.name,
        message=(
            f"container {c.name!r}: label {label!r} has value {_shown(value)!r}, but container {first.name!r} "
            f"of job {job.name!r} says {_shown(first_value)!r}; members of one job must agree "
            f"(the value of {first.name!r} is used)"
        ),
    )


def _merge(job: Job, owner: dict[str, ContainerRecord], c: ContainerRecord, settings: dict[str, t.Any]) -> None:
    """Apply a member's settings; the first container by name wins and a disagreement is an error."""
    for attr, value in settings.items():
        prefix = next((p for p, a in _ENV_PREFIXES.items() if a == attr), None)
        if prefix is not None:
            env = getattr(job, attr)
            for name, v in value.items():
                key = prefix + name
                if key not in owner:
                    owner[key] = c
                    env[name] = v
                elif env[name] != v:
                    job.problems.append(_conflict(job, c, key, v, owner[key], env[name]))
            continue
        label = next(lb for lb, (a, _parse) in _CONTAINER_FIELDS.items() if a == attr)
        if attr not in owner:
            owner[attr] = c
            setattr(job, attr, value)
        elif getattr(job, attr) != value:
            job.problems.append(_conflict(job, c, label, c.labels[label], owner[attr], owner[attr].labels[label]))


def build_jobs(
    containers: t.Iterable[ContainerRecord], volumes: t.Iterable[VolumeRecord]
) -> tuple[list[Job], list[Problem]]:
    """Jobs (sorted by name, then stack) and the problems that belong to no job.

    A job is identified by its name and its stack: the same name in two stacks is two jobs.
    """
    jobs: dict[tuple[str, str], Job] = {}
    owners: dict[tuple[str, str], dict[str, ContainerRecord]] = {}
    stray: list[Problem] = []
    for c in sorted(containers, key=lambda c: (c.name, c.id)):
        if c.is_worker or LABEL_NAME not in c.labels:
            continue
        raw = c.labels[LABEL_NAME]
        try:
            name = parse_job_name(raw)
        except LabelError as exc:
            stray.append(label_problem("container", c.name, LABEL_NAME, raw, str(exc)))
            continue
        problems: list[Problem] = []
        settings = _container_settings(c, name, problems)
        hooks = _container_hooks(c, name, problems)
        stack = settings.pop("stack", None) or c.project
        key = (name, stack or "")
        job = jobs.setdefault(key, Job(name=name, stack=stack))
        job.containers.append(c)
        job.problems.extend(problems)
        _merge(job, owners.setdefault(key, {}), c, settings)
        for hook in hooks:
            if c.project != stack:
                job.problems.append(
                    label_problem(
                        "container",
                        c.name,
                        hook.label,
                        c.labels[hook.label],
                        f"a hook runs only in a container of the job's own stack {stack!r}; "
                        f"{c.name!r} belongs to {c.project or 'no Compose project'!r}",
                        job=name,
                    )
                )
            else:
                job.hooks.append(hook)

    by_name: dict[str, list[Job]] = {}
    for job in jobs.values():
        by_name.setdefault(job.name, []).append(job)
        if not any(LABEL_IMAGE in c.labels for c in job.containers):
            first = job.containers[0].name
            _job_problem(
                job,
                LABEL_IMAGE,
                None,
                f"job {job.name!r} has no worker image: set the label {LABEL_IMAGE!r} "
                f"on one of its containers (for example {first!r}); the job cannot run without it",
            )
        after_only = sorted(
            {
                lb
                for c in job.containers
                for lb in c.labels
                if lb in _AFTER_KEYS - {LABEL_AFTER_COMMAND} or lb.startswith(LABEL_AFTER_ENV_PREFIX)
            }
        )
        if after_only and job.after_command is None:
            _job_problem(
                job,
                after_only[0],
                None,
                f"job {job.name!r} sets {', '.join(after_only)} but no {LABEL_AFTER_COMMAND!r}: "
                "the after-phase is off without a command",
                severity="warning",
            )
        if job.stack is None:
            _job_problem(
                job,
                LABEL_STACK,
                None,
                f"job {job.name!r} has no stack: its containers are not part of a "
                f"Compose project and carry no {LABEL_STACK!r} label",
            )
    for name, same in by_name.items():
        if len(same) > 1:
            stacks = ", ".join(repr(j.stack) for j in same)
            for job in same:
                _job_problem(
                    job,
                    LABEL_NAME,
                    name,
                    f"job name {name!r} is declared in stacks {stacks}; these are "
                    "separate jobs, so name the stack (project) to pick one",
                    severity="warning",
                )

    flat = [jobs[k] for k in sorted(jobs)]
    attachments = [a for v in sorted(volumes, key=lambda v: v.name) for a in _attach_volume(v, flat, stray)]
    # A job's own volumes (its Compose project's, or of no project) take their paths before another project's do.
    volume_of = {v.name: v for v in volumes}
    for job, v, path, mode, label_problems in sorted(attachments, key=lambda a: _foreign(a[1], a[0])):
        _mount(job, v, path, mode, label_problems, volume_of)
    for job in flat:
        job.mounts.sort(key=lambda m: (m.path, m.volume))
    return flat, stray


_Attachment = tuple[Job, VolumeRecord, str, str, list[tuple[str, str]]]


def _foreign(v: VolumeRecord, job: Job) -> bool:
    """The volume was made by another Compose project than the job's stack."""
    project = v.labels.get(COMPOSE_PROJECT)
    return project is not None and project != job.stack


def _attach_volume(v: VolumeRecord, jobs: t.Sequence[Job], stray: list[Problem]) -> list[_Attachment]:
    """The jobs the volume attaches to, each with its mount path, mode and label problems; the volume's problems
    that belong to no job go to ``stray``."""
    labels = v.labels
    for label in sorted(labels):
        if label.startswith(LABEL_PREFIX) and label not in VOLUME_KEYS:
            stray.append(
                label_problem(
                    "volume",
                    v.name,
                    label,
                    labels[label],
                    "unknown label for a volume (ignored); volumes take bosun.job.attach, bosun.job.mount.path "
                    "and bosun.job.mount.mode",
                    severity="warning",
                )
            )
    if LABEL_ATTACH not in labels:
        return []
    bad = [
        p
        for p in (_check_value("volume", v.name, lb, labels[lb], None) for lb in sorted(VOLUME_KEYS & set(labels)))
        if p
    ]
    if bad:
        stray.extend(bad)
        return []
    try:
        names = parse_job_names(labels[LABEL_ATTACH])
    except LabelError as exc:
        stray.append(label_problem("volume", v.name, LABEL_ATTACH, labels[LABEL_ATTACH], str(exc)))
        return []
    mount_problems: list[tuple[str, str]] = []
    path, mode = "/mnt/" + v.name, "ro"
    try:
        if LABEL_MOUNT_PATH in labels:
            path = parse_mount_path(labels[LABEL_MOUNT_PATH])
    except LabelError as exc:
        mount_problems.append((LABEL_MOUNT_PATH, str(exc)))
    try:
        if LABEL_MOUNT_MODE in labels:
            mode = parse_mode(labels[LABEL_MOUNT_MODE])
    except LabelError as exc:
        mount_problems.append((LABEL_MOUNT_MODE, str(exc)))
    attachments: list[_Attachment] = []
    for n in names:
        targets = [j for j in jobs if j.name == n]
        if len(targets) > 1:
            # The same job name in several stacks: a Compose volume belongs to the stack that created it.
            targets = [j for j in targets if v.labels.get(COMPOSE_PROJECT) == j.stack] or targets
        if not targets:
            stray.append(
                label_problem(
                    "volume",
                    v.name,
                    LABEL_ATTACH,
                    labels[LABEL_ATTACH],
                    f"no container declares job {n!r} (label {LABEL_NAME!r}); the volume is not attached to anything",
                    severity="warning",
                )
            )
        attachments.extend((job, v, path, mode, mount_problems) for job in targets)
    return attachments


def _mount(
    job: Job,
    v: VolumeRecord,
    path: str,
    mode: str,
    mount_problems: list[tuple[str, str]],
    volumes: t.Mapping[str, VolumeRecord],
) -> None:
    """Mount the volume into the job, or add to the job's problems why not: a warning only for another project's
    volume whose path is the job's own volume's, as a volume left by a removed or pruned stack must not fail it."""
    if mount_problems:
        job.problems.extend(
            label_problem("volume", v.name, lb, v.labels[lb], why, job=job.name) for lb, why in mount_problems
        )
        return
    taken = next((m for m in job.mounts if m.path == path), None)
    if taken is not None and _foreign(v, job) and not _foreign(volumes[taken.volume], job):
        job.problems.append(
            label_problem(
                "volume",
                v.name,
                LABEL_ATTACH,
                v.labels[LABEL_ATTACH],
                f"volume of Compose project {v.labels[COMPOSE_PROJECT]!r} not attached to job {job.name!r} of stack "
                f"{job.stack!r}: its mount path {path!r} is the stack's own volume {taken.volume!r} (a volume left "
                "by a removed stack?)",
                severity="warning",
                job=job.name,
            )
        )
        return
    if taken is not None:
        job.problems.append(
            label_problem(
                "volume",
                v.name,
                LABEL_MOUNT_PATH,
                v.labels.get(LABEL_MOUNT_PATH, path),
                f"mount path {path!r} of job {job.name!r} is already used by volume {taken.volume!r}; "
                f"give each volume its own {LABEL_MOUNT_PATH!r}",
                job=job.name,
            )
        )
        return
    job.mounts.append(Mount(volume=v.name, path=path, mode=t.cast(t.Literal["ro", "rw"], mode)))


def discover(api: DockerApi) -> tuple[list[Job], list[Problem]]:
    """All jobs on the host: one container list and one volume list, both filtered by label."""
    return build_jobs(api.find_containers(LABEL_NAME), api.list_volumes(LABEL_ATTACH))


def select_jobs(jobs: t.Sequence[Job], name: str | None = None, project: str | None = None) -> list[Job]:
    """The jobs matching name and stack (project); both optional."""
    return [j for j in jobs if (name is None or j.name == name) and (project is None or j.stack == project)]
