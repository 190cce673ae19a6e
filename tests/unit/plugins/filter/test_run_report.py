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

# What a failed safety net adds: the recover playbook for the stack and host of the report.
RECOVER_HINT = " (the stack may be down: run ansible-playbook bosun.compose.recover -e project=shop -e target=web1)"
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
    "max_duration": 3950,
    "stop_scope": "stack",
    "stop_mode": "stop",
    "stays_up": [],
    "keep_stopped": False,
    "hooks": {"pre": [], "post": [], "error": [], "finally": []},
    "after": None,
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
    "duration_seconds": 8.5,
    "hooks": [],
    "after": None,
    "kept_stopped": [],
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
        "   - stop shop-web-1 + shop-cron-1, then shop-db-1",
        "2. run worker 'bosun-worker-nightly-backup-5f0c2a7e' from image 'busybox:1.36' with 1 volume(s) mounted, "
        "for at most 3600s",
        "   - command: the image's own command",
        "3. start the same 3 container(s) in dependency order within 300s",
        "Stop scope: stack, stop mode stop",
        "Stop order: web + cron -> db",
        "Deadline (maximum downtime): 3950s (stop budget 40s, start budget 300s)",
        "Maximum duration (the whole run, hooks and after-phase included): 3950s",
        "preflight ok:   stack 'shop' has 3 running of 3 container(s)",
        "preflight FAIL: worker image 'busybox:1.36' is not present on this Docker host",
    ]


def test_plan_lines_without_a_stop_step_or_checks():
    plan = dict(PLAN, steps=[PLAN["steps"][1]], preflight=[])
    assert plan_lines(plan)[1:] == [
        "1. " + PLAN["steps"][1]["description"],
        "   - command: the image's own command",
        "Stop scope: stack, stop mode stop",
        "Stop order: none, nothing stops",
        "Deadline (maximum downtime): 3950s (stop budget 40s, start budget 300s)",
        "Maximum duration (the whole run, hooks and after-phase included): 3950s",
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
        "duration_seconds": 8.5,
        "max_duration_seconds": 3950,
        "steps": RESULT["steps"],
        "stopped": ["shop-web-1", "shop-cron-1", "shop-db-1"],
        "restarted": ["shop-db-1", "shop-web-1", "shop-cron-1"],
        "kept_stopped": [],
        "worker": RESULT["worker"],
        "hooks": [],
        "after": None,
        "safety_net": "none",
        "safety_net_hooks": [],
        "provenance": None,
        "record_path": "/var/lib/bosun/runs/nightly-backup/x.json",
    }


def test_run_report_takes_the_run_id_from_the_plan():
    rep = run_report(dict(RESULT, run_id="other"), plan=PLAN, recovered=RECOVERED, host="web1")
    assert rep["run_id"] == RUN


def test_run_report_takes_the_plan_from_job_runs_result():
    rep = run_report(dict(RESULT, plan=PLAN), recovered=RECOVERED, host="web1", job="nightly-backup")
    assert rep == run_report(RESULT, plan=PLAN, recovered=RECOVERED, host="web1", job="nightly-backup")
    assert rep["run_id"] == RUN and rep["deadline_seconds"] == PLAN["deadline"] and rep["stack"] == "shop"


