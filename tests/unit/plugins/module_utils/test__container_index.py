# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The container index's branches against a small in-memory Engine with Docker's 256-event buffer.

tests/integration/test_container_index.py runs the same cases against the daemon.
"""

from __future__ import annotations

import collections
import json
import typing as t
from pathlib import Path

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._container_index import ContainerIndex
from ansible_collections.bosun.compose.plugins.module_utils._docker_api import (
    ConnectionOptions,
    EngineInfo,
    Labels,
    has_labels,
)
from ansible_collections.bosun.compose.plugins.module_utils._errors import EngineError
from ansible_collections.bosun.compose.plugins.module_utils._model import ContainerRecord

JOB = "bosun.job.name"


class BufferedEngine:
    """Containers with labels, and an event buffer that keeps the last 256 events of any kind, as Docker's."""

    def __init__(self, kind: str = "docker", docker_host: str = "unix:///var/run/docker.sock") -> None:
        self.options = ConnectionOptions(docker_host=docker_host)
        self.kind = kind
        self.containers: dict[str, dict[str, str]] = {}
        self.buffer: collections.deque[dict[str, t.Any]] = collections.deque(maxlen=256)
        self.now = 1_800_000_000 * 10**9
        self.calls: list[str] = []

    @property
    def is_local(self) -> bool:
        return self.options.docker_host.startswith("unix://")

    def engine(self) -> EngineInfo:
        return EngineInfo(self.kind, "20.10.24", "1.41")

    def _event(self, action: str, cid: str, labels: t.Mapping[str, str]) -> None:
        self.now += 1000
        actor = {"ID": cid, "Attributes": {**labels, "image": "busybox", "name": f"c-{cid}"}}
        self.buffer.append({"Type": "container", "Action": action, "id": cid, "Actor": actor, "timeNano": self.now})

    def create(self, cid: str, **labels: str) -> None:
        self.containers[cid] = dict(labels)
        self._event("create", cid, labels)

    def remove(self, cid: str) -> None:
        self._event("destroy", cid, self.containers.pop(cid))

    def noise(self, n: int) -> None:
        """n events that are not creations (health-check execs, say)."""
        for _n in range(n):
            self._event("exec_start", "x", {})

    def restart(self) -> None:
        self.buffer.clear()

    def container_events(self, since_nano: int | None) -> list[dict[str, t.Any]]:
        self.calls.append("events")
        return [e for e in self.buffer if since_nano is None or e["timeNano"] >= since_nano]

    def list_containers(self, labels: Labels, *, ids: t.Sequence[str] | None = None) -> list[ContainerRecord]:
        if ids is not None and not ids:
            return []  # as DockerApi.list_containers: no request
        self.calls.append("walk" if ids is None else f"ids:{len(ids)}")
        return [
            ContainerRecord(id=cid, name=f"c-{cid}", state="created", labels=lbl)
            for cid, lbl in sorted(self.containers.items())
            if has_labels(lbl, labels) and (ids is None or cid in ids)
        ]


@pytest.fixture
def engine() -> BufferedEngine:
    e = BufferedEngine()
    e.create("filler1")
    e.create("job1", **{JOB: "backup"})
    e.create("filler2")
    return e


def index(engine: BufferedEngine, tmp_path: t.Any, **kw: t.Any) -> ContainerIndex:
    return ContainerIndex(t.cast(t.Any, engine), str(tmp_path), **kw)


def ids(records: list[ContainerRecord]) -> list[str]:
    return sorted(r.id for r in records)


def test_the_first_list_walks_the_next_ones_ask_by_id(engine, tmp_path):
    idx = index(engine, tmp_path)
    assert ids(idx.find(JOB)) == ["job1"] and idx.last == "walk"
    assert engine.calls == ["events", "walk"]
    engine.calls.clear()
    assert ids(idx.find(JOB)) == ["job1"] and idx.last == "index"
    assert engine.calls == ["events", "ids:1"]  # no walk of the host
    saved = json.loads(Path(idx.path).read_text(encoding="utf-8"))
    assert saved["queries"][JOB]["ids"] == ["job1"] and saved["docker_host"] == engine.options.docker_host


def test_a_container_created_since_joins_when_its_labels_match(engine, tmp_path):
    idx = index(engine, tmp_path)
    idx.find(JOB)
    engine.create("job2", **{JOB: "restore"})
    engine.create("filler3", other="x")
    engine.calls.clear()
    assert ids(idx.find(JOB)) == ["job1", "job2"] and idx.last == "index"
    assert engine.calls == ["events", "ids:2"]
    assert ids(idx.find(f"{JOB}=restore")) == ["job2"]  # a key=value filter has an entry of its own


def test_a_removed_container_drops_out(engine, tmp_path):
    idx = index(engine, tmp_path)
    idx.find(JOB)
    engine.remove("job1")
    assert idx.find(JOB) == [] and idx.last == "index"
    engine.calls.clear()
    assert idx.find(JOB) == [] and engine.calls == ["events"]  # nothing to ask for by id


