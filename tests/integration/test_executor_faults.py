"""Fault injection into the executor, in process, against the real daemon.

Failures that cannot be caused from outside on demand (the engine connection dropping in the middle
of the stop step) are injected by wrapping one core method; everything else is real.
"""

from __future__ import annotations

import pytest

from ansible_collections.bosun.compose.plugins.module_utils import compose_control
from ansible_collections.bosun.compose.plugins.module_utils.compose_control import read_lease
from ansible_collections.bosun.compose.plugins.module_utils.discovery import discover, select_jobs
from ansible_collections.bosun.compose.plugins.module_utils.docker_api import ConnectionOptions, DockerApi
from ansible_collections.bosun.compose.plugins.module_utils.executor import Executor, RunOptions
from ansible_collections.bosun.compose.plugins.module_utils.model import DockerUnavailableError

pytestmark = pytest.mark.docker


def running_ids(project) -> set[str]:
    return set(project.compose("ps", "-q", "--no-trunc", "--status", "running").stdout.split())


def test_engine_lost_in_the_middle_of_the_stop_restarts_everything_and_keeps_nothing_down(
        compose_project, monkeypatch, tmp_path):
    p = compose_project("run_stack.yml")
    before = running_ids(p)
    api = DockerApi.connect(ConnectionOptions())
    [job] = select_jobs(discover(api)[0], "backup", p.name)
    real_stop = compose_control.StackControl.stop

    def stop_first_level_then_fail(self, levels, timeout, graces=None):
        real_stop(self, levels[:1], timeout, graces)  # the first level really goes down
        raise DockerUnavailableError("lost the Docker Engine in the middle of the stop (injected)")

    monkeypatch.setattr(compose_control.StackControl, "stop", stop_first_level_then_fail)
    result = Executor(api, str(tmp_path / "state")).run(job, RunOptions(lock_timeout=5))
    assert result.outcome == "stop_failed", result.message
    assert "lost the Docker Engine in the middle of the stop (injected)" in result.message
    assert result.worker is None  # the worker never ran, and its created container is gone
    assert running_ids(p) == before
    assert read_lease(api, p.name) is None
    assert [s.type for s in result.steps] == ["start_containers"]