def test_run_report_without_a_plan_names_the_run_and_the_stack_the_safety_net_found():
    recovered = {"changed": True, "project": "shop", "recover": {"action": "recovered", "hooks": []}}
    rep = run_report({}, recovered=recovered, host="web1", job="nightly-backup", run_id="f" * 32)
    assert (rep["run_id"], rep["stack"], rep["job"]) == ("f" * 32, "shop", "nightly-backup")
    assert rep["deadline_seconds"] is None and rep["max_duration_seconds"] is None
    assert rep["outcome"] == "unknown" and rep["failed"] is True and rep["safety_net"] == "recovered"
    # A result of a job_run that failed before it planned (not_found) has the run id and no plan.
    failed = {"failed": True, "outcome": "not_found", "msg": "not_found: no job", "run_id": "e" * 32, "stack": None}
    rep = run_report(failed, recovered={"skipped": True}, host="web1", job="nightly-backup", run_id="f" * 32)
    assert (rep["run_id"], rep["stack"], rep["outcome"]) == ("e" * 32, None, "not_found")


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
        "duration_seconds": None,
        "max_duration_seconds": 3950,
        "steps": [],
        "stopped": [],
        "restarted": [],
        "kept_stopped": [],
        "worker": {},
        "hooks": [],
        "after": None,
        "safety_net": "failed: Cannot connect to the Docker daemon" + RECOVER_HINT,
        "safety_net_hooks": [],
        "provenance": None,
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
    assert rep["safety_net"] == "failed: did not run" + RECOVER_HINT


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"result": [], "plan": PLAN, "host": "h"}, "run_report: the job_run result must be a dict, got list"),
        ({"result": RESULT, "plan": "x", "host": "h"}, "run_report: plan must be a dict, got str"),
        ({"result": dict(RESULT, plan=[]), "host": "h"}, "run_report: plan must be a dict, got list"),
        ({"result": RESULT, "host": "h", "run_id": 7}, "run_report: run_id must be a string, got int"),
        ({"result": dict(RESULT, plan={"stack": "shop"}), "host": "h"}, "run_report: plan has no key 'run_id'"),
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
        "Duration: 8.5s in all, hooks and after-phase included (maximum 3950s)",
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
        "Duration: n/a (maximum 3950s)",
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
        "Duration: n/a (maximum 3950s)",
        "Safety net: failed: did not run" + RECOVER_HINT,
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


def test_report_lines_of_a_check_mode_run_say_duration_n_a():
    rep = run_report(
        dict(RESULT, duration_seconds=0.2, worker={}, steps=[]),
        plan=PLAN,
        recovered={"recover": {"action": "none"}},
        host="web1",
        check_mode=True,
    )
    assert "Duration: n/a (maximum 3950s)" in report_lines(rep)


# The job lifecycle: hooks in every phase, pause mode, what stays up, the after-phase, keep_stopped.


def hook(phase: str, service: str, command: list, **extra) -> dict:
    """A planned hook as Plan.to_dict() holds it (on_error only for pre)."""
    h = {"phase": phase, "container": container(service), "command": command, "user": None, "timeout": 300}
    if phase == "pre":
        h["on_error"] = "abort"
    return {**h, **extra}


def hook_result(planned: dict, **extra) -> dict:
    """A hook's result as RunResult.to_dict() holds it: a successful run unless ``extra`` says otherwise."""
    r = {
        **planned,
        "exit_code": 0,
        "timed_out": False,
        "cancelled": False,
        "skipped": None,
        "duration": 0.4,
        "output_tail": [],
        "error": None,
        "ok": True,
        "reason": f"{planned['phase']} hook in {planned['container']['name']!r} exited with code 0",
    }
    return {**r, **extra}


WORKER = {
    "name": "bosun-worker-nightly-backup-5f0c2a7e",
    "image": "restic/restic:0.17.3",
    "command": ["restic", "backup", "/mnt/data", "--tag", "shop nightly"],
    "env": {"RESTIC_REPOSITORY": "/mnt/repo", "RESTIC_PASSWORD": "********"},
    "secret_env_names": ["RESTIC_PASSWORD"],
    "mounts": [
        {"volume": "shop_data", "path": "/mnt/data", "mode": "ro"},
        {"volume": "shop_repo", "path": "/mnt/repo", "mode": "rw"},
    ],
    "network": "none",
    "user": "1000:1000",
    "timeout": 3600,
    "role": "worker",
}
AFTER = dict(
    WORKER,
    name="bosun-after-nightly-backup-5f0c2a7e",
    command=["restic", "check"],
    env={},
    secret_env_names=[],
    mounts=WORKER["mounts"][1:],
    network=None,
    user=None,
    role="after",
)
PRE = [
    hook("pre", "web", ["touch", "/srv/maintenance"], user="www-data", on_error="continue"),
    hook("pre", "db", ["pg_dump", "-f", "/backup/shop.sql"]),
]
POST = [hook("post", "db", ["psql", "-c", "ANALYZE"])]
ERROR = [hook("error", "web", "notify 'backup failed'")]
FINALLY = [hook("finally", "web", ["rm", "-f", "/srv/maintenance"], timeout=30)]
PAUSED_LEVELS = [
    [dict(container("web"), action="pause"), dict(container("cron"), state="restarting", action="stop")],
    [dict(container("db"), action="pause")],
]

