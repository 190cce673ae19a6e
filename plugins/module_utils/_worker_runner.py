# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The worker runner: one hardened, one-shot container with the job's volumes mounted.

WorkerRunner.create() makes the container from a WorkerSpec (before any downtime); run() starts it, waits
for it with a timeout and a cancel event, stops it with SIGTERM and a grace period (Docker sends SIGKILL
after it), keeps the full log under the state directory and returns the last lines, and always removes the
container unless told to keep a failed one. Secret environment values never appear in results or logs.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import dataclasses
import os
import threading
import time
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    BosunError,
    ConflictError,
    EngineError,
    NotFoundError,
    VolumeMissingError,
    WorkerError,
    WorkerSpecError,
    error_text,
)
from ansible_collections.bosun.compose.plugins.module_utils._images import ImageInfo, preflight_image
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    DEFAULT_STOP_TIMEOUT,
    LABEL_WORKER_JOB,
    LABEL_WORKER_RUN_ID,
    UP_STATES,
    Mount,
    utc_iso,
)
from ansible_collections.bosun.compose.plugins.module_utils._state import log_path
from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import (
    KEEP_POLICIES,
    SECRET_MASK,
    KeepPolicy,
    PullPolicy,
    WorkerSpec,
)

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

# The longest single wait on the engine; a cancel is seen within it.
WAIT_SLICE = 0.5


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


def check_volumes(api: DockerApi, mounts: t.Sequence[Mount]) -> None:
    """Every named volume to mount exists (Docker would create a missing one empty, silently)."""
    for m in mounts:
        if not api.volume_exists(m.volume):
            raise VolumeMissingError(
                f"volume {m.volume!r} (to be mounted at {m.path}) does not exist on the Docker host: workers only "
                "mount existing volumes, a missing one would be created empty",
                volume=m.volume,
                path=m.path,
            )


def check_worker_inputs(
    api: DockerApi, spec: WorkerSpec, pull: PullPolicy = "never", *, check_mode: bool = False
) -> ImageInfo:
    """Image present (or pulled, not in check mode) and every volume present; the image found. Runs nothing."""
    info = preflight_image(api, spec.image, pull, check_mode=check_mode)
    check_volumes(api, spec.mounts)
    return info


def redact(line: str, secrets: t.Sequence[str]) -> str:
    """The line with every secret value (longest first) replaced by the mask."""
    for s in secrets:
        line = line.replace(s, SECRET_MASK)
    return line


def _mount_config(m: Mount) -> dict[str, t.Any]:
    # NoCopy: an empty volume is not filled with the worker image's files at that path.
    return {
        "Type": "volume",
        "Source": m.volume,
        "Target": m.path,
        "ReadOnly": m.mode == "ro",
        "VolumeOptions": {"NoCopy": True},
    }


