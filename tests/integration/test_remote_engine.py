"""docker_host pointing at a remote engine: tcp:// with mutual TLS (CA, client certificate and key).

The engine is the local daemon behind a TLS-terminating proxy on 127.0.0.1 that requires a client
certificate signed by the test CA (remote.TlsEngineProxy): to the modules it is exactly a remote
`dockerd --tlsverify` - https, server certificate checked against ca_path, client certificate presented."""

from __future__ import annotations

import pytest

from remote import TlsEngineProxy
from stackcheck import ids_and_states, snapshot_started, stack_with_lease_cleanup, volume_file

pytest_plugins = ["conftest_remote"]
pytestmark = pytest.mark.docker

JOB = "role-copy"


# requests lets these variables override the CA a session was given (psf/requests#3829); this machine sets
# them for its own HTTPS proxy. See test_ca_path_wins_over_requests_ca_bundle_in_the_environment.
CA_BUNDLE_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture
def engine(pki, monkeypatch):
    for var in CA_BUNDLE_VARS:
        monkeypatch.delenv(var, raising=False)
    with TlsEngineProxy(pki) as proxy:
        yield proxy


@pytest.fixture
def stack(compose_project):
    yield from stack_with_lease_cleanup(compose_project)


def tls_defaults(engine, pki, **over):
    return {
        "docker_host": engine.url,
        "validate_certs": True,
        "ca_path": str(pki.ca),
        "client_cert": str(pki.client_cert),
        "client_key": str(pki.client_key),
        **over,
    }


def discover_and_plan(project, connection):
    return [
        {
            "name": "remote engine",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/bosun.compose.docker": connection},
            "tasks": [
                {"name": "info", "bosun.compose.job_info": {"name": JOB, "project": project.name}},
                {"name": "plan", "bosun.compose.job_plan": {"name": JOB, "project": project.name}},
            ],
        }
    ]


def test_job_info_and_job_plan_through_a_tls_engine(stack, ansible_playbook, engine, pki):
    project = stack()
    before = snapshot_started(project)
    result = ansible_playbook(discover_and_plan(project, tls_defaults(engine, pki)))
    assert result.rc == 0, str(result)
    [job] = result.task("info").result["jobs"]
    assert job["name"] == JOB and job["stack"] == project.name and job["runnable"], job
    plan = result.task("plan").result["plan"]
    assert plan["ok"] and plan["stack"] == project.name, plan
    assert [s["type"] for s in plan["steps"]] == ["stop_containers", "run_worker", "start_containers"]
    assert engine.connections > 0  # it went through the TLS endpoint, not the local socket
    assert snapshot_started(project) == before


class NoStack:  # the failure cases never get as far as a stack
    name = "bosun-it-no-such-stack"


def test_tls_hostname_checks_the_certificate_name_instead_of_the_address(ansible_playbook, engine, pki):
    """The server certificate names localhost; connecting by 127.0.0.1 with tls_hostname=localhost works,
    tls_hostname=elsewhere.invalid fails the hostname check."""
    project = NoStack()
    good = ansible_playbook(discover_and_plan(project, tls_defaults(engine, pki, tls_hostname="localhost")))
    # Through TLS to the Engine; the plan then fails only because that stack does not exist.
    assert good.task("info").status == "ok", str(good)
    assert "not found in stack 'bosun-it-no-such-stack'" in good.task("plan").result["msg"], str(good)
    bad = ansible_playbook(discover_and_plan(project, tls_defaults(engine, pki, tls_hostname="elsewhere.invalid")))
    assert bad.rc == 2, str(bad)
    msg = bad.task("info").result["msg"]
    assert "elsewhere.invalid" in msg or "hostname" in msg.lower(), msg


@pytest.mark.parametrize("case", ["untrusted-ca", "no-client-cert"])
def test_bad_tls_settings_fail_clearly(ansible_playbook, engine, pki, case):
    project = NoStack()
    if case == "untrusted-ca":
        connection = tls_defaults(engine, pki, ca_path=str(pki.other_ca))
    else:
        connection = {k: v for k, v in tls_defaults(engine, pki).items() if k not in ("client_cert", "client_key")}
    result = ansible_playbook(discover_and_plan(project, connection))
    assert result.rc == 2, str(result)
    info = result.task("info")
    assert info.status == "failed", info
    msg = info.result["msg"]
    assert engine.url.removeprefix("tcp://") in msg or "127.0.0.1" in msg, msg
    if case == "untrusted-ca":
        assert "CERTIFICATE_VERIFY_FAILED" in msg or "certificate verify failed" in msg, msg
    assert engine.handshakes_failed > 0


def test_the_role_runs_a_job_through_the_tls_engine(stack, ansible_playbook, engine, pki):
    """module_defaults group/bosun.compose.docker carries the TLS settings to every module of the role,
    including job_run's stop / worker wait / logs / start over https."""
    project = stack()
    before = snapshot_started(project)
    result = ansible_playbook(
        [
            {
                "name": "run through a TLS engine",
                "hosts": "localhost",
                "gather_facts": False,
                "module_defaults": {"group/bosun.compose.docker": tls_defaults(engine, pki)},
                "tasks": [
                    {
                        "name": "run",
                        "ansible.builtin.include_role": {"name": "bosun.compose.run_job"},
                        "vars": {"run_job_name": JOB, "run_job_project": project.name, "run_job_poll": 1},
                    }
                ],
            }
        ]
    )
    assert result.rc == 0, str(result)
    assert volume_file(project, "out", "table.txt").stdout == "row1\n"
    assert ids_and_states(snapshot_started(project)) == ids_and_states(before)
    assert engine.connections > 3


def test_ca_path_wins_over_requests_ca_bundle_in_the_environment(stack, ansible_playbook, engine, pki, monkeypatch):
    project = stack()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    result = ansible_playbook(discover_and_plan(project, tls_defaults(engine, pki)))
    assert result.rc == 0, str(result)