# job_plan's RV plan of a job with every phase: pre hooks, pause mode, a container that stays up, the worker,
# the unpause, post and error hooks, the after-phase and a finally hook.
LIFECYCLE_PLAN = dict(
    PLAN,
    steps=[
        {
            "type": "run_hooks",
            "description": "run 2 pre hook(s) in 'shop-web-1', 'shop-db-1', before anything stops, in the running stack",
            "timeout": 600,
            "when": "before anything stops, in the running stack",
            "phase": "pre",
            "hooks": PRE,
        },
        {
            "type": "stop_containers",
            "description": "pause 3 container(s) of stack 'shop' in 2 level(s) (scope attached) (1 restarting: "
            "returned to that state); 1 stay(s) up, untouched",
            "timeout": None,
            "levels": PAUSED_LEVELS,
        },
        {"type": "run_worker", "description": "run worker", "timeout": None, "worker": WORKER},
        {
            "type": "start_containers",
            "description": "unpause the same 3 container(s) in dependency order within 60s",
            "timeout": 60,
            "levels": list(reversed(PAUSED_LEVELS)),
        },
        {"type": "run_hooks", "description": "run 1 post hook(s)", "timeout": 300, "phase": "post", "hooks": POST},
        {"type": "run_hooks", "description": "run 1 error hook(s)", "timeout": 300, "phase": "error", "hooks": ERROR},
        {
            "type": "run_after",
            "description": "run the after-phase",
            "timeout": None,
            "when": "once the stack runs again, when the worker succeeded",
            "worker": AFTER,
        },
        {
            "type": "run_hooks",
            "description": "run 1 finally hook(s)",
            "timeout": 30,
            "phase": "finally",
            "hooks": FINALLY,
        },
    ],
    stop_scope="attached",
    stop_mode="pause",
    stays_up=[
        {"id": "id-cache", "name": "shop-cache-1", "service": "cache", "state": "running"},
        {"id": "id-admin", "name": "shop-admin-1", "service": "admin", "state": "paused"},
    ],
    hooks={"pre": PRE, "post": POST, "error": ERROR, "finally": FINALLY},
    after=AFTER,
    max_duration=11200,
    preflight=[],
)


def test_plan_lines_show_every_phase_of_the_lifecycle():
    assert plan_lines(LIFECYCLE_PLAN) == [
        f"Job nightly-backup on stack shop (run id {RUN})",
        "1. run 2 pre hook(s) in 'shop-web-1', 'shop-db-1', before anything stops, in the running stack",
        "   - pre hook in shop-web-1: touch /srv/maintenance (as www-data, timeout 300s, on error continue)",
        "   - pre hook in shop-db-1: pg_dump -f /backup/shop.sql (timeout 300s, on error abort)",
        "2. pause 3 container(s) of stack 'shop' in 2 level(s) (scope attached) (1 restarting: returned to that "
        "state); 1 stay(s) up, untouched",
        "   - pause shop-web-1 + shop-cron-1 (restarting; stop), then shop-db-1",
        "3. run worker",
        "   - command: restic backup /mnt/data --tag 'shop nightly'; mounts: shop_data at /mnt/data (ro), "
        "shop_repo at /mnt/repo (rw); user: 1000:1000; network: none; env: RESTIC_REPOSITORY, RESTIC_PASSWORD (secret)",
        "4. unpause the same 3 container(s) in dependency order within 60s",
        "5. run 1 post hook(s)",
        "   - post hook in shop-db-1: psql -c ANALYZE (timeout 300s)",
        "6. run 1 error hook(s)",
        "   - error hook in shop-web-1: notify 'backup failed' (timeout 300s)",
        "7. run the after-phase",
        "   - once the stack runs again, when the worker succeeded: command: restic check; "
        "mounts: shop_repo at /mnt/repo (rw)",
        "8. run 1 finally hook(s)",
        "   - finally hook in shop-web-1: rm -f /srv/maintenance (timeout 30s)",
        "Stop scope: attached, stop mode pause",
        "Stop order: web + cron -> db",
        "Stays up, untouched: shop-cache-1, shop-admin-1 (paused)",
        "Deadline (maximum downtime): 3950s (stop budget 40s, start budget 300s)",
        "Maximum duration (the whole run, hooks and after-phase included): 11200s",
    ]


