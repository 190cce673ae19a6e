# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The worker runner: one hardened, one-shot container with the job's volumes mounted.

WorkerSpec says what to run and refuses unsafe settings when it is built (host or container:
networking, host paths outside the allowed ones, bad names). WorkerRunner.run() creates the container
with the SDK's low-level API, waits for it with a timeout and a cancel event, stops it with SIGTERM and a
grace period (Docker sends SIGKILL after it), keeps the full log under the state directory and returns the
last lines, and always removes the container unless told to keep a failed one.
Secret environment values never appear in results, plans or logs kept by this module.
No Ansible imports; the Docker SDK is reached only through DockerApi.
This is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import codecs
import collections
import dataclasses
import os
import posixpath
import re
import threading
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils.model import (
    DEFAULT_STOP_TIMEOUT,
    DEFAULT_TIMEOUT,
    LABEL_WORKER_JOB,
    LABEL_WORKER_RUN_ID,
    MAX_DURATION,
    BosunError,
    DockerUnavailableError,
    Mount,
    utc_iso,
)
from ansible_collections.bosun.compose.plugins.module_utils.docker_api import error_text, status_code

try:
    from requests.exceptions import RequestException  # comes with the Docker SDK
except ImportError:
    RequestException = OSError  # type: ignore[misc,assignment]

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils.docker_api import DockerApi

LABEL_WORKER_STACK = "bosun.worker.stack"
SECRET_MASK = "********"
KeepPolicy = t.Literal["never", "on_failure"]
PullPolicy = t.Literal["never", "missing"]
KEEP_POLICIES = ("never", "on_failure")
PULL_POLICIES = ("never", "missing")
# Environment variables the runner sets itself; the job's env may not override them.
RESERVED_ENV = ("BOSUN_JOB_NAME", "BOSUN_RUN_ID", "BOSUN_STACK")
# The longest single wait on the engine; a cancel is seen within it.
WAIT_SLICE = 0.5
# Docker's own rules for container and volume names.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_JOB = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{7,127}$")
_ENV_NAME = re.compile(r"^[^=\x00]+$")


class WorkerError(BosunError):
    """The worker could not be created, started, waited for or cleaned up."""


class WorkerSpecError(WorkerError):
    """A worker setting is not allowed; the message names the setting, the value and what is allowed."""


class ImageMissingError(WorkerError):
    """The worker image is not on the Docker host and may not (or could not) be pulled."""


class ImagePullError(ImageMissingError):
    """Pulling the missing worker image failed."""


class VolumeMissingError(WorkerError):
    """A volume to mount does not exist; Docker would silently create it empty, so the run is refused."""


def _norm(path: str) -> str:
    """An absolute path with '.', empty parts and trailing slashes removed (normpath keeps a leading '//')."""
    return "/" + "/".join(p for p in posixpath.normpath(path).split("/") if p not in ("", "."))


