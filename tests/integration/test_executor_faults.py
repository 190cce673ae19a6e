"""Fault injection into the executor, in process, against the real daemon.

Failures that cannot be caused from outside on demand (the engine connection dropping in the middle
of the stop step) are injected by wrapping one core method; everything else is real.
"""

from __future__ import annotations

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._discovery import discover, select_jobs
from ansible_collections.bosun.compose.plugins.module_utils._docker_api import ConnectionOptions, DockerApi
from ansible_collections.bosun.compose.plugins.module_utils._errors import DockerUnavailableError
from ansible_collections.bosun.compose.plugins.module_utils._executor import Executor, RunOptions
from ansible_collections.bosun.compose.plugins.module_utils._lease import read_lease
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl

pytestmark = pytest.mark.docker


def running_ids(project) -> set[str]:
    return set(project.compose("ps", "-q", "--no-trunc", "--status", "running").stdout.split())


def test_engine_lost_in_the_middle_of_the_stop_restarts_everything_and_keeps_nothing_down(
    compose_project, monkeypatch, tmp_path
):
    p = compose_project("run_stack.yml")
    before = running_ids(p)
    api = DockerApi.connect(ConnectionOptions())
    [job] = select_jobs(discover(api)[0], "backup", p.name)
    real_stop = StackControl.stop

    def stop_first_level_then_fail(self, levels, timeout, stop_timeouts=None, **options):
        real_stop(self, levels[:1], timeout, stop_timeouts, **options)  # the first level really goes down
        raise DockerUnavailableError("lost the Docker Engine in the middle of the stop (injected)")

    monkeypatch.setattr(StackControl, "stop", stop_first_level_then_fail)
    result = Executor(api, str(tmp_path / "state")).run(job, RunOptions(lock_timeout=5))
    assert result.outcome == "stop_failed", result.message
    assert "lost the Docker Engine in the middle of the stop (injected)" in result.message
    assert result.worker is None  # the worker never ran, and its created container is gone
    assert running_ids(p) == before
    assert read_lease(api, p.name) is None
    # The failed stop is a step of its own, then the restart.
    assert [(s.type, s.status) for s in result.steps] == [("stop_containers", "failed"), ("start_containers", "ok")]