def test_plan_lines_of_a_run_that_keeps_the_stack_stopped():
    levels = [[container("web")], [container("db")]]
    plan = dict(
        PLAN,
        steps=[
            {"type": "stop_containers", "description": "stop 2 container(s)", "timeout": None, "levels": levels},
            {"type": "run_worker", "description": "run worker", "timeout": None, "worker": {"command": ["migrate"]}},
            {
                "type": "keep_stopped",
                "description": "leave the same 2 container(s) stopped on purpose (keep_stopped) and release the stack",
                "timeout": None,
                "levels": list(reversed(levels)),
            },
            {
                "type": "run_hooks",
                "description": "run 2 finally hook(s)",
                "timeout": 600,
                "phase": "finally",
                "hooks": [hook("finally", "db", ["true"]), hook("finally", "cache", ["redis-cli", "FLUSHALL"])],
            },
        ],
        keep_stopped=True,
        stays_up=[{"id": "id-cache", "name": "shop-cache-1", "service": "cache", "state": "running"}],
        preflight=[],
    )
    assert plan_lines(plan)[1:-2] == [
        "1. stop 2 container(s)",
        "   - stop shop-web-1, then shop-db-1",
        "2. run worker",
        "   - command: migrate",
        "3. leave the same 2 container(s) stopped on purpose (keep_stopped) and release the stack",
        "   - left stopped: shop-db-1, shop-web-1; no post or error hook and no after-phase runs",
        "4. run 2 finally hook(s)",
        # db is left stopped: its finally hook will find it not running.
        "   - finally hook in shop-db-1: true (timeout 300s); skipped, as its container is left stopped",
        "   - finally hook in shop-cache-1: redis-cli FLUSHALL (timeout 300s)",
        "Stop scope: stack, stop mode stop",
        "Stop order: web -> db",
        "Stays up, untouched: shop-cache-1",
        "Keep stopped: yes, the stop-set stays stopped after the worker (keep_stopped)",
    ]


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({k: v for k, v in PLAN.items() if k != "max_duration"}, "plan_lines: the plan has no key 'max_duration'"),
        ({k: v for k, v in PLAN.items() if k != "stop_mode"}, "plan_lines: the plan has no key 'stop_mode'"),
        (dict(PLAN, stays_up=["shop-cache-1"]), "plan_lines: each container that stays up must be a dict, got str"),
        (
            dict(PLAN, steps=[{"type": "run_hooks", "description": "x", "hooks": [{"phase": "pre"}]}]),
            "plan_lines: each hook has no key 'container'",
        ),
        (
            dict(PLAN, steps=[{"type": "run_hooks", "description": "x", "hooks": [dict(PRE[1], container={})]}]),
            "plan_lines: a hook's container has no key 'name'",
        ),
        (
            dict(
                PLAN,
                steps=[
                    {"type": "run_hooks", "description": "x", "hooks": [{"phase": "pre", "container": {"name": "c"}}]}
                ],
            ),
            "plan_lines: each hook has no key 'timeout'",
        ),
        (dict(PLAN, steps=[{"type": "run_worker", "description": "x"}]), "plan_lines: the run_worker step has no key"),
    ],
)
def test_plan_lines_refuses_a_plan_without_its_lifecycle_keys(plan, message):
    with pytest.raises(AnsibleFilterError) as err:
        plan_lines(plan)
    assert message in str(err.value)


