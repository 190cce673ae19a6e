"""The unit-test bed: collection code imports through the ansible_collections namespace."""

from __future__ import annotations

from ansible_collections.bosun.compose.plugins.module_utils._model import Job, Problem


def test_job_without_problems_is_runnable():
    assert Job(name="x").runnable is True


def test_job_with_an_error_problem_is_not_runnable():
    problem = Problem(severity="error", kind="job", object="x", label=None, value=None, message="broken")
    job = Job(name="x", problems=[problem])
    assert job.errors == [problem]
    assert job.runnable is False


def test_job_with_only_a_warning_stays_runnable():
    problem = Problem(severity="warning", kind="job", object="x", label=None, value=None, message="odd")
    assert Job(name="x", problems=[problem]).runnable is True
