# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Label contract v1: parsing, validation and merging, without Docker."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._discovery import build_jobs, select_jobs
from ansible_collections.bosun.compose.plugins.module_utils._values import (
    LabelError,
    parse_bool,
    parse_command,
    parse_duration,
    parse_mount_path,
    parse_network,
    parse_schedule,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import (
    ContainerRecord,
    Job,
    Mount,
    VolumeRecord,
)

IMAGE = {"bosun.job.worker.image": "tools:1"}


def container(
    name: str, labels: dict[str, str], project: str | None = "shop", state: str = "running"
) -> ContainerRecord:
    full = dict(labels)
    if project is not None:
        full.setdefault("com.docker.compose.project", project)
        full.setdefault("com.docker.compose.service", name.split("-")[1] if "-" in name else name)
    return ContainerRecord(id="id-" + name, name=name, state=state, labels=full)


def one_job(containers: list[ContainerRecord], volumes: t.Sequence[VolumeRecord] = ()) -> Job:
    jobs, stray = build_jobs(containers, volumes)
    assert len(jobs) == 1, jobs
    assert stray == []
    return jobs[0]


def messages(job: Job) -> list[str]:
    return [p.message for p in job.problems]


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("90", 90),
        ("90s", 90),
        ("30m", 1800),
        ("1h30m", 5400),
        ("2h", 7200),
        ("1h0m5s", 3605),
        (" 45s ", 45),
        ("604800", 604800),
    ],
    ids=["bare", "seconds", "minutes", "hours-minutes", "hours", "all-units", "whitespace", "seven-days"],
)
def test_parse_duration_valid(value: str, seconds: int) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "must be a positive duration such as 90s, 30m or 1h30m"),
        ("-5", "must be a positive duration such as 90s, 30m or 1h30m"),
        ("0s", "must be a positive duration such as 90s, 30m or 1h30m"),
        ("604801", "must be at most 7 days (604800 seconds)"),
        ("200h", "must be at most 7 days (604800 seconds)"),
        ("", "must be a duration such as 90s, 30m or 1h30m, or a whole number of seconds"),
        ("1.5h", "must be a duration such as 90s, 30m or 1h30m, or a whole number of seconds"),
        ("30m1h", "must be a duration such as 90s, 30m or 1h30m, or a whole number of seconds"),
        ("ten", "must be a duration such as 90s, 30m or 1h30m, or a whole number of seconds"),
    ],
    ids=["zero", "negative", "zero-unit", "over-7-days", "huge-hours", "empty", "fraction", "wrong-order", "word"],
)
def test_parse_duration_invalid(value: str, message: str) -> None:
    with pytest.raises(LabelError) as exc:
        parse_duration(value)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    "value, expected",
    [
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("0", False),
        (" no ", False),
    ],
    ids=["true", "upper", "yes", "one", "false", "No", "zero", "whitespace"],
)
def test_parse_bool(value: str, expected: bool) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", ["on", "", "2", "enabled"], ids=["on", "empty", "two", "word"])
def test_parse_bool_invalid(value: str) -> None:
    with pytest.raises(LabelError, match=r"^must be one of true, false, yes, no, 1, 0 \(any case\)$"):
        parse_bool(value)


@pytest.mark.parametrize(
    "value, argv",
    [
        ('["sh", "-c", "echo hi"]', ["sh", "-c", "echo hi"]),
        ("sh -c 'tar -cf /mnt/b/x.tar .'", ["sh", "-c", "tar -cf /mnt/b/x.tar ."]),
        ("backup", ["backup"]),
    ],
    ids=["json-array", "shell-quoted", "single-word"],
)
def test_parse_command(value: str, argv: list[str]) -> None:
    assert parse_command(value) == argv


