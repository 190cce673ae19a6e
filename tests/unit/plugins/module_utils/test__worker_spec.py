# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the worker spec and the pure parts of the runner: validation, naming, masking, state dir."""

from __future__ import annotations

import dataclasses
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._errors import BosunError
from ansible_collections.bosun.compose.plugins.module_utils._model import Mount
from ansible_collections.bosun.compose.plugins.module_utils._errors import WorkerSpecError
from ansible_collections.bosun.compose.plugins.module_utils._images import split_image
from ansible_collections.bosun.compose.plugins.module_utils._state import default_state_dir
from ansible_collections.bosun.compose.plugins.module_utils._worker_runner import (
    _mount_config,
    redact,
    WorkerResult,
)
from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import SECRET_MASK, WorkerSpec

RUN_ID = "0123456789abcdef0123456789abcdef"


def spec(**kw: t.Any) -> WorkerSpec:
    base: dict[str, t.Any] = dict(job="backup", run_id=RUN_ID, image="bosun-test/busybox:latest")
    base.update(kw)
    return WorkerSpec(**base)


def test_name_and_labels() -> None:
    s = spec(stack="shop")
    assert s.name == "bosun-worker-backup-01234567"
    assert s.labels == {"bosun.worker.job": "backup", "bosun.worker.run-id": RUN_ID, "bosun.worker.stack": "shop"}
    assert spec().labels == {"bosun.worker.job": "backup", "bosun.worker.run-id": RUN_ID}


def test_container_env_adds_bosun_variables() -> None:
    assert spec(env={"A": "1"}, stack="shop").container_env == {
        "A": "1",
        "BOSUN_JOB_NAME": "backup",
        "BOSUN_RUN_ID": RUN_ID,
        "BOSUN_STACK": "shop",
    }
    assert "BOSUN_STACK" not in spec().container_env


def test_to_dict_always_masks_secrets() -> None:
    s = spec(
        env={"USER_NAME": "bob", "PASSWORD": "hunter2"},
        secret_env_names={"PASSWORD"},
        mounts=[Mount("shop_data", "/mnt/data")],
        network="none",
        command=["sh", "-c", "true"],
    )
    d = s.to_dict()
    assert d["env"] == {"USER_NAME": "bob", "PASSWORD": SECRET_MASK}
    assert "hunter2" not in repr(d)
    assert d["secret_env_names"] == ["PASSWORD"]
    assert d["mounts"] == [{"volume": "shop_data", "path": "/mnt/data", "mode": "ro"}]
    assert d["name"] == "bosun-worker-backup-01234567"
    assert (d["network"], d["command"], d["timeout"], d["stop_grace"]) == ("none", ["sh", "-c", "true"], 3600, 10)
    assert s.env["PASSWORD"] == "hunter2"  # the container still gets the value


def test_spec_is_frozen_and_normalized() -> None:
    s = spec(secret_env_names={"X"}, env={"X": "y"})
    assert isinstance(s.secret_env_names, frozenset)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.image = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "network", [None, "none", "bridge", "shop_default"], ids=["default", "none", "bridge", "user-defined"]
)
def test_allowed_networks(network: str | None) -> None:
    assert spec(network=network).network == network