# job_run's result of that plan: the pre hook of web failed (on error continue), post ran, the after-phase ran,
# the finally hook timed out.
HOOK_RESULTS = [
    hook_result(
        PRE[0],
        exit_code=1,
        ok=False,
        output_tail=["touch: /srv/maintenance: Read-only file system"],
        reason="pre hook in 'shop-web-1' exited with code 1",
    ),
    hook_result(PRE[1], duration=2.1, output_tail=["dumped 12 tables", "done"]),
    hook_result(POST[0]),
    hook_result(FINALLY[0], exit_code=None, timed_out=True, ok=False, duration=37.0, reason="timed out"),
]
AFTER_RESULT = {
    "name": "bosun-after-nightly-backup-5f0c2a7e",
    "exit_code": 0,
    "timed_out": False,
    "cancelled": False,
    "duration": 5.5,
    "log_tail": ["no errors were found"],
    "log_path": "/var/lib/bosun/logs/nightly-backup/after.log",
    "error": None,
    "removed": True,
}
LIFECYCLE_RESULT = dict(
    RESULT,
    outcome="success",
    message="job 'nightly-backup' succeeded; stack 'shop' was down 0.8s",
    steps=[],
    hooks=HOOK_RESULTS,
    after=AFTER_RESULT,
    downtime_seconds=0.8,
    duration_seconds=49.7,
    plan=LIFECYCLE_PLAN,
)


def test_run_report_carries_the_hooks_the_after_phase_and_the_whole_duration():
    rep = run_report(LIFECYCLE_RESULT, plan=LIFECYCLE_PLAN, recovered=RECOVERED, host="web1")
    assert rep["hooks"] == HOOK_RESULTS
    assert rep["after"] == AFTER_RESULT
    assert (rep["downtime_seconds"], rep["deadline_seconds"]) == (0.8, 3950)
    assert (rep["duration_seconds"], rep["max_duration_seconds"]) == (49.7, 11200)
    assert rep["kept_stopped"] == [] and rep["safety_net_hooks"] == []


def test_report_lines_show_each_hook_the_after_phase_and_the_whole_duration():
    rep = run_report(LIFECYCLE_RESULT, plan=LIFECYCLE_PLAN, recovered=RECOVERED, host="web1")
    assert report_lines(rep) == [
        f"Run {RUN} of job nightly-backup on stack shop: success",
        "job 'nightly-backup' succeeded; stack 'shop' was down 0.8s",
        "Downtime: 0.8s (deadline 3950s)",
        "Duration: 49.7s in all, hooks and after-phase included (maximum 11200s)",
        "Worker: exit code 0, 3.4s, log /var/lib/bosun/logs/nightly-backup/x.log",
        "Worker log tail:",
        "  | dumping",
        "  | done",
        "Hook pre in shop-web-1: exit code 1, 0.4s, on error continue: the run went on",
        "  | touch: /srv/maintenance: Read-only file system",
        "Hook pre in shop-db-1: exit code 0, 2.1s",
        "  | dumped 12 tables",
        "  | done",
        "Hook post in shop-db-1: exit code 0, 0.4s",
        "Hook finally in shop-web-1: timed out after 30s, 37.0s",
        "After-phase: exit code 0, 5.5s, log /var/lib/bosun/logs/nightly-backup/after.log",
        "After-phase log tail:",
        "  | no errors were found",
        "Safety net: none",
    ]


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (
            {"skipped": "container 'shop-db-1' is exited, not running", "exit_code": None, "ok": False},
            "Hook post in shop-db-1: skipped, container 'shop-db-1' is exited, not running",
        ),
        ({"exit_code": None, "cancelled": True, "ok": False}, "Hook post in shop-db-1: cancelled, 0.4s"),
        (
            {"exit_code": None, "ok": False, "error": "409 Client Error: container is paused"},
            "Hook post in shop-db-1: no exit code, 0.4s, error: 409 Client Error: container is paused",
        ),
        ({"exit_code": 2, "ok": False}, "Hook post in shop-db-1: exit code 2, 0.4s"),
    ],
)
def test_report_lines_say_how_each_hook_ended(extra, line):
    rep = run_report(dict(RESULT, hooks=[hook_result(POST[0], **extra)]), plan=PLAN, recovered=RECOVERED, host="h")
    assert [x for x in report_lines(rep) if x.startswith("Hook ")] == [line]