@pytest.mark.parametrize(
    "value, message",
    [
        ('["sh", 1]', "must be a JSON array of strings, or a shell-quoted string"),
        (
            "[sh",
            "is not a valid JSON array (Expecting value: line 1 column 2 (char 1)); use a JSON array of strings or a shell-quoted string",
        ),
        (
            "sh -c 'unclosed",
            "is not a valid shell-quoted string (No closing quotation); use a JSON array of strings or a shell-quoted string",
        ),
        ("[]", "must name at least the program to run"),
        ("   ", "must name at least the program to run"),
    ],
    ids=["non-string", "bad-json", "unclosed-quote", "empty-array", "blank"],
)
def test_parse_command_invalid(value: str, message: str) -> None:
    with pytest.raises(LabelError) as exc:
        parse_command(value)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    "value, normalized",
    [
        ("30 2 * * *", "30 2 * * *"),
        ("*/15  *  * * 1-5", "*/15 * * * 1-5"),
        ("0 0 1 jan,jul sun", "0 0 1 jan,jul sun"),
        ("@daily", "@daily"),
        ("@Weekly", "@weekly"),
        ("0 0 * * 7", "0 0 * * 7"),
    ],
    ids=["plain", "step-range", "names", "descriptor", "descriptor-case", "sunday-7"],
)
def test_parse_schedule(value: str, normalized: str) -> None:
    assert parse_schedule(value) == normalized


@pytest.mark.parametrize(
    "value, message",
    [
        ("* * * *", "must be a 5-field cron expression (minute hour day-of-month month day-of-week), got 4 fields"),
        ("60 * * * *", "minute field '60': 60 is outside 0-59"),
        ("0 24 * * *", "hour field '24': 24 is outside 0-23"),
        ("0 0 0 * *", "day of month field '0': 0 is outside 1-31"),
        ("0 0 * foo *", "month field 'foo': 'foo' is not a number"),
        ("*/0 * * * *", "minute field '*/0': step '0' must be a positive number"),
        ("0 5-2 * * *", "hour field '5-2': range '5-2' runs backwards"),
        (
            "@reboot",
            "must be a 5-field cron expression or one of @annually, @daily, @hourly, @midnight, @monthly, @weekly, @yearly",
        ),
    ],
    ids=["four-fields", "minute-range", "hour-range", "dom-zero", "bad-month", "zero-step", "backwards", "reboot"],
)
def test_parse_schedule_invalid(value: str, message: str) -> None:
    with pytest.raises(LabelError) as exc:
        parse_schedule(value)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    "value, message",
    [
        ("data", "must be an absolute path inside the worker, such as /mnt/data"),
        ("/", "must not be '/': mount the volume below it, such as /mnt/data"),
        ("//", "must not be '/': mount the volume below it, such as /mnt/data"),
        ("/mnt/../etc", "must not contain '..'"),
    ],
    ids=["relative", "root", "double-slash", "dotdot"],
)
def test_parse_mount_path_invalid(value: str, message: str) -> None:
    with pytest.raises(LabelError) as exc:
        parse_mount_path(value)
    assert str(exc.value) == message


def test_parse_mount_path_normalizes() -> None:
    assert parse_mount_path("/mnt//backup/") == "/mnt/backup"


@pytest.mark.parametrize("value", ["host", "container:abc", "service:db"], ids=["host", "container", "service"])
def test_parse_network_refuses_host_namespaces(value: str) -> None:
    with pytest.raises(LabelError, match="host, container: and service: networking are not allowed for workers"):
        parse_network(value)


def test_full_job_is_normalized() -> None:
    job = one_job(
        [
            container(
                "shop-db-1",
                {
                    "bosun.job.name": "nightly",
                    "bosun.job.worker.image": "tools:1",
                    "bosun.job.worker.command": "sh -c 'echo hi'",
                    "bosun.job.worker.env.TARGET": "/mnt/backup",
                    "bosun.job.worker.user": "1000:1000",
                    "bosun.job.worker.network": "none",
                    "bosun.job.timeout": "1h30m",
                    "bosun.job.stop-timeout": "20s",
                    "bosun.job.start-timeout": "2m",
                    "bosun.job.schedule": "@daily",
                    "bosun.job.overlap-policy": "Skip",
                    "bosun.job.enabled": "yes",
                },
            )
        ],
        [
            VolumeRecord("shop_data", {"bosun.job.attach": "nightly"}),
            VolumeRecord(
                "backups",
                {"bosun.job.attach": "nightly", "bosun.job.mount.path": "/backup", "bosun.job.mount.mode": "RW"},
            ),
        ],
    )
    assert job.problems == []
    assert job.runnable
    assert job.to_dict() == {
        "name": "nightly",
        "enabled": True,
        "runnable": True,
        "stack": "shop",
        "containers": [{"id": "id-shop-db-1", "name": "shop-db-1", "service": "db", "state": "running"}],
        "image": "tools:1",
        "command": ["sh", "-c", "echo hi"],
        "env": {"TARGET": "/mnt/backup"},
        "user": "1000:1000",
        "network": "none",
        "mounts": [
            {"volume": "backups", "path": "/backup", "mode": "rw"},
            {"volume": "shop_data", "path": "/mnt/shop_data", "mode": "ro"},
        ],
        "timeout": 5400,
        "stop_timeout": 20,
        "start_timeout": 120,
        "schedule": "@daily",
        "overlap_policy": "skip",
        "stop_scope": "stack",
        "stop_mode": "stop",
        "hooks": [],
        "after": None,
        "problems": [],
    }


