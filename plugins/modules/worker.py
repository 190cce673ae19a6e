#!/usr/bin/python
# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: worker
short_description: Run a one-shot, hardened worker container with named volumes mounted
version_added: 0.1.0
description:
  - Runs one worker container to its end and removes it, the way a maintenance job runs its worker, but
    without stopping or starting any stack. Use it to run a worker by hand or from a play that manages the
    stack itself.
  - The container is named C(bosun-worker-<job>-<first 8 characters of run_id>) and labelled
    C(bosun.worker.job), C(bosun.worker.run-id) and, with O(stack), C(bosun.worker.stack).
  - The worker is hardened. It gets C(no-new-privileges), is not privileged, gets no added capabilities,
    no devices and no Docker socket, and runs under an init process (C(--init)) so SIGTERM reaches the
    command. Host and C(container:) networking are refused.
  - The worker gets the environment variables C(BOSUN_JOB_NAME), C(BOSUN_RUN_ID) and, with O(stack),
    C(BOSUN_STACK), besides O(env) and O(secret_env).
  - When O(run_timeout) runs out, or the module receives SIGTERM, SIGHUP or SIGINT, the worker gets SIGTERM
    and O(stop_grace) seconds to exit before Docker kills it.
  - The whole log (stdout and stderr, with the values of O(secret_env) masked) is written to
    C(<state_dir>/logs/<job>/<run_id>.log); the last O(tail_lines) lines are returned.
  - The task fails when the worker exits with a code other than 0, times out or is cancelled; RV(worker)
    is returned then too.
author:
  - bosun.compose contributors (@bosun-compose)
extends_documentation_fragment:
  - bosun.compose.docker
  - bosun.compose.docker.attributes
  - bosun.compose.run_state
  - bosun.compose.run_state.worker_output
attributes:
  check_mode:
    support: partial
    details:
      - In check mode the module validates the options, checks that the image (unless O(pull=missing))
        and every volume exist, and returns RV(spec) with C(changed=true) without running anything.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Every run starts a new worker container.
options:
  image:
    description:
      - The worker image. It must be present on the Docker host unless O(pull=missing).
    type: str
    required: true
  command:
    description:
      - The command to run, as a list of arguments, or as a string split like a POSIX shell would
        (no shell runs it; use V([sh, -c, "..."]) for shell syntax).
      - Not given means the image's own command. The image's entrypoint is always kept.
    type: raw
  env:
    description:
      - Environment variables for the worker. Values are turned into strings (booleans into V(true)/V(false)).
      - The names C(BOSUN_JOB_NAME), C(BOSUN_RUN_ID) and C(BOSUN_STACK) are reserved.
    type: dict
    default: {}
  secret_env:
    description:
      - Environment variables whose values are secret. They are never returned, and are masked in the
        log file and the log tail.
      - A name given in both O(env) and O(secret_env) takes the value of O(secret_env).
    type: dict
    default: {}
  mounts:
    description:
      - Existing named volumes to mount into the worker. A missing volume fails the task (Docker would
        otherwise create it empty). Host paths are refused.
    type: list
    elements: dict
    default: []
    suboptions:
      volume:
        description: The name of the volume.
        type: str
        required: true
      path:
        description: The absolute path inside the worker, such as V(/mnt/data); not V(/).
        type: str
        required: true
      mode:
        description: V(ro) mounts read-only, V(rw) read-write.
        type: str
        choices: [ro, rw]
        default: ro
  network:
    description:
      - The network the worker joins; V(none) for no network. Not given means Docker's default bridge.
      - V(host) and V(container:<name>) are refused.
    type: str
  user:
    description:
      - The user (name or C(uid[:gid])) the worker runs as. Not given means the image's user.
    type: str
  run_timeout:
    description:
      - The maximum run time of the worker in seconds (1 to 604800). Then it is stopped and the task fails.
      - Named so because O(timeout) is the timeout of each Docker API call.
    type: int
    default: 3600
  stop_grace:
    description:
      - Seconds the worker gets between SIGTERM and SIGKILL when it is stopped (0 to 3600).
    type: int
    default: 10
  job:
    description:
      - The job name the worker runs for; it names the container and the log directory.
    type: str
    default: adhoc
  run_id:
    description:
      - The run id (8 to 128 letters, digits, C(_), C(.), C(-)). Default a new random uuid4 hex.
    type: str
  stack:
    description:
      - The Compose project the run belongs to; recorded in a label and in C(BOSUN_STACK). Nothing is done to it.
    type: str
  pull:
    description:
      - V(never) fails when the image is not present. V(missing) pulls it first if absent.
    type: str
    choices: [never, missing]
    default: never
