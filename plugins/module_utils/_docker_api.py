# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Engine client: the one place that talks to the Docker Engine, through the SDK's low-level APIClient.

Every Engine call the core makes is a typed method here. Errors are turned into core errors once:
a transport failure is DockerUnavailableError, an answer with an error is EngineError (NotFoundError
for 404, ConflictError for 409); inspect methods return None for a missing object.
The SDK import is guarded so that the collection imports without it (ansible-test's import sanity
test, controllers without the SDK); modules report HAS_DOCKER as a missing library.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import sys
import time
import traceback
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    ConflictError,
    DockerUnavailableError,
    EngineError,
    NotFoundError,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    DEFAULT_STOP_TIMEOUT,
    ContainerRecord,
    ContainerSettings,
    RestartPolicy,
    VolumeRecord,
)

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._container_index import ContainerIndex

try:
    import docker
    import docker.constants
    import docker.errors
    import docker.tls
    import requests
    import requests.adapters
    import requests.exceptions

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR: str | None = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
# The oldest Docker SDK the collection supports. Older ones break with requests 2.32 and newer (which dropped the
# http+docker scheme they rely on: "Not supported URL scheme http+docker"), and are not tested with older requests.
SDK_FLOOR = (7, 1, 0)
REQUESTS_WITHOUT_HTTP_DOCKER = (2, 32, 0)
Labels = t.Union[str, t.Sequence[str]]
DOCKER = "docker"
PODMAN = "podman"


@dataclasses.dataclass(frozen=True)
class EngineInfo:
    """Which engine answers on the socket: Docker or Podman's Docker-compatible service, and its versions.

    ``can_update_restart_policy``: POST /containers/{id}/update takes a RestartPolicy (Podman 4 answers 404).
    """

    kind: t.Literal["docker", "podman"]
    version: str
    api_version: str

    @property
    def can_update_restart_policy(self) -> bool:
        return self.kind == DOCKER

    @property
    def can_watch_third_parties(self) -> bool:
        """Whether a start event of a stopped container comes only from a client (Docker), so the third-party watch
        can trust it; Podman starts pod and --requires members itself."""
        return self.kind == DOCKER

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "api_version": self.api_version,
            "can_update_restart_policy": self.can_update_restart_policy,
        }


def engine_info(version: t.Mapping[str, t.Any]) -> EngineInfo:
    """EngineInfo from the version endpoint's answer; Podman names a component "Podman Engine"."""
    names = [str(c.get("Name", "")) for c in version.get("Components") or [] if isinstance(c, t.Mapping)]
    podman = any(n.startswith("Podman") for n in names)
    return EngineInfo(
        "podman" if podman else "docker", str(version.get("Version") or ""), str(version.get("ApiVersion") or "")
    )


def has_labels(labels: t.Mapping[str, str], wanted: Labels) -> bool:
    """Whether ``labels`` carry every wanted label (``key`` or ``key=value``), as Docker's label filter means."""
    for item in label_list(wanted):
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


@dataclasses.dataclass(frozen=True)
class ConnectionOptions:
    """How to reach the Engine; same names and meaning as community.docker's options."""

    docker_host: str = DEFAULT_DOCKER_HOST
    tls: bool = False
    validate_certs: bool = False
    ca_path: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    tls_hostname: str | None = None
    api_version: str = "auto"
    timeout: int = 60


def _version_tuple(version: str) -> tuple[int, ...] | None:
    """(7, 1, 0) from "7.1.0" or "7.1.0.dev3+g1a2b"; None when there is no leading number."""
    numbers = []
    for part in version.split(".")[:3]:
        m = re.match(r"\d+", part)
        if not m:
            break
        numbers.append(int(m.group()))
    return tuple(numbers) if numbers else None


def sdk_version_problem(docker_version: str, requests_version: str, python: str = "") -> str | None:
    """Why this Docker SDK / requests pair cannot be used, or None when it can (or a version is unreadable)."""
    sdk, req = _version_tuple(docker_version), _version_tuple(requests_version)
    if sdk is None or req is None or sdk >= SDK_FLOOR:
        return None
    floor = ".".join(map(str, SDK_FLOOR))
    where = f" for {python}" if python else ""
    if req >= REQUESTS_WITHOUT_HTTP_DOCKER:
        return (
            f"Docker SDK for Python {docker_version} with requests {requests_version} cannot talk to the Engine "
            f"(requests 2.32 dropped the http+docker scheme it uses); install docker>={floor}{where}"
        )
    return (
        f"Docker SDK for Python {docker_version} (with requests {requests_version}) is older than the supported "
        f"{floor}; install docker>={floor}{where}"
    )