@pytest.mark.parametrize("lost", ["overflow", "restart"])
def test_a_lost_anchor_walks_again(engine, tmp_path, lost):
    idx = index(engine, tmp_path)
    idx.find(JOB)
    engine.create("job2", **{JOB: "restore"})
    if lost == "overflow":
        engine.noise(256)  # the anchor and job2's creation leave the buffer
    else:
        engine.restart()
    engine.calls.clear()
    assert ids(idx.find(JOB)) == ["job1", "job2"] and idx.last == "walk"
    assert engine.calls == ["events", "events", "walk"]


def test_events_that_leave_the_anchor_in_the_buffer_keep_the_index(engine, tmp_path):
    idx = index(engine, tmp_path)
    idx.find(JOB)
    engine.noise(200)
    engine.create("job2", **{JOB: "restore"})
    assert ids(idx.find(JOB)) == ["job1", "job2"] and idx.last == "index"
    # The anchor moved to job2's creation: 200 more events still leave it in the buffer.
    engine.noise(200)
    assert ids(idx.find(JOB)) == ["job1", "job2"] and idx.last == "index"


def test_without_any_event_in_the_buffer_every_list_walks(tmp_path):
    engine = BufferedEngine()
    engine.containers["job1"] = {JOB: "backup"}  # created before the buffer began
    idx = index(engine, tmp_path)
    assert ids(idx.find(JOB)) == ["job1"] and idx.last == "walk"
    assert ids(idx.find(JOB)) == ["job1"] and idx.last == "walk"
    assert not (tmp_path / "index").exists()


def test_a_buffer_of_removals_only_still_anchors_the_index(engine, tmp_path):
    for n in range(300):
        engine.create(f"filler-{n}")
    for n in range(300):
        engine.remove(f"filler-{n}")  # the buffer now holds no creation at all
    idx = index(engine, tmp_path)
    assert ids(idx.find(JOB)) == ["job1"] and idx.last == "walk"
    assert ids(idx.find(JOB)) == ["job1"] and idx.last == "index"


def test_check_mode_reads_and_never_writes(engine, tmp_path):
    assert ids(index(engine, tmp_path, write=False).find(JOB)) == ["job1"]
    assert not (tmp_path / "index").exists()
    writer = index(engine, tmp_path)
    writer.find(JOB)
    before = Path(writer.path).read_text(encoding="utf-8")
    engine.create("job2", **{JOB: "restore"})
    reader = index(engine, tmp_path, write=False)
    assert ids(reader.find(JOB)) == ["job1", "job2"] and reader.last == "index"
    assert Path(writer.path).read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    "engine_args", [{"kind": "podman"}, {"docker_host": "tcp://docker.example:2376"}], ids=["podman", "remote"]
)
def test_podman_and_remote_engines_list_by_label(tmp_path, engine_args):
    engine = BufferedEngine(**engine_args)
    engine.create("job1", **{JOB: "backup"})
    idx = index(engine, tmp_path)
    assert ids(idx.find(JOB)) == ["job1"] and idx.last == "label"
    assert engine.calls == ["walk"] and not (tmp_path / "index").exists()


@pytest.mark.parametrize(
    "content", ["not json", "[]", '{"version": 99, "queries": {}}', '{"version": 1, "queries": 3}']
)
def test_an_unreadable_or_foreign_index_is_rebuilt(engine, tmp_path, content):
    idx = index(engine, tmp_path)
    (tmp_path / "index").mkdir()
    Path(idx.path).write_text(content, encoding="utf-8")
    assert ids(idx.find(JOB)) == ["job1"] and idx.last == "walk"
    assert idx.find(JOB) and idx.last == "index"


def test_queries_keep_anchors_of_their_own(engine, tmp_path):
    idx = index(engine, tmp_path)
    idx.find(JOB)
    engine.create("lease1", **{"bosun.lease.project": "shop"})
    assert ids(idx.find("bosun.lease.project")) == ["lease1"] and idx.last == "walk"
    engine.create("job2", **{JOB: "restore"})
    # The job query's anchor is still its own (before lease1): job2 is found, lease1 is not a job.
    assert ids(idx.find(JOB)) == ["job1", "job2"] and idx.last == "index"
    assert ids(idx.find("bosun.lease.project")) == ["lease1"] and idx.last == "index"


def test_an_engine_that_refuses_the_events_request_is_listed_by_label(engine, tmp_path):
    def refuse(_since: int | None) -> list[dict[str, t.Any]]:
        raise EngineError("cannot read the Engine's container events: not implemented", status=501)

    engine.container_events = refuse  # type: ignore[method-assign]
    idx = index(engine, tmp_path)
    assert ids(idx.find(JOB)) == ["job1"] and idx.last == "label"
    assert engine.calls == ["walk"] and not (tmp_path / "index").exists()
