"""Fixtures for integration tests against the real Docker daemon (see harness.py)."""

from __future__ import annotations

import os

import pytest

from harness import (
    STALE_AFTER,
    TEST_IMAGE,
    VENV_BIN,
    ENGINES,
    Ansible,
    CommandError,
    ComposeProject,
    compose_source,
    docker_host,
    close_event_logs,
    ensure_collection_farm,
    event_log,
    leftover_projects,
    project_name,
    remove_project,
    run,
)


def pytest_configure(config):
    # Sweep bosun-it-* projects left by an earlier, interrupted run. Only in the controlling process
    # (an xdist worker would tear down the other worker's live projects), and only old ones (another
    # pytest run may share the daemon). `make sweep` removes all of them at once.
    if hasattr(config, "workerinput"):
        return
    for host in ENGINES.values():
        with docker_host(host):
            try:
                stale = leftover_projects(min_age=STALE_AFTER)
            except (CommandError, OSError):
                continue  # no engine: the docker_engine / engine fixture fails its tests with the reason
            for name in stale:
                remove_project(name)


@pytest.fixture(scope="session", autouse=True)
def docker_engine():
    """The daemon must answer and the test image must exist; otherwise every test errors (never skips)."""
    try:
        version = run(["docker", "version", "--format", "{{.Server.Version}}"], timeout=30).stdout.strip()
        run(["docker", "compose", "version"], timeout=30)
    except (CommandError, OSError) as exc:
        pytest.fail(f"Docker Engine or Compose v2 unavailable; run `make bootstrap`.\n{exc}", pytrace=False)
    if run(["docker", "image", "inspect", TEST_IMAGE], check=False).returncode != 0:
        pytest.fail(f"test image {TEST_IMAGE} missing; run `make bootstrap`", pytrace=False)
    for tool in ("ansible", "ansible-playbook"):
        if not (VENV_BIN / tool).exists():
            pytest.fail(f"{VENV_BIN / tool} missing; run `make bootstrap`", pytrace=False)
    ensure_collection_farm()
    event_log()  # before any test acts, so event-order assertions see every event
    yield version
    close_event_logs()


def pytest_generate_tests(metafunc):
    # Tests marked `podman` run once per engine (ids docker, podman); the others only against Docker.
    if "engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker("podman"):
        metafunc.parametrize("engine", list(ENGINES), indirect=True)


_PODMAN_CHECKED: list[str] = []


def _check_podman(host: str) -> None:
    """Podman's API must answer and hold the test image; otherwise the podman tests fail (never skip)."""
    if _PODMAN_CHECKED:
        return
    env = {**os.environ, "DOCKER_HOST": host}
    try:
        run(["docker", "version"], timeout=30, env=env)
    except (CommandError, OSError) as exc:
        pytest.fail(f"Podman's API at {host} unavailable; run `make bootstrap`.\n{exc}", pytrace=False)
    if run(["docker", "image", "inspect", TEST_IMAGE], check=False, env=env).returncode != 0:
        pytest.fail(f"test image {TEST_IMAGE} missing in Podman at {host}; run `make bootstrap`", pytrace=False)
    _PODMAN_CHECKED.append(host)


@pytest.fixture(autouse=True)
def engine(request, monkeypatch):
    """The engine this test runs against: "docker" (the environment's DOCKER_HOST), or "podman" for the
    podman run of a test marked `podman` (DOCKER_HOST points at Podman for the test's commands and modules)."""
    kind = getattr(request, "param", "docker")
    host = ENGINES[kind]
    if host is not None:
        _check_podman(host)
        monkeypatch.setenv("DOCKER_HOST", host)
        event_log()  # Podman's stream, before the test acts
    return kind


@pytest.fixture
def compose_project(request, tmp_path):
    """Factory: compose_project(spec, up=True) -> ComposeProject.

    spec is compose YAML text, a dict, a path or a file name under tests/integration/fixtures/.
    The project is named bosun-it-<test>-<random6>, started with `up -d` unless up=False, and always
    removed afterwards (services, orphans, volumes and its bosun.worker.job containers)."""
    created: list[ComposeProject] = []

    def make(spec, *, up: bool = True) -> ComposeProject:
        name = project_name(request.node.name)
        file = tmp_path / f"{name}.yml"
        file.write_text(compose_source(spec), encoding="utf-8")
        project = ComposeProject(name=name, file=file)
        created.append(project)
        if up:
            project.up()
        return project

    yield make
    errors = []
    for project in reversed(created):
        try:
            project.down()
        except CommandError as exc:
            errors.append(str(exc))
    if errors:
        pytest.fail("teardown failed:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def ansible(tmp_path):
    """An Ansible runner bound to this test: .playbook(plays, ...) and .adhoc(module, args, ...)."""
    return Ansible(tmp_path / "ansible")


@pytest.fixture
def ansible_playbook(ansible):
    """ansible_playbook(plays, check=False, diff=False, extra_vars=None, args=(), timeout=300) -> AnsibleRun"""
    return ansible.playbook


@pytest.fixture
def ansible_adhoc(ansible):
    """ansible_adhoc(module, args, pattern='localhost', check=False, ...) -> AnsibleRun.

    Overrides pytest-ansible's deprecated fixture of the same name inside tests/integration."""
    return ansible.adhoc
