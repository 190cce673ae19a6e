# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The container index: label-filtered container lists that cost the same on a host of any size.

Docker walks every container on the host for a label-filtered list (0.07 s at 10,000 containers on a quiet
machine, 0.37 s under load); a list by ids does not. The index remembers, per label filter, the ids the last
full list returned and the newest container event the Engine had buffered before that list (the anchor), in
``<state_dir>/index/``. The next list asks the Engine for the container events since the anchor (a ``create``
event carries the new container's labels) and lists the remembered ids plus the new matching ones by id: two
requests that do not walk the host.

Sound because labels never change after a container is created, so a container can only join a label filter
by being created, and the Engine's event buffer (the last 256 events) is a queue: while the anchor is still in
it, every event after it is too. When the anchor is gone (more than 256 events since, or a daemon restart,
which empties the buffer), or the file is missing or unreadable, the list walks the host again and sets a new
anchor. Removed containers simply no longer come back from the list by ids.

Only for a local Docker Engine (``until`` is this host's clock; Podman keeps its events elsewhere); other
engines list by label as before. In check mode the index is read but not written.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DOCKER, Labels, has_labels, label_list
from ansible_collections.bosun.compose.plugins.module_utils._errors import EngineError
from ansible_collections.bosun.compose.plugins.module_utils._model import ContainerRecord
from ansible_collections.bosun.compose.plugins.module_utils._state import index_path, read_object, write_index

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

INDEX_VERSION = 1
# What identifies an event in the Engine's buffer.
_ANCHOR_KEYS = ("id", "Action", "timeNano")


def _anchor(event: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return {k: event.get(k) for k in _ANCHOR_KEYS}


def _is(event: t.Mapping[str, t.Any], anchor: t.Mapping[str, t.Any]) -> bool:
    return all(event.get(k) == anchor.get(k) for k in _ANCHOR_KEYS)


class ContainerIndex:
    """Label-filtered lists of one Engine through its ``create`` events; see the module docstring."""

    def __init__(self, api: DockerApi, state_dir: str, *, write: bool = True) -> None:
        self.api = api
        self.path = index_path(state_dir, api.options.docker_host)
        self.write = write
        # How the last list was answered: "index" (by ids since the anchor), "walk", or "label" (no index here).
        self.last: t.Literal["index", "walk", "label", ""] = ""

    def usable(self) -> bool:
        return self.api.is_local and self.api.engine().kind == DOCKER

    def find(self, labels: Labels) -> list[ContainerRecord]:
        """Every container carrying all ``labels`` (stopped ones included), as ``DockerApi.list_containers``."""
        if not self.usable():
            self.last = "label"
            return self.api.list_containers(labels)
        try:
            return self._list(labels)
        except EngineError:
            # The Engine refused the events request (not a transport failure, which the walk would meet too).
            self.last = "label"
            return self.api.list_containers(labels)

    def _list(self, labels: Labels) -> list[ContainerRecord]:
        key = "\n".join(sorted(label_list(labels)))
        data = read_object(self.path) or {}
        queries = data.get("queries") if data.get("version") == INDEX_VERSION else None
        queries = dict(queries) if isinstance(queries, dict) else {}
        entry = queries.get(key)
        if isinstance(entry, dict) and isinstance(entry.get("anchor"), dict) and isinstance(entry.get("ids"), list):
            anchor = entry["anchor"]
            events = self.api.container_events(anchor["timeNano"]) if isinstance(anchor.get("timeNano"), int) else []
            if any(_is(e, anchor) for e in events):
                new = [str(e["id"]) for e in events if _joins(e, labels)]
                records = self.api.list_containers(labels, ids=list(dict.fromkeys([*map(str, entry["ids"]), *new])))
                self._save(queries, key, _anchor(events[-1]), records)
                self.last = "index"
                return records
        # No index, or the anchor left the Engine's buffer: walk, anchored on the newest event before the walk.
        events = self.api.container_events(None)
        records = self.api.list_containers(labels)
        if events:
            self._save(queries, key, _anchor(events[-1]), records)
        self.last = "walk"
        return records

    def _save(
        self, queries: dict[str, t.Any], key: str, anchor: dict[str, t.Any], records: t.Sequence[ContainerRecord]
    ) -> None:
        if not self.write:
            return
        queries[key] = {"anchor": anchor, "ids": [r.id for r in records]}
        # A lost update (another module writing at the same moment) only costs that one a walk.
        write_index(
            self.path, {"version": INDEX_VERSION, "docker_host": self.api.options.docker_host, "queries": queries}
        )


def _joins(event: t.Mapping[str, t.Any], labels: Labels) -> bool:
    """Whether the event is the creation of a container carrying ``labels`` (Docker puts the container's labels
    in the actor's attributes)."""
    if event.get("Action") != "create" or not event.get("id"):
        return False
    attrs = (event.get("Actor") or {}).get("Attributes") or {}
    return isinstance(attrs, dict) and has_labels({str(k): str(v) for k, v in attrs.items()}, labels)
