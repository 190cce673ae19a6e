# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The container index against the real daemon: its create events, its 256-event buffer, lists by id.

Other tests run in parallel on the same daemon, so every label here is unique to the test; whatever they do,
each list must return exactly the containers that carry the label (an extra walk is allowed, a miss is not).
"""

from __future__ import annotations

import json
import secrets
import typing as t
from pathlib import Path

import pytest
from harness import TEST_IMAGE, run

from ansible_collections.bosun.compose.plugins.module_utils._container_index import ContainerIndex
from ansible_collections.bosun.compose.plugins.module_utils._docker_api import ConnectionOptions, DockerApi
from ansible_collections.bosun.compose.plugins.module_utils._state import index_path

pytestmark = pytest.mark.docker


@pytest.fixture
def label() -> t.Iterator[str]:
    """A label key of this test; every container carrying it is removed afterwards."""
    key = f"bosun.test.index-{secrets.token_hex(4)}"
    yield key
    ids = run(["docker", "ps", "-aq", "--filter", f"label={key}"]).stdout.split()
    if ids:
        run(["docker", "rm", "-f", *ids])


def create(key: str, value: str = "1", n: int = 1) -> list[str]:
    return [
        run(["docker", "create", "--label", f"{key}={value}", TEST_IMAGE, "true"]).stdout.strip() for _n in range(n)
    ]


def test_creations_since_the_anchor_are_found_without_a_walk(label, tmp_path):
    api = DockerApi.connect(ConnectionOptions())
    idx = ContainerIndex(api, str(tmp_path))
    first = create(label)
    assert [c.id for c in idx.find(label)] == first and idx.last == "walk"
    second = create(label, "2")
    create(f"{label}-other")  # another label: not in this list
    found = idx.find(label)
    assert sorted(c.id for c in found) == sorted(first + second)
    assert idx.last == "index"  # the Engine's create events carried the new container's labels
    assert {c.labels[label] for c in found} == {"1", "2"}
    assert [c.id for c in idx.find(f"{label}=2")] == second
    run(["docker", "rm", "-f", *first])
    assert [c.id for c in idx.find(label)] == second and idx.last == "index"
    saved = json.loads(Path(index_path(str(tmp_path), api.options.docker_host)).read_text(encoding="utf-8"))
    assert saved["queries"][label]["ids"] == second


def test_more_than_the_buffer_of_events_walks_again_and_misses_nothing(label, tmp_path):
    api = DockerApi.connect(ConnectionOptions())
    idx = ContainerIndex(api, str(tmp_path))
    first = create(label)
    idx.find(label)
    second = create(label)
    # 150 creations and 150 removals: the anchor and the second creation leave Docker's 256-event buffer.
    noise = create(f"{label}-noise", n=150)
    run(["docker", "rm", *noise])
    found = idx.find(label)
    assert sorted(c.id for c in found) == sorted(first + second) and idx.last == "walk"
    assert idx.find(label) and idx.last == "index"


def test_job_info_and_job_plan_keep_the_index_in_their_state_dir(compose_project, ansible_adhoc, tmp_path):
    state = tmp_path / "state"
    args = {"name": "nightly", "state_dir": str(state)}
    p = compose_project("job_good.yml")
    out = ansible_adhoc("bosun.compose.job_info", {**args, "project": p.name})
    assert out.rc == 0, out
    [path] = list((state / "index").glob("*.json"))
    queries = json.loads(path.read_text(encoding="utf-8"))["queries"]
    ids = set(queries["bosun.job.name"]["ids"])
    assert {c["ID"] for c in p.ps("--no-trunc") if c["Service"] != "cache"} <= ids  # the job's two containers
    # A stack created after the index was written is found through the Engine's create events.
    q = compose_project("job_good.yml")
    out = ansible_adhoc("bosun.compose.job_info", {**args, "project": q.name})
    assert out.rc == 0, out
    [job] = out.task("bosun.compose.job_info").result["jobs"]
    assert {c["id"] for c in job["containers"]} == {c["ID"] for c in q.ps("--no-trunc") if c["Service"] != "cache"}
    plan = ansible_adhoc("bosun.compose.job_plan", {**args, "project": q.name})
    assert plan.rc == 0, plan
    [stop] = [x for x in plan.task("bosun.compose.job_plan").result["plan"]["steps"] if x["type"] == "stop_containers"]
    assert {c["name"] for level in stop["levels"] for c in level} == {c["Name"] for c in q.ps()}
    queries = json.loads(path.read_text(encoding="utf-8"))["queries"]
    assert f"com.docker.compose.project={q.name}" in queries


def test_check_mode_leaves_no_index(compose_project, ansible_adhoc, tmp_path):
    p = compose_project("job_good.yml")
    state = tmp_path / "state"
    out = ansible_adhoc(
        "bosun.compose.job_plan", {"name": "nightly", "project": p.name, "state_dir": str(state)}, check=True
    )
    assert out.rc == 0, out
    assert out.task("bosun.compose.job_plan").result["plan"]["steps"]
    assert not (state / "index").exists()