NETWORK_RULE = "must be a bridge or user-defined network, or 'none'; host, container: and service: networking are not allowed for workers"
VOLUME_RULE = (
    "must be a volume name: a letter or digit first, then letters, digits, '_', '.', '-' (host paths are not allowed)"
)
REFUSED: list[tuple[str, dict[str, t.Any], str]] = [
    ("network-host", dict(network="host"), f"network 'host' {NETWORK_RULE}"),
    ("network-container", dict(network="container:db"), f"network 'container:db' {NETWORK_RULE}"),
    ("network-service", dict(network="service:db"), f"network 'service:db' {NETWORK_RULE}"),
    ("network-empty", dict(network=" "), "network ' ' must name a Docker network, or 'none'"),
    ("host-path", dict(mounts=[Mount("/etc", "/mnt/etc")]), f"mount source '/etc' {VOLUME_RULE}"),
    ("relative-host-path", dict(mounts=[Mount("./data", "/mnt/d")]), f"mount source './data' {VOLUME_RULE}"),
    (
        "dotdot-host-path",
        dict(mounts=[Mount("/srv/backup/../../etc", "/mnt/d")]),
        f"mount source '/srv/backup/../../etc' {VOLUME_RULE}",
    ),
    ("home-path", dict(mounts=[Mount("~", "/mnt/d")]), f"mount source '~' {VOLUME_RULE}"),
    ("bad-volume-name", dict(mounts=[Mount("-data", "/mnt/d")]), f"mount source '-data' {VOLUME_RULE}"),
    (
        "relative-target",
        dict(mounts=[Mount("data", "mnt/d")]),
        "mount path of volume 'data': 'mnt/d' must be an absolute path inside the worker, such as /mnt/data",
    ),
    (
        "dotdot-target",
        dict(mounts=[Mount("data", "/mnt/../etc")]),
        "mount path of volume 'data': '/mnt/../etc' must not contain '..'",
    ),
    (
        "root-target",
        dict(mounts=[Mount("data", "//")]),
        "mount path of volume 'data': '//' must not be '/': mount the volume below it, such as /mnt/data",
    ),
    (
        "bad-mode",
        dict(mounts=[Mount("data", "/mnt/d", "wo")]),  # type: ignore[arg-type]
        "mount mode of volume 'data': 'wo' must be 'ro' or 'rw'",
    ),
    (
        "duplicate-target",
        dict(mounts=[Mount("a", "/mnt/x"), Mount("b", "/mnt/x/")]),
        "mount path '/mnt/x' is used twice (volumes 'a' and 'b'): each mount needs its own path",
    ),
    (
        "job-name",
        dict(job="bad job"),
        "job name 'bad job' must start with a letter or digit and use only letters, digits, '_', '.', '-' (at most 63)",
    ),
    (
        "run-id-short",
        dict(run_id="abc"),
        "run id 'abc' must be 8 to 128 letters, digits, '_', '.', '-', starting with a letter or digit (a uuid4 hex is typical)",
    ),
    (
        "run-id-path",
        dict(run_id="../../../etc/x"),
        "run id '../../../etc/x' must be 8 to 128 letters, digits, '_', '.', '-', starting with a letter or digit "
        "(a uuid4 hex is typical)",
    ),
    ("image-empty", dict(image=""), "image '' must be a non-empty image reference without spaces"),
    ("command-empty", dict(command=[]), "command [] must name at least the program to run"),
    (
        "command-not-text",
        dict(command=["sh", None]),
        "command ['sh', None] must be a list of strings, a JSON array of strings or a shell-quoted string",
    ),
    (
        "reserved-env",
        dict(env={"BOSUN_RUN_ID": "x"}),
        "environment variable 'BOSUN_RUN_ID' is set by bosun itself and cannot be given; reserved names are "
        "BOSUN_JOB_NAME, BOSUN_RUN_ID, BOSUN_STACK",
    ),
    ("env-name", dict(env={"A=B": "x"}), "environment variable name 'A=B' must match [A-Za-z_][A-Za-z0-9_]*"),
    ("env-value", dict(env={"N": 3}), "environment variable 'N' must have a string value, not int"),
    ("timeout-zero", dict(timeout=0), "timeout 0 must be a positive duration such as 90s, 30m or 1h30m"),
    ("timeout-too-long", dict(timeout=604801), "timeout 604801 must be at most 7 days (604800 seconds)"),
    (
        "timeout-bool",
        dict(timeout=True),
        "timeout True must be a duration such as 90s, 30m or 1h30m, or a whole number of seconds",
    ),
    ("grace-negative", dict(stop_grace=-1), "stop_grace -1 must be a whole number of seconds from 0 to 3600"),
    ("user-empty", dict(user=""), "user '' must not be empty"),
]


