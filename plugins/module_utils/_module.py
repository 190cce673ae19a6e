# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Ansible edge: shared option specs, connecting, and turning every exception into a failed result.

This is the only module_utils file that imports Ansible. Keep the specs in sync with the doc fragments
plugins/doc_fragments/_docker.py, _job.py and _run_state.py.

Every module wraps its one core call in ``with guard(module):``. A core error (BosunError) fails the task
with its message in ``msg`` and its type and context under ``error``; any other exception (an unexpected
``docker.errors.APIError``, a bug) fails it the same way, so no module ends as MODULE FAILURE with a raw
traceback. The traceback is in ``exception`` (shown with -vvv).

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import contextlib
import dataclasses
import traceback
import typing as t

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.bosun.compose.plugins.module_utils._errors import BosunError
from ansible_collections.bosun.compose.plugins.module_utils._state import default_state_dir

# The Engine client and Compose are imported where they are used: a module that talks to no Engine (job_status,
# polled every run) does not pay for the Docker SDK's import (about 0.1 s of every poll).
if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.plugins.module_utils._compose_cli import (
        CommandRunner,
        ComposeCli,
        ComposeProject,
    )
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi


def docker_argument_spec(**extra: t.Any) -> dict[str, t.Any]:
    """The Docker connection options every module takes, plus the module's own (doc fragment _docker)."""
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DEFAULT_DOCKER_HOST

    spec: dict[str, t.Any] = dict(
        docker_host=dict(
            type="str", default=DEFAULT_DOCKER_HOST, aliases=["docker_url"], fallback=(env_fallback, ["DOCKER_HOST"])
        ),
        tls=dict(type="bool", default=False, fallback=(env_fallback, ["DOCKER_TLS"])),
        validate_certs=dict(
            type="bool", default=False, aliases=["tls_verify"], fallback=(env_fallback, ["DOCKER_TLS_VERIFY"])
        ),
        ca_path=dict(type="path", aliases=["ca_cert", "tls_ca_cert", "cacert_path"]),
        client_cert=dict(type="path", aliases=["tls_client_cert", "cert_path"]),
        client_key=dict(type="path", aliases=["tls_client_key", "key_path"]),
        tls_hostname=dict(type="str", fallback=(env_fallback, ["DOCKER_TLS_HOSTNAME"])),
        api_version=dict(
            type="str", default="auto", aliases=["docker_api_version"], fallback=(env_fallback, ["DOCKER_API_VERSION"])
        ),
        timeout=dict(type="int", default=60, fallback=(env_fallback, ["DOCKER_TIMEOUT"])),
    )
    spec.update(extra)
    return spec


def state_dir_spec() -> dict[str, t.Any]:
    """The state_dir option (doc fragment _run_state)."""
    return dict(state_dir=dict(type="path"))


def worker_output_spec() -> dict[str, t.Any]:
    """The tail_lines and keep options (doc fragment _run_state.worker_output)."""
    return dict(
        tail_lines=dict(type="int", default=50),
        keep=dict(type="str", choices=["never", "on_failure"], default="never"),
    )


def job_argument_spec(**extra: t.Any) -> dict[str, t.Any]:
    """The options that select a job and override its labels (job_plan, job_run); doc fragment _job."""
    duration = dict(type="raw")
    return docker_argument_spec(
        name=dict(type="str", required=True),
        project=dict(type="str"),
        job=dict(
            type="dict",
            options=dict(
                stack=dict(type="str"),
                image=dict(type="str"),
                command=dict(type="raw"),
                env=dict(type="dict"),
                secret_env=dict(type="dict", no_log=True),
                user=dict(type="str"),
                network=dict(type="str"),
                mounts=dict(
                    type="list",
                    elements="dict",
                    options=dict(
                        volume=dict(type="str", required=True),
                        path=dict(type="str"),
                        mode=dict(type="str", choices=["ro", "rw"], default="ro"),
                    ),
                ),
                timeout=duration,
                stop_timeout=duration,
                start_timeout=duration,
                overlap_policy=dict(type="str", choices=["queue", "skip"]),
                stop_scope=dict(type="str", choices=["stack", "attached", "writers", "none"]),
                stop_mode=dict(type="str", choices=["stop", "pause"]),
                after_command=dict(type="raw"),
                after_image=dict(type="str"),
                after_timeout=duration,
                after_env=dict(type="dict"),
                after_user=dict(type="str"),
                after_network=dict(type="str"),
            ),
        ),
        pull=dict(type="str", choices=["never", "missing"], default="never"),
        allowed_images=dict(type="list", elements="str"),
        keep_stopped=dict(type="bool", default=False),
        max_duration=dict(type="int"),
        **extra,
    )


def connect(module: AnsibleModule) -> DockerApi:
    """A Docker connection from the module's parameters; fails the module when the SDK is missing."""
    from ansible_collections.bosun.compose.plugins.module_utils._container_index import ContainerIndex
    from ansible_collections.bosun.compose.plugins.module_utils._docker_api import (
        DOCKER_IMPORT_ERROR,
        HAS_DOCKER,
        ConnectionOptions,
        DockerApi,
    )

    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    keys = [f.name for f in dataclasses.fields(ConnectionOptions)]
    api = DockerApi.connect(ConnectionOptions(**{k: p[k] for k in keys}))
    if "state_dir" in p:
        # Discovery's label-filtered lists through the state directory's container index; read-only in check mode.
        api.index = ContainerIndex(api, p["state_dir"] or default_state_dir(), write=not module.check_mode)
    return api


def command_runner(module: AnsibleModule) -> CommandRunner:
    """Commands on the host through ``module.run_command``, bounded by coreutils ``timeout`` when it is there."""
    timeout = module.get_bin_path("timeout")

    def run(argv: t.Sequence[str], env: t.Mapping[str, str], cwd: str | None, seconds: float) -> tuple[int, str, str]:
        bounded = [timeout, "--kill-after=10", str(int(seconds)), *argv] if timeout else list(argv)
        rc, out, err = module.run_command(bounded, environ_update=dict(env), cwd=cwd)
        return rc, out, err

    return run


def compose_recreator(module: AnsibleModule, api: DockerApi) -> t.Callable[[ComposeProject], ComposeCli]:
    """What creates pruned stop-set containers again: Compose on this host, when the Engine is local."""
    from ansible_collections.bosun.compose.plugins.module_utils._compose_cli import ComposeCli

    run = command_runner(module)
    return lambda project: ComposeCli(project, api.options.docker_host, run, automatic=api.is_local)


def error_details(exc: BaseException) -> dict[str, t.Any]:
    """The ``error`` key of a failed result: the error's type and its context."""
    context = exc.context if isinstance(exc, BosunError) else {}
    return {"type": type(exc).__name__, **context}


def fail_from(module: AnsibleModule, exc: BaseException, msg: str | None = None, **result: t.Any) -> t.NoReturn:
    """Fail the task from an exception: ``msg`` (default the error's message), ``error``, ``exception``."""
    if msg is None:
        msg = exc.message if isinstance(exc, BosunError) else f"unexpected {type(exc).__name__}: {exc}"
    module.fail_json(msg=msg, error=error_details(exc), exception=traceback.format_exc(), **result)
    raise AssertionError("fail_json returned")  # pragma: no cover - fail_json exits


@contextlib.contextmanager
def guard(module: AnsibleModule, **result: t.Any) -> t.Iterator[None]:
    """Any exception raised in the block fails the task through fail_from, with ``result``'s keys added."""
    try:
        yield
    except Exception as exc:  # pylint: disable=broad-exception-caught
        fail_from(module, exc, **result)
