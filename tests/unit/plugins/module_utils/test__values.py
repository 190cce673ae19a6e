# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One validation vocabulary: labels, play overrides, WorkerSpec and the worker module accept and refuse alike."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._discovery import build_jobs
from ansible_collections.bosun.compose.plugins.module_utils._errors import PlanError, WorkerSpecError
from ansible_collections.bosun.compose.plugins.module_utils._model import ContainerRecord, Job, Mount
from ansible_collections.bosun.compose.plugins.module_utils._planner import apply_overrides
from ansible_collections.bosun.compose.plugins.module_utils._values import LabelError, env_value, parse_env
from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import WorkerSpec
from ansible_collections.bosun.compose.plugins.modules.worker import _spec as worker_module_spec

RUN_ID = "0123456789abcdef0123456789abcdef"
REFUSED = object()


def via_label(label: str, value: str) -> t.Any:
    """The value as discovery reads it from a container label; REFUSED when it is a problem of that label."""
    labels = {"bosun.job.name": "j", "bosun.job.worker.image": "tools:1", label: value}
    c = ContainerRecord(
        id="c1",
        name="shop-db-1",
        state="running",
        labels={"com.docker.compose.project": "shop", "com.docker.compose.service": "db", **labels},
    )
    [job] = build_jobs([c], [])[0]
    if any(p.label == label for p in job.problems):
        return REFUSED
    return job


def via_override(key: str, value: t.Any) -> t.Any:
    try:
        return apply_overrides(Job(name="j", stack="shop", image="tools:1"), "j", {key: value})[0]
    except PlanError:
        return REFUSED


def via_spec(**kw: t.Any) -> t.Any:
    try:
        return WorkerSpec(job="j", run_id=RUN_ID, image="tools:1", **kw)
    except WorkerSpecError:
        return REFUSED


def via_worker_module(**options: t.Any) -> t.Any:
    p: dict[str, t.Any] = dict(
        job="j",
        run_id=RUN_ID,
        image="tools:1",
        command=None,
        env={},
        secret_env={},
        mounts=[],
        network=None,
        user=None,
        run_timeout=3600,
        stop_grace=10,
        stack=None,
    )
    p.update(options)
    try:
        return worker_module_spec(p)
    except WorkerSpecError:
        return REFUSED


NETWORKS = [
    ("bridge", "bridge"),
    ("none", "none"),
    ("shop_default", "shop_default"),
    ("host", REFUSED),
    ("container:db", REFUSED),
    ("service:db", REFUSED),
    (" ", REFUSED),
]


@pytest.mark.parametrize(("value", "expected"), NETWORKS, ids=[v for v, _e in NETWORKS])
def test_network_rule_is_the_same_everywhere(value: str, expected: t.Any) -> None:
    got = [
        via_label("bosun.job.worker.network", value),
        via_override("network", value),
        via_spec(network=value),
        via_worker_module(network=value),
    ]
    if expected is REFUSED:
        assert got == [REFUSED] * 4
    else:
        assert [g.network for g in got] == [expected] * 4


COMMANDS = [
    ("sh -c 'echo hi'", ["sh", "-c", "echo hi"]),
    ('["a", "b c"]', ["a", "b c"]),
    ("", REFUSED),
    ("sh -c 'oops", REFUSED),
    ("[1, 2]", REFUSED),
]


@pytest.mark.parametrize(("value", "expected"), COMMANDS, ids=["shell", "json", "empty", "unclosed", "json-ints"])
def test_command_rule_is_the_same_everywhere(value: str, expected: t.Any) -> None:
    got = [
        via_label("bosun.job.worker.command", value),
        via_override("command", value),
        via_spec(command=value),
        via_worker_module(command=value),
    ]
    if expected is REFUSED:
        assert got == [REFUSED] * 4
    else:
        assert [g.command for g in got] == [expected] * 4


def test_command_lists_from_a_play_are_the_same_in_override_and_worker_module() -> None:
    argv = ["sleep", 5]
    assert via_override("command", argv).command == via_worker_module(command=argv).command == ["sleep", "5"]


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), (5, "5"), (1.5, "1.5"), ("x", "x")],
    ids=["true", "false", "int", "float", "str"],
)
def test_env_values_become_the_same_text_through_job_run_and_worker(value: t.Any, text: str) -> None:
    # 0.1.0 gave "True" through job_run's overrides and "true" through the worker module.
    assert via_override("env", {"FLAG": value}).env == {"FLAG": text}
    assert dict(via_worker_module(env={"FLAG": value}).env) == {"FLAG": text}
    assert dict(via_worker_module(secret_env={"FLAG": value}).env) == {"FLAG": text}