def _looks_like_host_path(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or "/" in source or "\\" in source


def _under(path: str, roots: t.Sequence[str]) -> bool:
    norm = _norm(path)
    for root in roots:
        r = _norm(root)
        if posixpath.isabs(root) and (norm == r or norm.startswith(r + "/")):
            return True
    return False


def _check_mount(m: Mount, allowed_host_paths: t.Sequence[str]) -> None:
    if not isinstance(m, Mount):
        raise WorkerSpecError(f"mount {m!r} must be a Mount(volume, path, mode)", mount=repr(m))
    if _looks_like_host_path(m.volume):
        if not posixpath.isabs(m.volume) or ".." in m.volume.split("/"):
            raise WorkerSpecError(
                f"mount source {m.volume!r} looks like a host path: host paths must be absolute, without '..', "
                "and under an allowed host path", volume=m.volume)
        if not _under(m.volume, allowed_host_paths):
            allowed = ", ".join(repr(p) for p in allowed_host_paths) or "none"
            raise WorkerSpecError(
                f"mount source {m.volume!r} is a host path outside the allowed host paths ({allowed}): "
                "workers mount named volumes; host paths need an explicit allowed_host_paths entry",
                volume=m.volume, allowed_host_paths=list(allowed_host_paths))
    elif not _NAME.match(m.volume):
        raise WorkerSpecError(
            f"mount source {m.volume!r} is not a valid volume name: it must start with a letter or digit "
            "and use only letters, digits, '_', '.', '-'", volume=m.volume)
    p = m.path
    if not p.startswith("/") or ".." in p.split("/"):
        raise WorkerSpecError(
            f"mount path {p!r} of volume {m.volume!r} must be an absolute path inside the worker without '..', "
            "such as /mnt/data", volume=m.volume, path=p)
    if _norm(p) == "/":
        raise WorkerSpecError(f"mount path {p!r} of volume {m.volume!r} must not be '/': mount below it, such as /mnt/data",
                              volume=m.volume, path=p)
    if m.mode not in ("ro", "rw"):
        raise WorkerSpecError(f"mount mode {m.mode!r} of volume {m.volume!r} must be 'ro' or 'rw'",
                              volume=m.volume, mode=m.mode)


def _check_int(name: str, value: t.Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WorkerSpecError(f"{name} {value!r} must be a whole number of seconds from {low} to {high}",
                              **{name: value})


@dataclasses.dataclass(frozen=True)
class WorkerSpec:
    """What one worker run is: image, command, environment, mounts and limits. Validated when built."""

    job: str
    run_id: str
    image: str
    command: list[str] | None = None
    env: t.Mapping[str, str] = dataclasses.field(default_factory=dict)
    secret_env_names: t.AbstractSet[str] = frozenset()
    mounts: list[Mount] = dataclasses.field(default_factory=list)
    network: str | None = None
    user: str | None = None
    timeout: int = DEFAULT_TIMEOUT
    stop_grace: int = DEFAULT_STOP_TIMEOUT
    stack: str | None = None
    allowed_host_paths: list[str] = dataclasses.field(default_factory=list)
    # The image id preflight found; when set the worker runs exactly that image, not whatever the tag means later.
    image_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.job, str) or not _JOB.match(self.job):
            raise WorkerSpecError(
                f"job name {self.job!r} must start with a letter or digit and use only letters, digits, "
                "'_', '.', '-' (at most 63)", job=self.job)
        if not isinstance(self.run_id, str) or not _RUN_ID.match(self.run_id):
            raise WorkerSpecError(
                f"run id {self.run_id!r} must be 8 to 128 letters, digits, '_', '.', '-', starting with a letter "
                "or digit (a uuid4 hex is typical)", run_id=self.run_id)
        if not isinstance(self.image, str) or not self.image.strip() or any(c.isspace() for c in self.image):
            raise WorkerSpecError(f"image {self.image!r} must be a non-empty image reference without spaces",
                                  image=self.image)
        if self.command is not None:
            if isinstance(self.command, str) or not all(isinstance(a, str) for a in self.command) or not self.command:
                raise WorkerSpecError(
                    f"command {self.command!r} must be a non-empty list of strings, or None for the image's own command",
                    command=self.command if isinstance(self.command, (str, list)) else repr(self.command))
            object.__setattr__(self, "command", list(self.command))
        env = dict(self.env)
        for k, v in env.items():
            if not isinstance(k, str) or not _ENV_NAME.match(k):
                raise WorkerSpecError(f"environment variable name {k!r} must be non-empty and contain no '=' or NUL",
                                      name=k)
            if k in RESERVED_ENV:
                raise WorkerSpecError(
                    f"environment variable {k!r} is set by bosun itself and cannot be given; "
                    f"reserved names are {', '.join(RESERVED_ENV)}", name=k)
            if not isinstance(v, str):
                raise WorkerSpecError(f"environment variable {k!r} must have a string value, not {type(v).__name__}",
                                      name=k)
        object.__setattr__(self, "env", env)
        object.__setattr__(self, "secret_env_names", frozenset(self.secret_env_names))
        net = self.network
        if net is not None:
            if not isinstance(net, str) or not net.strip():
                raise WorkerSpecError(f"network {net!r} must name a Docker network, 'none', or be unset for the default bridge",
                                      network=net)
            if net == "host" or net.startswith(("container:", "service:")):
                raise WorkerSpecError(
                    f"network {net!r} is not allowed for workers: use a bridge or user-defined network, 'none', "
                    "or leave it unset for Docker's default bridge (host and container: networking are refused)",
                    network=net)
        if self.user is not None and (not isinstance(self.user, str) or not self.user.strip()):
            raise WorkerSpecError(f"user {self.user!r} must be a user name or uid[:gid], or unset for the image's user",
                                  user=self.user)
        _check_int("timeout", self.timeout, 1, MAX_DURATION)
        _check_int("stop_grace", self.stop_grace, 0, 3600)
        for root in self.allowed_host_paths:
            if not isinstance(root, str) or not posixpath.isabs(root) or _norm(root) == "/":
                raise WorkerSpecError(f"allowed host path {root!r} must be an absolute directory other than '/'",
                                      allowed_host_path=root)
        mounts = list(self.mounts)
        seen: dict[str, str] = {}
        for m in mounts:
            _check_mount(m, self.allowed_host_paths)
            target = _norm(m.path)
            if target in seen:
                raise WorkerSpecError(
                    f"mount path {m.path!r} is used twice (volumes {seen[target]!r} and {m.volume!r}): "
                    "each mount needs its own path", path=m.path)
            seen[target] = m.volume
        object.__setattr__(self, "mounts", mounts)
        if self.stack is not None and (not isinstance(self.stack, str) or not self.stack):
            raise WorkerSpecError(f"stack {self.stack!r} must be a Compose project name or unset", stack=self.stack)

    @property
    def name(self) -> str:
        """The container name: bosun-worker-<job>-<first 8 of run_id>."""
        return f"bosun-worker-{self.job}-{self.run_id[:8]}"

    @property
    def labels(self) -> dict[str, str]:
        labels = {LABEL_WORKER_JOB: self.job, LABEL_WORKER_RUN_ID: self.run_id}
        if self.stack:
            labels[LABEL_WORKER_STACK] = self.stack
        return labels

    @property
    def container_env(self) -> dict[str, str]:
        """The environment the container gets: the job's env plus BOSUN_JOB_NAME, BOSUN_RUN_ID, BOSUN_STACK."""
        env = dict(self.env)
        env["BOSUN_JOB_NAME"] = self.job
        env["BOSUN_RUN_ID"] = self.run_id
        if self.stack:
            env["BOSUN_STACK"] = self.stack
        return env

    @property
    def secret_values(self) -> list[str]:
        """The values to hide wherever they appear, longest first."""
        values = {v for k, v in self.env.items() if k in self.secret_env_names and v}
        return sorted(values, key=len, reverse=True)

    def masked_env(self) -> dict[str, str]:
        return {k: (SECRET_MASK if k in self.secret_env_names else v) for k, v in self.env.items()}

    def to_dict(self, show_secrets: bool = False) -> dict[str, t.Any]:
        return {
            "name": self.name,
            "job": self.job,
            "run_id": self.run_id,
            "image": self.image,
            "image_id": self.image_id,
            "command": list(self.command) if self.command is not None else None,
            "env": dict(self.env) if show_secrets else self.masked_env(),
            "secret_env_names": sorted(self.secret_env_names),
            "mounts": [m.to_dict() for m in self.mounts],
            "network": self.network,
            "user": self.user,
            "timeout": self.timeout,
            "stop_grace": self.stop_grace,
            "stack": self.stack,
            "labels": self.labels,
        }


@dataclasses.dataclass
class WorkerResult:
    """What one worker run did. A non-zero exit code is a result, not an exception."""

    container_id: str | None
    name: str
    exit_code: int | None = None
    timed_out: bool = False
    cancelled: bool = False
    started_at: str | None = None
    finished_at: str | None = None
    duration: float = 0.0
    log_path: str | None = None
    log_tail: list[str] = dataclasses.field(default_factory=list)
    removed: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.cancelled

    @property
    def reason(self) -> str:
        """One phrase saying how the run ended."""
        if self.timed_out:
            return f"timed out and was stopped (exit code {self.exit_code})"
        if self.cancelled:
            return f"was cancelled and stopped (exit code {self.exit_code})"
        if self.exit_code is None:
            return f"did not run to an exit code: {self.error or 'unknown error'}"
        if self.exit_code == 0:
            return "exited with code 0"
        return f"exited with code {self.exit_code}"

    def to_dict(self) -> dict[str, t.Any]:
        d = dataclasses.asdict(self)
        d["ok"] = self.ok
        d["reason"] = self.reason
        return d


def default_state_dir() -> str:
    """/var/lib/bosun for root, else $XDG_STATE_HOME/bosun (default ~/.local/state/bosun)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "/var/lib/bosun"
    base = os.environ.get("XDG_STATE_HOME") or ""
    if not os.path.isabs(base):  # the XDG spec says relative values are invalid and must be ignored
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "bosun")


def _split_image(image: str) -> tuple[str, str | None]:
    """('repo', 'tag' or 'sha256:...') for the pull endpoint; tag None means Docker's 'latest'."""
    if "@" in image:
        repo, digest = image.split("@", 1)
        return repo, digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1:]
    return image, None


