"""job_info against the real daemon, through real ansible-playbook and ansible."""

from __future__ import annotations

import pytest

from harness import run
from stackcheck import create_lease

pytestmark = pytest.mark.docker


def _play(tasks: list[dict]) -> list[dict]:
    return [{"name": "discover", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def test_good_stack_returns_the_job_with_mounts(compose_project, ansible_playbook):
    p = compose_project("job_good.yml")
    run = ansible_playbook(_play([{"name": "find", "bosun.compose.job_info": {"name": "nightly", "project": p.name}}]))
    assert run.rc == 0, run
    found = run.task("find")
    assert found.status == "ok"
    [job] = found.result["jobs"]
    ids = {c["Name"]: c["ID"] for c in p.ps("--no-trunc")}
    assert job["stack"] == p.name
    assert [(c["name"], c["service"], c["state"]) for c in job["containers"]] == [
        (f"{p.name}-app-1", "app", "running"),
        (f"{p.name}-db-1", "db", "running"),
    ]
    assert {c["id"] for c in job["containers"]} == {ids[f"{p.name}-app-1"], ids[f"{p.name}-db-1"]}
    assert job["mounts"] == [
        {"volume": f"{p.name}_backup", "path": f"/mnt/{p.name}_backup", "mode": "rw"},
        {"volume": f"{p.name}_data", "path": "/mnt/data", "mode": "ro"},
    ]
    assert (job["image"], job["command"], job["env"]) == (
        "bosun-test/busybox:latest",
        ["sh", "-c", "cp -r /mnt/data /mnt/backup/"],
        {"RETENTION": "7"},
    )
    assert (job["timeout"], job["stop_timeout"], job["start_timeout"], job["schedule"], job["overlap_policy"]) == (
        1800,
        5,
        60,
        "30 2 * * *",
        "queue",
    )
    # Other stacks on this host (parallel tests) may declare a job of the same name: that warning only.
    assert job["runnable"] is True
    assert [x for x in job["problems"] if x["label"] != "bosun.job.name"] == []
    assert found.result["problems"] == job["problems"]


def test_job_is_found_while_its_stack_is_down(compose_project, ansible_adhoc):
    p = compose_project("job_good.yml")
    p.compose("stop", "-t", "0")
    run = ansible_adhoc("bosun.compose.job_info", {"name": "nightly", "project": p.name})
    assert run.rc == 0, run
    [job] = run.task("bosun.compose.job_info").result["jobs"]
    assert {c["state"] for c in job["containers"]} == {"exited"}


def test_broken_labels_are_one_named_problem_each_and_rc_0(compose_project, ansible_playbook):
    p = compose_project("job_broken.yml")
    run = ansible_playbook(_play([{"name": "find", "bosun.compose.job_info": {"project": p.name}}]), check=True)
    assert run.rc == 0, run
    result = run.task("find").result
    [job] = result["jobs"]
    assert job["runnable"] is False
    web = f"{p.name}-web-1"
    got = sorted((x["object"], x["label"], x["value"], x["severity"]) for x in job["problems"])
    assert got == sorted(
        [
            (web, "bosun.job.enabled", "maybe", "error"),
            (web, "bosun.job.timeout", "-5m", "error"),
            (web, "bosun.job.start-timeout", "0", "error"),
            (web, "bosun.job.schedule", "61 * * * *", "error"),
            (web, "bosun.job.overlap-policy", "cancel", "error"),
            (web, "bosun.job.worker.network", "host", "error"),
            (web, "bosun.job.worker.command", "sh -c 'oops", "error"),
            (web, "bosun.job.flavour", "vanilla", "warning"),
            (f"{p.name}_data", "bosun.job.mount.path", "relative/path", "error"),
            (f"{p.name}_other", "bosun.job.mount.mode", "rwx", "error"),
        ]
    )
    for problem in job["problems"]:
        assert problem["object"] in problem["message"] and problem["label"] in problem["message"]
        assert problem["value"] in problem["message"]
    # Project-filtered: the same problems at top level, nothing from other stacks.
    assert result["problems"] == job["problems"]


def test_a_broken_lease_is_a_named_problem_and_the_other_leases_are_still_listed(compose_project, ansible_playbook):
    p = compose_project("job_good.yml")
    broken = f"bosun-lease-{p.name}-broken"
    owner = '{"hostname": "elsewhere"}'
    leases = {
        p.name: {
            "bosun.lease.project": p.name,
            "bosun.lease.run-id": f"run-{p.name}",
            "bosun.lease.owner": owner,
            "bosun.lease.expires": "1",
            "bosun.lease.created": "1",
            "bosun.lease.stop-set": "[]",
        },
        f"{p.name}-broken": {
            "bosun.lease.project": f"{p.name}-broken",
            "bosun.lease.run-id": f"run-{p.name}",
            "bosun.lease.owner": owner,
        },
    }
    made = []
    try:
        for stack, labels in leases.items():
            made.append(create_lease(stack, labels))
        found = ansible_playbook(
            _play(
                [
                    {"name": "all", "bosun.compose.job_info": {}},
                    {"name": "this stack", "bosun.compose.job_info": {"project": p.name}},
                    {"name": "the broken one", "bosun.compose.job_info": {"project": f"{p.name}-broken"}},
                ]
            )
        )
    finally:
        run(["docker", "rm", "-f", *made], check=False)
    assert found.rc == 0, found
    everything = found.task("all").result
    assert p.name in [x["project"] for x in everything["leases"]]
    assert f"{p.name}-broken" not in [x["project"] for x in everything["leases"]]
    problem = {
        "severity": "error",
        "kind": "container",
        "object": broken,
        "label": "bosun.lease.expires",
        "value": None,
        "job": None,
        "message": f"container '{broken}': the lease of stack '{p.name}-broken': label 'bosun.lease.expires' is "
        f"missing; allowed: the bosun.lease.* labels written by bosun.compose; remove the container '{broken}' after "
        "checking the stack by hand",
    }
    assert problem in everything["problems"]
    mine = found.task("this stack").result
    assert [x["project"] for x in mine["leases"]] == [p.name] and problem not in mine["problems"]
    assert mine["leases"][0]["owner_alive"] is False
    other = found.task("the broken one").result
    assert other["leases"] == [] and other["problems"] == [problem]


def test_unknown_name_is_an_empty_list_not_a_failure(ansible_adhoc):
    run = ansible_adhoc("bosun.compose.job_info", {"name": "no-such-job-anywhere"})
    assert run.rc == 0, run
    assert run.task("bosun.compose.job_info").result["jobs"] == []


def test_unreachable_daemon_fails_with_the_address(ansible_adhoc):
    run = ansible_adhoc("bosun.compose.job_info", {"docker_host": "unix:///nonexistent/docker.sock"})
    assert run.rc != 0
    msg = run.task("bosun.compose.job_info").result["msg"]
    assert "unix:///nonexistent/docker.sock" in msg, msg


def test_module_defaults_group_sets_connection_options(ansible_playbook):
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/bosun.compose.docker": {"docker_host": "unix:///nonexistent/group.sock"}},
            "tasks": [{"name": "find", "bosun.compose.job_info": {}, "ignore_errors": True}],
        }
    ]
    run = ansible_playbook(play)
    assert "unix:///nonexistent/group.sock" in run.task("find").result["msg"]


