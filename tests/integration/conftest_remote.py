"""Fixtures for the SSH-target and remote-engine tests; test modules load them with
`pytest_plugins = ["conftest_remote"]` (see remote.py for what the target is)."""

from __future__ import annotations

import pytest

from remote import SshAnsible, controller_env, make_pki, start_sshd, target_python


@pytest.fixture(scope="session")
def controller_bin(tmp_path_factory):
    """bin directory of a controller whose Python has ansible-core but no Docker SDK."""
    return controller_env(tmp_path_factory.mktemp("controller"))


@pytest.fixture(scope="session")
def ssh_target(tmp_path_factory):
    """A real sshd on 127.0.0.1:<random port>, whose Python (system 3.11 venv) holds the Docker SDK."""
    target = start_sshd(tmp_path_factory.mktemp("sshd"), target_python())
    yield target
    target.stop()


@pytest.fixture
def ssh_ansible(tmp_path, ssh_target, controller_bin):
    """Factory: ssh_ansible(**inventory_overrides) -> SshAnsible (.playbook, .adhoc, .popen) against the target."""

    def make(**inventory_kw):
        return SshAnsible(
            tmp_path / f"ssh-ansible-{len(inventory_kw)}-{id(inventory_kw)}", ssh_target, controller_bin, **inventory_kw
        )

    return make


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A CA with a server certificate for localhost/127.0.0.1 and a client certificate (openssl CLI)."""
    return make_pki(tmp_path_factory.mktemp("pki"))