def _image_info(raw: t.Mapping[str, t.Any], image: str, pulled: bool) -> dict[str, t.Any]:
    return {"image": image, "id": raw.get("Id"), "repo_digests": list(raw.get("RepoDigests") or []),
            "pulled": pulled}


def preflight_image(api: DockerApi, image: str, pull: PullPolicy = "never") -> dict[str, t.Any]:
    """The image's id and repo digests; pulls it first when absent and pull is 'missing'.

    Raises ImageMissingError (ImagePullError when a pull was tried and failed).
    """
    if pull not in PULL_POLICIES:
        raise WorkerSpecError(f"pull {pull!r} must be one of {', '.join(PULL_POLICIES)}", pull=pull)
    try:
        return _image_info(api.call(f"inspect image {image!r}", api.client.inspect_image, image), image, False)
    except Exception as exc:
        if status_code(exc) != 404:
            raise
    if pull == "never":
        raise ImageMissingError(
            f"worker image {image!r} is not present on the Docker host and pull is 'never': load or pull it "
            "beforehand, or set pull to 'missing'", image=image, pull=pull)
    repo, tag = _split_image(image)
    try:
        for event in api.call(f"pull image {image!r}", api.client.pull, repo, tag=tag, stream=True, decode=True):
            if isinstance(event, dict) and event.get("error"):
                raise ImagePullError(f"worker image {image!r} is not present and pulling it failed: {event['error']}",
                                     image=image, pull=pull)
    except ImagePullError:
        raise
    except BosunError as exc:
        raise ImagePullError(f"worker image {image!r} is not present and pulling it failed: {exc.message}",
                             image=image, pull=pull)
    except Exception as exc:
        raise ImagePullError(f"worker image {image!r} is not present and pulling it failed: {error_text(exc)}",
                             image=image, pull=pull)
    try:
        return _image_info(api.call(f"inspect image {image!r}", api.client.inspect_image, image), image, True)
    except Exception as exc:
        if status_code(exc) != 404:
            raise
        raise ImagePullError(f"worker image {image!r} was pulled but is still not present on the Docker host",
                             image=image, pull=pull)


