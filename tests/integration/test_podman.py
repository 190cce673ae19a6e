"""Podman hosts (issue 16): the engine report and the Engine client's Podman differences on both engines, then
podman-compose stacks (Debian's 1.0.3 and PyPI's 1.6.0), pods and systemd-run containers against real Podman."""

from __future__ import annotations

import json
import os
import secrets
import shutil

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._docker_api import (
    DEFAULT_DOCKER_HOST,
    ConnectionOptions,
    DockerApi,
)
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl
from harness import PODMAN_HOST, ROOT, TEST_IMAGE, docker_host, project_name, remove_project, run

pytestmark = pytest.mark.docker

FRONT_ENDS = {
    "podman-compose-debian": "/usr/bin/podman-compose",
    "podman-compose-pypi": str(ROOT / "build" / "venv-podman-compose" / "bin" / "podman-compose"),
}
# network_mode none for Docker Compose v2; podman-compose 1.0.3 cannot run it (it adds a network), so the
# podman-compose stacks (PC_STACK) use the project's own bridge network.
STACK = """\
services:
  db:
    image: bosun-test/busybox:latest
    command: sh -c 'echo row1 > /data/table.txt; exec sleep 3600'
    network_mode: none
    stop_grace_period: 2s
    volumes: [data:/data, out:/out]
    labels:
      bosun.job.name: backup
      bosun.job.worker.image: bosun-test/busybox:latest
      bosun.job.worker.command: sh -c 'cp /mnt/data/table.txt /mnt/out/copy.txt && echo copied'
      bosun.job.timeout: 60s
  api:
    image: bosun-test/busybox:latest
    command: sleep 3600
    network_mode: none
    stop_grace_period: 2s
    depends_on: [db]
  web:
    image: bosun-test/busybox:latest
    command: sleep 3600
    network_mode: none
    stop_grace_period: 2s
    depends_on:
      api: {condition: service_started}
volumes:
  data:
    labels: {bosun.job.attach: backup, bosun.job.mount.path: /mnt/data}
  out:
    labels: {bosun.job.attach: backup, bosun.job.mount.path: /mnt/out, bosun.job.mount.mode: rw}
"""
PC_STACK = STACK.replace("    network_mode: none\n", "")
# No dependencies: scope writers stops db alone (with dependents it would stop them too).
POD_STACK = PC_STACK.replace("    depends_on: [db]\n", "").replace(
    "    depends_on:\n      api: {condition: service_started}\n", ""
)


def api() -> DockerApi:
    return DockerApi.connect(ConnectionOptions(docker_host=os.environ.get("DOCKER_HOST", DEFAULT_DOCKER_HOST)))


def job_run(ansible_playbook, project: str, tmp_path, **args) -> dict:
    args = {"name": "backup", "project": project, "state_dir": str(tmp_path / "state"), **args}
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "run", "bosun.compose.job_run": args}]}]
    return ansible_playbook(play).task("run").result


def started(names: list[str]) -> dict[str, tuple[str, str]]:
    """name -> (status, StartedAt), from the engine DOCKER_HOST names."""
    info = json.loads(run(["docker", "inspect", *names]).stdout)
    return {c["Name"].lstrip("/"): (c["State"]["Status"], c["State"]["StartedAt"]) for c in info}


def levels(result: dict, step: str) -> list[list[str]]:
    [s] = [s for s in result["plan"]["steps"] if s["type"] == step]
    return [sorted(c["service"] for c in level) for level in s["levels"]]


# ---- both engines ---------------------------------------------------------------------------------------------


@pytest.mark.podman
def test_job_info_reports_the_engine(engine, compose_project, ansible_adhoc):
    compose_project("run_stack.yml")
    result = ansible_adhoc("bosun.compose.job_info", {"name": "no-such-job"})
    assert result.rc == 0, result
    reported = result.task("bosun.compose.job_info").result["engine"]
    server = json.loads(run(["docker", "version", "--format", "{{json .Server}}"]).stdout)
    assert reported["kind"] == engine
    assert reported["version"] == server["Version"] and reported["api_version"] == server["ApiVersion"]
    assert reported["can_update_restart_policy"] is (engine == "docker")


@pytest.mark.podman
def test_volume_label_filters_mean_every_label(engine):
    tag = secrets.token_hex(3)
    both, one = f"bosun-it-vol-both-{tag}", f"bosun-it-vol-one-{tag}"
    key = f"bosun.it.{tag}"
    run(["docker", "volume", "create", "--label", f"{key}.a=1", "--label", f"{key}.b=1", both])
    run(["docker", "volume", "create", "--label", f"{key}.a=1", one])
    try:
        assert [v.name for v in api().list_volumes([f"{key}.a=1", f"{key}.b"])] == [both]
        assert sorted(v.name for v in api().list_volumes(f"{key}.a=1")) == sorted([both, one])
    finally:
        run(["docker", "volume", "rm", "-f", both, one], check=False)


