# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the pure parts of the worker runner: spec validation, naming, labels, masking, state dir."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils.model import BosunError, Mount
from ansible_collections.bosun.compose.plugins.module_utils.worker_runner import (
    SECRET_MASK,
    WorkerResult,
    WorkerSpec,
    WorkerSpecError,
    _mount_config,
    _Redactor,
    _split_image,
    default_state_dir,
)

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
        "A": "1", "BOSUN_JOB_NAME": "backup", "BOSUN_RUN_ID": RUN_ID, "BOSUN_STACK": "shop"}
    assert "BOSUN_STACK" not in spec().container_env


def test_to_dict_masks_secrets_unless_asked() -> None:
    s = spec(env={"USER_NAME": "bob", "PASSWORD": "hunter2"}, secret_env_names={"PASSWORD"},
             mounts=[Mount("shop_data", "/mnt/data")], network="none", command=["sh", "-c", "true"])
    d = s.to_dict()
    assert d["env"] == {"USER_NAME": "bob", "PASSWORD": SECRET_MASK}
    assert "hunter2" not in repr(d)
    assert d["secret_env_names"] == ["PASSWORD"]
    assert d["mounts"] == [{"volume": "shop_data", "path": "/mnt/data", "mode": "ro"}]
    assert d["name"] == "bosun-worker-backup-01234567"
    assert (d["network"], d["command"], d["timeout"], d["stop_grace"]) == ("none", ["sh", "-c", "true"], 3600, 10)
    assert s.to_dict(show_secrets=True)["env"]["PASSWORD"] == "hunter2"


def test_spec_is_frozen_and_normalized() -> None:
    s = spec(secret_env_names={"X"}, env={"X": "y"})
    assert isinstance(s.secret_env_names, frozenset)
    with pytest.raises(Exception):
        s.image = "other"  # type: ignore[misc]


@pytest.mark.parametrize("network", [None, "none", "bridge", "shop_default"], ids=["default", "none", "bridge", "user-defined"])
def test_allowed_networks(network: str | None) -> None:
    assert spec(network=network).network == network