def test_service_network_label_is_a_label_problem_and_job_plan_says_so(compose_project, ansible_playbook):
    # 0.1.0 accepted the label in discovery and then failed job_plan with a different kind of error.
    p = compose_project("job_service_network.yml")
    run = ansible_playbook(
        _play(
            [
                {"name": "find", "bosun.compose.job_info": {"project": p.name}},
                {
                    "name": "plan",
                    "bosun.compose.job_plan": {"name": "netjob", "project": p.name},
                    "ignore_errors": True,
                },
            ]
        )
    )
    [job] = run.task("find").result["jobs"]
    assert job["runnable"] is False
    [problem] = job["problems"]
    assert (problem["object"], problem["label"], problem["value"], problem["severity"]) == (
        f"{p.name}-db-1",
        "bosun.job.worker.network",
        "service:db",
        "error",
    )
    assert "service: networking are not allowed for workers" in problem["message"]
    plan = run.task("plan")
    assert plan.status == "failed"
    failed = [c for c in plan.result["plan"]["preflight"] if not c["ok"]]
    assert [(c["name"], c["message"]) for c in failed] == [("labels", problem["message"])]


@pytest.fixture
def engine_answering_500():
    """A real HTTP server on loopback that talks like an Engine for /version and answers 500 to the rest."""
    import http.server
    import json
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            if self.path.endswith("/version"):
                body, code = {"ApiVersion": "1.41", "Version": "20.10.24"}, 200
            else:
                body, code = {"message": "injected: the daemon's storage driver failed"}, 500
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_daemon_error_fails_the_task_with_msg_and_error_not_module_failure(ansible_adhoc, engine_answering_500):
    run = ansible_adhoc("bosun.compose.job_info", {"docker_host": engine_answering_500})
    assert run.rc != 0
    result = run.task("bosun.compose.job_info").result
    assert result["msg"] == "cannot list containers: injected: the daemon's storage driver failed", result
    assert result["error"]["type"] == "EngineError" and result["error"]["status"] == 500, result
    assert "MODULE FAILURE" not in result["msg"] and "module_stdout" not in result
    # ansible-core 2.19+ replaces the traceback by "(traceback unavailable)" unless tracebacks are enabled.
    assert "exception" in result