@pytest.mark.parametrize("value", [None, [1], {"a": 1}], ids=["null", "list", "dict"])
def test_env_values_that_are_not_scalars_are_refused_everywhere(value: t.Any) -> None:
    with pytest.raises(LabelError, match="must be a string, number or boolean"):
        env_value(value)
    assert via_override("env", {"FLAG": value}) is REFUSED
    assert via_worker_module(env={"FLAG": value}) is REFUSED


def test_env_names_follow_one_rule() -> None:
    with pytest.raises(LabelError, match=r"must match \[A-Za-z_\]\[A-Za-z0-9_\]\*"):
        parse_env({"A-B": "x"})
    assert via_label("bosun.job.worker.env.A-B", "x") is REFUSED
    assert via_override("env", {"A-B": "x"}) is REFUSED
    assert via_spec(env={"A-B": "x"}) is REFUSED
    assert via_worker_module(env={"A-B": "x"}) is REFUSED


DURATIONS = [
    ("90s", 90),
    ("1h30m", 5400),
    ("120", 120),
    ("0", REFUSED),
    ("-5m", REFUSED),
    ("8d", REFUSED),
    ("604801", REFUSED),
]


@pytest.mark.parametrize(("value", "expected"), DURATIONS, ids=[v for v, _e in DURATIONS])
def test_duration_rule_is_the_same_for_labels_and_overrides(value: str, expected: t.Any) -> None:
    got = [via_label("bosun.job.timeout", value), via_override("timeout", value)]
    if expected is REFUSED:
        assert got == [REFUSED] * 2
    else:
        assert [g.timeout for g in got] == [expected] * 2
        assert via_spec(timeout=expected).timeout == expected


@pytest.mark.parametrize("seconds", [0, -1, 604801, True])
def test_spec_refuses_timeouts_outside_the_duration_rule(seconds: t.Any) -> None:
    assert via_spec(timeout=seconds) is REFUSED


def test_spec_normalizes_a_duration_text_to_seconds() -> None:
    assert via_spec(timeout="1h30m").timeout == 5400


MOUNTS = [
    ("/mnt/data/", "/mnt/data"),
    ("/mnt//x/./y", "/mnt/x/y"),
    ("relative", REFUSED),
    ("/", REFUSED),
    ("/a/../b", REFUSED),
]


@pytest.mark.parametrize(("path", "expected"), MOUNTS, ids=[p for p, _e in MOUNTS])
def test_mount_path_rule_is_the_same_for_overrides_spec_and_worker_module(path: str, expected: t.Any) -> None:
    got = [
        via_override("mounts", [{"volume": "data", "path": path}]),
        via_spec(mounts=[Mount("data", path)]),
        via_worker_module(mounts=[{"volume": "data", "path": path, "mode": "ro"}]),
    ]
    if expected is REFUSED:
        assert got == [REFUSED] * 3
    else:
        assert [g.mounts[0].path for g in got] == [expected] * 3


@pytest.mark.parametrize("volume", ["/etc", "./data", "~", "/srv/backup", "-data"])
def test_host_paths_are_refused_as_mount_sources_everywhere(volume: str) -> None:
    assert via_override("mounts", [{"volume": volume, "path": "/mnt/x"}]) is REFUSED
    assert via_spec(mounts=[Mount(volume, "/mnt/x")]) is REFUSED
    assert via_worker_module(mounts=[{"volume": volume, "path": "/mnt/x", "mode": "ro"}]) is REFUSED


def test_no_dormant_host_path_or_secret_switch_remains() -> None:
    # 0.1.0 had WorkerSpec(allowed_host_paths=...) (bind mounts, reachable only from tests) and
    # WorkerSpec.to_dict(show_secrets=True); both are gone.
    with pytest.raises(TypeError):
        WorkerSpec(job="j", run_id=RUN_ID, image="tools:1", allowed_host_paths=["/srv"])  # type: ignore[call-arg]
    spec = WorkerSpec(job="j", run_id=RUN_ID, image="tools:1", env={"PW": "hunter2"}, secret_env_names={"PW"})
    with pytest.raises(TypeError):
        spec.to_dict(show_secrets=True)  # type: ignore[call-arg]
    assert "hunter2" not in repr(spec.to_dict())
