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
- name: Plan the nightly backup; its run id names the worker and the lease
  bosun.compose.job_plan:
    name: nightly-backup
    project: shop
  register: planned

- name: Run it; under async the run finishes on the Docker host even if the controller dies
  bosun.compose.job_run:
    name: nightly-backup
    project: shop
    run_id: "{{ planned.plan.run_id }}"
  async: 7200
  poll: 5
  register: run

- name: Show what the worker printed last and how long the stack was down
  ansible.builtin.debug:
    msg:
      - "{{ run.outcome }}: {{ run.message }}"
      - "worker exit code {{ run.worker.exit_code }}, downtime {{ run.downtime_seconds }} s"
      - "{{ run.worker.log_tail | join('\n') }}"

- name: If the controller was killed, the safety net restarts exactly what this run stopped
  bosun.compose.stack:
    project: shop
    state: recovered
    run_id: "{{ planned.plan.run_id }}"

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
  description: The steps that ran, in order; a step not reached is not listed.
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: V(stop_containers), V(run_worker) or V(start_containers).
      type: str
      sample: run_worker
    status:
      description: V(ok), V(failed), V(skipped) or V(cancelled).
      type: str
      sample: ok
    started_at:
      description: When the step started (UTC, ISO 8601).
      type: str
      sample: "2026-01-31T02:30:00.412+00:00"
    duration:
      description: Seconds the step took.
      type: float
      sample: 0.493
    containers:
      description: The containers the step stopped or started (empty for C(run_worker)).
      type: list
      elements: dict
      contains:
        id:
          description: The container id.
          type: str
          sample: 4f1c0d3e9a7b2c5d8e6f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d
        name:
          description: The container name.
          type: str
          sample: shop-db-1
        service:
          description: The Compose service (C(com.docker.compose.service)).
          type: str
          sample: db
    detail:
      description: The step's result in words, such as C(exited with code 0) or C(2/2 started).
      type: str
      sample: exited with code 0
worker:
  description: What the worker did; null when it never started.
  returned: when the worker ran
  type: dict
  contains:
    name:
      description: The worker container's name.
      type: str
      sample: bosun-worker-nightly-backup-d649eff4
    exit_code:
      description: The exit code; null if the worker never reached one.
      type: int
      sample: 0
    timed_out:
      description: Whether the job's timeout ran out (the run failed even if the worker then exited 0).
      type: bool
      sample: false
    cancelled:
      description: Whether the run was cancelled by a signal while the worker ran.
      type: bool
      sample: false
    duration:
      description: The worker's run time in seconds.
      type: float
      sample: 12.339
    log_tail:
      description: The last O(tail_lines) lines of the worker's log, stdout and stderr together.
      type: list
      elements: str
      sample: [copied 3 files]
    log_path:
      description: The file on the Docker host holding the whole log; null if it could not be written.
      type: str
      sample: /var/lib/bosun/logs/nightly-backup/d649eff415624286b5b7eb364fac3c54.log
    error:
      description: A problem met while starting the worker, reading its logs or removing it; null if none.
      type: str
      sample: null
    removed:
      description: Whether the worker container was removed (see O(keep)).
      type: bool
      sample: true
stopped:
  description: The containers this run stopped, in stop order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The container id.
      type: str
      sample: 4f1c0d3e9a7b2c5d8e6f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d
    name:
      description: The container name.
      type: str
      sample: shop-db-1
    service:
      description: The Compose service (C(com.docker.compose.service)).
      type: str
      sample: db
restarted:
  description: The containers running again afterwards, of those stopped.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The container id.
      type: str
      sample: 4f1c0d3e9a7b2c5d8e6f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d
    name:
      description: The container name.
      type: str
      sample: shop-db-1
    service:
      description: The Compose service (C(com.docker.compose.service)).
      type: str
      sample: db
downtime_seconds:
  description: Seconds from the first stop to the end of the restart.
  returned: always
  type: float
  sample: 1.264
