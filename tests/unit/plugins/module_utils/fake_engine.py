# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An in-memory Docker Engine behind the typed DockerApi methods: canned state, not mocks.

FakeEngine holds containers, images and volumes and answers like the daemon does (unique names, 404 for a
missing object, label filters where every label must match). Workers run a scripted behaviour (exit after
N waits, or never), wait_container advances a FakeClock instead of sleeping. Every call is logged; faults
(fail_on) and hooks (on) can be attached to a method and a container name pattern.
"""

from __future__ import annotations

import collections
import dataclasses
import fnmatch
import hashlib
import threading
import types
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._docker_api import (
    ConnectionOptions,
    DockerApi,
    EngineInfo,
    Labels,
)
from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._compose_cli import ComposeProject
from ansible_collections.bosun.compose.plugins.module_utils._errors import ConflictError, NotFoundError
from ansible_collections.bosun.compose.plugins.module_utils._executor import Executor, RunOptions, RunResult
from ansible_collections.bosun.compose.plugins.module_utils._planner import resolve_job
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import Recreator
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    COMPOSE_DEPENDS_ON,
    COMPOSE_NUMBER,
    COMPOSE_ONEOFF,
    COMPOSE_PROJECT,
    COMPOSE_SERVICE,
    DEFAULT_STOP_TIMEOUT,
    LABEL_ATTACH,
    LABEL_IMAGE,
    LABEL_NAME,
    LABEL_WORKER_RUN_ID,
    UP_STATES,
    ContainerRecord,
    ContainerSettings,
    RestartPolicy,
    VolumeRecord,
)

# Methods whose calls change the daemon's state.
MUTATING = frozenset(
    (
        "create_container",
        "start_container",
        "stop_container",
        "remove_container",
        "pull_image",
        "pause_container",
        "unpause_container",
        "exec_create",
    )
)
Hook = t.Callable[["FakeEngine", "Call"], None]


class FakeClock:
    """Monotonic and wall time that only move when told to (sleep, a worker wait slice)."""

    def __init__(self, wall_base: float) -> None:
        self.elapsed = 0.0
        self.wall_base = wall_base
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return 1000.0 + self.elapsed

    def wall(self) -> float:
        return self.wall_base + self.elapsed

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.elapsed += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def time_module(self) -> types.SimpleNamespace:
        """A stand-in for the ``time`` module of a core module (monotonic, time, sleep)."""
        return types.SimpleNamespace(monotonic=self.monotonic, time=self.wall, sleep=self.sleep)


class FakeEvent(threading.Event):
    """A threading.Event whose wait() advances the fake clock instead of blocking; optional callback per wait."""

    def __init__(self, clock: FakeClock, on_wait: t.Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.on_wait = on_wait
        self.waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        if self.on_wait is not None:
            self.on_wait(self.waits)
        if not self.is_set():
            self.clock.advance(timeout or 0.0)
        return self.is_set()


@dataclasses.dataclass
class WorkerScript:
    """How a worker container behaves once started."""

    exit_code: int = 0
    # The wait call (1-based) that sees the exit; None: runs until stopped.
    exits_after_waits: int | None = 1
    logs: bytes = b""
    # Exit code when stopped (SIGTERM honoured).
    stopped_exit_code: int = 143


@dataclasses.dataclass
class HookScript:
    """How an exec (a hook) in a container behaves: its exit code and output, after N inspects; None: hangs."""

    exit_code: int = 0
    output: bytes = b""
    ends_after_inspects: int | None = 1


@dataclasses.dataclass
class FakeExec:
    id: str
    container: str
    argv: list[str]
    user: str | None
    env: dict[str, str]
    script: HookScript
    started: bool = False
    inspects: int = 0


@dataclasses.dataclass
class FakeContainer:
    id: str
    name: str
    image: str
    image_id: str
    labels: dict[str, str]
    state: str = "created"
    exit_code: int = 0
    stop_timeout: int | None = None
    # Health after each start, one entry per list observation while running (the last one sticks); None: no check.
    health: list[str] | None = None
    health_index: int = 0
    # Exits by itself right after a start (a crashing service).
    crashes_on_start: bool = False
    script: WorkerScript | None = None
    waits: int = 0
    config: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    host_config: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    # The named volumes it mounts: (volume, read-write).
    volumes: tuple[tuple[str, bool], ...] = ()

    def current_health(self) -> str | None:
        if not self.health or self.state != "running":
            return None
        return self.health[min(self.health_index, len(self.health) - 1)]

    def status(self) -> str:
        if self.state == "running":
            health = self.current_health()
            shown = {"starting": " (health: starting)", None: ""}.get(health, f" ({health})")
            return "Up 3 seconds" + shown
        if self.state == "exited":
            return f"Exited ({self.exit_code}) 2 seconds ago"
        return self.state.capitalize()

    def record(self) -> ContainerRecord:
        return ContainerRecord(
            id=self.id,
            name=self.name,
            state=self.state,
            labels=dict(self.labels),
            image=self.image,
            image_id=self.image_id,
            status=self.status(),
            volumes=self.volumes,
        )


@dataclasses.dataclass(frozen=True)
class Call:
    """One typed call on the fake: the method, the container (or image / volume) name, and its arguments."""

    method: str
    target: str
    args: t.Mapping[str, t.Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _Rule:
    method: str
    target: str | None
    after: int
    times: int | None
    exc: BaseException | None = None
    hook: Hook | None = None
    effect: bool = False
    seen: int = 0
    fired: int = 0

    def matches(self, call: Call) -> bool:
        if call.method != self.method:
            return False
        return self.target is None or fnmatch.fnmatchcase(call.target, self.target)

    def due(self) -> bool:
        """Counts a matching call; whether this rule fires for it."""
        self.seen += 1
        if self.seen <= self.after or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True


def compose_labels(
    project: str, service: str, number: int = 1, depends_on: t.Sequence[str] = (), **extra: str
) -> dict[str, str]:
    """The labels Compose v2 writes; ``depends_on`` entries are service names or full 'svc:cond:restart'."""
    deps = ",".join(d if ":" in d else f"{d}:service_started:false" for d in depends_on)
    return {
        COMPOSE_PROJECT: project,
        COMPOSE_SERVICE: service,
        COMPOSE_NUMBER: str(number),
        COMPOSE_DEPENDS_ON: deps,
        COMPOSE_ONEOFF: "False",
        **extra,
    }


def job_labels(name: str = "backup", image: str = "tools:1", **settings: str) -> dict[str, str]:
    """Job labels for a member container; settings use label suffixes with '_' for '-' (stop_timeout=...)."""
    labels = {LABEL_NAME: name, LABEL_IMAGE: image}
    for key, value in settings.items():
        labels["bosun.job." + key.replace("_", "-")] = value
    return labels


def _match(labels: t.Mapping[str, str], wanted: Labels) -> bool:
    for item in [wanted] if isinstance(wanted, str) else list(wanted):
        key, eq, value = item.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    return True


class FakeEventStream:
    """An event subscription: the engine pushes matching events; push() returns once the reader took the next one
    (so that a watch thread has handled each event before the engine call that made it returns)."""

    HANDLED_WITHIN = 5.0

    def __init__(self, filters: t.Mapping[str, t.Any]) -> None:
        self.filters = {k: [v] if isinstance(v, str) else list(v) for k, v in filters.items()}
        self.closed = False
        self._items: collections.deque[dict[str, t.Any]] = collections.deque()
        self._cond = threading.Condition()
        self._pushed = 0
        self._handled = 0
        self._handing = False

    def matches(self, event: t.Mapping[str, t.Any]) -> bool:
        f = self.filters
        attributes = event["Actor"]["Attributes"]
        return (
            event["Type"] in f.get("type", [event["Type"]])
            and event["Action"] in f.get("event", [event["Action"]])
            and _match(attributes, f.get("label", []))
        )

    def push(self, event: dict[str, t.Any]) -> None:
        with self._cond:
            if self.closed or not self.matches(event):
                return
            self._items.append(event)
            self._pushed += 1
            want = self._pushed
            self._cond.notify_all()
            self._cond.wait_for(lambda: self.closed or self._handled >= want, self.HANDLED_WITHIN)

    def __iter__(self) -> FakeEventStream:
        return self

    def __next__(self) -> dict[str, t.Any]:
        with self._cond:
            if self._handing:
                self._handled, self._handing = self._handled + 1, False
                self._cond.notify_all()
            self._cond.wait_for(lambda: self._items or self.closed)
            if self.closed:
                raise StopIteration
            self._handing = True
            return self._items.popleft()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class FakeEngine(DockerApi):
    """DockerApi over in-memory state; ``calls`` logs every typed call in order."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        super().__init__(client=None, options=ConnectionOptions())
        self.clock = clock or FakeClock(0.0)
        self.containers: dict[str, FakeContainer] = {}
        self.images: dict[str, dict[str, t.Any]] = {}
        self.pullable: dict[str, str] = {}
        self.volumes: dict[str, dict[str, str]] = {}
        self.calls: list[Call] = []
        self.worker_script = WorkerScript()
        # Hook behaviour by container name (default: exit 0 at once); every exec made, in order.
        self.hook_scripts: dict[str, HookScript] = {}
        self.execs: list[FakeExec] = []
        self._rules: list[_Rule] = []
        self.engine_kind: t.Literal["docker", "podman"] = "docker"
        self._lock = threading.RLock()
        self._serial = 0
        # Every event subscription made (events()), open or closed.
        self.streams: list[FakeEventStream] = []

    # Building state

    def _new_id(self, name: str) -> str:
        self._serial += 1
        return hashlib.sha256(f"{name}/{self._serial}".encode()).hexdigest()

    def add_image(self, ref: str) -> str:
        image_id = "sha256:" + hashlib.sha256(ref.encode()).hexdigest()
        self.images[ref] = {"Id": image_id, "RepoTags": [ref], "RepoDigests": []}
        return image_id

    def add_volume(self, name: str, labels: t.Mapping[str, str] | None = None) -> None:
        self.volumes[name] = dict(labels or {})

    def add_service(
        self,
        project: str,
        service: str,
        *,
        depends_on: t.Sequence[str] = (),
        replicas: int = 1,
        state: str = "running",
        image: str = "app:1",
        stop_timeout: int | None = None,
        health: t.Sequence[str] | None = None,
        labels: t.Mapping[str, str] | None = None,
        volumes: t.Sequence[tuple[str, bool]] = (),
    ) -> list[FakeContainer]:
        """The containers of one Compose service, named <project>-<service>-<n>."""
        image_id = self.images.get(image, {}).get("Id") or self.add_image(image)
        made = []
        for n in range(1, replicas + 1):
            name = f"{project}-{service}-{n}"
            c = FakeContainer(
                id=self._new_id(name),
                name=name,
                image=image,
                image_id=image_id,
                labels=compose_labels(project, service, n, depends_on, **(labels or {})),
                state=state,
                stop_timeout=stop_timeout,
                health=list(health) if health is not None else None,
                volumes=tuple(volumes),
            )
            if state == "exited":
                c.exit_code = 0
            self.containers[c.id] = c
            made.append(c)
        return made

    def add_job_volume(self, name: str, job: str = "backup", **labels: str) -> None:
        self.add_volume(name, {LABEL_ATTACH: job, **labels})

    # Looking at state

    def find(self, ref: str) -> FakeContainer | None:
        """A container by full id, name or unique id prefix (as the daemon resolves it)."""
        with self._lock:
            if ref in self.containers:
                return self.containers[ref]
            key = ref.lstrip("/")
            for c in self.containers.values():
                if c.name == key:
                    return c
            prefixed = [c for c in self.containers.values() if c.id.startswith(key)] if len(key) >= 4 else []
            return prefixed[0] if len(prefixed) == 1 else None

    def get(self, name: str) -> FakeContainer:
        c = self.find(name)
        assert c is not None, f"no container {name!r}"
        return c

    def state_of(self, name: str) -> str | None:
        c = self.find(name)
        return c.state if c else None

    def running(self, project: str | None = None) -> list[str]:
        return sorted(
            c.name
            for c in self.containers.values()
            if c.state in UP_STATES and (project is None or c.labels.get(COMPOSE_PROJECT) == project)
        )

    def names(self, method: str, pattern: str = "*") -> list[str]:
        """Targets of the logged calls of ``method`` matching the pattern, in call order."""
        return [c.target for c in self.calls if c.method == method and fnmatch.fnmatchcase(c.target, pattern)]

    def mutations(self) -> list[Call]:
        return [c for c in self.calls if c.method in MUTATING]

    def workers(self) -> list[FakeContainer]:
        return [c for c in self.containers.values() if LABEL_WORKER_RUN_ID in c.labels]

    # Faults and hooks

    def fail_on(
        self,
        method: str,
        target: str | None,
        exc: BaseException,
        *,
        after: int = 0,
        times: int | None = None,
        effect: bool = False,
    ) -> None:
        """Raise ``exc`` from matching calls after the first ``after`` ones (``times`` at most).

        With ``effect`` the daemon does the work first and the answer is lost (a transport failure mid-call).
        """
        self._rules.append(_Rule(method, target, after, times, exc=exc, effect=effect))

    def on(self, method: str, target: str | None, hook: Hook, *, after: int = 0, times: int | None = 1) -> None:
        """Run ``hook(engine, call)`` before matching calls (after the first ``after``), ``times`` times."""
        self._rules.append(_Rule(method, target, after, times, hook=hook))

    def _enter(self, method: str, target: str, **args: t.Any) -> _Rule | None:
        """Log the call, run due hooks, raise a due fault; the fault to raise after the effect, if any."""
        call = Call(method, target, args)
        with self._lock:
            self.calls.append(call)
            due = [r for r in self._rules if r.matches(call) and r.due()]
        for rule in due:
            if rule.hook is not None:
                rule.hook(self, call)
        for rule in due:
            if rule.exc is not None:
                if rule.effect:
                    return rule
                raise rule.exc
        return None

    @staticmethod
    def _leave(late: _Rule | None) -> None:
        if late is not None and late.exc is not None:
            raise late.exc

    def _emit(self, action: str, c: FakeContainer) -> None:
        """A container event, as the daemon sends it, to every open subscription that matches."""
        event = {
            "Type": "container",
            "Action": action,
            "status": action,
            "id": c.id,
            "Actor": {"ID": c.id, "Attributes": {**c.labels, "name": c.name, "image": c.image}},
        }
        for stream in list(self.streams):
            stream.push(event)

    def _name(self, ref: str) -> str:
        c = self.find(ref)
        return c.name if c else ref

    def _need(self, ref: str, what: str) -> FakeContainer:
        c = self.find(ref)
        if c is None:
            raise NotFoundError(
                f"cannot {what}: No such container: {ref}", status=404, explanation=f"No such container: {ref}"
            )
        return c

    # Containers

    def list_containers(
        self, labels: Labels, *, include_stopped: bool = True, ids: t.Sequence[str] | None = None
    ) -> list[ContainerRecord]:
        target = ",".join([labels] if isinstance(labels, str) else labels)
        late = self._enter("list_containers", target, **({} if ids is None else {"ids": list(ids)}))
        with self._lock:
            found = [
                c
                for c in self.containers.values()
                if _match(c.labels, labels) and (include_stopped or c.state in UP_STATES)
            ]
            if ids is not None:
                found = [c for c in found if c.id in ids]
            out = [c.record() for c in found]
            for c in found:  # health moves on with each observation
                if c.health and c.state == "running":
                    c.health_index += 1
        self._leave(late)
        return out

    def inspect_container(self, id_or_name: str) -> dict[str, t.Any] | None:
        late = self._enter("inspect_container", self._name(id_or_name))
        with self._lock:
            c = self.find(id_or_name)
            doc = (
                None
                if c is None
                else {
                    "Id": c.id,
                    "Name": "/" + c.name,
                    "Image": c.image_id,
                    "Config": {"Image": c.image, "Labels": dict(c.labels), "StopTimeout": c.stop_timeout, **c.config},
                    "State": {"Status": c.state, "Running": c.state == "running", "ExitCode": c.exit_code},
                    "HostConfig": dict(c.host_config),
                }
            )
        self._leave(late)
        return doc

    def container_exists(self, id_or_name: str) -> bool:
        late = self._enter("container_exists", self._name(id_or_name))
        found = self.find(id_or_name) is not None
        self._leave(late)
        return found

    def stop_timeout(self, id_or_name: str) -> int:
        late = self._enter("stop_timeout", self._name(id_or_name))
        c = self.find(id_or_name)
        self._leave(late)
        return c.stop_timeout if c is not None and c.stop_timeout is not None else DEFAULT_STOP_TIMEOUT

    def container_settings(self, id_or_name: str) -> ContainerSettings:
        late = self._enter("container_settings", self._name(id_or_name))
        c = self.find(id_or_name)
        self._leave(late)
        if c is None:
            return ContainerSettings(DEFAULT_STOP_TIMEOUT, RestartPolicy())
        policy = c.host_config.get("RestartPolicy") or {}
        return ContainerSettings(
            c.stop_timeout if c.stop_timeout is not None else DEFAULT_STOP_TIMEOUT,
            RestartPolicy(str(policy.get("Name") or "no"), int(policy.get("MaximumRetryCount") or 0)),
            bool(c.host_config.get("AutoRemove")),
        )

    def update_restart_policy(self, cid: str, policy: RestartPolicy, what: str = "") -> None:
        late = self._enter("update_restart_policy", self._name(cid), policy=policy.name)
        with self._lock:
            c = self._need(cid, what or "update container")
            c.host_config["RestartPolicy"] = {"Name": policy.name, "MaximumRetryCount": policy.max_retries}
        self._leave(late)

    def restart_policy(self, name: str) -> str:
        """The restart policy name a container has now (tests' view)."""
        c = self._need(name, "read the restart policy")
        return str((c.host_config.get("RestartPolicy") or {}).get("Name") or "no")

    def engine(self) -> EngineInfo:
        """Docker, unless a test sets ``engine_kind`` to "podman"."""
        self._leave(self._enter("engine", "engine"))
        return EngineInfo(self.engine_kind, "20.10.24", "1.41")

    def ping(self) -> bool:
        try:
            self._leave(self._enter("ping", "engine"))
        except Exception:  # pylint: disable=broad-exception-caught
            return False
        return True

    def create_container(
        self,
        what: str,
        image: str,
        *,
        name: str,
        labels: t.Mapping[str, str],
        command: t.Sequence[str] | None = None,
        host_config: t.Mapping[str, t.Any] | None = None,
        **config: t.Any,
    ) -> str:
        late = self._enter(
            "create_container",
            name,
            image=image,
            labels=dict(labels),
            command=command,
            host_config=dict(host_config or {}),
            config=dict(config),
        )
        with self._lock:
            raw = self.inspect_image_raw(image)
            if raw is None:
                raise NotFoundError(
                    f"cannot {what}: No such image: {image}", status=404, explanation=f"No such image: {image}"
                )
            if any(c.name == name for c in self.containers.values()):
                raise ConflictError(
                    f'cannot {what}: Conflict. The container name "/{name}" is already in use',
                    status=409,
                    explanation=f'The container name "/{name}" is already in use',
                )
            c = FakeContainer(
                id=self._new_id(name),
                name=name,
                image=image,
                image_id=raw["Id"],
                labels=dict(labels),
                config={"Cmd": list(command) if command else None, **config},
                host_config=dict(host_config or {}),
                stop_timeout=config.get("stop_timeout"),
            )
            if LABEL_WORKER_RUN_ID in labels:
                c.script = dataclasses.replace(self.worker_script)
            self.containers[c.id] = c
        self._emit("create", c)
        self._leave(late)
        return c.id

    def start_container(self, cid: str, what: str = "") -> None:
        late = self._enter("start_container", self._name(cid))
        with self._lock:
            c = self._need(cid, what or "start container")
            started = c.state != "running"
            if started:
                c.state, c.waits, c.health_index = "running", 0, 0
                if c.crashes_on_start:
                    c.state, c.exit_code = "exited", 1
        if started:  # Docker answers 304 for a running container, with no event
            self._emit("start", c)
        self._leave(late)

    def stop_container(self, cid: str, timeout: int, what: str = "") -> None:
        late = self._enter("stop_container", self._name(cid), timeout=timeout)
        with self._lock:
            c = self._need(cid, what or "stop container")
            if c.state in UP_STATES:
                c.state = "exited"
                c.exit_code = c.script.stopped_exit_code if c.script else 0
        self._leave(late)

    def pause_container(self, cid: str, what: str = "") -> None:
        late = self._enter("pause_container", self._name(cid))
        with self._lock:
            c = self._need(cid, what or "pause container")
            if c.state == "running":
                c.state = "paused"
        self._leave(late)

    def unpause_container(self, cid: str, what: str = "") -> None:
        late = self._enter("unpause_container", self._name(cid))
        with self._lock:
            c = self._need(cid, what or "unpause container")
            thawed = c.state == "paused"
            if thawed:
                c.state = "running"
        if thawed:
            self._emit("unpause", c)
        self._leave(late)

    def remove_container(self, cid: str, *, volumes: bool = False, what: str = "") -> bool:
        late = self._enter("remove_container", self._name(cid), volumes=volumes)
        with self._lock:
            c = self.find(cid)
            if c is not None:
                del self.containers[c.id]
        self._leave(late)
        return c is not None

    def wait_container(self, cid: str, timeout: float, what: str = "") -> int | None:
        late = self._enter("wait_container", self._name(cid), timeout=timeout)
        with self._lock:
            c = self._need(cid, what or "wait for container")
            if c.state == "running" and c.script is not None:
                c.waits += 1
                if c.script.exits_after_waits is not None and c.waits >= c.script.exits_after_waits:
                    c.state, c.exit_code = "exited", c.script.exit_code
            code = None if c.state == "running" else c.exit_code
        if code is None:
            self.clock.advance(timeout)
        self._leave(late)
        return code

    def container_logs(self, cid: str, what: str = "") -> t.Iterator[bytes]:
        late = self._enter("container_logs", self._name(cid))
        c = self._need(cid, what or "read the logs")
        self._leave(late)
        data = c.script.logs if c.script else b""
        return iter([data[i : i + 7] for i in range(0, len(data), 7)])  # odd chunks: lines split across them

    def events(self, filters: t.Mapping[str, t.Any], since: float | None = None) -> FakeEventStream:
        late = self._enter("events", ",".join(f"{k}={v}" for k, v in sorted(filters.items())))
        stream = FakeEventStream(filters)
        self.streams.append(stream)
        self._leave(late)
        return stream

    # Exec (hooks)

    # The fake's processes are not on this host: a hook runner must never signal a real pid for it.
    local = False

    @property
    def is_local(self) -> bool:
        return self.local

    def exec_create(
        self, cid: str, argv: t.Sequence[str], *, user: str | None, env: t.Mapping[str, str], what: str = ""
    ) -> str:
        late = self._enter("exec_create", self._name(cid), argv=list(argv), user=user, env=dict(env))
        with self._lock:
            c = self._need(cid, what or "set up an exec")
            if c.state != "running":
                raise ConflictError(f"cannot {what}: container {c.id} is not running", status=409)
            e = FakeExec(
                self._new_id("exec"), c.name, list(argv), user, dict(env), self.hook_scripts.get(c.name, HookScript())
            )
            self.execs.append(e)
        self._leave(late)
        return e.id

    def _exec(self, exec_id: str) -> FakeExec:
        found = next((e for e in self.execs if e.id == exec_id), None)
        if found is None:
            raise NotFoundError(f"no such exec instance: {exec_id}", status=404)
        return found

    def exec_start(self, exec_id: str, what: str = "") -> t.Iterator[bytes]:
        late = self._enter("exec_start", self._exec(exec_id).container)
        e = self._exec(exec_id)
        e.started = True
        self._leave(late)
        data = e.script.output
        return iter([data[i : i + 5] for i in range(0, len(data), 5)])

    def exec_inspect(self, exec_id: str) -> dict[str, t.Any]:
        late = self._enter("exec_inspect", self._exec(exec_id).container)
        with self._lock:
            e = self._exec(exec_id)
            if e.started:
                e.inspects += 1
            ends = e.script.ends_after_inspects
            done = e.started and ends is not None and e.inspects >= ends
        self._leave(late)
        return {"Running": e.started and not done, "ExitCode": e.script.exit_code if done else None, "Pid": 4242}

    # Images and volumes

    def inspect_image_raw(self, ref: str) -> dict[str, t.Any] | None:
        if ref in self.images:
            return self.images[ref]
        return next((i for i in self.images.values() if i["Id"] == ref), None)

    def inspect_image(self, ref: str) -> dict[str, t.Any] | None:
        late = self._enter("inspect_image", ref)
        with self._lock:
            raw = self.inspect_image_raw(ref)
        self._leave(late)
        return raw

    def pull_image(self, repository: str, tag: str | None) -> t.Iterator[dict[str, t.Any]]:
        ref = repository + (f":{tag}" if tag else "")
        late = self._enter("pull_image", ref)
        self._leave(late)
        if ref in self.pullable:
            self.add_image(ref)
            return iter([{"status": "Pulling from " + repository}, {"status": "Downloaded newer image"}])
        return iter([{"error": f"pull access denied for {repository}"}])

    def list_volumes(self, labels: Labels) -> list[VolumeRecord]:
        late = self._enter("list_volumes", ",".join([labels] if isinstance(labels, str) else labels))
        out = [VolumeRecord(name=n, labels=dict(lb)) for n, lb in sorted(self.volumes.items()) if _match(lb, labels)]
        self._leave(late)
        return out

    def volume_exists(self, name: str) -> bool:
        late = self._enter("volume_exists", name)
        self._leave(late)
        return name in self.volumes


