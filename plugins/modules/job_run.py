#!/usr/bin/python
# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: job_run
short_description: Run a maintenance job as one crash-safe transaction on the Docker host
version_added: 0.1.0
description:
  - Finds the job (as M(bosun.compose.job_info)), plans it and runs preflight (as M(bosun.compose.job_plan)),
    takes the stack's lease on the Docker daemon, then runs the plan's steps in order - stop the running
    containers of the stack, run the worker - and in all cases starts exactly the containers it stopped,
    in dependency order, and releases the lease.
  - The whole transaction runs in this one module process on the Docker host. Run it with C(async) so that it
    finishes even when the controller dies or the connection drops; the role C(bosun.compose.run_job) does.
  - SIGTERM, SIGHUP and SIGINT cancel the run. Before the first stop nothing is stopped (the lease is never
    taken, or released) and the outcome is V(cancelled); during the stop no further level is stopped and
    what was stopped is started again (V(cancelled)); during the worker the worker is stopped (SIGTERM, its
    grace period, SIGKILL) and the stack restarted (V(cancelled)). A signal during the restart is absorbed -
    the restart is never interrupted and the outcome stays what the job did.
  - Containers that are up but not running are stopped too and afterwards get their state back - a
    crash-looping one (C(restarting)) is started and left to its restart policy (not waited for), a paused
    one is paused again.
  - The restart waits for each level to run and, where a container has a healthcheck, to be healthy, before
    starting what depends on it, within the job's start timeout; when the timeout runs out the remaining
    levels are still started. A container left unhealthy, or not running and healthy when the timeout ran
    out, makes the outcome V(start_unhealthy) - the task fails naming each one and its health, the stack
    is left running and the lease released.
  - If this process is killed outright, the lease on the daemon still names what was stopped; the next run
    on that stack, or M(bosun.compose.stack) with O(bosun.compose.stack#module:state=recovered), restarts it.
  - Each run leaves a small JSON record in O(state_dir)C(/runs/<job>/<run_id>.json) and the worker's full log
    in O(state_dir)C(/logs/<job>/<run_id>.log).
author:
  - bosun.compose contributors (@bosun-compose)
extends_documentation_fragment:
  - bosun.compose.docker
  - bosun.compose.docker.attributes
  - bosun.compose.run_state
  - bosun.compose.run_state.worker_output
  - bosun.compose.job
attributes:
  check_mode:
    support: full
    details: In check mode the job is discovered, planned and preflighted; the plan is returned and nothing is touched.
  diff_mode:
    support: none
  idempotent:
    support: N/A
    details: Every run is a new run of the job.
options:
  run_id:
    description:
      - The id of this run; it names the worker and the lease. Default a new random id.
      - Give one to let a later M(bosun.compose.stack) O(bosun.compose.stack#module:state=recovered) task find this run.
    type: str
  lock_timeout:
    description:
      - Seconds to wait for another run on the same stack to finish, when the overlap policy is V(queue).
      - With policy V(skip) the run does not wait; its outcome is V(skipped) and the task does not fail.
    type: int
    default: 3600
notes:
  - The outcome is one of V(success), V(worker_failed), V(timeout), V(cancelled), V(image_missing), V(preflight_failed),
    V(stop_failed), V(start_failed), V(start_unhealthy), V(lease_lost), V(locked), V(skipped), V(not_found), V(invalid). Any outcome
    but V(success) and V(skipped) fails the task with a message naming the outcome and its cause; the full result is still returned.
seealso:
  - module: bosun.compose.job_plan
  - module: bosun.compose.stack
"""

EXAMPLES = r"""
- name: Run the nightly backup; survive a dying controller
  bosun.compose.job_run:
    name: nightly-backup
    run_id: "{{ run_id }}"
  async: 7200
  poll: 5
  register: run

- name: Run a job the stack does not declare, defined in the play
  bosun.compose.job_run:
    name: ad-hoc-export
    job:
      stack: shop
      image: backup-tools:1.4
      command: ["sh", "-c", "tar -C /mnt/data -cf /mnt/out/data.tar ."]
      mounts:
        - {volume: shop_data, path: /mnt/data}
        - {volume: exports, path: /mnt/out, mode: rw}
      timeout: 30m
"""

RETURN = r"""
outcome:
  description:
    - How the run ended, one of the outcomes in the notes.
    - V(start_failed) and V(start_unhealthy) are about the restart and win over the job's own outcome, which the
      message then follows with C(before that).
  returned: always
  type: str
  sample: success
run_id:
  description: The run id.
  returned: always
  type: str
job:
  description: The job name.
  returned: always
  type: str
stack:
  description: The stack (Compose project).
  returned: always
  type: str
message:
  description: A sentence on the outcome and its cause.
  returned: always
  type: str
steps:
  description: The steps that ran, each with C(type), C(status), C(started_at), C(duration), C(containers), C(detail).
  returned: always
  type: list
  elements: dict
worker:
  description: The worker's C(exit_code), C(timed_out), C(cancelled), C(duration), C(log_tail), C(log_path), C(error).
  returned: when the worker ran
  type: dict
stopped:
  description: The containers this run stopped (C(id), C(name), C(service)), in stop order.
  returned: always
  type: list
  elements: dict
restarted:
  description: The containers running again afterwards, of those stopped.
  returned: always
  type: list
  elements: dict
downtime_seconds:
  description: Seconds from the first stop to the end of the restart.
  returned: always
  type: float
plan:
  description: The plan that ran, in the format of M(bosun.compose.job_plan)'s RV(bosun.compose.job_plan#module:plan).
  returned: when the job could be planned
  type: dict
existing:
  description: The jobs that do exist on the host.
  returned: when the outcome is V(not_found)
  type: list
  elements: str
error:
  description:
    - Why the task failed - the error's C(type) (for example V(LeaseHeldError), V(DockerUnavailableError),
      V(APIError)) and its context, such as the container, label, value, image or holder concerned.
  returned: when the task failed on an error
  type: dict
  sample: {type: LeaseHeldError, project: shop, owner_alive: true}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bosun.compose.plugins.module_utils._cancel import Cancellation
from ansible_collections.bosun.compose.plugins.module_utils._errors import BosunError, JobNotFoundError
from ansible_collections.bosun.compose.plugins.module_utils._executor import Executor, RunOptions
from ansible_collections.bosun.compose.plugins.module_utils._module import (
    connect,
    error_details,
    guard,
    job_argument_spec,
    state_dir_spec,
    worker_output_spec,
)
from ansible_collections.bosun.compose.plugins.module_utils._planner import resolve_job
from ansible_collections.bosun.compose.plugins.module_utils._state import default_state_dir


def main() -> None:
    module = AnsibleModule(
        argument_spec=job_argument_spec(
            run_id=dict(type="str"),
            lock_timeout=dict(type="int", default=3600),
            **worker_output_spec(),
            **state_dir_spec(),
        ),
        supports_check_mode=True,
    )
    p = module.params
    empty = dict(
        run_id=p["run_id"] or "",
        job=p["name"],
        stack=p["project"],
        steps=[],
        stopped=[],
        restarted=[],
        downtime_seconds=0.0,
        changed=False,
    )
    with guard(module, **empty), Cancellation() as cancel:
        api = connect(module)
        try:
            job, secret_env = resolve_job(api, p["name"], p["project"], p["job"])
        except JobNotFoundError as exc:
            module.fail_json(
                msg=f"not_found: {exc.message}",
                outcome="not_found",
                message=exc.message,
                existing=exc.context.get("existing", []),
                error=error_details(exc),
                **empty,
            )
        except BosunError as exc:
            module.fail_json(
                msg=f"invalid: {exc.message}", outcome="invalid", message=exc.message, error=error_details(exc), **empty
            )
        options = RunOptions(
            secret_env=secret_env,
            run_id=p["run_id"],
            pull=p["pull"],
            lock_timeout=p["lock_timeout"],
            check_mode=module.check_mode,
            tail_lines=p["tail_lines"],
            keep=p["keep"],
            allowed_images=p["allowed_images"],
        )
        result = Executor(api, p["state_dir"] or default_state_dir()).run(job, options, cancel)
    out = result.to_dict()
    try:
        if result.ok:
            module.exit_json(changed=result.changed, **out)
        module.fail_json(msg=f"{result.outcome}: {result.message}", changed=result.changed, **out)
    except BrokenPipeError:
        pass  # the controller is gone; the run is complete and recorded on the host


if __name__ == "__main__":
    main()