notes:
  - A run started with keep=on_failure that failed leaves its container; it carries the C(bosun.worker.run-id) label.
seealso:
  - module: bosun.compose.job_info
"""

EXAMPLES = r"""
- name: Archive a volume with a one-shot worker
  bosun.compose.worker:
    image: backup-tools:1.4
    command: [sh, -c, "tar -C /mnt/data -cf /mnt/backup/data.tar ."]
    mounts:
      - {volume: shop_data, path: /mnt/data}
      - {volume: shop_backup, path: /mnt/backup, mode: rw}
    network: none
    run_timeout: 1800
    job: shop-backup
  register: backup

- name: Show the end of its log
  ansible.builtin.debug:
    var: backup.worker.log_tail

- name: Run with a secret; its value is masked everywhere
  bosun.compose.worker:
    image: backup-tools:1.4
    command: restic backup /mnt/data
    env:
      RESTIC_REPOSITORY: s3:https://s3.example.com/backups
    secret_env:
      RESTIC_PASSWORD: "{{ vault_restic_password }}"
    mounts:
      - {volume: shop_data, path: /mnt/data}
    keep: on_failure
"""

RETURN = r"""
spec:
  description: What runs (or would run, in check mode). Secret values are shown as C(********).
  returned: always
  type: dict
  contains:
    name:
      description: The container name.
      type: str
      sample: bosun-worker-adhoc-3f2a9c1e
    job:
      description: The job name.
      type: str
    run_id:
      description: The run id.
      type: str
      sample: 3f2a9c1e5d0b4c7a8e6f1a2b3c4d5e6f
    image:
      description: The image.
      type: str
    image_id:
      description: The id of the image that runs.
      type: str
    command:
      description: The command; null means the image's own.
      type: list
      elements: str
    env:
      description: The environment given, with secret values masked.
      type: dict
    secret_env_names:
      description: The names of the secret variables.
      type: list
      elements: str
    mounts:
      description: The mounts, each with C(volume), C(path) and C(mode).
      type: list
      elements: dict
      contains:
        volume:
          description: The volume name.
          type: str
          sample: shop_data
        path:
          description: The mount path in the worker.
          type: str
          sample: /mnt/data
        mode:
          description: V(ro) or V(rw).
          type: str
          sample: ro
    network:
      description: The network; null means Docker's default bridge.
      type: str
    user:
      description: The user; null means the image's.
      type: str
    timeout:
      description: The maximum run time in seconds.
      type: int
    stop_grace:
      description: Seconds between SIGTERM and SIGKILL.
      type: int
    stack:
      description: The stack the run belongs to.
      type: str
    labels:
      description: The labels of the worker container.
      type: dict
      sample: {bosun.worker.job: shop-backup, bosun.worker.run-id: 3f2a9c1e5d0b4c7a8e6f1a2b3c4d5e6f, bosun.worker.stack: shop}
worker:
  description: What the run did.
  returned: when the worker was started (not in check mode)
  type: dict
  contains:
    container_id:
      description: The id of the worker container.
      type: str
    name:
      description: The container name.
      type: str
    exit_code:
      description: The exit code; null if the worker never reached one.
      type: int
      sample: 0
    timed_out:
      description: Whether O(run_timeout) ran out (the run failed even if the worker then exited 0).
      type: bool
    cancelled:
      description: Whether the run was cancelled by a signal to the module.
      type: bool
    started_at:
      description: When the worker started (UTC, ISO 8601).
      type: str
      sample: "2026-01-31T02:30:00.123+00:00"
    finished_at:
      description: When it ended (UTC, ISO 8601).
      type: str
    duration:
      description: The run time in seconds.
      type: float
      sample: 12.345
    log_path:
      description: The file holding the whole log; null if it could not be written.
      type: str
      sample: /var/lib/bosun/logs/adhoc/3f2a9c1e5d0b4c7a8e6f1a2b3c4d5e6f.log
    log_tail:
      description: The last O(tail_lines) lines of the log, stdout and stderr together.
      type: list
      elements: str
    removed:
      description: Whether the container was removed.
      type: bool
    error:
      description: A problem met while starting, reading logs or removing; null if none.
      type: str
    ok:
      description: Exit code 0, not timed out and not cancelled.
      type: bool
    reason:
      description: How the run ended, in words.
      type: str
      sample: exited with code 0
