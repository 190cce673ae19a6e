# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modules' side of the core: shared options, connecting, and turning core errors into results.

This is the only module_utils file that imports Ansible. Keep docker_argument_spec() in sync with
plugins/doc_fragments/docker.py.
This is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.bosun.compose.plugins.module_utils.docker_api import (
    DEFAULT_DOCKER_HOST,
    DOCKER_IMPORT_ERROR,
    HAS_DOCKER,
    ConnectionOptions,
    DockerApi,
)

_CONNECTION_KEYS = tuple(f.name for f in ConnectionOptions.__dataclass_fields__.values())


def docker_argument_spec(**extra: t.Any) -> dict[str, t.Any]:
    """The Docker connection options every module takes, plus the module's own."""
    spec: dict[str, t.Any] = dict(
        docker_host=dict(type="str", default=DEFAULT_DOCKER_HOST, aliases=["docker_url"],
                         fallback=(env_fallback, ["DOCKER_HOST"])),
        tls=dict(type="bool", default=False, fallback=(env_fallback, ["DOCKER_TLS"])),
        validate_certs=dict(type="bool", default=False, aliases=["tls_verify"],
                            fallback=(env_fallback, ["DOCKER_TLS_VERIFY"])),
        ca_path=dict(type="path", aliases=["ca_cert", "tls_ca_cert", "cacert_path"]),
        client_cert=dict(type="path", aliases=["tls_client_cert", "cert_path"]),
        client_key=dict(type="path", aliases=["tls_client_key", "key_path"]),
        tls_hostname=dict(type="str", fallback=(env_fallback, ["DOCKER_TLS_HOSTNAME"])),
        api_version=dict(type="str", default="auto", aliases=["docker_api_version"],
                         fallback=(env_fallback, ["DOCKER_API_VERSION"])),
        timeout=dict(type="int", default=60, fallback=(env_fallback, ["DOCKER_TIMEOUT"])),
    )
    spec.update(extra)
    return spec


def connect(module: AnsibleModule) -> DockerApi:
    """A Docker connection from the module's parameters; fails the module when the SDK is missing."""
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    return DockerApi.connect(ConnectionOptions(**{k: p[k] for k in _CONNECTION_KEYS}))


def job_argument_spec(**extra: t.Any) -> dict[str, t.Any]:
    """The options that select a job and override its labels (job_plan, job_run); see doc fragment job."""
    duration = dict(type="raw")
    return docker_argument_spec(
        name=dict(type="str", required=True),
        project=dict(type="str"),
        job=dict(type="dict", options=dict(
            stack=dict(type="str"),
            image=dict(type="str"),
            command=dict(type="raw"),
            env=dict(type="dict"),
            secret_env=dict(type="dict", no_log=True),
            user=dict(type="str"),
            network=dict(type="str"),
            mounts=dict(type="list", elements="dict", options=dict(
                volume=dict(type="str", required=True),
                path=dict(type="str"),
                mode=dict(type="str", choices=["ro", "rw"], default="ro"),
            )),
            timeout=duration,
            stop_timeout=duration,
            start_timeout=duration,
            overlap_policy=dict(type="str", choices=["queue", "skip"]),
        )),
        pull=dict(type="str", choices=["never", "missing"], default="never"),
        allowed_images=dict(type="list", elements="str"),
        **extra,
    )