def _tls_config(o: ConnectionOptions) -> t.Any:
    if not (o.tls or o.validate_certs):
        return False
    if bool(o.client_cert) != bool(o.client_key):
        raise DockerUnavailableError(
            "client_cert and client_key must be given together for TLS client authentication",
            client_cert=o.client_cert,
            client_key=o.client_key,
        )
    cert = (o.client_cert, o.client_key) if o.client_cert else None
    return docker.tls.TLSConfig(client_cert=cert, ca_cert=o.ca_path, verify=o.validate_certs)


def _container_record(c: t.Mapping[str, t.Any]) -> ContainerRecord:
    names = c.get("Names") or [c["Id"][:12]]
    return ContainerRecord(
        id=c["Id"],
        name=names[0].lstrip("/"),
        state=c.get("State") or "",
        labels=c.get("Labels") or {},
        image=c.get("Image") or "",
        image_id=c.get("ImageID") or "",
        status=c.get("Status") or "",
        network_mode=(c.get("HostConfig") or {}).get("NetworkMode") or "",
        volumes=tuple(
            (str(m["Name"]), bool(m.get("RW", True)))
            for m in c.get("Mounts") or []
            if m.get("Type") == "volume" and m.get("Name")
        ),
    )


class EventStream(t.Protocol):
    """An open event stream (the SDK's CancellableStream): iterate it for event dicts, close() it to end it."""

    def __iter__(self) -> t.Iterator[dict[str, t.Any]]:
        """The events, one decoded dict each, until the stream is closed."""

    def close(self) -> None:
        """End the stream; a reader blocked on it returns."""


def label_list(labels: Labels) -> list[str]:
    return [labels] if isinstance(labels, str) else list(labels)