rc:
  description: The worker's exit code.
  returned: when the worker was started (not in check mode)
  type: int
error:
  description:
    - Why the task failed - the error's C(type) (for example V(LeaseHeldError), V(DockerUnavailableError),
      V(APIError)) and its context, such as the container, label, value, image or holder concerned.
  returned: when the task failed on an error
  type: dict
  sample: {type: LeaseHeldError, project: shop, owner_alive: true}
"""

import dataclasses

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._errors import WorkerSpecError
from ansible_collections.bosun.compose.plugins.module_utils._model import Mount, new_run_id
from ansible_collections.bosun.compose.plugins.module_utils._module import (
    connect,
    docker_argument_spec,
    guard,
    state_dir_spec,
    worker_output_spec,
)
from ansible_collections.bosun.compose.plugins.module_utils._state import default_state_dir
from ansible_collections.bosun.compose.plugins.module_utils._values import LabelError, parse_command, parse_env
from ansible_collections.bosun.compose.plugins.module_utils._worker_runner import WorkerRunner, check_worker_inputs
from ansible_collections.bosun.compose.plugins.module_utils._worker_spec import WorkerSpec


def _spec(p: dict) -> WorkerSpec:
    """The WorkerSpec from the options, by the same rules as labels and play overrides."""
    try:
        command = None if p["command"] is None else parse_command(p["command"])
    except LabelError as exc:
        raise WorkerSpecError(f"command {p['command']!r} {exc}", option="command") from None
    env: dict[str, dict[str, str]] = {}
    for option in ("env", "secret_env"):
        try:
            env[option] = parse_env(p[option])
        except LabelError as exc:
            shown = "(hidden)" if option == "secret_env" else repr(p[option])
            raise WorkerSpecError(f"{option} {shown}: {exc}", option=option) from None
    return WorkerSpec(
        job=p["job"],
        run_id=p["run_id"] or new_run_id(),
        image=p["image"],
        command=command,
        env={**env["env"], **env["secret_env"]},
        secret_env_names=frozenset(env["secret_env"]),
        mounts=[Mount(m["volume"], m["path"], m["mode"]) for m in p["mounts"]],
        network=p["network"],
        user=p["user"],
        timeout=p["run_timeout"],
        stop_grace=p["stop_grace"],
        stack=p["stack"],
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            image=dict(type="str", required=True),
            command=dict(type="raw"),
            env=dict(type="dict", default={}),
            secret_env=dict(type="dict", default={}, no_log=True),
            mounts=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    volume=dict(type="str", required=True),
                    path=dict(type="str", required=True),
                    mode=dict(type="str", choices=["ro", "rw"], default="ro"),
                ),
            ),
            network=dict(type="str"),
            user=dict(type="str"),
            run_timeout=dict(type="int", default=3600),
            stop_grace=dict(type="int", default=10),
            job=dict(type="str", default="adhoc"),
            run_id=dict(type="str"),
            stack=dict(type="str"),
            pull=dict(type="str", choices=["never", "missing"], default="never"),
            **worker_output_spec(),
            **state_dir_spec(),
        ),
        supports_check_mode=True,
    )
    p = module.params
    # A signal to the module (the controller interrupted, the connection dropped) stops the worker
    # gracefully, removes it and reports, instead of leaving it running.
    with guard(module, changed=False), Cancellation() as cancel:
        spec = _spec(p)
        api = connect(module)
        image = check_worker_inputs(api, spec, p["pull"], check_mode=module.check_mode)
        spec = dataclasses.replace(spec, image_id=image.id)
        if module.check_mode:
            module.exit_json(changed=True, spec=spec.to_dict())
        runner = WorkerRunner(api, p["state_dir"] or default_state_dir())
        result = runner.run(spec, tail_lines=p["tail_lines"], keep=p["keep"], cancel=cancel.event)
    if result.error and result.ok:
        module.warn(result.error)
    if not result.ok:
        detail = f"; {result.error}" if result.error and result.exit_code is not None else ""
        module.fail_json(
            msg=f"worker {spec.name!r} failed (rc={result.exit_code}): it {result.reason}{detail}; "
            "the last log lines are in worker.log_tail",
            changed=True,
            rc=result.exit_code,
            spec=spec.to_dict(),
            worker=result.to_dict(),
        )
    module.exit_json(changed=True, rc=result.exit_code, spec=spec.to_dict(), worker=result.to_dict())


if __name__ == "__main__":
    main()
