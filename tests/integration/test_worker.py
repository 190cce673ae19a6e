# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The worker runner and the bosun.compose.worker module against the real Docker daemon (no mocks)."""

from __future__ import annotations

import json
import secrets
import threading
import time
import typing as t
import uuid
from pathlib import Path

import pytest
from harness import TEST_IMAGE, run

from ansible_collections.bosun.compose.plugins.module_utils._docker_api import ConnectionOptions, DockerApi
from ansible_collections.bosun.compose.plugins.module_utils._model import Mount
from ansible_collections.bosun.compose.plugins.module_utils._errors import (
    ImageMissingError,
    ImagePullError,
    VolumeMissingError,
)
from ansible_collections.bosun.compose.plugins.module_utils._images import preflight_image
from ansible_collections.bosun.compose.plugins.module_utils._worker_runner import stop_workers, WorkerRunner
from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import WorkerSpec

pytestmark = pytest.mark.docker

MISSING_IMAGE = "bosun-test/does-not-exist:1"


@pytest.fixture
def api() -> DockerApi:
    return DockerApi.connect(ConnectionOptions())


@pytest.fixture
def runner(api: DockerApi, tmp_path: Path) -> WorkerRunner:
    return WorkerRunner(api, str(tmp_path / "state"))


@pytest.fixture
def job_name(request: pytest.FixtureRequest) -> t.Iterator[str]:
    """A unique job name; every worker container of that job is removed afterwards."""
    name = f"it-{secrets.token_hex(4)}"
    yield name
    ids = run(["docker", "ps", "-aq", "--filter", f"label=bosun.worker.job={name}"]).stdout.split()
    if ids:
        run(["docker", "rm", "-f", *ids])


@pytest.fixture
def volume() -> t.Iterator[t.Callable[..., str]]:
    """Factory: volume(files={name: text}) -> a new named volume holding those files; removed afterwards."""
    made: list[str] = []

    def make(files: dict[str, str] | None = None) -> str:
        name = f"bosun-it-vol-{secrets.token_hex(4)}"
        run(["docker", "volume", "create", name])
        made.append(name)
        for fname, text in (files or {}).items():
            run(
                [
                    "docker",
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    "-v",
                    f"{name}:/v",
                    "-e",
                    f"TEXT={text}",
                    TEST_IMAGE,
                    "sh",
                    "-c",
                    f'printf "%s" "$TEXT" > /v/{fname}',
                ]
            )
        return name

    yield make
    for name in made:
        run(["docker", "volume", "rm", "-f", name], check=False)


def spec(job: str, command: list[str] | None, **kw: t.Any) -> WorkerSpec:
    kw.setdefault("network", "none")
    return WorkerSpec(job=job, run_id=kw.pop("run_id", uuid.uuid4().hex), image=TEST_IMAGE, command=command, **kw)


def exists(name: str) -> bool:
    return run(["docker", "container", "inspect", name], check=False).returncode == 0


def test_success_captures_output_and_writes_log(runner: WorkerRunner, job_name: str) -> None:
    s = spec(
        job_name,
        ["sh", "-c", 'echo one; echo two; echo "job=$BOSUN_JOB_NAME run=$BOSUN_RUN_ID x=$X"; echo err >&2'],
        env={"X": "42"},
    )
    result = runner.run(s)
    assert (result.exit_code, result.ok, result.timed_out, result.cancelled, result.error) == (
        0,
        True,
        False,
        False,
        None,
    )
    # Demultiplexed: no 8-byte frame headers; stdout lines keep their order (stderr may interleave anywhere).
    assert [line for line in result.log_tail if line != "err"] == ["one", "two", f"job={job_name} run={s.run_id} x=42"]
    assert "err" in result.log_tail and len(result.log_tail) == 4
    assert result.log_path == str(Path(runner.state_dir) / "logs" / job_name / f"{s.run_id}.log")
    assert Path(result.log_path).read_text(encoding="utf-8").splitlines() == result.log_tail
    assert Path(result.log_path).stat().st_mode & 0o777 == 0o600
    assert result.removed and not exists(s.name)
    assert result.name == f"bosun-worker-{job_name}-{s.run_id[:8]}"
    assert result.started_at and result.finished_at and 0 < result.duration < 30


def test_failure_returns_tail_and_removes(runner: WorkerRunner, job_name: str) -> None:
    s = spec(job_name, ["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; exit 3"])
    result = runner.run(s, tail_lines=2)
    assert (result.exit_code, result.ok, result.reason) == (3, False, "exited with code 3")
    assert result.log_tail == ["line4", "line5"]
    assert Path(result.log_path).read_text(encoding="utf-8") == "line1\nline2\nline3\nline4\nline5\n"
    assert result.removed and not exists(s.name)