class DockerApi:
    """Typed Engine calls over docker.APIClient; no raw SDK call exists outside this class."""

    def __init__(self, client: t.Any, options: ConnectionOptions) -> None:
        self.client = client
        self.options = options
        self._engine: EngineInfo | None = None
        # Answers find_containers when set (the modules set it, _module.connect): see _container_index.py.
        self.index: ContainerIndex | None = None

    def engine(self) -> EngineInfo:
        """Docker or Podman, and the versions: one version request per client, then cached."""
        if self._engine is None:
            version = self._call("read the engine version", self.client.version, api_version=False)
            self._engine = engine_info(version or {})
        return self._engine

    @classmethod
    def connect(cls, options: ConnectionOptions) -> DockerApi:
        if not HAS_DOCKER:
            raise DockerUnavailableError(
                "the Docker SDK for Python (docker) is not installed", import_error=DOCKER_IMPORT_ERROR
            )
        sdk_version = str(getattr(docker, "__version__", ""))
        requests_version = str(getattr(requests, "__version__", ""))
        problem = sdk_version_problem(sdk_version, requests_version, sys.executable)
        if problem:
            raise DockerUnavailableError(problem, docker_version=sdk_version, requests_version=requests_version)
        auto = options.api_version == "auto"
        try:
            # The version is negotiated below, after the TLS set-up: with "auto" the SDK would ask in __init__.
            client = _Client(
                base_url=options.docker_host,
                version=docker.constants.DEFAULT_DOCKER_API_VERSION if auto else options.api_version,
                timeout=options.timeout,
                tls=_tls_config(options),
            )
            if options.tls_hostname and options.docker_host.startswith(("tcp://", "https://")):
                client.mount("https://", _HostnameAdapter(options.tls_hostname))
            version = client.version(api_version=False) if auto else None
            if version is not None:
                client._version = version["ApiVersion"]  # pylint: disable=protected-access
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise DockerUnavailableError(
                f"cannot talk to the Docker Engine at {options.docker_host!r}: {exc}", docker_host=options.docker_host
            ) from exc
        api = cls(client, options)
        if version is not None:
            api._engine = engine_info(version)  # the negotiation's answer: no second version request
        return api

    def _call(self, what: str, fn: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any) -> t.Any:
        """fn(*args, **kwargs); the daemon's errors become EngineError, transport failures DockerUnavailableError."""
        try:
            return fn(*args, **kwargs)
        except docker.errors.APIError as exc:
            status = getattr(exc, "status_code", None)
            status = status if isinstance(status, int) else None
            explanation = str(getattr(exc, "explanation", None) or exc)
            kind = NotFoundError if status == 404 else ConflictError if status == 409 else EngineError
            raise kind(f"cannot {what}: {explanation}", status=status, explanation=explanation) from exc
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise DockerUnavailableError(
                f"cannot {what} on the Docker Engine at {self.options.docker_host!r}: {exc}",
                docker_host=self.options.docker_host,
            ) from exc

    # Containers

    def list_containers(
        self, labels: Labels, *, include_stopped: bool = True, ids: t.Sequence[str] | None = None
    ) -> list[ContainerRecord]:
        """Containers carrying every given label (key or key=value), and with ``ids`` only those of these full
        ids: one request, no inspect. A label filter makes the Engine walk every container on the host; ids
        are looked up by id instead, so a list of known containers costs the same on a host of any size."""
        filters: dict[str, list[str]] = {"label": label_list(labels)}
        if ids is not None:
            if not ids:
                return []
            filters["id"] = list(ids)
        raw = self._call("list containers", self.client.containers, all=include_stopped, filters=filters)
        return [_container_record(c) for c in raw if ids is None or c.get("Id") in ids]

    def find_containers(self, labels: Labels) -> list[ContainerRecord]:
        """Every container carrying all ``labels``, stopped ones included: through the container index when one
        is set (two requests that do not walk the host), else one label-filtered list."""
        return self.index.find(labels) if self.index is not None else self.list_containers(labels)

    def container_events(self, since_nano: int | None) -> list[dict[str, t.Any]]:
        """The container events the Engine still buffers (its last 256 events of any kind) from ``since_nano``
        (inclusive; None: all of them) up to now, oldest first: one request that returns at once. ``until`` is
        this host's clock, so only for a local Engine."""
        since = "0" if since_nano is None else f"{since_nano // 10**9}.{since_nano % 10**9:09d}"

        def read() -> list[dict[str, t.Any]]:
            stream = self.client.events(
                since=since,
                until=f"{time.time():.9f}",
                filters={"type": ["container"]},
                decode=True,
            )
            return [e for e in stream if isinstance(e, dict)]

        return t.cast(list, self._call("read the Engine's container events", read))

    def inspect_container(self, id_or_name: str) -> dict[str, t.Any] | None:
        """The container's inspect document, or None when it does not exist."""
        try:
            return t.cast(
                dict, self._call(f"inspect container {id_or_name!r}", self.client.inspect_container, id_or_name)
            )
        except NotFoundError:
            return None

    def container_exists(self, id_or_name: str) -> bool:
        return self.inspect_container(id_or_name) is not None

    def stop_timeout(self, id_or_name: str) -> int:
        """The container's own stop timeout (Compose stop_grace_period), else Docker's default 10 s."""
        return self.container_settings(id_or_name).stop_timeout

    def container_settings(self, id_or_name: str) -> ContainerSettings:
        """Its stop timeout and restart policy (one inspect); Docker's defaults for a container that is gone."""
        info = self.inspect_container(id_or_name) or {}
        grace = (info.get("Config") or {}).get("StopTimeout")
        host = info.get("HostConfig") or {}
        policy = host.get("RestartPolicy") or {}
        return ContainerSettings(
            stop_timeout=grace if isinstance(grace, int) and grace >= 0 else DEFAULT_STOP_TIMEOUT,
            restart_policy=RestartPolicy(str(policy.get("Name") or "no"), int(policy.get("MaximumRetryCount") or 0)),
            auto_remove=bool(host.get("AutoRemove")),
        )

    def update_restart_policy(self, cid: str, policy: RestartPolicy, what: str = "") -> None:
        """Set a container's restart policy (``docker update --restart``), running or not."""
        self._call(
            what or f"set the restart policy of container {cid[:12]} to {policy.name}",
            self.client.update_container,
            cid,
            restart_policy={"Name": policy.name, "MaximumRetryCount": policy.max_retries},
        )

    def ping(self) -> bool:
        """Whether the Engine answers now (its ``/_ping``); False on any failure."""
        try:
            return bool(self.client.ping())
        except Exception:  # pylint: disable=broad-exception-caught
            return False

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
        """Create (not start) a container; its id. ``host_config`` takes create_host_config's keywords."""
        hc = self.client.create_host_config(**(host_config or {}))
        created = self._call(
            what,
            self.client.create_container,
            image,
            command=command,
            name=name,
            labels=dict(labels),
            host_config=hc,
            **config,
        )
        return str(created["Id"])

    def start_container(self, cid: str, what: str = "") -> None:
        self._call(what or f"start container {cid[:12]}", self.client.start, cid)

    def stop_container(self, cid: str, timeout: int, what: str = "") -> None:
        """SIGTERM (the container's stop signal), SIGKILL after ``timeout`` seconds; returns once it is down."""
        self._call(what or f"stop container {cid[:12]}", self.client.stop, cid, timeout=timeout)

    def pause_container(self, cid: str, what: str = "") -> None:
        """Freeze every process of a running container (``docker pause``)."""
        self._call(what or f"pause container {cid[:12]}", self.client.pause, cid)

    def unpause_container(self, cid: str, what: str = "") -> None:
        """Thaw a paused container (``docker unpause``)."""
        self._call(what or f"unpause container {cid[:12]}", self.client.unpause, cid)

    def remove_container(self, cid: str, *, volumes: bool = False, what: str = "") -> bool:
        """Force-remove a container (with its anonymous volumes if ``volumes``); False when it did not exist."""
        try:
            self._call(what or f"remove container {cid[:12]}", self.client.remove_container, cid, force=True, v=volumes)
        except NotFoundError:
            return False
        return True

    def remove_container_settled(
        self, cid: str, *, volumes: bool = False, what: str = "", within: float = 5.0, interval: float = 0.2
    ) -> bool:
        """remove_container(), where a removal already in progress elsewhere (HTTP 409) counts as done.

        True when this call removed it; False when it did not exist or someone else's removal made it vanish
        within ``within`` seconds. A conflict that does not settle is raised (ConflictError).
        """
        try:
            return self.remove_container(cid, volumes=volumes, what=what)
        except ConflictError:
            deadline = time.monotonic() + within
            while self.container_exists(cid):
                if time.monotonic() >= deadline:
                    raise
                time.sleep(interval)
            return False

    def wait_container(self, cid: str, timeout: float, what: str = "") -> int | None:
        """The exit code once the container has stopped, or None when it still runs after ``timeout`` seconds."""
        try:
            status = self.client.wait(cid, timeout=timeout)
        except requests.exceptions.RequestException as exc:
            if "timed out" in str(exc).lower():  # SDK 7 reports a read timeout as ConnectionError
                return None
            raise DockerUnavailableError(f"cannot {what or 'wait for container ' + cid[:12]}: {exc}") from exc
        except docker.errors.APIError as exc:
            # Translate through _call's rules (404, 409, other).
            return t.cast("int | None", self._call(what or f"wait for container {cid[:12]}", _reraise, exc))
        code = status.get("StatusCode")
        return code if isinstance(code, int) else None

    def container_logs(self, cid: str, what: str = "") -> t.Iterator[bytes]:
        """stdout and stderr of a stopped container, as raw payload chunks (no tty, so no 8-byte headers)."""
        return t.cast(
            t.Iterator[bytes],
            self._call(
                what or f"read the logs of container {cid[:12]}",
                self.client.logs,
                cid,
                stdout=True,
                stderr=True,
                stream=True,
                follow=False,
            ),
        )

    def events(self, filters: t.Mapping[str, t.Any], since: float | None = None) -> EventStream:
        """The Engine's events matching ``filters`` (decoded), from ``since`` (a Unix time) or from now on.

        The subscription is in place when this returns. Another thread may ``close()`` the stream: a reader
        blocked on it then ends (or raises, which it should ignore once it closed the stream itself).
        """
        return t.cast(
            EventStream,
            self._call("read the Engine's events", self.client.events, since=since, filters=dict(filters), decode=True),
        )

    # Exec (hooks)

    def exec_create(
        self, cid: str, argv: t.Sequence[str], *, user: str | None, env: t.Mapping[str, str], what: str = ""
    ) -> str:
        """Set up ``argv`` to run inside the running container ``cid`` (no tty, no stdin, not privileged)."""
        created = self._call(
            what or f"set up an exec in container {cid[:12]}",
            self.client.exec_create,
            cid,
            list(argv),
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
            privileged=False,
            user=user or "",
            environment=[f"{k}={v}" for k, v in env.items()],
        )
        return str(created["Id"])

    def exec_start(self, exec_id: str, what: str = "") -> t.Iterator[bytes]:
        """Start the exec; its stdout and stderr as chunks, until it ends (or the client's timeout passes)."""
        stream = self._call(what or f"start exec {exec_id[:12]}", self.client.exec_start, exec_id, stream=True)
        try:
            yield from stream
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise DockerUnavailableError(f"cannot {what or 'read exec ' + exec_id[:12]}: {exc}") from exc
        finally:
            with contextlib.suppress(Exception):
                stream.close()

    def exec_inspect(self, exec_id: str) -> dict[str, t.Any]:
        """The exec's state: ``Running``, ``ExitCode`` and ``Pid`` (in the host's process namespace)."""
        info = t.cast(dict, self._call(f"inspect exec {exec_id[:12]}", self.client.exec_inspect, exec_id))
        if self.engine().kind == PODMAN and not info.get("Running") and not info.get("CanRemove"):
            # Podman reports ExitCode 0 for an exec that has not started yet (Docker: null); only an ended
            # session can be removed.
            info["ExitCode"] = None
        return info

    @property
    def is_local(self) -> bool:
        """Whether the Engine runs on this host (a unix socket), so that its processes are visible here."""
        return self.options.docker_host.startswith(("unix://", "/"))

    # Images and volumes

    def inspect_image(self, ref: str) -> dict[str, t.Any] | None:
        """The image's inspect document, or None when it is not on the host."""
        try:
            return t.cast(dict, self._call(f"inspect image {ref!r}", self.client.inspect_image, ref))
        except NotFoundError:
            return None

    def pull_image(self, repository: str, tag: str | None) -> t.Iterator[dict[str, t.Any]]:
        """The pull's progress events; an event with ``error`` means the pull failed."""
        what = f"pull image {repository}" + (f":{tag}" if tag else "")
        events = self._call(what, self.client.pull, repository, tag=tag, stream=True, decode=True)
        try:
            yield from events
        except docker.errors.APIError as exc:
            self._call(what, _reraise, exc)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise DockerUnavailableError(f"cannot {what}: {exc}") from exc

    def list_volumes(self, labels: Labels) -> list[VolumeRecord]:
        """Volumes carrying every given label: one request."""
        raw = self._call("list volumes", self.client.volumes, filters={"label": label_list(labels)})
        # Podman 4 ORs several label filters on volumes (Docker ANDs them): keep only those that carry all.
        return [
            VolumeRecord(name=v["Name"], labels=v.get("Labels") or {})
            for v in (raw or {}).get("Volumes") or []
            if has_labels(v.get("Labels") or {}, labels)
        ]

    def volume_exists(self, name: str) -> bool:
        try:
            self._call(f"inspect volume {name!r}", self.client.inspect_volume, name)
        except NotFoundError:
            return False
        return True


def _reraise(exc: BaseException) -> t.NoReturn:
    raise exc


if HAS_DOCKER:

    class _Client(docker.APIClient):
        """An APIClient that ignores REQUESTS_CA_BUNDLE, proxies and .netrc: only our options decide TLS trust."""

        @property
        def trust_env(self) -> bool:
            return False

        @trust_env.setter
        def trust_env(self, value: bool) -> None:
            pass  # requests.Session.__init__ sets True; ignored on purpose

    class _HostnameAdapter(requests.adapters.HTTPAdapter):
        """Checks the daemon's TLS certificate against tls_hostname instead of the host in docker_host."""

        def __init__(self, hostname: str) -> None:
            self._hostname = hostname
            super().__init__()

        def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
            kwargs["assert_hostname"] = self._hostname
            super().init_poolmanager(*args, **kwargs)