started_at:
  description: When the run started (UTC, ISO 8601).
  returned: always
  type: str
  sample: "2026-01-31T02:30:00.109+00:00"
finished_at:
  description: When the run ended (UTC, ISO 8601).
  returned: always
  type: str
  sample: "2026-01-31T02:30:13.235+00:00"
record_path:
  description: The JSON record of the run in the state directory on the Docker host; null when none was written.
  returned: always
  type: str
  sample: /var/lib/bosun/runs/nightly-backup/d649eff415624286b5b7eb364fac3c54.json
plan:
  description: The plan that ran, as M(bosun.compose.job_plan) returns it in RV(bosun.compose.job_plan#module:plan).
  returned: when the job could be planned
  type: dict
  contains:
    run_id:
      description: The run id; the worker is named C(bosun-worker-<job>-<first 8 of run_id>).
      type: str
      sample: 5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f
    job:
      description: The job name.
      type: str
      sample: nightly-backup
    stack:
      description: The Compose project.
      type: str
      sample: shop
    created_at:
      description: When the plan was made (UTC, ISO 8601).
      type: str
      sample: "2026-01-31T02:30:00+00:00"
    steps:
      description: The steps in order, V(stop_containers), V(run_worker), V(start_containers).
      type: list
      elements: dict
      contains:
        type:
          description: V(stop_containers), V(run_worker) or V(start_containers).
          type: str
          sample: stop_containers
        description:
          description: The step in words.
          type: str
          sample: stop 2 running container(s) of stack 'shop' in 2 level(s)
        timeout:
          description:
            - Seconds the step may take (C(start_containers)); null for the other steps, whose bounds are
              RV(plan.stop_budget) and the worker's C(timeout).
          type: int
          sample: 60
        levels:
          description:
            - Only in C(stop_containers) and C(start_containers) steps. The containers by dependency level, each
              level a list of containers that stop or start together; stop levels run dependents first, start
              levels dependencies first.
            - Each container is C(id), C(name), C(service), and C(state) (V(restarting) or V(paused)) for one that
              is up but not running; the run returns it to that state.
          type: list
          elements: list
          sample: [[{id: 4f1c..., name: shop-app-1, service: app}], [{id: 9b2e..., name: shop-db-1, service: db}]]
        worker:
          description:
            - Only in the C(run_worker) step. The worker spec, as M(bosun.compose.worker) returns it in
              RV(bosun.compose.worker#module:spec) (C(name), C(image), C(image_id), C(command), C(env) with secret
              values masked, C(secret_env_names), C(mounts), C(network), C(user), C(timeout), C(stop_grace),
              C(stack), C(labels), C(job), C(run_id)).
          type: dict
          sample:
            name: bosun-worker-nightly-backup-5f0c2a7e
            image: backup-tools:1.4
            command: [sh, -c, "tar -C /mnt/data -cf /mnt/backup/db.tar ."]
            mounts: [{volume: shop_data, path: /mnt/data, mode: ro}, {volume: shop_backup, path: /mnt/backup, mode: rw}]
            timeout: 1800
    stop_budget:
      description: Seconds the stop step may take at most (each level's longest grace period plus a margin).
      type: int
      sample: 22
    start_budget:
      description: Seconds the start step may take at most.
      type: int
      sample: 60
    deadline:
      description: The maximum downtime in seconds.
      type: int
      sample: 1882
    preflight:
      description: The checks made before anything stops, in order (stack, image, each volume, lease, allowed images).
      type: list
      elements: dict
      contains:
        name:
          description: The check, such as V(stack), V(image), V(volume) or V(lease).
          type: str
          sample: volume
        object:
          description: What was checked (the stack, image or volume name).
          type: str
          sample: shop_data
        ok:
          description: Whether the check passed.
          type: bool
          sample: true
        message:
          description: The result in words.
          type: str
          sample: volume 'shop_data' exists; mounted at /mnt/data (ro)
    ok:
      description: Whether every preflight check passed.
      type: bool
      sample: true
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
            keep_stopped=p["keep_stopped"],
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