def test_timeout_kills_a_worker_that_ignores_sigterm(runner: WorkerRunner, job_name: str) -> None:
    s = spec(job_name, ["sh", "-c", 'trap "" TERM; echo started; sleep 30'], timeout=2, stop_grace=1)
    t0 = time.monotonic()
    result = runner.run(s)
    elapsed = time.monotonic() - t0
    assert (result.timed_out, result.cancelled, result.ok, result.exit_code) == (True, False, False, 137)
    assert result.log_tail == ["started"]
    assert result.removed and not exists(s.name)
    assert elapsed < 15


def test_timeout_counts_even_when_the_worker_then_exits_0(runner: WorkerRunner, job_name: str) -> None:
    # init=True: SIGTERM reaches sh (not PID 1), whose trap exits 0; the run still timed out.
    s = spec(job_name, ["sh", "-c", 'trap "echo got TERM; exit 0" TERM; sleep 30 & wait $!'], timeout=1, stop_grace=10)
    t0 = time.monotonic()
    result = runner.run(s)
    assert (result.timed_out, result.exit_code, result.ok) == (True, 0, False)
    assert result.log_tail == ["got TERM"]
    assert time.monotonic() - t0 < 8  # the grace of 10 s was not needed


def test_keep_on_failure_keeps_a_hardened_container(runner: WorkerRunner, api: DockerApi, job_name: str) -> None:
    s = spec(job_name, ["sh", "-c", "exit 1"], stack="shop", user="1234:1234")
    result = runner.run(s, keep="on_failure")
    assert (result.exit_code, result.removed) == (1, False)
    info = json.loads(run(["docker", "container", "inspect", s.name]).stdout)[0]
    host = info["HostConfig"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert (host["Privileged"], host["Init"], host["NetworkMode"]) == (False, True, "none")
    assert not host.get("CapAdd") and not host.get("Devices") and not host.get("Binds")
    assert info["Config"]["Labels"] == {
        "bosun.worker.job": job_name,
        "bosun.worker.run-id": s.run_id,
        "bosun.worker.stack": "shop",
    }
    assert info["Config"]["User"] == "1234:1234"
    assert not any("docker.sock" in str(m) for m in info["Mounts"])
    assert stop_workers(api, run_id=s.run_id, grace=1) == [s.name]
    assert not exists(s.name)


def test_keep_on_failure_still_removes_a_successful_run(runner: WorkerRunner, job_name: str) -> None:
    s = spec(job_name, ["true"])
    result = runner.run(s, keep="on_failure")
    assert result.ok and result.removed and not exists(s.name)


def test_user_and_network_none(runner: WorkerRunner, job_name: str) -> None:
    result = runner.run(spec(job_name, ["sh", "-c", "id -u; id -g; ls /sys/class/net"], user="1234:2345"))
    assert result.log_tail == ["1234", "2345", "lo"]


def test_default_bridge_network(runner: WorkerRunner, job_name: str) -> None:
    result = runner.run(spec(job_name, ["sh", "-c", "ls /sys/class/net | sort"], network=None))
    assert result.ok and result.log_tail == ["eth0", "lo"]


def test_volume_mounts_ro_and_rw(runner: WorkerRunner, job_name: str, volume: t.Callable[..., str]) -> None:
    src = volume({"hello.txt": "hello from the volume"})
    out = volume()
    s = spec(
        job_name,
        ["sh", "-c", "cat /mnt/x/hello.txt; echo; cp /mnt/x/hello.txt /mnt/y/copy.txt && echo copied"],
        mounts=[Mount(src, "/mnt/x", "ro"), Mount(out, "/mnt/y", "rw")],
    )
    result = runner.run(s)
    assert result.ok, result
    assert result.log_tail == ["hello from the volume", "copied"]
    check = run(["docker", "run", "--rm", "--network", "none", "-v", f"{out}:/v:ro", TEST_IMAGE, "cat", "/v/copy.txt"])
    assert check.stdout == "hello from the volume"


def test_ro_mount_is_read_only(runner: WorkerRunner, job_name: str, volume: t.Callable[..., str]) -> None:
    src = volume({"a": "x"})
    result = runner.run(spec(job_name, ["sh", "-c", "echo y > /mnt/x/new"], mounts=[Mount(src, "/mnt/x")]))
    assert result.exit_code not in (0, None)
    assert any("Read-only file system" in line for line in result.log_tail), result.log_tail
    ls = run(["docker", "run", "--rm", "--network", "none", "-v", f"{src}:/v:ro", TEST_IMAGE, "ls", "/v"])
    assert ls.stdout.split() == ["a"]


def test_missing_volume_is_refused_before_anything_runs(runner: WorkerRunner, job_name: str) -> None:
    name = f"bosun-it-vol-missing-{secrets.token_hex(4)}"
    s = spec(job_name, ["true"], mounts=[Mount(name, "/mnt/x")])
    with pytest.raises(VolumeMissingError) as info:
        runner.run(s)
    assert info.value.message == (
        f"volume {name!r} (to be mounted at /mnt/x) does not exist on the Docker host: "
        "workers only mount existing volumes, a missing one would be created empty"
    )
    assert not exists(s.name)
    assert run(["docker", "volume", "inspect", name], check=False).returncode != 0  # not created empty


def test_missing_image_fails_before_anything_runs(runner: WorkerRunner, api: DockerApi, job_name: str) -> None:
    s = WorkerSpec(job=job_name, run_id=uuid.uuid4().hex, image=MISSING_IMAGE, network="none")
    expected = (
        f"worker image {MISSING_IMAGE!r} is not present on the Docker host and pull is 'never': load or "
        "pull it beforehand, or set pull to 'missing'"
    )
    with pytest.raises(ImageMissingError) as info:
        runner.run(s)
    assert info.value.message == expected
    assert info.value.context == {"image": MISSING_IMAGE, "pull": "never"}
    assert not exists(s.name)
    assert not (Path(runner.state_dir) / "logs").exists()
    with pytest.raises(ImageMissingError) as info:
        preflight_image(api, MISSING_IMAGE)
    assert info.value.message == expected


def test_pull_missing_without_registry_says_so(api: DockerApi) -> None:
    with pytest.raises(ImagePullError) as info:
        preflight_image(api, MISSING_IMAGE, pull="missing")
    assert info.value.message.startswith(f"worker image {MISSING_IMAGE!r} is not present and pulling it failed: ")
    assert isinstance(info.value, ImageMissingError)
    assert info.value.context == {"image": MISSING_IMAGE, "pull": "missing"}


def test_preflight_image_reports_id(api: DockerApi) -> None:
    info = preflight_image(api, TEST_IMAGE, pull="missing")
    assert info.id and info.id.startswith("sha256:") and info.pulled is False and info.image == TEST_IMAGE


def test_cancel_stops_promptly(runner: WorkerRunner, job_name: str) -> None:
    cancel = threading.Event()
    s = spec(job_name, ["sh", "-c", "echo waiting; sleep 60"], stop_grace=5)
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    t0 = time.monotonic()
    try:
        result = runner.run(s, cancel=cancel)
    finally:
        timer.cancel()
    elapsed = time.monotonic() - t0
    assert (result.cancelled, result.timed_out, result.ok) == (True, False, False)
    assert result.exit_code == 143  # SIGTERM reached sleep through the init process; no SIGKILL needed
    assert result.log_tail == ["waiting"]
    assert result.removed and not exists(s.name)
    assert elapsed < 6


def test_stop_workers_stops_a_running_worker(runner: WorkerRunner, api: DockerApi, job_name: str) -> None:
    s = spec(job_name, ["sh", "-c", "sleep 60"])
    results: list[t.Any] = []
    thread = threading.Thread(target=lambda: results.append(runner.run(s)))
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not api.list_containers(f"bosun.worker.run-id={s.run_id}", include_stopped=False):
            assert time.monotonic() < deadline, "worker did not start"
            time.sleep(0.1)
        assert stop_workers(api, job=job_name, grace=2) == [s.name]
    finally:
        thread.join(30)
    assert not thread.is_alive()
    # Either the runner saw the exit (143: SIGTERM) before stop_workers() removed the container, or the
    # container vanished under it, which it reports instead of an exit code. Both end removed, not ok.
    (result,) = results
    assert (result.ok, result.removed) == (False, True)
    if result.exit_code is None:
        assert result.error == f"worker container {s.name!r} was removed by someone else while it ran"
    else:
        assert result.exit_code == 143
    assert stop_workers(api, run_id=s.run_id) == []


def test_secret_values_are_masked_in_tail_and_log(runner: WorkerRunner, job_name: str) -> None:
    secret = f"S3cret-{secrets.token_hex(6)}"
    s = spec(
        job_name,
        ["sh", "-c", 'echo "pw=$PW"; echo "$PW" >&2'],
        env={"PW": secret, "OTHER": "visible"},
        secret_env_names={"PW"},
    )
    result = runner.run(s)
    assert sorted(result.log_tail) == ["********", "pw=********"]
    assert secret not in Path(result.log_path).read_text(encoding="utf-8")
    assert secret not in json.dumps(result.to_dict()) and secret not in json.dumps(s.to_dict())


# ---- through real ansible-playbook ----------------------------------------------------------------------


def test_module_success(ansible_playbook: t.Any, job_name: str, tmp_path: Path, volume: t.Callable[..., str]) -> None:
    src = volume({"f.txt": "data"})
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "run worker",
                "bosun.compose.worker": {
                    "image": TEST_IMAGE,
                    "command": "sh -c 'echo hello from worker; cat /mnt/x/f.txt; echo; echo \"$GREETING\"'",
                    "env": {"GREETING": "hi"},
                    "mounts": [{"volume": src, "path": "/mnt/x"}],
                    "network": "none",
                    "job": job_name,
                    "run_id": "feedc0de" * 4,
                    "state_dir": str(tmp_path / "state"),
                },
            }
        ],
    }
    outcome = ansible_playbook([play])
    assert outcome.rc == 0, outcome
    task = outcome.task("run worker")
    assert task.status == "changed"
    w = task.result["worker"]
    assert (w["exit_code"], w["ok"], w["removed"], w["timed_out"]) == (0, True, True, False)
    assert w["log_tail"] == ["hello from worker", "data", "hi"]
    assert w["name"] == f"bosun-worker-{job_name}-feedc0de"
    assert task.result["rc"] == 0
    assert task.result["spec"]["mounts"] == [{"volume": src, "path": "/mnt/x", "mode": "ro"}]
    assert task.result["spec"]["image_id"].startswith("sha256:")
    assert Path(w["log_path"]) == tmp_path / "state" / "logs" / job_name / f"{'feedc0de' * 4}.log"