def test_defaults() -> None:
    job = one_job([container("shop-app-1", {"bosun.job.name": "j", **IMAGE})])
    assert (
        job.enabled,
        job.timeout,
        job.stop_timeout,
        job.start_timeout,
        job.overlap_policy,
        job.command,
        job.network,
    ) == (True, 3600, None, 60, "queue", None, None)


# One broken label each: (labels of the container, expected problem message, severity).
def _msg(label: str, value: str, why: str) -> str:
    return f"container 'shop-app-1': label '{label}' has value '{value}': {why}"


BROKEN_CONTAINER_LABELS = [
    (
        {"bosun.job.enabled": "maybe"},
        _msg("bosun.job.enabled", "maybe", "must be one of true, false, yes, no, 1, 0 (any case)"),
        "error",
    ),
    (
        {"bosun.job.timeout": "-5s"},
        _msg("bosun.job.timeout", "-5s", "must be a duration such as 90s, 30m or 1h30m, or a whole number of seconds"),
        "error",
    ),
    (
        {"bosun.job.stop-timeout": "0"},
        _msg("bosun.job.stop-timeout", "0", "must be a positive duration such as 90s, 30m or 1h30m"),
        "error",
    ),
    (
        {"bosun.job.start-timeout": "soon"},
        _msg(
            "bosun.job.start-timeout",
            "soon",
            "must be a duration such as 90s, 30m or 1h30m, or a whole number of seconds",
        ),
        "error",
    ),
    (
        {"bosun.job.schedule": "every day"},
        _msg(
            "bosun.job.schedule",
            "every day",
            "must be a 5-field cron expression (minute hour day-of-month month day-of-week), got 2 fields",
        ),
        "error",
    ),
    (
        {"bosun.job.overlap-policy": "cancel"},
        _msg("bosun.job.overlap-policy", "cancel", "must be 'queue' or 'skip'"),
        "error",
    ),
    (
        {"bosun.job.worker.command": "[1]"},
        _msg("bosun.job.worker.command", "[1]", "must be a JSON array of strings, or a shell-quoted string"),
        "error",
    ),
    (
        {"bosun.job.worker.network": "host"},
        _msg(
            "bosun.job.worker.network",
            "host",
            "must be a bridge or user-defined network, or 'none'; host, container: and service: networking are not allowed for workers",
        ),
        "error",
    ),
    ({"bosun.job.worker.user": " "}, _msg("bosun.job.worker.user", " ", "must not be empty"), "error"),
    (
        {"bosun.job.worker.env.2BAD": "x"},
        _msg("bosun.job.worker.env.2BAD", "x", "environment variable name '2BAD' must match [A-Za-z_][A-Za-z0-9_]*"),
        "error",
    ),
    (
        {"bosun.job.worker.env.path": "a", "bosun.job.worker.env.PATH": "b"},
        _msg(
            "bosun.job.worker.env.path", "a", "environment variable 'path' differs from 'PATH' only in case; keep one"
        ),
        "error",
    ),
    (
        {"bosun.job.worker.image": "x" * 5000},
        _msg("bosun.job.worker.image", "x" * 200 + "... (5000 characters)", "must be at most 4096 characters"),
        "error",
    ),
    (
        {"bosun.job.worker.env.A": "bad\ufffdbyte"},
        _msg("bosun.job.worker.env.A", "bad\ufffdbyte", "must be valid UTF-8 text without NUL characters"),
        "error",
    ),
    (
        {"bosun.job.colour": "blue"},
        _msg(
            "bosun.job.colour",
            "blue",
            "unknown label for a container (ignored); see the label contract"
            " (https://github.com/bosun-compose/bosun.compose/blob/main/docs/docsite/rst/labels.rst)"
            " for the container labels",
        ),
        "warning",
    ),
    (
        {"bosun.job.attach": "j"},
        _msg(
            "bosun.job.attach",
            "j",
            "unknown label for a container (it belongs on volumes); see the label contract"
            " (https://github.com/bosun-compose/bosun.compose/blob/main/docs/docsite/rst/labels.rst)"
            " for the container labels",
        ),
        "warning",
    ),
]


