# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reliability (issue 5, item 7): the label parser under fuzzing and absurd values.

Properties: discovery never raises, whatever the labels; every problem names its object and label; every
label whose value its parser refuses becomes an error problem on exactly that label (so the job is not
runnable and nothing can stop); a job without error problems is runnable unless disabled.
Hypothesis runs derandomized, with a bounded number of examples and no example database.
"""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.bosun.compose.plugins.module_utils._discovery import _CONTAINER_FIELDS, build_jobs
from ansible_collections.bosun.compose.plugins.module_utils._values import (
    LabelError,
    parse_job_names,
    parse_mode,
    parse_mount_path,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import ContainerRecord, VolumeRecord

FUZZ = settings(
    derandomize=True, max_examples=150, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

KNOWN = sorted(_CONTAINER_FIELDS)
ENV_PREFIX = "bosun.job.worker.env."
MAX = 4096

# Values: plausible ones, near misses, and hostile text (NUL, U+FFFD from non-UTF-8 bytes, huge, unicode).
PLAUSIBLE = st.sampled_from(
    [
        "true",
        "no",
        "90s",
        "1h30m",
        "0",
        "-5",
        "604801",
        "99999999999999999999",
        "30 2 * * *",
        "@daily",
        "61 * * * *",
        "queue",
        "skip",
        "host",
        "none",
        "bridge",
        "container:x",
        '["sh", "-c", "true"]',
        "sh -c 'oops",
        "[1, 2]",
        "[]",
        "/mnt/x",
        "relative",
        "/",
        "/a/../b",
        "ro",
        "RW",
        "rwx",
        "",
        " ",
        "root:root",
        "a" * 5000,
        "x\x00y",
        "bad\ufffd",
    ]
)
VALUES = st.one_of(PLAUSIBLE, st.text(max_size=40), st.text(min_size=4090, max_size=4100, alphabet="ab"))
ENV_NAMES = st.one_of(
    st.sampled_from(["PATH", "path", "Path", "A_1", "1BAD", "with-dash", "", "ü"]), st.text(max_size=8)
)
KEYS = st.one_of(
    st.sampled_from(KNOWN),
    ENV_NAMES.map(lambda n: ENV_PREFIX + n),
    st.text(max_size=12).map(lambda s: "bosun.job." + s),
)


def member(name: str, labels: t.Mapping[str, str], project: str = "shop") -> ContainerRecord:
    full = {"com.docker.compose.project": project, "com.docker.compose.service": name, **labels}
    return ContainerRecord(id="id-" + name, name=f"{project}-{name}-1", state="running", labels=full)


def refused(label: str, value: str) -> bool:
    """Whether the contract refuses this value for this container label (independently of discovery)."""
    if len(value) > MAX or "\x00" in value or "\ufffd" in value:
        return True
    parse = _CONTAINER_FIELDS[label][1]
    try:
        parse(value)
    except LabelError:
        return True
    return False


def assert_named(problem) -> None:
    assert problem.message, problem
    assert repr(problem.object) in problem.message or problem.object in problem.message, problem
    if problem.label is not None:
        assert problem.label in problem.message or repr(problem.label) in problem.message, problem


@FUZZ
@given(labels=st.dictionaries(KEYS, VALUES, max_size=8), name=st.sampled_from(["job", "Job.1", "-bad", "a,b", ""]))
def test_discovery_never_raises_and_names_every_problem(labels, name):
    c = member("db", {"bosun.job.name": name, **labels})
    jobs, stray = build_jobs([c], [])
    for p in stray + [p for j in jobs for p in j.problems]:
        assert_named(p)
    if not jobs:
        # An invalid job name is itself a named problem.
        assert [p.label for p in stray] == ["bosun.job.name"], stray
        return
    [job] = jobs
    errors = {p.label for p in job.errors}
    for label, value in labels.items():
        if label in _CONTAINER_FIELDS and refused(label, value):
            assert label in errors, (label, value, job.problems)
    assert job.runnable == (job.enabled and not job.errors)


@FUZZ
@given(attach=VALUES, path=VALUES, mode=VALUES)
def test_volume_labels_never_raise_and_bad_ones_are_named(attach, path, mode):
    c = member("db", {"bosun.job.name": "job", "bosun.job.worker.image": "tools:1"})
    v = VolumeRecord(
        "shop_data",
        {
            "bosun.job.attach": attach,
            "bosun.job.mount.path": path,
            "bosun.job.mount.mode": mode,
            "com.docker.compose.project": "shop",
        },
    )
    jobs, stray = build_jobs([c], [v])
    [job] = jobs
    problems = stray + job.problems
    for p in problems:
        assert_named(p)
    try:
        names = parse_job_names(attach)
    except LabelError:
        names = None
    if any(len(x) > MAX or "\x00" in x or "\ufffd" in x for x in (attach, path, mode)):
        assert any(p.severity == "error" and p.kind == "volume" for p in problems), problems
        assert job.mounts == []
        return
    if names is None:
        assert "bosun.job.attach" in {p.label for p in stray if p.severity == "error"}, stray
        assert job.mounts == []
        return
    if "job" not in names:
        assert job.mounts == []
        return
    bad = set()
    try:
        parse_mount_path(path)
    except LabelError:
        bad.add("bosun.job.mount.path")
    try:
        parse_mode(mode)
    except LabelError:
        bad.add("bosun.job.mount.mode")
    assert {p.label for p in job.errors} == bad, job.problems
    assert job.runnable == (not bad)
    assert len(job.mounts) == (0 if bad else 1)


@FUZZ
@given(names=st.lists(ENV_NAMES, min_size=1, max_size=6), value=st.text(max_size=10))
def test_env_names_differing_only_in_case_are_refused(names, value):
    labels = {ENV_PREFIX + n: value for n in names}
    [job] = build_jobs([member("db", {"bosun.job.name": "job", "bosun.job.worker.image": "tools:1", **labels})], [])[0]
    lowered = [n.lower() for n in job.env]
    assert len(lowered) == len(set(lowered)), job.env  # never two names differing only in case
    for p in job.problems:
        assert_named(p)


# Absurd values, one by one: each is an error that names the label and says what is allowed.
ABSURD = [
    ("bosun.job.timeout", "-5s", "must be a duration"),
    ("bosun.job.timeout", "-5", "must be a positive duration"),
    ("bosun.job.timeout", "0", "must be a positive duration"),
    ("bosun.job.timeout", "99999999999999999999", "must be at most 7 days"),
    ("bosun.job.timeout", "200h", "must be at most 7 days"),
    ("bosun.job.stop-timeout", "-1", "must be a positive duration"),
    ("bosun.job.start-timeout", "1000000h", "must be at most 7 days"),
    ("bosun.job.overlap-policy", "cancel", "must be 'queue' or 'skip'"),
    ("bosun.job.enabled", "maybe", "must be one of true, false"),
    ("bosun.job.worker.network", "host", "host, container: and service: networking are not allowed"),
    ("bosun.job.worker.network", "container:db", "host, container: and service: networking are not allowed"),
    ("bosun.job.worker.command", "[1, 2]", "must be a JSON array of strings"),
    ("bosun.job.worker.command", "sh -c 'oops", "is not a valid shell-quoted string"),
    ("bosun.job.worker.image", "x" * 10_000, "must be at most 4096 characters"),
    ("bosun.job.worker.env.BIG", "x" * 10_000, "must be at most 4096 characters"),
    ("bosun.job.worker.image", "tools\ufffd:1", "must be valid UTF-8 text"),
    ("bosun.job.worker.user", "ro\x00ot", "must be valid UTF-8 text without NUL"),
    ("bosun.job.schedule", "61 * * * *", "minute field '61'"),
]


@pytest.mark.parametrize("label, value, why", ABSURD, ids=[f"{lb}={v[:12]!r}" for lb, v, _w in ABSURD])
def test_absurd_container_values_are_named_errors(label, value, why):
    labels = {"bosun.job.name": "job", "bosun.job.worker.image": "tools:1", label: value}
    [job] = build_jobs([member("db", labels)], [])[0]
    [problem] = [p for p in job.problems if p.label == label]
    assert problem.severity == "error" and not job.runnable
    assert why in problem.message, problem.message
    assert problem.message.startswith(f"container 'shop-db-1': label {label!r} has value "), problem.message
    assert len(problem.message) < 600  # a 10,000-character value is shown shortened


@pytest.mark.parametrize(
    "label, value, why",
    [
        ("bosun.job.mount.path", "relative/path", "must be an absolute path"),
        ("bosun.job.mount.path", "/", "must not be '/'"),
        ("bosun.job.mount.path", "//./", "must not be '/'"),
        ("bosun.job.mount.path", "/mnt/../etc", "must not contain '..'"),
        ("bosun.job.mount.mode", "rwx", "must be 'ro' or 'rw'"),
        ("bosun.job.mount.mode", "x" * 10_000, "must be at most 4096 characters"),
    ],
    ids=["relative", "root", "root-dots", "dotdot", "mode", "huge"],
)
def test_absurd_volume_values_are_named_errors(label, value, why):
    c = member("db", {"bosun.job.name": "job", "bosun.job.worker.image": "tools:1"})
    v = VolumeRecord("shop_data", {"bosun.job.attach": "job", label: value})
    jobs, stray = build_jobs([c], [v])
    problems = [p for p in stray + jobs[0].problems if p.label == label]
    assert len(problems) == 1 and problems[0].severity == "error", problems
    assert why in problems[0].message and "'shop_data'" in problems[0].message, problems[0].message
    assert jobs[0].mounts == []


def test_duplicate_env_names_differing_in_case_are_an_error():
    labels = {
        "bosun.job.name": "job",
        "bosun.job.worker.image": "tools:1",
        ENV_PREFIX + "Token": "a",
        ENV_PREFIX + "TOKEN": "b",
    }
    [job] = build_jobs([member("db", labels)], [])[0]
    [problem] = job.errors
    assert "differs from" in problem.message and "only in case" in problem.message, problem.message
    assert not job.runnable