def test_module_failure_hides_secrets(ansible_playbook: t.Any, job_name: str, tmp_path: Path) -> None:
    secret = f"Sup3rS3cret{secrets.token_hex(6)}"
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "failing worker",
                "bosun.compose.worker": {
                    "image": TEST_IMAGE,
                    "command": ["sh", "-c", 'echo "token is $TOKEN"; echo boom >&2; exit 3'],
                    "secret_env": {"TOKEN": secret},
                    "network": "none",
                    "job": job_name,
                    "state_dir": str(tmp_path / "state"),
                },
            }
        ],
    }
    outcome = ansible_playbook([play], args=["-vvv"])
    assert outcome.rc == 2, outcome
    task = outcome.task("failing worker")
    assert task.status == "failed"
    assert "rc=3" in task.result["msg"] and "exited with code 3" in task.result["msg"]
    assert task.result["rc"] == 3
    assert "boom" in task.result["worker"]["log_tail"]
    assert task.result["worker"]["removed"] is True
    assert secret not in json.dumps([r.result for r in outcome.results])
    assert secret not in outcome.stdout and secret not in outcome.stderr
    assert secret not in Path(task.result["worker"]["log_path"]).read_text(encoding="utf-8")
    assert not run(["docker", "ps", "-aq", "--filter", f"label=bosun.worker.job={job_name}"]).stdout.strip()