REFUSED: list[tuple[str, dict[str, t.Any], str]] = [
    ("network-host", dict(network="host"),
     "network 'host' is not allowed for workers: use a bridge or user-defined network, 'none', or leave it unset "
     "for Docker's default bridge (host and container: networking are refused)"),
    ("network-container", dict(network="container:db"),
     "network 'container:db' is not allowed for workers: use a bridge or user-defined network, 'none', or leave it "
     "unset for Docker's default bridge (host and container: networking are refused)"),
    ("network-empty", dict(network=" "),
     "network ' ' must name a Docker network, 'none', or be unset for the default bridge"),
    ("host-path", dict(mounts=[Mount("/etc", "/mnt/etc")]),
     "mount source '/etc' is a host path outside the allowed host paths (none): workers mount named volumes; "
     "host paths need an explicit allowed_host_paths entry"),
    ("host-path-outside-allowed", dict(mounts=[Mount("/srv/backupx", "/mnt/b")], allowed_host_paths=["/srv/backup"]),
     "mount source '/srv/backupx' is a host path outside the allowed host paths ('/srv/backup'): workers mount "
     "named volumes; host paths need an explicit allowed_host_paths entry"),
    ("relative-host-path", dict(mounts=[Mount("./data", "/mnt/d")]),
     "mount source './data' looks like a host path: host paths must be absolute, without '..', and under an "
     "allowed host path"),
    ("dotdot-host-path", dict(mounts=[Mount("/srv/backup/../../etc", "/mnt/d")], allowed_host_paths=["/srv/backup"]),
     "mount source '/srv/backup/../../etc' looks like a host path: host paths must be absolute, without '..', "
     "and under an allowed host path"),
    ("home-path", dict(mounts=[Mount("~", "/mnt/d")]),
     "mount source '~' looks like a host path: host paths must be absolute, without '..', and under an allowed "
     "host path"),
    ("bad-volume-name", dict(mounts=[Mount("-data", "/mnt/d")]),
     "mount source '-data' is not a valid volume name: it must start with a letter or digit and use only "
     "letters, digits, '_', '.', '-'"),
    ("relative-target", dict(mounts=[Mount("data", "mnt/d")]),
     "mount path 'mnt/d' of volume 'data' must be an absolute path inside the worker without '..', such as /mnt/data"),
    ("root-target", dict(mounts=[Mount("data", "//")]),
     "mount path '//' of volume 'data' must not be '/': mount below it, such as /mnt/data"),
    ("bad-mode", dict(mounts=[Mount("data", "/mnt/d", "wo")]),  # type: ignore[arg-type]
     "mount mode 'wo' of volume 'data' must be 'ro' or 'rw'"),
    ("duplicate-target", dict(mounts=[Mount("a", "/mnt/x"), Mount("b", "/mnt/x/")]),
     "mount path '/mnt/x/' is used twice (volumes 'a' and 'b'): each mount needs its own path"),
    ("job-name", dict(job="bad job"),
     "job name 'bad job' must start with a letter or digit and use only letters, digits, '_', '.', '-' (at most 63)"),
    ("run-id-short", dict(run_id="abc"),
     "run id 'abc' must be 8 to 128 letters, digits, '_', '.', '-', starting with a letter or digit (a uuid4 hex is typical)"),
    ("run-id-path", dict(run_id="../../../etc/x"),
     "run id '../../../etc/x' must be 8 to 128 letters, digits, '_', '.', '-', starting with a letter or digit "
     "(a uuid4 hex is typical)"),
    ("image-empty", dict(image=""), "image '' must be a non-empty image reference without spaces"),
    ("command-str", dict(command="echo hi"),
     "command 'echo hi' must be a non-empty list of strings, or None for the image's own command"),
    ("command-empty", dict(command=[]),
     "command [] must be a non-empty list of strings, or None for the image's own command"),
    ("reserved-env", dict(env={"BOSUN_RUN_ID": "x"}),
     "environment variable 'BOSUN_RUN_ID' is set by bosun itself and cannot be given; reserved names are "
     "BOSUN_JOB_NAME, BOSUN_RUN_ID, BOSUN_STACK"),
    ("env-name", dict(env={"A=B": "x"}), "environment variable name 'A=B' must be non-empty and contain no '=' or NUL"),
    ("env-value", dict(env={"N": 3}), "environment variable 'N' must have a string value, not int"),
    ("timeout-zero", dict(timeout=0), "timeout 0 must be a whole number of seconds from 1 to 604800"),
    ("timeout-too-long", dict(timeout=604801), "timeout 604801 must be a whole number of seconds from 1 to 604800"),
    ("timeout-bool", dict(timeout=True), "timeout True must be a whole number of seconds from 1 to 604800"),
    ("grace-negative", dict(stop_grace=-1), "stop_grace -1 must be a whole number of seconds from 0 to 3600"),
    ("user-empty", dict(user=""), "user '' must be a user name or uid[:gid], or unset for the image's user"),
    ("allowed-root", dict(allowed_host_paths=["/"]), "allowed host path '/' must be an absolute directory other than '/'"),
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
    assert info.value.to_dict() == {"msg": info.value.message, "network": "host"}


def test_secret_value_never_in_refusal() -> None:
    with pytest.raises(WorkerSpecError) as info:
        spec(env={"BOSUN_STACK": "s3cr3t-value"}, secret_env_names={"BOSUN_STACK"})
    assert "s3cr3t-value" not in repr(info.value.to_dict())


def test_allowed_host_path_becomes_bind_mount() -> None:
    s = spec(mounts=[Mount("/srv/backup/shop", "/mnt/out", "rw")], allowed_host_paths=["/srv/backup/"])
    assert _mount_config(s.mounts[0]) == {"Type": "bind", "Source": "/srv/backup/shop", "Target": "/mnt/out",
                                          "ReadOnly": False}


@pytest.mark.parametrize(
    ("mount", "config"),
    [
        (Mount("data", "/mnt/data"), {"Type": "volume", "Source": "data", "Target": "/mnt/data", "ReadOnly": True,
                                      "VolumeOptions": {"NoCopy": True}}),
        (Mount("data", "/mnt/data", "rw"), {"Type": "volume", "Source": "data", "Target": "/mnt/data",
                                            "ReadOnly": False, "VolumeOptions": {"NoCopy": True}}),
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
def test_default_state_dir(monkeypatch: pytest.MonkeyPatch, euid: int, env: dict[str, str], home: str,
                           expected: str) -> None:
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
    assert _split_image(image) == split


def test_redactor_masks_longest_first() -> None:
    redact = _Redactor(spec(env={"A": "abc", "B": "abcdef"}, secret_env_names={"A", "B"}).secret_values)
    assert redact("x abcdef y abc z") == f"x {SECRET_MASK} y {SECRET_MASK} z"


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