class WorkerRunner:
    """Runs WorkerSpecs on one Docker Engine and keeps their logs under state_dir/logs/<job>/<run_id>.log."""

    def __init__(self, api: DockerApi, state_dir: str) -> None:
        self.api = api
        self.state_dir = state_dir

    def create(self, spec: WorkerSpec) -> str:
        """Create (not start) the hardened worker container; returns its id."""
        try:
            return self.api.create_container(
                f"create worker container {spec.name!r}",
                spec.image_id or spec.image,
                name=spec.name,
                labels=spec.labels,
                command=spec.command,
                host_config={
                    "mounts": [_mount_config(m) for m in spec.mounts],
                    "network_mode": spec.network,
                    "security_opt": ["no-new-privileges"],
                    "privileged": False,
                    "init": True,
                },
                user=spec.user,
                environment=[f"{k}={v}" for k, v in spec.container_env.items()],
                stop_signal="SIGTERM",
                stop_timeout=spec.stop_grace,
                tty=False,
                stdin_open=False,
                use_config_proxy=False,
            )
        except EngineError as exc:
            hint = (
                " (a container of that name exists: stop_workers() removes leftovers)"
                if isinstance(exc, ConflictError)
                else ""
            )
            raise WorkerError(
                f"cannot create worker container {spec.name!r} from image {spec.image!r}: {exc.explanation}{hint}",
                name=spec.name,
                image=spec.image,
                job=spec.job,
                run_id=spec.run_id,
            ) from exc

    def run(
        self,
        spec: WorkerSpec,
        tail_lines: int = 50,
        keep: KeepPolicy = "never",
        cancel: threading.Event | None = None,
        container_id: str | None = None,
        defer_cleanup: bool = False,
    ) -> WorkerResult:
        """Run the worker to its end, its timeout or the cancel event; see the module docstring.

        With `container_id` (from create(), done before the downtime window) the checks and the create are
        skipped. With `defer_cleanup` the exited worker is left as it is (logs unread, not removed) for
        finish(), so that a caller can restart its stack first; an exception still stops and removes it.
        Raises (before anything is created) WorkerSpecError, ImageMissingError, VolumeMissingError,
        or WorkerError when the container cannot be created. Afterwards problems are reported in result.error.
        """
        if keep not in KEEP_POLICIES:
            raise WorkerSpecError(f"keep {keep!r} must be one of {', '.join(KEEP_POLICIES)}", keep=keep)
        if isinstance(tail_lines, bool) or not isinstance(tail_lines, int) or tail_lines < 0:
            raise WorkerSpecError(
                f"tail_lines {tail_lines!r} must be a whole number of lines, 0 or more", tail_lines=tail_lines
            )
        if container_id is None:
            check_worker_inputs(self.api, spec, "never")
        cid = container_id or self.create(spec)
        result = WorkerResult(container_id=cid, name=spec.name)
        t0 = time.monotonic()
        try:
            try:
                result.started_at = utc_iso()
                t0 = time.monotonic()
                self.api.start_container(cid, what=f"start worker container {spec.name!r}")
            except BosunError as exc:
                result.error = f"cannot start worker container {spec.name!r}: {error_text(exc)}"
                result.finished_at = utc_iso()
                result.exit_code = self._exit_code(cid)
                if result.exit_code == 0:  # never report success for a worker that did not start
                    result.exit_code = None
            else:
                try:
                    self._wait(spec, cid, result, cancel, t0)
                except NotFoundError:
                    # stop_workers() (a cancellation or a recovery elsewhere) or a person removed it.
                    result.error = f"worker container {spec.name!r} was removed by someone else while it ran"
                    result.exit_code = None
                    result.finished_at = utc_iso()
                    result.removed = True
            result.duration = round(time.monotonic() - t0, 3)
        except BaseException:
            # An interrupt (KeyboardInterrupt, SystemExit) or a lost engine: give the worker its grace, then go.
            self._stop_quietly(cid, spec.stop_grace)
            if (keep == "never" or result.ok) and not result.removed:
                self._remove(cid, result)
            raise
        if not defer_cleanup:
            self.finish(spec, result, tail_lines, keep)
        return result

    def finish(self, spec: WorkerSpec, result: WorkerResult, tail_lines: int = 50, keep: KeepPolicy = "never") -> None:
        """Keep the exited worker's log (the file and its last lines), then remove it unless ``keep`` says not to."""
        cid = t.cast(str, result.container_id)
        try:
            if not result.removed:
                self._collect_logs(spec, cid, result, tail_lines)
        finally:
            if (keep == "never" or result.ok) and not result.removed:
                self._remove(cid, result)

    def _exit_code(self, cid: str) -> int | None:
        try:
            info = self.api.inspect_container(cid)
        except BosunError:
            return None
        state = (info or {}).get("State") or {}
        return None if not info or state.get("Running") else state.get("ExitCode")

    def _wait(
        self, spec: WorkerSpec, cid: str, result: WorkerResult, cancel: threading.Event | None, t0: float
    ) -> None:
        """Block on the engine's wait endpoint in slices, so the exit is seen at once and a cancel within a slice."""
        deadline = t0 + spec.timeout
        what = f"wait for worker container {spec.name!r}"
        while True:
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.timed_out = True
                break
            code = self.api.wait_container(cid, max(0.05, min(WAIT_SLICE, remaining)), what=what)
            if code is not None:
                result.finished_at = utc_iso()
                result.exit_code = code
                return
        # SIGTERM now, SIGKILL from Docker after the grace; stop() returns once the container is down.
        self.api.stop_container(cid, spec.stop_grace, what=f"stop worker container {spec.name!r}")
        result.finished_at = utc_iso()
        result.exit_code = self._exit_code(cid)

    def discard(self, container_id: str) -> None:
        """Remove a created worker that will not run (the stop failed or the run was cancelled first)."""
        self._remove(container_id, WorkerResult(container_id=container_id, name=container_id[:12]))

    def _collect_logs(self, spec: WorkerSpec, cid: str, result: WorkerResult, tail_lines: int) -> None:
        """Write the whole log (stdout and stderr, secrets masked) to the log file; keep the last lines."""
        secrets = spec.secret_values
        tail: collections.deque[str] = collections.deque(maxlen=tail_lines or None)
        path = log_path(self.state_dir, spec.job, spec.run_id, spec.role)
        out: t.IO[str] | None = None
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            out = os.fdopen(fd, "w", encoding="utf-8")
            result.log_path = path
        except OSError as exc:
            result.error = result.error or f"cannot write the worker log {path!r}: {exc}"

        def emit(line: str) -> None:
            line = redact(line, secrets)
            if tail_lines:
                tail.append(line)
            if out is not None:
                out.write(line + "\n")

        try:
            chunks = self.api.container_logs(cid, what=f"read the logs of worker container {spec.name!r}")
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
        except Exception as exc:  # a log that cannot be read is reported, never fatal
            result.error = result.error or f"cannot read the logs of worker container {spec.name!r}: {error_text(exc)}"
        finally:
            if out is not None:
                out.close()
        result.log_tail = list(tail) if tail_lines else []

    def _stop_quietly(self, cid: str, grace: int) -> None:
        # The engine may be gone; removal below (or recovery) deals with it.
        with contextlib.suppress(Exception):
            self.api.stop_container(cid, grace)

    def _remove(self, cid: str, result: WorkerResult) -> None:
        try:
            # With its anonymous volumes (an image's VOLUME); named volumes are never removed by Docker's v=1.
            self.api.remove_container_settled(cid, volumes=True, what="remove worker container")
            result.removed = True  # or removed by someone else (stop_workers, a person) just before
        except BosunError as exc:
            result.error = result.error or f"cannot remove worker container {result.name!r}: {error_text(exc)}"


def stop_workers(
    api: DockerApi, run_id: str | None = None, job: str | None = None, grace: int = DEFAULT_STOP_TIMEOUT
) -> list[str]:
    """Stop (SIGTERM, SIGKILL after grace) and remove bosun workers; returns their names.

    Selects by run id and/or job through the worker labels; with neither, every bosun worker on the host.
    A worker goes with its anonymous volumes (an image's VOLUME), never with a named one. A worker that
    another caller is removing at the same time (HTTP 409, a concurrent recovery) counts as removed once
    it is gone.
    """
    labels = [f"{LABEL_WORKER_RUN_ID}={run_id}" if run_id else LABEL_WORKER_RUN_ID]
    if job:
        labels.append(f"{LABEL_WORKER_JOB}={job}")
    names = []
    for c in api.list_containers(labels):
        try:
            if c.state in UP_STATES:
                # ConflictError: being removed elsewhere; the forced removal below waits for it or kills it.
                with contextlib.suppress(ConflictError):
                    api.stop_container(c.id, grace, what=f"stop worker container {c.name!r}")
            api.remove_container_settled(c.id, volumes=True, what=f"remove worker container {c.name!r}")
        except NotFoundError:
            pass
        names.append(c.name)
    return names