def test_module_check_mode_runs_nothing(ansible_playbook: t.Any, job_name: str, tmp_path: Path) -> None:
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "would run",
                "bosun.compose.worker": {
                    "image": TEST_IMAGE,
                    "command": ["true"],
                    "job": job_name,
                    "state_dir": str(tmp_path / "state"),
                },
            },
            {
                "name": "image missing",
                "ignore_errors": True,
                "bosun.compose.worker": {"image": MISSING_IMAGE, "job": job_name},
            },
            {
                "name": "host network",
                "ignore_errors": True,
                "bosun.compose.worker": {"image": TEST_IMAGE, "job": job_name, "network": "host"},
            },
        ],
    }
    outcome = ansible_playbook([play], check=True)
    would = outcome.task("would run")
    assert would.status == "changed" and "worker" not in would.result
    assert would.result["spec"]["name"].startswith(f"bosun-worker-{job_name}-")
    assert not (tmp_path / "state").exists()
    missing = outcome.task("image missing")
    assert missing.status == "failed" and missing.result["msg"].startswith(
        f"worker image {MISSING_IMAGE!r} is not present"
    )
    host = outcome.task("host network")
    assert host.status == "failed" and host.result["msg"].startswith(
        "network 'host' must be a bridge or user-defined network"
    )
    assert host.result["error"] == {"type": "WorkerSpecError", "network": "host"}
