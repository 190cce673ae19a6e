# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lifecycle labels (hooks, stop scope and mode, after-phase) in discovery and in the pure planner."""

from __future__ import annotations

import dataclasses
import typing as t

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._discovery import build_jobs
from ansible_collections.bosun.compose.plugins.module_utils._errors import PlanError
from ansible_collections.bosun.compose.plugins.module_utils._hooks import hook_entries, hooks_from_entries
from ansible_collections.bosun.compose.plugins.module_utils._lease import Lease, Owner
from ansible_collections.bosun.compose.plugins.module_utils._model import ContainerRecord, Job, Mount
from ansible_collections.bosun.compose.plugins.module_utils._planner import apply_overrides, build_plan
from ansible_collections.bosun.compose.plugins.module_utils._values import (
    LabelError,
    parse_on_error,
    parse_stop_mode,
    parse_stop_scope,
)

RUN = "0123456789abcdef0123456789abcdef"
JOB = {"bosun.job.name": "nightly", "bosun.job.worker.image": "tools:1"}


def c(
    service: str,
    depends: str = "",
    state: str = "running",
    labels: t.Mapping[str, str] | None = None,
    volumes: tuple[tuple[str, bool], ...] = (),
    project: str = "shop",
) -> ContainerRecord:
    return ContainerRecord(
        id=f"id-{service}",
        name=f"{project}-{service}-1",
        state=state,
        labels={
            "com.docker.compose.project": project,
            "com.docker.compose.service": service,
            "com.docker.compose.container-number": "1",
            "com.docker.compose.depends_on": depends,
            **(labels or {}),
        },
        volumes=volumes,
    )


# db writes data; api reads it and depends on db; web depends on api; cron and static stand alone.
STACK = (
    c("db", volumes=(("data", True),)),
    c("api", "db:service_started:false", volumes=(("data", False),)),
    c("web", "api:service_started:false"),
    c("cron"),
    c("static", volumes=(("assets", True),)),
)


def discovered(*containers: ContainerRecord) -> Job:
    jobs, stray = build_jobs(containers, [])
    assert len(jobs) == 1 and stray == [], (jobs, stray)
    return jobs[0]


def plan_of(job: Job, stack: t.Sequence[ContainerRecord] = STACK, **kw: t.Any):
    return build_plan(job, stack, run_id=RUN, secret_env={}, container_stop_timeouts={}, created_at="t", **kw)


def names(levels: t.Iterable[t.Iterable[ContainerRecord]]) -> list[list[str]]:
    return [[x.name for x in level] for level in levels]


@pytest.mark.parametrize(
    "parse, good, bad, message",
    [
        (parse_stop_scope, "Writers", "some", "must be one of 'stack', 'attached', 'writers', 'none'"),
        (parse_stop_mode, "PAUSE", "freeze", "must be 'stop' or 'pause'"),
        (parse_on_error, "continue", "ignore", "must be 'abort' or 'continue'"),
    ],
)
def test_the_new_values_and_their_messages(parse: t.Any, good: str, bad: str, message: str) -> None:
    assert parse(good) == good.lower()
    with pytest.raises(LabelError, match=message):
        parse(bad)


def test_hooks_are_per_container_with_their_options() -> None:
    job = discovered(
        c(
            "db",
            labels={
                **JOB,
                "bosun.job.hook.pre": "pg_dump -f /dump/db.sql",
                "bosun.job.hook.pre.user": "postgres",
                "bosun.job.hook.pre.timeout": "10m",
                "bosun.job.hook.pre.on-error": "continue",
                "bosun.job.hook.finally": '["rm", "-f", "/dump/db.sql"]',
            },
        ),
        c("web", labels={"bosun.job.name": "nightly", "bosun.job.hook.pre": "maintenance on"}),
    )
    assert job.problems == []
    got = [(h.phase, h.container.name, h.command, h.user, h.timeout, h.on_error) for h in job.hooks]
    assert got == [
        ("pre", "shop-db-1", ["pg_dump", "-f", "/dump/db.sql"], "postgres", 600, "continue"),
        ("finally", "shop-db-1", ["rm", "-f", "/dump/db.sql"], None, 300, "abort"),
        ("pre", "shop-web-1", ["maintenance", "on"], None, 300, "abort"),
    ]


