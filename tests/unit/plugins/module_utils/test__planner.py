# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The planner's pure parts: plan shape, order, budgets, overrides, image patterns. No Docker."""

from __future__ import annotations

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._discovery import build_jobs
from ansible_collections.bosun.compose.plugins.module_utils._model import ContainerRecord, Job, Mount, Problem
from ansible_collections.bosun.compose.plugins.module_utils._errors import PlanError
from ansible_collections.bosun.compose.plugins.module_utils._images import image_allowed
from ansible_collections.bosun.compose.plugins.module_utils._planner import apply_overrides, build_plan

RUN = "0123456789abcdef0123456789abcdef"


def c(service: str, depends: str = "", state: str = "running", n: int = 1) -> ContainerRecord:
    return ContainerRecord(
        id=f"id-{service}-{n}",
        name=f"shop-{service}-{n}",
        state=state,
        labels={
            "com.docker.compose.project": "shop",
            "com.docker.compose.service": service,
            "com.docker.compose.container-number": str(n),
            "com.docker.compose.depends_on": depends,
        },
    )


STACK = [
    c("db"),
    c("cache"),
    c("api", "db:service_healthy:false,cache:service_started:false"),
    c("web", "api:service_started:false", n=1),
    c("web", "api:service_started:false", n=2),
    c("manual", "db:service_started:false", state="exited"),
]


def job(**kw) -> Job:
    base = dict(name="nightly", stack="shop", image="tools:1", timeout=600, start_timeout=60)
    base.update(kw)
    return Job(**base)


def names(levels) -> list[list[str]]:
    return [[x.name for x in level] for level in levels]


def test_plan_steps_order_and_exact_reverse() -> None:
    plan = build_plan(job(), STACK, run_id=RUN, secret_env={}, container_stop_timeouts={}, created_at="t")
    assert [s.type for s in plan.steps] == ["stop_containers", "run_worker", "start_containers"]
    stop, start = plan.steps[0], plan.steps[2]
    assert names(stop.levels) == [["shop-web-1", "shop-web-2"], ["shop-api-1"], ["shop-cache-1", "shop-db-1"]]
    assert names(start.levels) == list(reversed(names(stop.levels)))
    assert "shop-manual-1" not in [x.name for x in plan.stop_set]  # not running: never stopped, never started
    assert stop.description == "stop 5 container(s) of stack 'shop' in 3 level(s) (scope stack)"


def test_budgets_and_deadline_use_each_levels_longest_grace() -> None:
    graces = {"id-web-1": 2, "id-web-2": 30, "id-api-1": 10, "id-db-1": 5, "id-cache-1": 1}
    plan = build_plan(job(), STACK, run_id=RUN, secret_env={}, container_stop_timeouts=graces, created_at="t")
    assert plan.stop_budget == (30 + 5) + (10 + 5) + (5 + 5)
    assert plan.deadline == plan.stop_budget + 600 + 10 + 60
    assert plan.steps[0].container_stop_timeouts == graces


def test_job_stop_timeout_overrides_container_graces() -> None:
    plan = build_plan(job(stop_timeout=3), STACK, run_id=RUN, secret_env={}, container_stop_timeouts={"id-web-2": 30})
    assert (plan.steps[0].timeout, plan.stop_budget) == (3, 3 * (3 + 5))


def test_worker_step_masks_secrets_and_names_the_worker() -> None:
    plan = build_plan(
        job(env={"A": "1"}, mounts=[Mount("shop_data", "/mnt/data")]),
        STACK,
        run_id=RUN,
        secret_env={"TOKEN": "hunter2"},
        container_stop_timeouts={},
    )
    w = plan.to_dict()["steps"][1]["worker"]
    assert w["name"] == "bosun-worker-nightly-01234567"
    assert w["env"] == {"A": "1", "TOKEN": "********"} and "hunter2" not in str(plan.to_dict())
    assert plan.worker.env["TOKEN"] == "hunter2"  # the worker itself gets the value
    assert w["mounts"] == [{"volume": "shop_data", "path": "/mnt/data", "mode": "ro"}]


def test_nothing_running_plans_empty_steps() -> None:
    plan = build_plan(job(), [c("db", state="exited")], run_id=RUN, secret_env={}, container_stop_timeouts={})
    assert plan.stop_set == [] and plan.stop_budget == 0


def test_plan_without_image_is_an_error() -> None:
    with pytest.raises(PlanError, match="^job 'nightly' cannot be planned without a stack and a worker image$"):
        build_plan(job(image=None), STACK, run_id=RUN, secret_env={}, container_stop_timeouts={})