@pytest.mark.parametrize(
    "labels, message, severity",
    BROKEN_CONTAINER_LABELS,
    ids=[
        next(iter(lb)).rsplit(".", 1)[-1] + ("-" + sev if sev == "warning" else "")
        for lb, _message, sev in BROKEN_CONTAINER_LABELS
    ],
)
def test_broken_container_label_is_one_named_problem(labels: dict[str, str], message: str, severity: str) -> None:
    job = one_job([container("shop-app-1", {"bosun.job.name": "j", "bosun.job.worker.image": "tools:1", **labels})])
    assert messages(job) == [message]
    assert [p.severity for p in job.problems] == [severity]
    assert job.problems[0].object == "shop-app-1"
    assert job.runnable is (severity == "warning")


def test_missing_image_is_an_error_naming_the_job() -> None:
    job = one_job([container("shop-app-1", {"bosun.job.name": "j"})])
    assert messages(job) == [
        "job 'j' has no worker image: set the label 'bosun.job.worker.image' on one of its containers "
        "(for example 'shop-app-1'); the job cannot run without it"
    ]
    assert not job.runnable


def test_disabled_job_is_listed_but_not_runnable() -> None:
    job = one_job([container("shop-app-1", {"bosun.job.name": "j", "bosun.job.enabled": "False", **IMAGE})])
    assert job.enabled is False and job.problems == [] and not job.runnable


def test_members_merge_and_first_by_name_wins_conflicts() -> None:
    job = one_job(
        [
            container(
                "shop-db-1", {"bosun.job.name": "j", "bosun.job.worker.image": "tools:2", "bosun.job.worker.env.A": "2"}
            ),
            container(
                "shop-app-1",
                {
                    "bosun.job.name": "j",
                    "bosun.job.worker.image": "tools:1",
                    "bosun.job.worker.env.A": "1",
                    "bosun.job.timeout": "5m",
                },
            ),
        ]
    )
    assert [c.name for c in job.containers] == ["shop-app-1", "shop-db-1"]
    assert (job.image, job.env, job.timeout) == ("tools:1", {"A": "1"}, 300)
    assert messages(job) == [
        "container 'shop-db-1': label 'bosun.job.worker.image' has value 'tools:2', but container 'shop-app-1' of "
        "job 'j' says 'tools:1'; members of one job must agree (the value of 'shop-app-1' is used)",
        "container 'shop-db-1': label 'bosun.job.worker.env.A' has value '2', but container 'shop-app-1' of "
        "job 'j' says '1'; members of one job must agree (the value of 'shop-app-1' is used)",
    ]


def test_equal_values_on_several_members_are_no_conflict() -> None:
    job = one_job(
        [
            container("shop-a-1", {"bosun.job.name": "j", **IMAGE, "bosun.job.timeout": "60"}),
            container("shop-b-1", {"bosun.job.name": "j", **IMAGE, "bosun.job.timeout": "1m"}),
        ]
    )
    assert job.problems == [] and job.timeout == 60


def test_same_name_in_two_stacks_is_two_jobs_with_a_warning() -> None:
    jobs, stray = build_jobs(
        [
            container("shop-app-1", {"bosun.job.name": "j", **IMAGE}),
            container("blog-web-1", {"bosun.job.name": "j", **IMAGE}, project="blog"),
        ],
        [
            VolumeRecord("shop_data", {"bosun.job.attach": "j", "com.docker.compose.project": "shop"}),
            VolumeRecord("blog_data", {"bosun.job.attach": "j", "com.docker.compose.project": "blog"}),
        ],
    )
    assert stray == []
    assert [(j.name, j.stack, [c.name for c in j.containers], [m.volume for m in j.mounts]) for j in jobs] == [
        ("j", "blog", ["blog-web-1"], ["blog_data"]),
        ("j", "shop", ["shop-app-1"], ["shop_data"]),
    ]
    warning = "job name 'j' is declared in stacks 'blog', 'shop'; these are separate jobs, so name the stack (project) to pick one"
    assert [messages(j) for j in jobs] == [[warning], [warning]]
    assert all(j.runnable for j in jobs)
    assert [j.stack for j in select_jobs(jobs, name="j", project="shop")] == ["shop"]