@pytest.mark.parametrize(
    "labels, message",
    [
        ({"bosun.job.hook.later": "x"}, "unknown hook phase 'later'; allowed: pre, post, error, finally"),
        ({"bosun.job.hook.pre": "x", "bosun.job.hook.pre.retries": "3"}, "unknown hook option 'retries'"),
        ({"bosun.job.hook.post": "x", "bosun.job.hook.post.on-error": "continue"}, "only the pre hook takes on-error"),
        ({"bosun.job.hook.post.user": "app"}, "sets an option of a hook that has no command"),
        ({"bosun.job.hook.pre": "x", "bosun.job.hook.pre.timeout": "soon"}, "must be a duration"),
        ({"bosun.job.hook.pre": "'unbalanced"}, "is not a valid shell-quoted string"),
        ({"bosun.job.stop-scope": "half"}, "must be one of 'stack', 'attached', 'writers', 'none'"),
        ({"bosun.job.stop-mode": "freeze"}, "must be 'stop' or 'pause'"),
        ({"bosun.job.after.timeout": "0"}, "must be a positive duration"),
        ({"bosun.job.after.network": "host"}, "host, container: and service: networking are not allowed"),
        ({"bosun.job.after.env.9X": "1"}, "must match [A-Za-z_][A-Za-z0-9_]*"),
    ],
)
def test_bad_lifecycle_labels_are_named_errors(labels: dict[str, str], message: str) -> None:
    job = discovered(c("db", labels={**JOB, **labels}))
    errors = [p for p in job.problems if p.severity == "error"]
    assert len(errors) == 1 and message in errors[0].message, job.problems
    assert errors[0].object == "shop-db-1" and errors[0].label in labels
    assert not job.runnable


def test_a_hook_on_a_container_of_another_stack_is_refused() -> None:
    job = discovered(
        c("db", labels=JOB),
        c(
            "db",
            project="other",
            labels={"bosun.job.name": "nightly", "bosun.stack": "shop", "bosun.job.hook.pre": "x"},
        ),
    )
    assert job.hooks == []
    assert any("a hook runs only in a container of the job's own stack 'shop'" in p.message for p in job.errors)


def test_after_settings_without_a_command_are_a_warning() -> None:
    job = discovered(c("db", labels={**JOB, "bosun.job.after.image": "rclone:1", "bosun.job.after.env.X": "1"}))
    assert job.runnable and job.after_command is None
    (warning,) = job.problems
    assert warning.severity == "warning"
    assert "sets bosun.job.after.env.X, bosun.job.after.image but no 'bosun.job.after.command'" in warning.message


def test_after_phase_inherits_the_worker_and_overrides_what_it_names() -> None:
    job = discovered(
        c(
            "db",
            labels={
                **JOB,
                "bosun.job.worker.env.REPO": "/repo",
                "bosun.job.worker.user": "1000",
                "bosun.job.after.command": "restic copy",
                "bosun.job.after.env.REPO": "s3:bucket",
                "bosun.job.after.timeout": "2h",
            },
        )
    )
    job.mounts = [Mount("data", "/data", "ro")]
    plan = plan_of(job)
    after = plan.after
    assert after is not None
    assert (after.name, after.image, after.command, after.user, after.timeout) == (
        "bosun-after-nightly-01234567",
        "tools:1",
        ["restic", "copy"],
        "1000",
        7200,
    )
    assert after.env == {"REPO": "s3:bucket"} and after.mounts == plan.worker.mounts
    assert [s.type for s in plan.steps] == ["stop_containers", "run_worker", "start_containers", "run_after"]
    assert plan.max_duration == plan.deadline + 7200 + 10


@pytest.mark.parametrize(
    "scope, mounts, stopped, stays",
    [
        ("stack", [], [["shop-web-1"], ["shop-api-1"], ["shop-cron-1", "shop-db-1", "shop-static-1"]], []),
        ("writers", [Mount("data", "/d")], [["shop-web-1"], ["shop-api-1"], ["shop-db-1"]], ["cron", "static"]),
        ("attached", [Mount("data", "/d")], [["shop-web-1"], ["shop-api-1"], ["shop-db-1"]], ["cron", "static"]),
        ("attached", [Mount("assets", "/a")], [["shop-static-1"]], ["api", "cron", "db", "web"]),
        ("none", [Mount("data", "/d")], [], ["api", "cron", "db", "static", "web"]),
        ("writers", [Mount("nothing", "/n")], [], ["api", "cron", "db", "static", "web"]),
    ],
)
def test_stop_scope_chooses_what_stops_and_what_stays_up(
    scope: str, mounts: list[Mount], stopped: list[list[str]], stays: list[str]
) -> None:
    job = Job(name="nightly", stack="shop", image="tools:1", stop_scope=t.cast(t.Any, scope), mounts=mounts)
    plan = plan_of(job)
    assert names(plan.stop_step.levels) == stopped
    assert [x.service for x in plan.stays_up] == stays
    assert plan.to_dict()["stays_up"] == [x.to_dict() for x in plan.stays_up]


