# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run_job role's filters plan_lines, run_report and report_lines (one plugin file each), on results
shaped like the modules' own.
"""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bosun.compose.plugins.filter import plan_lines as plan_lines_plugin
from ansible_collections.bosun.compose.plugins.filter import report_lines as report_lines_plugin
from ansible_collections.bosun.compose.plugins.filter import run_report as run_report_plugin
from ansible_collections.bosun.compose.plugins.filter.plan_lines import plan_lines
from ansible_collections.bosun.compose.plugins.filter.report_lines import report_lines
from ansible_collections.bosun.compose.plugins.filter.run_report import REPORT_KEYS, run_report

RUN = "5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f"


def container(service: str) -> dict:
    return {"id": f"id-{service}", "name": f"shop-{service}-1", "service": service}


# job_plan's RV plan (Plan.to_dict()): three steps, two stop levels (web + cron, then db), two checks.
PLAN = {
    "run_id": RUN,
    "job": "nightly-backup",
    "stack": "shop",
    "created_at": "2026-03-01T02:00:00+00:00",
    "steps": [
        {
            "type": "stop_containers",
            "description": "stop 3 running container(s) of stack 'shop' in 2 level(s)",
            "timeout": None,
            "levels": [[container("web"), container("cron")], [container("db")]],
        },
        {
            "type": "run_worker",
            "description": "run worker 'bosun-worker-nightly-backup-5f0c2a7e' from image "
            "'busybox:1.36' with 1 volume(s) mounted, for at most 3600s",
            "timeout": None,
            "worker": {"name": "bosun-worker-nightly-backup-5f0c2a7e", "timeout": 3600},
        },
        {
            "type": "start_containers",
            "description": "start the same 3 container(s) in dependency order within 300s",
            "timeout": 300,
            "levels": [[container("db")], [container("web"), container("cron")]],
        },
    ],
    "stop_budget": 40,
    "start_budget": 300,
    "deadline": 3950,
    "preflight": [
        {"name": "stack", "object": "shop", "ok": True, "message": "stack 'shop' has 3 running of 3 container(s)"},
        {
            "name": "image",
            "object": "busybox:1.36",
            "ok": False,
            "message": "worker image 'busybox:1.36' is not present on this Docker host",
        },
    ],
    "ok": False,
}

# job_run's registered result (RunResult.to_dict() plus what Ansible adds), a successful async run.
RESULT = {
    "run_id": RUN,
    "job": "nightly-backup",
    "stack": "shop",
    "outcome": "success",
    "message": "job 'nightly-backup' succeeded; 3/3 started",
    "started_at": "2026-03-01T02:00:01.000000+00:00",
    "finished_at": "2026-03-01T02:00:09.500000+00:00",
    "steps": [
        {
            "type": "stop_containers",
            "status": "ok",
            "started_at": "2026-03-01T02:00:01+00:00",
            "duration": 1.2,
            "containers": ["shop-web-1", "shop-cron-1", "shop-db-1"],
            "detail": "",
        },
        {
            "type": "run_worker",
            "status": "ok",
            "started_at": "2026-03-01T02:00:02+00:00",
            "duration": 3.4,
            "containers": [],
            "detail": "exit code 0",
        },
        {
            "type": "start_containers",
            "status": "ok",
            "started_at": "2026-03-01T02:00:06+00:00",
            "duration": 2,
            "containers": ["shop-db-1", "shop-web-1", "shop-cron-1"],
            "detail": None,
        },
    ],
    "worker": {
        "name": "bosun-worker-nightly-backup-5f0c2a7e",
        "exit_code": 0,
        "timed_out": False,
        "cancelled": False,
        "duration": 3.4,
        "log_tail": ["dumping", "done"],
        "log_path": "/var/lib/bosun/logs/nightly-backup/x.log",
        "error": None,
        "removed": True,
    },
    "stopped": [container("web"), container("cron"), container("db")],
    "restarted": [container("db"), container("web"), container("cron")],
    "downtime_seconds": 6.8,
    "plan": PLAN,
    "record_path": "/var/lib/bosun/runs/nightly-backup/x.json",
    "changed": True,
    "failed": False,
    "ansible_job_id": "j123.456",
    "finished": 1,
}

# stack state=recovered's result when there was nothing to do.
RECOVERED = {
    "changed": False,
    "failed": False,
    "summary": "nothing to recover",
    "recover": {"action": "none", "message": "no lease on stack 'shop'", "workers_stopped": []},
}


def test_filter_module_names_every_filter():
    # One filter per plugin file, named after it.
    plugins = (plan_lines_plugin, run_report_plugin, report_lines_plugin)
    assert [p.FilterModule().filters() for p in plugins] == [
        {"plan_lines": plan_lines},
        {"run_report": run_report},
        {"report_lines": report_lines},
    ]


def test_plan_lines_header_steps_stop_order_deadline_and_checks():
    assert plan_lines(PLAN) == [
        f"Job nightly-backup on stack shop (run id {RUN})",
        "1. stop 3 running container(s) of stack 'shop' in 2 level(s)",
        "2. run worker 'bosun-worker-nightly-backup-5f0c2a7e' from image 'busybox:1.36' with 1 volume(s) mounted, "
        "for at most 3600s",
        "3. start the same 3 container(s) in dependency order within 300s",
        "Stop order: web + cron -> db",
        "Deadline (maximum downtime): 3950s (stop budget 40s, start budget 300s)",
        "preflight ok:   stack 'shop' has 3 running of 3 container(s)",
        "preflight FAIL: worker image 'busybox:1.36' is not present on this Docker host",
    ]


def test_plan_lines_without_a_stop_step_or_checks():
    plan = dict(PLAN, steps=[PLAN["steps"][1]], preflight=[])
    assert plan_lines(plan)[1:] == [
        "1. " + PLAN["steps"][1]["description"],
        "Stop order: ",
        "Deadline (maximum downtime): 3950s (stop budget 40s, start budget 300s)",
    ]


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (None, "plan_lines: the plan must be a dict, got NoneType"),
        ("a plan", "plan_lines: the plan must be a dict, got str"),
        ({k: v for k, v in PLAN.items() if k != "deadline"}, "plan_lines: the plan has no key 'deadline'"),
        (dict(PLAN, steps={"type": "stop_containers"}), "plan_lines: steps must be a list, got dict"),
        (dict(PLAN, steps=["stop"]), "plan_lines: each step must be a dict, got str"),
        (dict(PLAN, preflight=[{"ok": True}]), "plan_lines: each check has no key 'message'"),
    ],
)
def test_plan_lines_refuses_what_is_not_a_plan(plan, message):
    with pytest.raises(AnsibleFilterError) as err:
        plan_lines(plan)
    assert message in str(err.value)


def test_run_report_of_a_successful_run():
    rep = run_report(RESULT, plan=PLAN, recovered=RECOVERED, host="web1", job="nightly-backup", check_mode=False)
    assert list(rep) == list(REPORT_KEYS)
    assert rep == {
        "host": "web1",
        "run_id": RUN,
        "job": "nightly-backup",
        "stack": "shop",
        "check_mode": False,
        "outcome": "success",
        "message": "job 'nightly-backup' succeeded; 3/3 started",
        "failed": False,
        "started_at": "2026-03-01T02:00:01.000000+00:00",
        "finished_at": "2026-03-01T02:00:09.500000+00:00",
        "downtime_seconds": 6.8,
        "deadline_seconds": 3950,
        "steps": RESULT["steps"],
        "stopped": ["shop-web-1", "shop-cron-1", "shop-db-1"],
        "restarted": ["shop-db-1", "shop-web-1", "shop-cron-1"],
        "worker": RESULT["worker"],
        "safety_net": "none",
        "record_path": "/var/lib/bosun/runs/nightly-backup/x.json",
    }


def test_run_report_takes_the_run_id_from_the_plan():
    rep = run_report(dict(RESULT, run_id="other"), plan=PLAN, recovered=RECOVERED, host="web1")
    assert rep["run_id"] == RUN


def test_run_report_when_job_run_registered_nothing_and_the_safety_net_failed():
    recovered = {"failed": True, "msg": "Cannot connect to the Docker daemon", "recover": None}
    rep = run_report({}, plan=PLAN, recovered=recovered, host="web1", job="nightly-backup", check_mode=True)
    assert rep == {
        "host": "web1",
        "run_id": RUN,
        "job": "nightly-backup",
        "stack": "shop",
        "check_mode": True,
        "outcome": "unknown",
        "message": "",
        "failed": True,
        "started_at": None,
        "finished_at": None,
        "downtime_seconds": None,
        "deadline_seconds": 3950,
        "steps": [],
        "stopped": [],
        "restarted": [],
        "worker": {},
        "safety_net": "failed: Cannot connect to the Docker daemon",
        "record_path": None,
    }


def test_run_report_of_a_failed_module_uses_msg_and_a_safety_net_that_never_ran():
    result = {
        "failed": True,
        "msg": "invalid: bad duration",
        "outcome": "invalid",
        "job": "",
        "stack": None,
        "steps": [],
        "stopped": [],
        "restarted": [],
        "worker": None,
    }
    rep = run_report(result, plan=PLAN, recovered=None, host="web1", job="nightly-backup")
    assert rep["job"] == "nightly-backup" and rep["stack"] == "shop"
    assert rep["message"] == "invalid: bad duration" and rep["worker"] is None
    assert rep["safety_net"] == "failed: did not run"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"result": [], "plan": PLAN, "host": "h"}, "run_report: the job_run result must be a dict, got list"),
        ({"result": RESULT, "plan": None, "host": "h"}, "run_report: plan must be a dict, got NoneType"),
        ({"result": RESULT, "plan": PLAN, "host": ""}, "run_report: host must be a non-empty string"),
        (
            {"result": RESULT, "plan": PLAN, "host": "h", "recovered": "ok"},
            "run_report: recovered must be a dict, got str",
        ),
        (
            {"result": RESULT, "plan": PLAN, "host": "h", "check_mode": "yes"},
            "run_report: check_mode must be a boolean",
        ),
        ({"result": RESULT, "plan": PLAN, "host": "h", "job": 3}, "run_report: job must be a string, got int"),
        ({"result": RESULT, "plan": {"stack": "shop"}, "host": "h"}, "run_report: plan has no key 'run_id'"),
        (
            {"result": dict(RESULT, stopped=["shop-web-1"]), "plan": PLAN, "host": "h"},
            "run_report: each stopped container must be a dict, got str",
        ),
    ],
)
def test_run_report_refuses_wrong_inputs(kwargs, message):
    with pytest.raises(AnsibleFilterError) as err:
        run_report(kwargs.pop("result"), **kwargs)
    assert message in str(err.value)


def test_report_lines_of_a_successful_run():
    rep = run_report(RESULT, plan=PLAN, recovered=RECOVERED, host="web1", job="nightly-backup")
    assert report_lines(rep) == [
        f"Run {RUN} of job nightly-backup on stack shop: success",
        "job 'nightly-backup' succeeded; 3/3 started",
        "step: stop_containers ok 1.2s",
        "step: run_worker ok 3.4s exit code 0",
        "step: start_containers ok 2s",
        "Downtime: 6.8s (deadline 3950s)",
        "Worker: exit code 0, 3.4s, log /var/lib/bosun/logs/nightly-backup/x.log",
        "Worker log tail:",
        "  | dumping",
        "  | done",
        "Safety net: none",
    ]


def test_report_lines_of_a_timed_out_worker_in_check_mode_without_log_tail():
    worker = dict(RESULT["worker"], exit_code=137, timed_out=True, log_tail=[])
    del worker["log_path"]
    rep = run_report(
        dict(RESULT, outcome="timeout", message="", worker=worker, steps=[]),
        plan=PLAN,
        recovered={"recover": {"action": "recovered"}},
        host="web1",
        check_mode=True,
    )
    assert report_lines(rep) == [
        f"Run {RUN} of job nightly-backup on stack shop: timeout (check mode, nothing was touched)",
        "Downtime: n/a (deadline 3950s)",
        "Worker: exit code 137, timed out, 3.4s, log -",
        "Safety net: recovered",
    ]


def test_report_lines_of_a_check_mode_run_say_downtime_n_a():
    # job_run in check mode stops nothing and returns downtime_seconds 0.0: that is no measured downtime.
    rep = run_report(
        dict(RESULT, downtime_seconds=0.0, worker={}, steps=[]),
        plan=PLAN,
        recovered={"recover": {"action": "none"}},
        host="web1",
        check_mode=True,
    )
    assert "Downtime: n/a (deadline 3950s)" in report_lines(rep)
    assert not any(line.startswith("Downtime: 0.0s") for line in report_lines(rep))


def test_report_lines_without_a_result():
    rep = run_report({}, plan=PLAN, recovered={}, host="web1", job="nightly-backup")
    assert report_lines(rep) == [
        f"Run {RUN} of job nightly-backup on stack shop: unknown",
        "Downtime: n/a (deadline 3950s)",
        "Safety net: failed: did not run",
    ]


@pytest.mark.parametrize(
    ("report", "message"),
    [
        (["Run"], "report_lines: the report must be a dict, got list"),
        ({"run_id": RUN}, "report_lines: the report has no key 'job'"),
    ],
)
def test_report_lines_refuses_what_is_not_a_report(report, message):
    with pytest.raises(AnsibleFilterError) as err:
        report_lines(report)
    assert message in str(err.value)


def test_report_lines_refuses_a_step_without_duration():
    rep = run_report(RESULT, plan=PLAN, recovered=RECOVERED, host="web1")
    rep = copy.deepcopy(rep)
    del rep["steps"][0]["duration"]
    with pytest.raises(AnsibleFilterError, match="report_lines: each step has no key 'duration'"):
        report_lines(rep)