@pytest.mark.parametrize(("kw", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_settings(kw: dict[str, t.Any], message: str) -> None:
    with pytest.raises(WorkerSpecError) as info:
        spec(**kw)
    assert info.value.message == message
    assert isinstance(info.value, BosunError)


def test_refusal_context_names_the_value() -> None:
    with pytest.raises(WorkerSpecError) as info:
        spec(network="host")
    assert info.value.context == {"network": "host"}


def test_secret_value_never_in_refusal() -> None:
    with pytest.raises(WorkerSpecError) as info:
        spec(env={"BOSUN_STACK": "s3cr3t-value"}, secret_env_names={"BOSUN_STACK"})
    assert "s3cr3t-value" not in repr((info.value.message, info.value.context))


def test_command_string_is_split_like_a_shell() -> None:
    assert spec(command="sh -c 'echo hi'").command == ["sh", "-c", "echo hi"]


@pytest.mark.parametrize(
    ("mount", "config"),
    [
        (
            Mount("data", "/mnt/data"),
            {
                "Type": "volume",
                "Source": "data",
                "Target": "/mnt/data",
                "ReadOnly": True,
                "VolumeOptions": {"NoCopy": True},
            },
        ),
        (
            Mount("data", "/mnt/data", "rw"),
            {
                "Type": "volume",
                "Source": "data",
                "Target": "/mnt/data",
                "ReadOnly": False,
                "VolumeOptions": {"NoCopy": True},
            },
        ),
    ],
    ids=["ro", "rw"],
)
def test_volume_mount_config(mount: Mount, config: dict[str, t.Any]) -> None:
    assert _mount_config(mount) == config


@pytest.mark.parametrize(
    ("euid", "env", "home", "expected"),
    [
        (0, {"XDG_STATE_HOME": "/x/state"}, "/root", "/var/lib/bosun"),
        (1000, {}, "/home/u", "/home/u/.local/state/bosun"),
        (1000, {"XDG_STATE_HOME": "/x/state"}, "/home/u", "/x/state/bosun"),
        (1000, {"XDG_STATE_HOME": "relative/state"}, "/home/u", "/home/u/.local/state/bosun"),
        (1000, {"XDG_STATE_HOME": ""}, "/home/u", "/home/u/.local/state/bosun"),
    ],
    ids=["root", "user-default", "user-xdg", "user-relative-xdg-ignored", "user-empty-xdg"],
)
def test_default_state_dir(
    monkeypatch: pytest.MonkeyPatch, euid: int, env: dict[str, str], home: str, expected: str
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: euid)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", home)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert default_state_dir() == expected


@pytest.mark.parametrize(
    ("image", "split"),
    [
        ("busybox", ("busybox", None)),
        ("busybox:1.36", ("busybox", "1.36")),
        ("registry:5000/team/tool", ("registry:5000/team/tool", None)),
        ("registry:5000/team/tool:2", ("registry:5000/team/tool", "2")),
        ("tool@sha256:abcd", ("tool", "sha256:abcd")),
    ],
    ids=["name", "tag", "registry-port", "registry-port-tag", "digest"],
)
def test_split_image(image: str, split: tuple[str, str | None]) -> None:
    assert split_image(image) == split


def test_redactor_masks_longest_first() -> None:
    secrets = spec(env={"A": "abc", "B": "abcdef"}, secret_env_names={"A", "B"}).secret_values
    assert redact("x abcdef y abc z", secrets) == f"x {SECRET_MASK} y {SECRET_MASK} z"


@pytest.mark.parametrize(
    ("kw", "ok", "reason"),
    [
        (dict(exit_code=0), True, "exited with code 0"),
        (dict(exit_code=3), False, "exited with code 3"),
        (dict(exit_code=0, timed_out=True), False, "timed out and was stopped (exit code 0)"),
        (dict(exit_code=143, cancelled=True), False, "was cancelled and stopped (exit code 143)"),
        (dict(exit_code=None, error="boom"), False, "did not run to an exit code: boom"),
    ],
    ids=["success", "failure", "timeout-despite-0", "cancelled", "no-exit-code"],
)
def test_result_ok_and_reason(kw: dict[str, t.Any], ok: bool, reason: str) -> None:
    r = WorkerResult(container_id="c", name="n", **kw)
    assert (r.ok, r.reason) == (ok, reason)
    assert r.to_dict()["ok"] is ok and r.to_dict()["reason"] == reason