@pytest.mark.podman
def test_an_exec_has_no_exit_code_until_it_ran(engine):
    name = f"bosun-it-exec-{secrets.token_hex(3)}"
    run(["docker", "run", "-d", "--name", name, "--network", "none", TEST_IMAGE, "sleep", "300"])
    try:
        client = api()
        exec_id = client.exec_create(name, ["sh", "-c", "echo hi; exit 3"], user=None, env={})
        assert client.exec_inspect(exec_id)["ExitCode"] is None
        assert b"".join(client.exec_start(exec_id)) == b"hi\n"
        assert client.exec_inspect(exec_id)["ExitCode"] == 3
    finally:
        run(["docker", "rm", "-f", name], check=False)


# ---- Podman only ----------------------------------------------------------------------------------------------


@pytest.fixture
def podman(monkeypatch):
    """DOCKER_HOST = Podman's API for the test's commands and modules."""
    monkeypatch.setenv("DOCKER_HOST", PODMAN_HOST)
    return PODMAN_HOST


@pytest.fixture(params=list(FRONT_ENDS))
def podman_compose_stack(request, podman, tmp_path):
    """Factory: podman_compose_stack(yaml) -> project name, brought up by the parametrized podman-compose; taken
    down with its volumes afterwards."""
    tool = FRONT_ENDS[request.param]
    made: list[tuple[str, str]] = []

    def make(source: str = PC_STACK) -> str:
        name = project_name(request.node.name)
        d = tmp_path / name
        d.mkdir()
        (d / "compose.yml").write_text(source, encoding="utf-8")
        made.append((name, str(d)))
        up = run([tool, "-p", name, "up", "-d"], cwd=d, timeout=180)
        # podman-compose 1.0.3 exits 0 when a container could not be created: check that all are there.
        ps = run(["podman", "ps", "-q", "--filter", f"label=com.docker.compose.project={name}"]).stdout.split()
        assert len(ps) == source.count("    image: "), f"{tool} up failed:\n{up.stdout}\n{up.stderr}"
        return name

    make.front_end = request.param  # type: ignore[attr-defined]
    yield make
    for name, d in made:
        run([tool, "-p", name, "down", "-t", "0"], cwd=d, check=False, timeout=180)
        with docker_host(podman):
            remove_project(name)
        vols = run(["podman", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={name}"]).stdout
        if vols.split():
            run(["podman", "volume", "rm", "-f", *vols.split()], check=False)
        run(["podman", "network", "rm", "-f", f"{name}_default"], check=False)


def test_podman_compose_stack_runs_in_the_order_of_its_compose_file(podman_compose_stack, ansible_playbook, tmp_path):
    name = podman_compose_stack()
    containers = [f"{name}_{s}_1" for s in ("db", "api", "web")]
    before = started(containers)
    r = job_run(ansible_playbook, name, tmp_path)
    assert r["outcome"] == "success", r
    assert levels(r, "stop_containers") == [["web"], ["api"], ["db"]]
    assert levels(r, "start_containers") == [["db"], ["api"], ["web"]]
    assert not [c for c in r["plan"]["preflight"] if c["name"] == "graph"]
    after = started(containers)
    assert all(after[c][0] == "running" and after[c][1] != before[c][1] for c in containers), (before, after)
    copy = run(["podman", "run", "--rm", "-v", f"{name}_out:/v:ro", TEST_IMAGE, "cat", "/v/copy.txt"])
    assert copy.stdout == "row1\n"
    if podman_compose_stack.front_end == "podman-compose-pypi":  # 1.x: one pod for the stack, still running
        pod = json.loads(run(["podman", "pod", "inspect", f"pod_{name}"]).stdout)
        pod = pod[0] if isinstance(pod, list) else pod
        assert pod["State"] == "Running" and len(pod["Containers"]) == 3


def test_unreadable_compose_files_give_one_level_and_a_warning(podman_compose_stack, ansible_playbook, tmp_path):
    name = podman_compose_stack()
    compose_file = tmp_path / name / "compose.yml"
    moved = tmp_path / "moved.yml"
    shutil.move(compose_file, moved)
    try:
        r = job_run(ansible_playbook, name, tmp_path)
    finally:
        shutil.move(moved, compose_file)
    assert r["outcome"] == "success", r
    assert levels(r, "stop_containers") == [["api", "db", "web"]]
    [note] = [c["message"] for c in r["plan"]["preflight"] if c["name"] == "graph"]
    assert f"stack {name!r} is stopped and started in one level" in note and str(compose_file) in note


def test_a_pod_whose_members_require_each_other_started_in_one_level_runs_every_time(podman, request):
    # Podman refuses some of the starts made at once of the containers of a pod that require each other
    # ("generating dependency graph ... not found in input list", "container state improper") and leaves them
    # exited. Without a compose file the stack is one level: all started at once. Before the retry: 4 rounds in 10.
    name = project_name(request.node.name)
    pod = f"pod_{name}"
    run(["podman", "pod", "create", "--name", pod])
    try:
        required = []
        for service in ("db", "api", "web"):
            labels = [
                "--label",
                f"com.docker.compose.project={name}",
                "--label",
                f"com.docker.compose.service={service}",
            ]
            requires = ["--requires", required[-1]] if required else []
            container = f"{name}_{service}_1"
            run(
                [
                    "podman",
                    "create",
                    "--pod",
                    pod,
                    "--name",
                    container,
                    "--init",
                    *labels,
                    *requires,
                    TEST_IMAGE,
                    "sleep",
                    "3600",
                ]
            )
            required.append(container)
        run(["podman", "pod", "start", pod])
        control = StackControl(api(), name)
        rounds = []
        for _round in range(10):
            [members] = control.plan_stop()[0]
            assert len(members) == 3 and control.stop([members], 2).ok
            result = control.start([c.name for c in members])
            rounds.append((result.summary, [f.error for f in result.failed]))
            assert sorted(s for s, _t in started(required).values()) == ["running"] * 3, rounds
        assert all(r == ("3/3 started", []) for r in rounds), rounds
    finally:
        run(["podman", "pod", "rm", "-f", "-t", "0", pod], check=False)


@pytest.mark.parametrize("podman_compose_stack", ["podman-compose-pypi"], indirect=True)
def test_stopping_one_pod_member_leaves_the_others_running(podman_compose_stack, ansible_playbook, tmp_path):
    name = podman_compose_stack(POD_STACK)
    db, others = f"{name}_db_1", [f"{name}_api_1", f"{name}_web_1"]
    before = started([db, *others])
    # Scope writers: only db mounts a job volume read-write, so only db stops; api and web share its pod.
    r = job_run(ansible_playbook, name, tmp_path, job={"stop_scope": "writers"})
    assert r["outcome"] == "success", r
    assert levels(r, "stop_containers") == [["db"]]
    after = started([db, *others])
    assert after[db][0] == "running" and after[db][1] != before[db][1]
    assert {c: after[c] for c in others} == {c: before[c] for c in others}  # never stopped, never restarted
    pod = json.loads(run(["podman", "pod", "inspect", f"pod_{name}"]).stdout)
    pod = pod[0] if isinstance(pod, list) else pod
    assert pod["State"] == "Running"


def test_a_pod_infra_container_is_never_in_the_stop_set(podman, ansible_playbook, tmp_path):
    """A pod with an infra container (podman's default): only the labelled member stops, the infra stays."""
    name = project_name("infra")
    pod = f"pod_{name}"
    run(["podman", "pod", "create", "--name", pod, "--network", "none"])
    labels = ["--label", f"com.docker.compose.project={name}", "--label", "com.docker.compose.service=db"]
    job = ["--label", "bosun.job.name=backup", "--label", f"bosun.job.worker.image={TEST_IMAGE}"]
    job += ["--label", "bosun.job.worker.command=true"]
    try:
        run(["podman", "run", "-d", "--pod", pod, "--name", f"{name}_db_1", *labels, *job, TEST_IMAGE, "sleep", "3600"])
        infra = json.loads(run(["podman", "pod", "inspect", pod]).stdout)
        infra = (infra[0] if isinstance(infra, list) else infra)["InfraContainerID"]
        assert infra
        infra_before = started([infra])
        r = job_run(ansible_playbook, name, tmp_path)
        assert r["outcome"] == "success", r
        stopped = [c["id"] for level in r["plan"]["steps"][0]["levels"] for c in level]
        assert infra not in stopped and len(stopped) == 1
        assert started([infra]) == infra_before
    finally:
        run(["podman", "pod", "rm", "-f", pod], check=False)


def test_a_container_run_by_systemd_is_refused_and_nothing_stops(podman, compose_project, ansible_playbook, tmp_path):
    unit = "bosun-it-db.service"
    stack = STACK.replace(
        "      bosun.job.timeout: 60s\n", f"      bosun.job.timeout: 60s\n      PODMAN_SYSTEMD_UNIT: {unit}\n"
    )
    p = compose_project(stack)
    containers = [f"{p.name}-{s}-1" for s in ("db", "api", "web")]
    before = started(containers)
    args = {"name": "backup", "project": p.name, "state_dir": str(tmp_path / "state")}
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "run", "bosun.compose.job_run": args, "ignore_errors": True}],
        }
    ]
    task = ansible_playbook(play).task("run")
    r = task.result
    assert task.status == "failed" and r["outcome"] == "preflight_failed", r
    assert f"container '{p.name}-db-1' is run by the systemd unit '{unit}'" in r["msg"]
    assert "removes it" in r["msg"]
    assert started(containers) == before
