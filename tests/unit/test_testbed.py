"""The unit-test bed: collection code imports through the ansible_collections namespace."""

from __future__ import annotations

from ansible_collections.bosun.compose.plugins.module_utils import model


def test_job_without_problems_is_runnable():
    assert model.Job(name="x").runnable is True


def test_job_with_an_error_problem_is_not_runnable():
    problem = model.Problem(severity="error", kind="job", object="x", label=None, value=None, message="broken")
    job = model.Job(name="x", problems=[problem])
    assert job.errors == [problem]
    assert job.runnable is False


def test_job_with_only_a_warning_stays_runnable():
    problem = model.Problem(severity="warning", kind="job", object="x", label=None, value=None, message="odd")
    assert model.Job(name="x", problems=[problem]).runnable is True