def check_volumes(api: DockerApi, mounts: t.Sequence[Mount]) -> None:
    """Every named volume to mount exists (Docker would create a missing one empty, silently)."""
    for m in mounts:
        if not _looks_like_host_path(m.volume) and not api.volume_exists(m.volume):
            raise VolumeMissingError(
                f"volume {m.volume!r} (to be mounted at {m.path}) does not exist on the Docker host: workers only "
                "mount existing volumes, a missing one would be created empty", volume=m.volume, path=m.path)


def preflight(api: DockerApi, spec: WorkerSpec, pull: PullPolicy = "never") -> dict[str, t.Any]:
    """Image present (or pulled) and every volume present; returns the image info. Runs nothing."""
    info = preflight_image(api, spec.image, pull)
    check_volumes(api, spec.mounts)
    return info


def _mount_config(m: Mount) -> dict[str, t.Any]:
    if _looks_like_host_path(m.volume):
        return {"Type": "bind", "Source": _norm(m.volume), "Target": m.path,
                "ReadOnly": m.mode == "ro"}
    # NoCopy: an empty volume is not filled with the worker image's files at that path.
    return {"Type": "volume", "Source": m.volume, "Target": m.path, "ReadOnly": m.mode == "ro",
            "VolumeOptions": {"NoCopy": True}}


class _Redactor:
    def __init__(self, secrets: t.Sequence[str]) -> None:
        self.secrets = [s for s in secrets if s]

    def __call__(self, line: str) -> str:
        for s in self.secrets:
            line = line.replace(s, SECRET_MASK)
        return line


