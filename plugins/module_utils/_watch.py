# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Watching a stack while it is down: someone else starts, unpauses or recreates a container of the stop-set.

From just before the first stop until the restart begins, an operator's ``docker start``, a deploy tool's
``docker compose up -d`` or an ``unpause`` would let the worker run beside a live service. StackWatch reads
the Engine's event stream in a daemon thread and, on the first such event, records it and cancels the run
(as a signal does): the executor stops the worker at once, restarts what is still down and ends the run
``interfered``. The run's own actions (stop, kill, pause, and the unpause before it stops a paused container)
are never taken for interference, and bosun's own containers (worker, after-phase, lease) carry no Compose
labels. A container that was ``restarting`` when the plan was made may be started by Docker's restart policy
while it is being stopped: its start is not counted.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._errors import error_text
from ansible_collections.bosun.compose.plugins.module_utils._lease import LEASE_PROJECT
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    COMPOSE_NUMBER,
    COMPOSE_ONEOFF,
    COMPOSE_PROJECT,
    COMPOSE_SERVICE,
    LABEL_WORKER_JOB,
    LABEL_WORKER_RUN_ID,
    ContainerRecord,
)

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi, EventStream

InterferenceKind = t.Literal["started", "unpaused", "recreated", "added"]
# Compose creates a replacement as "<old id[:12]>_<name>" and renames it once the old one is removed.
_TEMPORARY_NAME = re.compile(r"^[0-9a-f]{12}_(.+)$")
_BOSUN_LABELS = (LABEL_WORKER_JOB, LABEL_WORKER_RUN_ID, LEASE_PROJECT)
CLOSE_WAIT = 5.0


@dataclasses.dataclass(frozen=True)
class Interference:
    """What someone else did to the stack while it was down."""

    kind: InterferenceKind
    container_id: str
    name: str
    service: str | None
    # recreated: the id of the stop-set container it replaces (stale now: never to be started again).
    replaces: str | None = None

    def describe(self) -> str:
        if self.kind == "started":
            return f"{self.name!r} was started by someone else while the stack was down"
        if self.kind == "unpaused":
            return f"{self.name!r} was unpaused by someone else while the stack was frozen"
        verb = "was recreated as" if self.kind == "recreated" else "got another container"
        return f"service {self.service!r} {verb} {self.name!r} (id {self.container_id[:12]}) while the stack was down"

    def to_dict(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


class StackWatch:
    """Watches the stop-set of ``project`` for third parties; ``with StackWatch(...) as watch:`` or start()/close().

    ``stop_set`` are the plan's records (their state when planned), ``actions`` the stop step's per-container
    ``stop`` or ``pause``. On the first interference ``cancel.trigger()`` is called with its description.
    """

    def __init__(
        self,
        api: DockerApi,
        project: str,
        stop_set: t.Sequence[ContainerRecord],
        cancel: Cancellation,
        actions: t.Mapping[str, str] | None = None,
    ) -> None:
        self.api = api
        self.project = project
        self.cancel = cancel
        self._members = {c.id: c for c in stop_set}
        self._replicas = {(c.service, c.labels.get(COMPOSE_NUMBER)): c.id for c in stop_set}
        self._services = {c.service for c in stop_set if c.service}
        self._actions = dict(actions or {})
        self._seen: list[Interference] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._stream: EventStream | None = None
        self._thread: threading.Thread | None = None
        # Why the stack could not be watched (the stream could not be opened, or broke); None while it is.
        self.error: str | None = None

    def __enter__(self) -> StackWatch:
        self.start()
        return self

    def __exit__(self, *exc: t.Any) -> None:
        self.close()

    @property
    def seen(self) -> list[Interference]:
        with self._lock:
            return list(self._seen)

    @property
    def reason(self) -> str:
        """The description of the first interference (the reason given to the cancel), or ''."""
        seen = self.seen
        return seen[0].describe() if seen else ""

    @property
    def summary(self) -> str:
        return "; ".join(i.describe() for i in self.seen)

    @property
    def replaced(self) -> set[str]:
        """Ids of stop-set containers whose service was recreated meanwhile: stale, never to be started again."""
        return {i.replaces for i in self.seen if i.replaces}

    def start(self) -> None:
        """Subscribe to the events (in place when this returns) and read them in a daemon thread."""
        if not self._members:
            return  # nothing goes down: nothing to watch
        try:
            self._stream = self.api.events(
                {
                    "type": ["container"],
                    "label": [f"{COMPOSE_PROJECT}={self.project}"],
                    "event": ["create", "start", "unpause"],
                }
            )
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self.error = f"the stack was not watched for third parties: {error_text(exc)}"
            return
        self._thread = threading.Thread(target=self._read, name=f"bosun-watch-{self.project}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop watching: close the stream and wait (briefly) for the thread to end."""
        self._closing.set()
        if self._stream is not None:
            with contextlib.suppress(Exception):  # the stream is gone either way
                self._stream.close()
        if self._thread is not None:
            self._thread.join(CLOSE_WAIT)

    def _read(self) -> None:
        try:
            for event in t.cast("EventStream", self._stream):
                if self._closing.is_set():
                    return
                self.observe(event)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            if not self._closing.is_set():
                self.error = f"watching the stack for third parties stopped: {error_text(exc)}"
            return
        if not self._closing.is_set():
            self.error = "watching the stack for third parties stopped: the Engine closed the event stream"

    def observe(self, event: t.Mapping[str, t.Any]) -> Interference | None:
        """Take one Engine event; the interference it shows (recorded, and the run cancelled), or None."""
        found = self._interference(event)
        if found is None:
            return None
        with self._lock:
            if any(i.container_id == found.container_id for i in self._seen):
                return None
            self._seen.append(found)
        self.cancel.trigger(found.describe())
        return found

    def _interference(self, event: t.Mapping[str, t.Any]) -> Interference | None:
        action = event.get("Action") or event.get("status") or ""
        actor = event.get("Actor") or {}
        cid = str(actor.get("ID") or event.get("id") or "")
        attributes: t.Mapping[str, str] = actor.get("Attributes") or {}
        if attributes.get(COMPOSE_PROJECT) != self.project or any(k in attributes for k in _BOSUN_LABELS):
            return None
        raw_name = str(attributes.get("name") or cid[:12])
        temporary = _TEMPORARY_NAME.match(raw_name)
        name = temporary.group(1) if temporary else raw_name
        service = attributes.get(COMPOSE_SERVICE)
        member = self._members.get(cid)
        if member is not None:
            if action == "start" and member.state != "restarting":
                return Interference("started", cid, member.name, member.service)
            if action == "unpause" and self._actions.get(cid) == "pause":
                return Interference("unpaused", cid, member.name, member.service)
            return None
        if action not in ("create", "start") or service not in self._services:
            return None
        oneoff = attributes.get(COMPOSE_ONEOFF, "False") == "True"
        replaces = None if oneoff else self._replicas.get((service, attributes.get(COMPOSE_NUMBER)))
        return Interference("recreated" if replaces else "added", cid, name, service, replaces)
