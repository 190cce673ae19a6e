"""Signals from the host (issue 15): the ping, the webhook and the metrics, with the real engine, real
ansible-playbook and a real HTTP server in this test process that records every call.

A success and then a worker failure through the role; a SIGKILL of ansible-playbook mid-worker (the host still
sends the start and the success); a SIGKILL of the transaction itself (the start stays open; the recovery sends
the fail ping and the webhook with outcome interrupted); a signal that cannot be sent (a warning, never a failed
play, the URL never shown). Metrics files are read with prometheus_client's own text parser.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.http_recorder import Recorder
from stackcheck import (
    ids_and_states,
    job_task,
    lease,
    release_worker,
    running_workers,
    snapshot_started,
    stack_with_lease_cleanup,
    states,
    volume_file,
    wait_for,
)
from stackcheck import module_pid

pytestmark = pytest.mark.docker

JOB = "role-copy"
TOKEN = "0b9e2f44-ping-secret"
NET = "Safety net - restart the stack if this run left it down"


@pytest.fixture
def server():
    with Recorder() as rec:
        yield rec


@pytest.fixture
def stack(compose_project):
    yield from stack_with_lease_cleanup(compose_project)


def signal_vars(server: Recorder, metrics_dir=None) -> dict:
    extra = {"run_job_ping_url": f"{server.url}/ping/{TOKEN}", "run_job_webhook_url": f"{server.url}/hook/{TOKEN}"}
    return {**extra, "run_job_metrics_dir": str(metrics_dir)} if metrics_dir else extra


def metrics(path, job: str = JOB) -> dict[tuple[str, str | None], float]:
    """(sample name, outcome label or None) -> value, as prometheus_client parses the file."""
    found = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        assert family.type == "gauge" and family.documentation, family
        for s in family.samples:
            assert s.labels["job"] == job, s
            found[(s.name, s.labels.get("outcome"))] = s.value
    return found


def test_success_then_worker_failure_ping_post_and_write_metrics(stack, ansible_playbook, server, tmp_path):
    project = stack()
    (tmp_path / "metrics").mkdir()
    role = [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}]
    extra = {"job": JOB, "project": project.name, "run_job_poll": 1, **signal_vars(server, tmp_path / "metrics")}
    extra["run_job_state_dir"] = str(tmp_path / "state")
    t0 = time.time()
    ok = ansible_playbook(role, extra_vars=extra)
    assert ok.rc == 0, str(ok)
    assert server.paths() == [f"/ping/{TOKEN}/start", f"/ping/{TOKEN}", f"/hook/{TOKEN}"]
    result = job_task(ok).result
    assert [(s["signal"], s["ok"]) for s in result["signals"]] == [
        ("ping start", True),
        ("metrics", True),
        ("ping success", True),
        ("webhook", True),
    ]
    assert not result.get("warnings"), result.get("warnings")
    # The /start comes after the lease was taken and before anything stopped; the end after the restart.
    start_ping, end_ping, hook = server.requests
    at = {s["type"]: datetime.datetime.fromisoformat(s["started_at"]).timestamp() for s in result["steps"]}
    assert t0 < start_ping.at < at["stop_containers"]
    assert (
        end_ping.at
        > at["start_containers"] + next(s for s in result["steps"] if s["type"] == "start_containers")["duration"]
    )
    assert end_ping.text.splitlines()[0].endswith(": success") and "copied row1" in end_ping.text
    record = json.loads((tmp_path / "state" / "runs" / JOB / f"{result['run_id']}.json").read_text())
    assert hook.json() == {**record, "host": hook.json()["host"]}
    assert hook.json()["outcome"] == "success"
    # The URLs never leave the host: not in the play's output, not in the run record.
    assert TOKEN not in ok.stdout + ok.stderr and TOKEN not in json.dumps(record)
    prom = tmp_path / "metrics" / f"bosun_role_copy_{project.name.replace('-', '_')}.prom"
    first = metrics(prom)
    assert first[("bosun_job_last_outcome", "success")] == 1 and first[("bosun_job_last_outcome", "worker_failed")] == 0
    success_at = first[("bosun_job_last_success_timestamp_seconds", None)]
    assert success_at == first[("bosun_job_last_run_timestamp_seconds", None)] and t0 < success_at < time.time()
    assert first[("bosun_job_last_downtime_seconds", None)] > 0
    assert first[("bosun_job_last_duration_seconds", None)] >= first[("bosun_job_last_downtime_seconds", None)]

    failed = ansible_playbook(role, extra_vars={**extra, "run_job_overrides": {"command": ["sh", "-c", "exit 3"]}})
    assert failed.rc == 2, str(failed)
    assert server.paths()[3:] == [f"/ping/{TOKEN}/start", f"/ping/{TOKEN}/fail", f"/hook/{TOKEN}"]
    assert server.requests[4].text.splitlines()[0].endswith(": worker_failed")
    assert server.requests[5].json()["outcome"] == "worker_failed"
    second = metrics(prom)
    assert (
        second[("bosun_job_last_outcome", "worker_failed")] == 1 and second[("bosun_job_last_outcome", "success")] == 0
    )
    assert second[("bosun_job_last_success_timestamp_seconds", None)] == success_at
    assert second[("bosun_job_last_run_timestamp_seconds", None)] > success_at
    assert [p.name for p in (tmp_path / "metrics").iterdir()] == [prom.name]  # no temporary file left


def test_a_signal_that_cannot_be_sent_is_a_warning_and_names_no_url(stack, ansible_playbook, server):
    project = stack()
    server.statuses = [503] * 6  # the /start and the success ping, 3 attempts each
    result = ansible_playbook(
        [{"ansible.builtin.import_playbook": "bosun.compose.run_job"}],
        extra_vars={"job": JOB, "project": project.name, "run_job_poll": 1, **signal_vars(server)},
    )
    assert result.rc == 0, str(result)
    run = job_task(result).result
    assert run["outcome"] == "success"
    assert run["warnings"] == [
        "ping start failed after 3 attempts: HTTP 503 Service Unavailable",
        "ping success failed after 3 attempts: HTTP 503 Service Unavailable",
    ]
    assert "[WARNING]: ping start failed after 3 attempts" in result.stderr + result.stdout
    assert server.paths("/hook") == [f"/hook/{TOKEN}"]  # the webhook still went
    assert TOKEN not in result.stdout + result.stderr


def test_the_host_sends_start_and_success_when_ansible_playbook_is_killed(stack, ansible, server):
    """SIGKILL to ansible-playbook's whole process group mid-worker: the async run on the host ends by itself and
    still sends its success and its webhook."""
    project = stack()
    before = snapshot_started(project)
    extra = {
        "job": JOB,
        "project": project.name,
        "run_job_poll": 1,
        "run_job_overrides": {"command": ["sh", "-c", "sleep 4; cp /mnt/data/table.txt /mnt/out/table.txt"]},
        **signal_vars(server),
    }
    job = ansible.start([{"ansible.builtin.import_playbook": "bosun.compose.run_job"}], extra_vars=extra)
    try:
        wait_for(lambda: running_workers(project.name) or job.proc.poll() is not None, 60, "the worker to run")
        assert job.proc.poll() is None and server.paths() == [f"/ping/{TOKEN}/start"]
    finally:
        job.kill()
    server.wait_for(3, timeout=60)
    assert server.paths() == [f"/ping/{TOKEN}/start", f"/ping/{TOKEN}", f"/hook/{TOKEN}"]
    assert server.requests[2].json()["outcome"] == "success"
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
    assert volume_file(project, "out", "table.txt").stdout == "row1\n"


def test_a_killed_transaction_leaves_start_open_and_its_recovery_sends_the_end(
    stack, ansible, ansible_playbook, server, tmp_path
):
    project = stack("rel_stack.yml")
    run_id = f"notifykill{os.getpid():08d}abcd"
    state_dir = str(tmp_path / "state")
    (tmp_path / "metrics").mkdir()
    targets = {
        "ping_url": f"{server.url}/ping/{TOKEN}",
        "webhook_url": f"{server.url}/hook/{TOKEN}",
        "metrics_dir": str(tmp_path / "metrics"),
    }
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "run",
                "bosun.compose.job_run": {"name": "rel-a", "project": project.name, "run_id": run_id}
                | {"state_dir": state_dir, **targets},
            }
        ],
    }
    job = ansible.start([play], env={"BOSUN_TEST_RUN": run_id})
    try:
        wait_for(lambda: running_workers(project.name) or job.proc.poll() is not None, 120, "the worker to run")
        os.kill(wait_for(lambda: module_pid(run_id), 10, "the module process"), signal.SIGKILL)
    finally:
        job.finish(60)
    release_worker(project)  # the dead run's worker may end now; nothing of the run is left to send anything
    time.sleep(2)
    assert server.paths() == [f"/ping/{TOKEN}/start"], "the /start stays open: the run died"
    assert lease(project.name) is not None and set(states(project).values()) == {"exited"}
    pending = tmp_path / "state" / "pending" / "rel-a" / f"{run_id}.json"
    assert oct(pending.stat().st_mode & 0o777) == "0o600"

    recovered = ansible_playbook(
        [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {
                        "name": "recover",
                        "bosun.compose.stack": {
                            "project": project.name,
                            "state": "recovered",
                            "run_id": run_id,
                            "state_dir": state_dir,
                        },
                    }
                ],
            }
        ]
    )
    assert recovered.rc == 0, str(recovered)
    rec = recovered.task("recover").result["recover"]
    assert rec["action"] == "recovered" and rec["released"], rec
    assert [(s["signal"], s["ok"]) for s in rec["signals"]] == [
        ("metrics", True),
        ("ping fail", True),
        ("webhook", True),
    ]
    assert server.paths() == [f"/ping/{TOKEN}/start", f"/ping/{TOKEN}/fail", f"/hook/{TOKEN}"]
    assert server.requests[1].text.splitlines()[0].endswith(": interrupted")
    body = server.requests[2].json()
    assert (body["outcome"], body["run_id"], body["job"], body["stack"]) == (
        "interrupted",
        run_id,
        "rel-a",
        project.name,
    )
    assert TOKEN not in recovered.stdout + recovered.stderr
    assert not pending.exists()
    (path,) = (tmp_path / "metrics").iterdir()
    prom = metrics(path, "rel-a")
    assert prom[("bosun_job_last_outcome", "interrupted")] == 1
    assert ("bosun_job_last_downtime_seconds", None) not in prom  # unknown for a run that died
    assert lease(project.name) is None