def test_writers_scope_ignores_a_read_only_reader_that_nothing_written_depends_on() -> None:
    reader = c("report", volumes=(("data", False),))
    job = Job(name="nightly", stack="shop", image="tools:1", stop_scope="writers", mounts=[Mount("data", "/d")])
    plan = plan_of(job, [*STACK, reader])
    assert "shop-report-1" in [x.name for x in plan.stays_up]
    job = dataclasses.replace(job, stop_scope="attached")
    assert "shop-report-1" in [x.name for x in plan_of(job, [*STACK, reader]).stop_set]


def test_pause_mode_freezes_running_stops_restarting_and_leaves_paused_alone() -> None:
    stack = [*STACK[:3], c("cron", state="restarting"), c("static", state="paused")]
    plan = plan_of(Job(name="nightly", stack="shop", image="tools:1", stop_mode="pause"), stack)
    assert plan.stop_step.actions == {
        "id-web": "pause",
        "id-api": "pause",
        "id-db": "pause",
        "id-cron": "stop",
    }
    assert "shop-static-1" not in [x.name for x in plan.stop_set]
    assert plan.stop_budget == (0 + 5) + (0 + 5) + (10 + 5)  # only the restarting one has a grace period
    assert plan.stop_step.description.startswith("pause 4 container(s) of stack 'shop' in 3 level(s)")
    start = next(s for s in plan.steps if s.type == "start_containers")
    assert start.description.startswith("unpause the same 4 container(s)")
    entries = plan.to_dict()["steps"][0]["levels"]
    assert entries[-1] == [
        {"id": "id-cron", "name": "shop-cron-1", "service": "cron", "state": "restarting", "action": "stop"},
        {"id": "id-db", "name": "shop-db-1", "service": "db", "action": "pause"},
    ]


def test_hooks_are_ordered_by_the_graph_and_keep_stopped_drops_post_error_and_after() -> None:
    stack = [
        c("db", labels={**JOB, "bosun.job.hook.pre": "a", "bosun.job.hook.post": "b", "bosun.job.hook.error": "e"}),
        c("api", "db:service_started:false", labels={"bosun.job.name": "nightly", "bosun.job.hook.pre": "c"}),
        c(
            "web",
            "api:service_started:false",
            labels={"bosun.job.name": "nightly", "bosun.job.hook.post": "d", "bosun.job.hook.finally": "f"},
        ),
        c("cron", labels={"bosun.job.name": "nightly", "bosun.job.hook.pre": "g", "bosun.job.after.command": "up"}),
    ]
    job = discovered(*stack)
    plan = plan_of(job, stack)
    assert [h.container.service for h in plan.hooks("pre")] == ["api", "cron", "db"]  # dependents first
    assert [h.container.service for h in plan.hooks("post")] == ["db", "web"]  # dependencies first
    assert [s.type for s in plan.steps] == [
        "run_hooks",
        "stop_containers",
        "run_worker",
        "start_containers",
        "run_hooks",
        "run_hooks",
        "run_after",
        "run_hooks",
    ]
    kept = plan_of(job, stack, keep_stopped=True)
    assert [(s.type, s.phase) for s in kept.steps] == [
        ("run_hooks", "pre"),
        ("stop_containers", None),
        ("run_worker", None),
        ("keep_stopped", None),
        ("run_hooks", "finally"),
    ]
    assert kept.after is None and kept.to_dict()["keep_stopped"] is True


def test_overrides_set_scope_mode_and_after_phase_with_the_label_rules() -> None:
    job, _secret = apply_overrides(
        Job(name="j", stack="shop", image="tools:1"),
        "j",
        {"stop_scope": "writers", "stop_mode": "pause", "after_command": ["up"], "after_env": {"N": 1}},
    )
    assert (job.stop_scope, job.stop_mode, job.after_command, job.after_env) == ("writers", "pause", ["up"], {"N": "1"})
    with pytest.raises(PlanError, match="override 'stop_mode' has value 'freeze': must be 'stop' or 'pause'"):
        apply_overrides(job, "j", {"stop_mode": "freeze"})


def test_the_lease_round_trips_hooks_and_stop_set_states() -> None:
    stack = [c("db", labels={**JOB, "bosun.job.hook.error": "e", "bosun.job.hook.finally": "f -x"})]
    job = discovered(*stack)
    entries = hook_entries(job.hooks)
    lease = Lease("shop", RUN, "nightly", Owner("h"), 10, 1, ({"id": "id-db", "state": "paused", "action": "pause"},))
    lease = dataclasses.replace(lease, hooks=tuple(entries))
    back = Lease.from_labels(lease.to_labels())
    assert back.stop_set == ({"id": "id-db", "state": "paused", "action": "pause"},)
    hooks = hooks_from_entries(back.hooks, "shop")
    assert [(h.phase, h.container.id, h.container.project, h.command) for h in hooks] == [
        ("error", "id-db", "shop", ["e"]),
        ("finally", "id-db", "shop", ["f", "-x"]),
    ]