# The stack most tests use. Start levels: [cache, db], [adminer, api x2], [web]; adminer is stopped and
# must never be started. Another project runs beside it and must never be touched.
PROJECT = "shop"
RUN_ID = "0123456789abcdef0123456789abcdef"
WORKER = "bosun-worker-backup-01234567"
STOP_ORDER = [["shop-web-1"], ["shop-api-1", "shop-api-2"], ["shop-cache-1", "shop-db-1"]]


def build_shop(
    engine: FakeEngine, *, job: t.Mapping[str, str] | None = None, health: t.Mapping[str, t.Sequence[str]] | None = None
) -> FakeEngine:
    """The shop stack with job 'backup' (labels on web, volume shop_data), plus a running 'other' stack."""
    health = health or {}
    engine.add_image("tools:1")
    engine.add_service(PROJECT, "db", image="postgres:16", stop_timeout=30, health=health.get("db"))
    engine.add_service(PROJECT, "cache", image="redis:7", health=health.get("cache"))
    engine.add_service(
        PROJECT, "api", depends_on=["db:service_healthy:false", "cache"], replicas=2, health=health.get("api")
    )
    engine.add_service(PROJECT, "adminer", depends_on=["db"], state="exited")
    engine.add_service(PROJECT, "web", depends_on=["api"], labels=job_labels(**(job or {})), health=health.get("web"))
    engine.add_job_volume("shop_data", "backup", **{"bosun.job.mount.path": "/data"})
    engine.add_service("other", "app")
    return engine


def run_backup(
    engine: FakeEngine,
    state_dir: t.Any,
    cancel: Cancellation | None = None,
    *,
    overrides: t.Mapping[str, t.Any] | None = None,
    recreator: t.Callable[[ComposeProject], Recreator] | None = None,
    **options: t.Any,
) -> RunResult:
    """The shop's job ``backup`` through the Executor on the engine's fake clock, run id RUN_ID."""
    job, secret = resolve_job(engine, "backup", PROJECT, overrides)
    executor = Executor(
        engine,
        str(state_dir),
        wall=engine.clock.wall,
        clock=engine.clock.monotonic,
        sleep=engine.clock.sleep,
        recreator=recreator,
    )
    return executor.run(job, RunOptions(secret_env=secret, run_id=RUN_ID, **options), cancel)
