"""The role's playbook run the way an AWX/Tower job template runs it: ansible_runner.run with a private data
dir, an inventory, extra vars (survey answers), env vars (credential injectors) and an SSH key (machine
credential, loaded into ssh-agent by runner); Job Type "Check" is `--check`. The controller side is the
SDK-less controller of remote.py, as in an execution environment that ships no Docker SDK."""

from __future__ import annotations

import os

import ansible_runner
import pytest
import yaml

from harness import COLLECTIONS_PATH, VENV_BIN, VENV_PYTHON
from remote import TARGET_HOST, TlsEngineProxy
from stackcheck import ids_and_states, snapshot_started, stack_with_lease_cleanup, volume_file

pytest_plugins = ["conftest_remote"]
pytestmark = pytest.mark.docker

JOB = "role-copy"
# What an AWX project that uses the collection holds: a playbook importing the collection's playbook.
PROJECT_PLAYBOOK = "- ansible.builtin.import_playbook: bosun.compose.run_job\n"


@pytest.fixture
def stack(compose_project):
    yield from stack_with_lease_cleanup(compose_project)


@pytest.fixture
def job_template(tmp_path, ssh_target, controller_bin, monkeypatch):
    """launch(extravars, cmdline=None) -> Runner: one job of the template, like AWX launches it."""
    monkeypatch.setenv("PATH", f"{controller_bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("ANSIBLE_PYTHON_INTERPRETER", raising=False)
    inventory = ssh_target.inventory()
    del inventory["all"]["children"]["dockerhosts"]["hosts"][TARGET_HOST]["ansible_ssh_private_key_file"]
    count = [0]

    def launch(extravars, cmdline=None, playbook="run_job.yml", project_files=None, inv=None, envvars=None):
        count[0] += 1
        pdd = tmp_path / f"job-{count[0]}"
        (pdd / "project").mkdir(parents=True)
        (pdd / "project" / "run_job.yml").write_text(PROJECT_PLAYBOOK, encoding="utf-8")
        for name, text in (project_files or {}).items():
            (pdd / "project" / name).write_text(text, encoding="utf-8")
        (pdd / "inventory").mkdir()
        (pdd / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inv or inventory), encoding="utf-8")
        return ansible_runner.run(
            private_data_dir=str(pdd),
            playbook=playbook,
            extravars=extravars,
            cmdline=cmdline,
            quiet=True,
            ssh_key=None if inv else ssh_target.key.read_text(encoding="utf-8"),
            envvars={
                "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
                "ANSIBLE_SSH_CONTROL_PATH_DIR": str(ssh_target.control_dir),
                "ANSIBLE_NOCOLOR": "1",
                **(envvars or {}),
            },
            settings={"job_timeout": 240, "suppress_ansible_output": True},
        )

    return launch


def stats_artifacts(r) -> dict:
    [stats] = [e for e in r.events if e["event"] == "playbook_on_stats"]
    return stats["event_data"].get("artifact_data") or {}


def stdout(r) -> str:
    return r.stdout.read() if r.stdout else ""


def test_job_template_run_succeeds_with_the_report_in_the_artifacts(stack, job_template):
    project = stack()
    before = snapshot_started(project)
    r = job_template({"job": JOB, "project": project.name, "run_job_poll": 1})
    out = stdout(r)
    assert (r.status, r.rc) == ("successful", 0), out
    report = stats_artifacts(r)["bosun_run"][TARGET_HOST]
    assert report["outcome"] == "success" and report["job"] == JOB and report["stack"] == project.name, report
    assert report["check_mode"] is False and report["safety_net"] == "skipped: the run released its lease"
    assert report["worker"]["exit_code"] == 0 and report["worker"]["log_tail"] == ["copied row1"]
    assert r.stats["failures"] == {} and r.stats["dark"] == {}
    assert volume_file(project, "out", "table.txt").stdout == "row1\n"
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)


def test_check_job_type_touches_nothing(stack, job_template):
    project = stack()
    before = snapshot_started(project)
    r = job_template({"job": JOB, "project": project.name}, cmdline="--check")
    out = stdout(r)
    assert (r.status, r.rc) == ("successful", 0), out
    assert "--check" in " ".join(r.config.command)  # inside the ssh-agent wrapper
    report = stats_artifacts(r)["bosun_run"][TARGET_HOST]
    assert report["check_mode"] is True and report["outcome"] == "success", report
    assert snapshot_started(project) == before  # same ids, states and StartedAt
    assert volume_file(project, "out", "table.txt").returncode != 0


def test_bad_survey_answers_fail_before_anything_runs(stack, job_template):
    project = stack()
    before = snapshot_started(project)
    r = job_template({"job": JOB, "project": project.name, "run_job_pull": "sometimes", "run_job_poll": "often"})
    out = stdout(r)
    assert (r.status, r.rc) == ("failed", 2), out
    assert "run_job_pull must be one of: never, missing, got: sometimes" in out, out
    assert "run_job_poll" in out, out
    ran = {e["event_data"].get("task") for e in r.events if e["event"] == "runner_on_ok"}
    assert not any("the job on the Docker host" in (t or "") for t in ran), ran
    assert stats_artifacts(r) == {}  # the report task never ran
    assert snapshot_started(project) == before


def test_credential_type_injecting_docker_host_and_tls_files(stack, job_template, pki, monkeypatch):
    """The credential type of docs/docsite/rst/awx.rst: env DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_TLS_HOSTNAME, the CA and
    client certificate as files whose paths come in as extra vars, consumed by the project playbook's
    module_defaults. The modules run in the execution environment (local connection) against the remote engine."""
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # see test_remote_engine.py: requests lets these win
        monkeypatch.delenv(var, raising=False)
    # This pattern runs the modules in the EE, so the EE's Python needs the SDK: the dev venv's.
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    project = stack()
    before = snapshot_started(project)
    playbook = yaml.safe_dump(
        [
            {
                "name": "Run a bosun job through a remote Docker Engine",
                "hosts": "all",
                "gather_facts": False,
                "module_defaults": {
                    "group/bosun.compose.docker": {
                        "ca_path": "{{ bosun_docker_ca_path }}",
                        "client_cert": "{{ bosun_docker_client_cert }}",
                        "client_key": "{{ bosun_docker_client_key }}",
                    }
                },
                "roles": [
                    {
                        "role": "bosun.compose.run_job",
                        "vars": {"run_job_name": "{{ job }}", "run_job_project": "{{ project | default(none) }}"},
                    }
                ],
            }
        ],
        sort_keys=False,
    )
    inv = {
        "all": {
            "hosts": {"remote-engine": {"ansible_connection": "local", "ansible_python_interpreter": str(VENV_PYTHON)}}
        }
    }
    with TlsEngineProxy(pki) as engine:
        r = job_template(
            {
                "job": JOB,
                "project": project.name,
                "run_job_poll": 1,
                "bosun_docker_ca_path": str(pki.ca),
                "bosun_docker_client_cert": str(pki.client_cert),
                "bosun_docker_client_key": str(pki.client_key),
            },
            playbook="run_job_remote_engine.yml",
            project_files={"run_job_remote_engine.yml": playbook},
            inv=inv,
            envvars={"DOCKER_HOST": engine.url, "DOCKER_TLS_VERIFY": "1", "DOCKER_TLS_HOSTNAME": "localhost"},
        )
        out = stdout(r)
        assert engine.connections > 3, out
    assert (r.status, r.rc) == ("successful", 0), out
    assert stats_artifacts(r)["bosun_run"]["remote-engine"]["outcome"] == "success"
    assert volume_file(project, "out", "table.txt").stdout == "row1\n"
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