def test_explicit_stack_label_overrides_the_project() -> None:
    job = one_job(
        [
            container("shop-app-1", {"bosun.job.name": "j", **IMAGE, "bosun.stack": "shop"}),
            container("tools-x-1", {"bosun.job.name": "j", "bosun.stack": "shop"}, project="tools"),
        ]
    )
    assert job.stack == "shop" and job.problems == []


def test_container_outside_compose_without_stack_label() -> None:
    job = one_job([container("lonely", {"bosun.job.name": "j", **IMAGE}, project=None)])
    assert messages(job) == [
        "job 'j' has no stack: its containers are not part of a Compose project and carry no 'bosun.stack' label"
    ]


def test_stopped_containers_count_and_workers_never_join() -> None:
    jobs = build_jobs(
        [
            container("shop-app-1", {"bosun.job.name": "j", **IMAGE}, state="exited"),
            container(
                "bosun-worker-j-1234abcd",
                {"bosun.job.name": "j", "bosun.worker.job": "j", "bosun.worker.run-id": "1234abcd"},
            ),
        ],
        [],
    )[0]
    assert [c.name for c in jobs[0].containers] == ["shop-app-1"]


def test_invalid_job_name_belongs_to_no_job() -> None:
    jobs, stray = build_jobs(
        [
            container("shop-app-1", {"bosun.job.name": "a,b", **IMAGE}),
            container("shop-db-1", {"bosun.job.name": "bad name", **IMAGE}),
        ],
        [],
    )
    assert jobs == []
    assert [p.message for p in stray] == [
        "container 'shop-app-1': label 'bosun.job.name' has value 'a,b': must be a single job name; only volumes may list several",
        "container 'shop-db-1': label 'bosun.job.name' has value 'bad name': must start with a letter "
        "or digit and use only letters, digits, '_', '.', '-' (at most 63)",
    ]


def test_volume_attached_to_several_jobs() -> None:
    jobs, stray = build_jobs(
        [
            container("shop-a-1", {"bosun.job.name": "one", **IMAGE}),
            container("shop-b-1", {"bosun.job.name": "two", **IMAGE}),
        ],
        [VolumeRecord("shared", {"bosun.job.attach": "one, two", "bosun.job.mount.path": "/data"})],
    )
    assert stray == []
    assert [j.mounts for j in jobs] == [[Mount("shared", "/data", "ro")], [Mount("shared", "/data", "ro")]]


@pytest.mark.parametrize(
    "labels, message",
    [
        (
            {"bosun.job.mount.path": "data"},
            "volume 'v': label 'bosun.job.mount.path' has value 'data': must be an absolute path inside the worker, such as /mnt/data",
        ),
        (
            {"bosun.job.mount.path": "/"},
            "volume 'v': label 'bosun.job.mount.path' has value '/': must not be '/': mount the volume below it, such as /mnt/data",
        ),
        (
            {"bosun.job.mount.mode": "rwx"},
            "volume 'v': label 'bosun.job.mount.mode' has value 'rwx': must be 'ro' or 'rw'",
        ),
    ],
    ids=["relative-path", "root-path", "bad-mode"],
)
def test_broken_volume_label_is_a_job_problem(labels: dict[str, str], message: str) -> None:
    job = one_job(
        [container("shop-app-1", {"bosun.job.name": "j", **IMAGE})],
        [VolumeRecord("v", {"bosun.job.attach": "j", **labels})],
    )
    assert messages(job) == [message]
    assert job.mounts == [] and not job.runnable


def test_two_volumes_on_one_path_is_an_error() -> None:
    job = one_job(
        [container("shop-app-1", {"bosun.job.name": "j", **IMAGE})],
        [
            VolumeRecord("a", {"bosun.job.attach": "j", "bosun.job.mount.path": "/data"}),
            VolumeRecord("b", {"bosun.job.attach": "j", "bosun.job.mount.path": "/data/"}),
        ],
    )
    assert job.mounts == [Mount("a", "/data", "ro")]
    assert messages(job) == [
        "volume 'b': label 'bosun.job.mount.path' has value '/data/': mount path '/data' of job 'j' "
        "is already used by volume 'a'; give each volume its own 'bosun.job.mount.path'"
    ]