class WorkerRunner:
    """Runs WorkerSpecs on one Docker Engine and keeps their logs under state_dir/logs/<job>/<run_id>.log."""

    def __init__(self, api: DockerApi, state_dir: str) -> None:
        self.api = api
        self.state_dir = state_dir

    def log_path(self, spec: WorkerSpec) -> str:
        return os.path.join(self.state_dir, "logs", spec.job, f"{spec.run_id}.log")

    def create(self, spec: WorkerSpec) -> str:
        """Create (not start) the hardened worker container; returns its id."""
        client = self.api.client
        host_config = client.create_host_config(
            mounts=[_mount_config(m) for m in spec.mounts],
            network_mode=spec.network,
            security_opt=["no-new-privileges"],
            privileged=False,
            init=True,
        )
        try:
            created = self.api.call(
                f"create worker container {spec.name!r}", client.create_container,
                spec.image_id or spec.image,
                command=spec.command,
                name=spec.name,
                user=spec.user,
                environment=[f"{k}={v}" for k, v in spec.container_env.items()],
                labels=spec.labels,
                host_config=host_config,
                stop_signal="SIGTERM",
                stop_timeout=spec.stop_grace,
                tty=False,
                stdin_open=False,
                use_config_proxy=False,
            )
        except BosunError:
            raise
        except Exception as exc:
            hint = " (a container of that name exists: stop_workers() removes leftovers)" if status_code(exc) == 409 else ""
            raise WorkerError(
                f"cannot create worker container {spec.name!r} from image {spec.image!r}: "
                f"{error_text(exc)}{hint}", name=spec.name, image=spec.image, job=spec.job, run_id=spec.run_id)
        return str(created["Id"])

    def run(
        self,
        spec: WorkerSpec,
        tail_lines: int = 50,
        keep: KeepPolicy = "never",
        cancel: threading.Event | None = None,
        container_id: str | None = None,
    ) -> WorkerResult:
        """Run the worker to its end, its timeout or the cancel event; see the module docstring.

        With `container_id` (from create(), done before the downtime window) the checks and the create are
        skipped. Raises (before anything is created) WorkerSpecError, ImageMissingError, VolumeMissingError,
        or WorkerError when the container cannot be created. Afterwards problems are reported in result.error.
        """
        if keep not in KEEP_POLICIES:
            raise WorkerSpecError(f"keep {keep!r} must be one of {', '.join(KEEP_POLICIES)}", keep=keep)
        if isinstance(tail_lines, bool) or not isinstance(tail_lines, int) or tail_lines < 0:
            raise WorkerSpecError(f"tail_lines {tail_lines!r} must be a whole number of lines, 0 or more",
                                  tail_lines=tail_lines)
        if container_id is None:
            preflight(self.api, spec, "never")
        cid = container_id or self.create(spec)
        result = WorkerResult(container_id=cid, name=spec.name)
        client = self.api.client
        t0 = time.monotonic()
        try:
            try:
                result.started_at = utc_iso()
                t0 = time.monotonic()
                self.api.call(f"start worker container {spec.name!r}", client.start, cid)
            except Exception as exc:
                result.error = f"cannot start worker container {spec.name!r}: {error_text(exc)}"
                result.finished_at = utc_iso()
                result.exit_code = self._exit_code(cid)
                if result.exit_code == 0:  # never report success for a worker that did not start
                    result.exit_code = None
            else:
                try:
                    self._wait(spec, cid, result, cancel, t0)
                except Exception as exc:
                    if status_code(exc) != 404:
                        raise
                    # stop_workers() (a cancellation or a recovery elsewhere) or a person removed it.
                    result.error = f"worker container {spec.name!r} was removed by someone else while it ran"
                    result.exit_code = None
                    result.finished_at = utc_iso()
                    result.removed = True
            result.duration = round(time.monotonic() - t0, 3)
            if not result.removed:
                self._collect_logs(spec, cid, result, tail_lines)
        except BaseException:
            # An interrupt (KeyboardInterrupt, SystemExit) or a lost engine: give the worker its grace, then go.
            self._stop_quietly(cid, spec.stop_grace)
            raise
        finally:
            if (keep == "never" or result.ok) and not result.removed:
                self._remove(cid, result)
        return result

    def _exit_code(self, cid: str) -> int | None:
        try:
            state = self.api.call("inspect worker container", self.api.client.inspect_container, cid)["State"]
        except Exception:
            return None
        return None if state.get("Running") else state.get("ExitCode")

    def _wait(self, spec: WorkerSpec, cid: str, result: WorkerResult, cancel: threading.Event | None,
              t0: float) -> None:
        """Block on the engine's wait endpoint in slices, so the exit is seen at once and a cancel within a slice."""
        client = self.api.client
        deadline = t0 + spec.timeout
        while True:
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.timed_out = True
                break
            try:
                status = client.wait(cid, timeout=max(0.05, min(WAIT_SLICE, remaining)))
            except RequestException as exc:
                if "timed out" not in str(exc).lower():  # SDK 7 reports a read timeout as ConnectionError
                    raise DockerUnavailableError(f"cannot wait for worker container {spec.name!r}: {exc}") from exc
                continue
            result.finished_at = utc_iso()
            result.exit_code = status.get("StatusCode")
            return
        # SIGTERM now, SIGKILL from Docker after the grace; stop() returns once the container is down.
        self.api.call(f"stop worker container {spec.name!r}", client.stop, cid, timeout=spec.stop_grace)
        result.finished_at = utc_iso()
        result.exit_code = self._exit_code(cid)

    def discard(self, container_id: str) -> None:
        """Remove a created worker that will not run (the stop failed or the run was cancelled first)."""
        self._remove(container_id, WorkerResult(container_id=container_id, name=container_id[:12]))

    def _collect_logs(self, spec: WorkerSpec, cid: str, result: WorkerResult, tail_lines: int) -> None:
        """Write the whole log (stdout and stderr, secrets masked) to the log file; keep the last lines."""
        redact = _Redactor(spec.secret_values)
        tail: collections.deque[str] = collections.deque(maxlen=tail_lines or None)
        path = self.log_path(spec)
        out: t.IO[str] | None = None
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            out = os.fdopen(fd, "w", encoding="utf-8")
            result.log_path = path
        except OSError as exc:
            result.error = result.error or f"cannot write the worker log {path!r}: {exc}"

        def emit(line: str) -> None:
            line = redact(line)
            if tail_lines:
                tail.append(line)
            if out is not None:
                out.write(line + "\n")

        try:
            # Not a tty, so the SDK strips the 8-byte multiplexing headers and yields raw payload chunks.
            chunks = self.api.call(f"read the logs of worker container {spec.name!r}", self.api.client.logs, cid,
                                   stdout=True, stderr=True, stream=True, follow=False)
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            pending = ""
            for chunk in chunks:
                pending += decoder.decode(chunk)
                *lines, pending = pending.split("\n")
                for line in lines:
                    emit(line)
            pending += decoder.decode(b"", final=True)
            if pending:
                emit(pending)
        except Exception as exc:
            msg = error_text(exc)
            result.error = result.error or f"cannot read the logs of worker container {spec.name!r}: {msg}"
        finally:
            if out is not None:
                out.close()
        result.log_tail = list(tail) if tail_lines else []

    def _stop_quietly(self, cid: str, grace: int) -> None:
        try:
            self.api.client.stop(cid, timeout=grace)
        except Exception:  # the engine may be gone; removal below (or recovery) deals with it
            pass

    def _vanishes(self, cid: str, within: float = 5.0) -> bool:
        """Whether the container is gone within a few seconds (another removal was in progress: HTTP 409)."""
        deadline = time.monotonic() + within
        while True:
            try:
                self.api.client.inspect_container(cid)
            except Exception as exc:
                return status_code(exc) == 404
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

    def _remove(self, cid: str, result: WorkerResult) -> None:
        try:
            self.api.call("remove worker container", self.api.client.remove_container, cid, force=True, v=False)
            result.removed = True
        except Exception as exc:
            if status_code(exc) == 404 or self._vanishes(cid):
                result.removed = True  # removed by someone else (stop_workers, a person), now or just before
                return
            msg = error_text(exc)
            result.error = result.error or f"cannot remove worker container {result.name!r}: {msg}"


def stop_workers(api: DockerApi, run_id: str | None = None, job: str | None = None,
                 grace: int = DEFAULT_STOP_TIMEOUT) -> list[str]:
    """Stop (SIGTERM, SIGKILL after grace) and remove bosun workers; returns their names.

    Selects by run id and/or job through the worker labels; with neither, every bosun worker on the host.
    Volumes are never removed.
    """
    labels = [f"{LABEL_WORKER_RUN_ID}={run_id}" if run_id else LABEL_WORKER_RUN_ID]
    if job:
        labels.append(f"{LABEL_WORKER_JOB}={job}")
    names = []
    for c in api.list_containers(labels, all=True):
        try:
            if c.state in ("running", "restarting", "paused"):
                api.call(f"stop worker container {c.name!r}", api.client.stop, c.id, timeout=grace)
            api.call(f"remove worker container {c.name!r}", api.client.remove_container, c.id, force=True, v=False)
        except Exception as exc:
            if status_code(exc) != 404:
                raise
        names.append(c.name)
    return names