def test_overrides_win_over_labels() -> None:
    [labelled] = build_jobs(
        [
            ContainerRecord(
                "i",
                "shop-db-1",
                "running",
                {
                    "com.docker.compose.project": "shop",
                    "bosun.job.name": "nightly",
                    "bosun.job.worker.image": "tools:1",
                    "bosun.job.worker.env.A": "label",
                    "bosun.job.timeout": "10m",
                },
            )
        ],
        [],
    )[0]
    result, secret = apply_overrides(
        labelled,
        "nightly",
        {
            "timeout": "2h",
            "env": {"A": "play", "B": "2"},
            "secret_env": {"S": "x"},
            "command": "sh -c 'echo hi'",
            "mounts": [{"volume": "v", "mode": "rw"}],
            "start_timeout": 30,
            "user": None,
        },
    )
    assert (result.timeout, result.start_timeout, result.env, result.command) == (
        7200,
        30,
        {"A": "play", "B": "2"},
        ["sh", "-c", "echo hi"],
    )
    assert result.mounts == [Mount("v", "/mnt/v", "rw")] and secret == {"S": "x"}
    assert labelled.timeout == 600 and labelled.env == {"A": "label"}  # the discovered job is not changed


def test_image_override_clears_the_missing_image_problem() -> None:
    [labelled] = build_jobs(
        [
            ContainerRecord(
                "i", "shop-db-1", "running", {"com.docker.compose.project": "shop", "bosun.job.name": "nightly"}
            )
        ],
        [],
    )[0]
    assert not labelled.runnable
    result, _secret = apply_overrides(labelled, "nightly", {"image": "tools:2"})
    assert result.runnable and result.image == "tools:2"


def test_inline_definition_needs_stack_and_image() -> None:
    with pytest.raises(PlanError) as exc:
        apply_overrides(None, "adhoc", {"image": "tools:1"})
    assert exc.value.message == (
        "job 'adhoc' has no labels on this host, so the play must define it completely; missing: stack"
    )
    result, _secret = apply_overrides(None, "adhoc", {"image": "tools:1", "stack": "shop"})
    assert (result.name, result.stack, result.image, result.runnable) == ("adhoc", "shop", "tools:1", True)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"colour": "red"},
            "job 'j': unknown override(s) colour; allowed: after_command, after_env, after_image, after_network, "
            "after_timeout, after_user, command, env, image, mounts, network, overlap_policy, secret_env, stack, "
            "start_timeout, stop_mode, stop_scope, stop_timeout, timeout, user",
        ),
        (
            {"timeout": "-1"},
            "job 'j': override 'timeout' has value '-1': must be a positive duration such as 90s, 30m or 1h30m",
        ),
        (
            {"timeout": True},
            "job 'j': override 'timeout' has value True: must be a duration such as 90s, 30m or 1h30m, "
            "or a whole number of seconds",
        ),
        (
            {"network": "host"},
            "job 'j': override 'network' has value 'host': must be a bridge or user-defined network, or "
            "'none'; host, container: and service: networking are not allowed for workers",
        ),
        (
            {"mounts": [{"volume": "v", "path": "/"}]},
            "job 'j': override 'mounts' has value [{'volume': 'v', 'path': '/'}]: must not be '/': mount the volume below it, "
            "such as /mnt/data",
        ),
        ({"env": ["A=1"]}, "job 'j': override 'env' has value ['A=1']: must be a dict of NAME: value"),
    ],
    ids=["unknown", "negative-timeout", "bool-timeout", "host-network", "root-mount", "env-list"],
)
def test_bad_overrides_are_refused_with_the_value(overrides: dict, message: str) -> None:
    with pytest.raises(PlanError) as exc:
        apply_overrides(job(name="j"), "j", overrides)
    assert exc.value.message == message


def test_other_problems_survive_overrides() -> None:
    broken = job(problems=[Problem("error", "container", "shop-db-1", "bosun.job.timeout", "x", "bad", "nightly")])
    result, _secret = apply_overrides(broken, "nightly", {"timeout": 60})
    assert not result.runnable


@pytest.mark.parametrize(
    "image, patterns, allowed",
    [
        ("registry.example.com/backup/tools:1", ["registry.example.com/backup/*"], True),
        ("tools:1.4", ["tools:1.*"], True),
        ("tools:2.0", ["tools:1.*"], False),
        ("evil/tools:1", ["tools:*"], False),
        ("tools:1", [], False),
    ],
    ids=["registry-prefix", "tag-glob", "tag-mismatch", "no-implicit-prefix", "empty-list"],
)
def test_image_allowed(image: str, patterns: list[str], allowed: bool) -> None:
    assert image_allowed(image, patterns) is allowed