def compose_volume(name: str, project: str, path: str = "/data", job: str = "j") -> VolumeRecord:
    labels = {"bosun.job.attach": job, "bosun.job.mount.path": path, "com.docker.compose.project": project}
    return VolumeRecord(name, labels)


@pytest.mark.parametrize("left", ["aaa_data", "zzz_data"], ids=["sorts-first", "sorts-last"])
def test_a_volume_left_by_another_project_yields_its_path_to_the_stacks_own(left: str) -> None:
    # A removed (or pruned) stack's Compose volume still names the job; the stack that declares it now keeps its own.
    jobs, stray = build_jobs(
        [container("shop-db-1", {"bosun.job.name": "j", **IMAGE})],
        [compose_volume("shop_data", "shop"), compose_volume(left, left.split("_")[0])],
    )
    [job] = jobs
    assert job.mounts == [Mount("shop_data", "/data", "ro")] and job.runnable and stray == []
    assert [(p.severity, p.message) for p in job.problems] == [
        (
            "warning",
            f"volume {left!r}: label 'bosun.job.attach' has value 'j': volume of Compose project "
            f"{left.split('_')[0]!r} not attached to job 'j' of stack 'shop': its mount path '/data' is the stack's "
            "own volume 'shop_data' (a volume left by a removed stack?)",
        )
    ]


def test_another_projects_volume_on_a_free_path_still_attaches() -> None:
    job = one_job(
        [container("shop-db-1", {"bosun.job.name": "j", **IMAGE})],
        [compose_volume("shop_data", "shop"), compose_volume("files_data", "files", path="/files")],
    )
    assert job.mounts == [Mount("shop_data", "/data", "ro"), Mount("files_data", "/files", "ro")]


def test_two_volumes_of_other_projects_on_one_path_are_still_an_error() -> None:
    job = one_job(
        [container("shop-db-1", {"bosun.job.name": "j", **IMAGE})],
        [compose_volume("a_data", "a"), compose_volume("b_data", "b")],
    )
    assert job.mounts == [Mount("a_data", "/data", "ro")]
    assert messages(job) == [
        "volume 'b_data': label 'bosun.job.mount.path' has value '/data': mount path '/data' of job 'j' "
        "is already used by volume 'a_data'; give each volume its own 'bosun.job.mount.path'"
    ]


@pytest.mark.parametrize(
    "volume, message, severity",
    [
        (
            VolumeRecord("orphan", {"bosun.job.attach": "ghost"}),
            "volume 'orphan': label 'bosun.job.attach' has value 'ghost': no container declares job 'ghost' (label 'bosun.job.name'); "
            "the volume is not attached to anything",
            "warning",
        ),
        (
            VolumeRecord("v", {"bosun.job.attach": "a,,b"}),
            "volume 'v': label 'bosun.job.attach' has value 'a,,b': must be a job name or a comma-separated list of job names, "
            "with no empty entries",
            "error",
        ),
        (
            VolumeRecord("v", {"bosun.job.attach": "j", "bosun.job.mount.owner": "root"}),
            "volume 'v': label 'bosun.job.mount.owner' has value 'root': unknown label for a volume (ignored); volumes take "
            "bosun.job.attach, bosun.job.mount.path and bosun.job.mount.mode",
            "warning",
        ),
    ],
    ids=["orphan-warning", "empty-entry", "unknown-volume-label"],
)
def test_volume_problems_that_belong_to_no_job(volume: VolumeRecord, message: str, severity: str) -> None:
    stray = build_jobs([container("shop-app-1", {"bosun.job.name": "j", **IMAGE})], [volume])[1]
    assert [(p.message, p.severity, p.kind, p.object) for p in stray] == [(message, severity, "volume", volume.name)]


def test_select_jobs_by_name_and_project() -> None:
    jobs = build_jobs(
        [
            container("shop-a-1", {"bosun.job.name": "j", **IMAGE}),
            container("blog-a-1", {"bosun.job.name": "k", **IMAGE}, project="blog"),
        ],
        [],
    )[0]
    assert [j.name for j in select_jobs(jobs, name="j")] == ["j"]
    assert [j.name for j in select_jobs(jobs, project="blog")] == ["k"]
    assert select_jobs(jobs, name="j", project="blog") == []