def test_report_lines_of_a_run_that_kept_the_stack_stopped():
    kept = [container("web"), container("db")]
    result = dict(RESULT, restarted=[], kept_stopped=kept, downtime_seconds=4.2, duration_seconds=4.9, worker={})
    rep = run_report(result, plan=dict(PLAN, keep_stopped=True), recovered=RECOVERED, host="web1")
    assert rep["kept_stopped"] == ["shop-web-1", "shop-db-1"] and rep["restarted"] == []
    assert report_lines(rep)[-4:] == [
        "Downtime: 4.2s so far, 2 container(s) left stopped on purpose (deadline 3950s)",
        "Duration: 4.9s in all, hooks and after-phase included (maximum 3950s)",
        "Left stopped on purpose (keep_stopped): shop-web-1, shop-db-1",
        "Safety net: none",
    ]


def test_report_lines_show_the_hooks_the_safety_net_ran_for_a_dead_run():
    interrupted = hook_result(FINALLY[0], output_tail=["maintenance page removed"])
    recovered = {"summary": "recovered", "recover": {"action": "recovered", "hooks": [interrupted]}}
    rep = run_report({}, plan=PLAN, recovered=recovered, host="web1", job="nightly-backup")
    assert rep["safety_net"] == "recovered" and rep["safety_net_hooks"] == [interrupted]
    assert report_lines(rep)[-3:] == [
        "Safety net: recovered",
        "Safety net hook finally in shop-web-1: exit code 0, 0.4s",
        "  | maintenance page removed",
    ]


@pytest.mark.parametrize(
    ("result", "recovered", "message"),
    [
        (dict(RESULT, hooks={"pre": []}), RECOVERED, "run_report: the result's hooks must be a list, got dict"),
        (dict(RESULT, kept_stopped=["shop-web-1"]), RECOVERED, "each kept stopped container must be a dict, got str"),
        (RESULT, {"recover": {"action": "recovered", "hooks": "x"}}, "the safety net's hooks must be a list, got str"),
    ],
)
def test_run_report_refuses_wrong_lifecycle_inputs(result, recovered, message):
    with pytest.raises(AnsibleFilterError) as err:
        run_report(result, plan=PLAN, recovered=recovered, host="web1")
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"hooks": [{"phase": "pre"}]}, "report_lines: each hook result has no key 'container'"),
        ({"hooks": [dict(HOOK_RESULTS[0], output_tail="x")]}, "report_lines: a hook's output_tail must be a list"),
        ({"after": "ok"}, "report_lines: the report's after-phase must be a dict, got str"),
        ({"kept_stopped": None}, "report_lines: kept_stopped must be a list, got NoneType"),
    ],
)
def test_report_lines_refuses_wrong_lifecycle_values(report, message):
    rep = dict(run_report(RESULT, plan=PLAN, recovered=RECOVERED, host="web1"), **report)
    with pytest.raises(AnsibleFilterError) as err:
        report_lines(rep)
    assert message in str(err.value)


# job_run's RV provenance (Provenance.to_dict()).
PROVENANCE = {
    "plan_hash": "sha256:" + "9f2c4e8a1b3d" + "0" * 52,
    "project": {"config_files": ["/srv/shop/compose.yaml", "/srv/shop/prod.yaml"], "working_dir": "/srv/shop"},
    "worker": {"image": "busybox:1.36", "image_id": "sha256:" + "3c1f0e9a8b7d" + "1" * 52},
    "after": None,
    "containers": [
        {
            "name": "shop-db-1",
            "service": "db",
            "image": "postgres:16.4",
            "image_id": "sha256:" + "0f4e3a2b1c0d" + "2" * 52,
            "config_hash": "8d2f1b6e4c3a" + "3" * 52,
        },
        {"name": "shop-web-1", "service": "web", "image": "shop:2", "image_id": "sha256:abc", "config_hash": None},
    ],
}


