# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker access: the one place that talks to the Engine, through the SDK's low-level APIClient.

The SDK import is guarded so that the collection imports without it (ansible-test's import sanity
test, controllers without the SDK); modules report HAS_DOCKER as a missing library.
This is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import dataclasses
import traceback
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils.model import (
    DEFAULT_STOP_TIMEOUT,
    ContainerRecord,
    DockerUnavailableError,
    VolumeRecord,
)

try:
    import docker
    import docker.constants
    import docker.errors
    import docker.tls
    import requests.adapters

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR: str | None = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def status_code(exc: BaseException) -> int | None:
    """The HTTP status of a Docker API error (404 not found, 409 conflict, ...), else None."""
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


def error_text(exc: BaseException) -> str:
    """What the daemon said (its explanation) or the error's own message."""
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return str(explanation)
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


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


def _tls_config(o: ConnectionOptions) -> t.Any:
    if not (o.tls or o.validate_certs):
        return False
    if bool(o.client_cert) != bool(o.client_key):
        raise DockerUnavailableError(
            "client_cert and client_key must be given together for TLS client authentication",
            client_cert=o.client_cert, client_key=o.client_key)
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
    )


class DockerApi:
    """Thin wrapper over docker.APIClient: every Engine call the core makes goes through here."""

    def __init__(self, client: t.Any, options: ConnectionOptions) -> None:
        self.client = client
        self.options = options

    @classmethod
    def connect(cls, options: ConnectionOptions) -> DockerApi:
        if not HAS_DOCKER:
            raise DockerUnavailableError("the Docker SDK for Python (docker) is not installed",
                                         import_error=DOCKER_IMPORT_ERROR)
        auto = options.api_version == "auto"
        try:
            # The version is negotiated below, after the TLS set-up: with "auto" the SDK would ask in __init__.
            client = _Client(base_url=options.docker_host,
                             version=docker.constants.DEFAULT_DOCKER_API_VERSION if auto else options.api_version,
                             timeout=options.timeout, tls=_tls_config(options))
            if options.tls_hostname and options.docker_host.startswith(("tcp://", "https://")):
                client.mount("https://", _HostnameAdapter(options.tls_hostname))
            if auto:
                client._version = client.version(api_version=False)["ApiVersion"]  # pylint: disable=protected-access
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise DockerUnavailableError(
                f"cannot talk to the Docker Engine at {options.docker_host!r}: {exc}", docker_host=options.docker_host)
        return cls(client, options)

    def call(self, what: str, fn: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any) -> t.Any:
        """fn(*args, **kwargs) with transport failures turned into DockerUnavailableError naming `what`.

        docker.errors.APIError (the daemon answered with an error, e.g. NotFound) passes through.
        """
        try:
            return fn(*args, **kwargs)
        except docker.errors.APIError:
            raise
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise DockerUnavailableError(
                f"cannot {what} on the Docker Engine at {self.options.docker_host!r}: {exc}",
                docker_host=self.options.docker_host)

    def list_containers(self, label: str | t.Sequence[str], *, all: bool = True) -> list[ContainerRecord]:
        """Containers carrying every given label (key or key=value): one request, no inspect."""
        labels = [label] if isinstance(label, str) else list(label)
        raw = self.call("list containers", self.client.containers, all=all, filters={"label": labels})
        return [_container_record(c) for c in raw]

    def list_volumes(self, label: str | t.Sequence[str]) -> list[VolumeRecord]:
        """Volumes carrying every given label: one request."""
        labels = [label] if isinstance(label, str) else list(label)
        raw = self.call("list volumes", self.client.volumes, filters={"label": labels})
        return [VolumeRecord(name=v["Name"], labels=v.get("Labels") or {}) for v in (raw or {}).get("Volumes") or []]

    def volume_exists(self, name: str) -> bool:
        try:
            self.call(f"inspect volume {name!r}", self.client.inspect_volume, name)
        except docker.errors.NotFound:
            return False
        return True

    def inspect_container(self, id_or_name: str) -> dict[str, t.Any]:
        return self.call(f"inspect container {id_or_name!r}", self.client.inspect_container, id_or_name)

    def stop_timeout(self, id_or_name: str) -> int:
        """The container's own stop timeout (Compose stop_grace_period), else Docker's default 10 s."""
        grace = (self.inspect_container(id_or_name).get("Config") or {}).get("StopTimeout")
        return grace if isinstance(grace, int) and grace >= 0 else DEFAULT_STOP_TIMEOUT


if HAS_DOCKER:

    class _Client(docker.APIClient):
        """An APIClient that ignores REQUESTS_CA_BUNDLE, proxies and .netrc: only our options decide TLS trust."""

        @property
        def trust_env(self) -> bool:  # type: ignore[override]
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