def test_run_report_carries_the_provenance_and_report_lines_show_it_in_one_line():
    rep = run_report(dict(RESULT, provenance=PROVENANCE), plan=PLAN, recovered=RECOVERED, host="web1")
    assert rep["provenance"] == PROVENANCE
    lines = report_lines(rep)
    assert lines[-2:] == [
        "Provenance: plan sha256:9f2c4e8a1b3d, worker busybox:1.36 sha256:3c1f0e9a8b7d, compose files "
        "/srv/shop/compose.yaml /srv/shop/prod.yaml in /srv/shop, stopped shop-db-1 postgres:16.4 "
        "sha256:0f4e3a2b1c0d config 8d2f1b6e4c3a, shop-web-1 shop:2 sha256:abc",
        "Safety net: none",
    ]
    # Everything else is as without a provenance.
    assert lines[:-2] == report_lines(run_report(RESULT, plan=PLAN, recovered=RECOVERED, host="web1"))[:-1]


def test_report_lines_provenance_of_an_unlabelled_project_and_an_unpinned_worker():
    provenance = dict(
        PROVENANCE,
        project={"config_files": [], "working_dir": None},
        worker={"image": "busybox:1.36", "image_id": None},
        containers=[],
    )
    rep = run_report(dict(RESULT, provenance=provenance), plan=PLAN, recovered=RECOVERED, host="web1")
    assert "Provenance: plan sha256:9f2c4e8a1b3d, worker busybox:1.36 (no image id)" in report_lines(rep)


def test_report_lines_refuses_a_provenance_without_a_plan_hash():
    provenance = {k: v for k, v in PROVENANCE.items() if k != "plan_hash"}
    rep = run_report(dict(RESULT, provenance=provenance), plan=PLAN, recovered=RECOVERED, host="web1")
    with pytest.raises(AnsibleFilterError) as err:
        report_lines(rep)
    assert "report_lines: the provenance has no key 'plan_hash'" in str(err.value)


def test_run_report_refuses_a_provenance_that_is_not_a_dict():
    with pytest.raises(AnsibleFilterError) as err:
        run_report(dict(RESULT, provenance=["x"]), plan=PLAN, recovered=RECOVERED, host="web1")
    assert "run_report: the result's provenance must be a dict, got list" in str(err.value)


def test_a_safety_net_skipped_after_a_released_lease_is_reported_as_such():
    skipped = {"skipped": True, "changed": False, "false_condition": "lease_kept is not sameas false"}
    rep = run_report(dict(RESULT, lease_kept=False), plan=PLAN, recovered=skipped, host="web1")
    assert rep["safety_net"] == "skipped: the run released its lease"
    assert "Safety net: skipped: the run released its lease" in report_lines(rep)


@pytest.mark.parametrize("lease_kept", [True, None, "absent"])
def test_a_safety_net_that_did_not_run_without_a_released_lease_is_a_failure(lease_kept):
    result = dict(RESULT) if lease_kept == "absent" else dict(RESULT, lease_kept=lease_kept)
    rep = run_report(result, plan=PLAN, recovered={"skipped": True}, host="web1")
    assert rep["safety_net"] == "failed: did not run" + RECOVER_HINT


def test_a_failed_safety_net_without_a_known_stack_says_which_stack_to_name():
    recovered = {"failed": True, "msg": "no lease holds run id " + RUN}
    rep = run_report({}, recovered=recovered, run_id=RUN, host="web1", job="nightly-backup")
    assert rep["stack"] is None
    assert rep["safety_net"] == (
        f"failed: no lease holds run id {RUN} (the stack may be down: run ansible-playbook bosun.compose.recover"
        " -e project=<the stack> -e target=web1)"
    )
