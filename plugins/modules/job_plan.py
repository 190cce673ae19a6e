#!/usr/bin/python
# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: job_plan
short_description: Plan a maintenance job and check everything that can fail before any downtime
version_added: 0.1.0
description:
  - Finds the job by name (as M(bosun.compose.job_info) does), applies the play's overrides, and builds the
    execution plan from the current state of its stack.
  - The plan is the single source of truth; M(bosun.compose.job_run) runs exactly these steps.
    Its steps are C(stop_containers) (the running containers of the stack, in stop order, grouped by
    dependency level; containers of one level stop in parallel), C(run_worker) (image, command, environment
    names with secret values hidden, mounts, network, user, timeout) and C(start_containers) (the exact reverse).
  - The plan carries the deadline, the maximum downtime (stop budget + worker timeout and grace + start budget).
  - Preflight checks, before anything stops, that the job is valid and enabled, the worker image is present
    (or pulls it with O(pull=missing)), every attached volume exists, the stack has running containers, and no
    other live run holds the stack. The task fails when a check fails, naming the object; the plan is still returned.
author:
  - bosun.compose contributors (@bosun-compose)
extends_documentation_fragment:
  - bosun.compose.docker
  - bosun.compose.docker.attributes
  - bosun.compose.job
attributes:
  check_mode:
    support: full
    details: The module only reads; in check mode O(pull=missing) reports the pull instead of pulling.
  diff_mode:
    support: N/A
    details: The module changes nothing.
  idempotent:
    support: full
options:
  run_id:
    description:
      - The run id to plan for; it names the worker container. Default a new random id.
    type: str
seealso:
  - module: bosun.compose.job_info
  - module: bosun.compose.stack
"""

EXAMPLES = r"""
- name: Show what the nightly backup would do
  bosun.compose.job_plan:
    name: nightly-backup
  register: plan

- name: Print the steps
  ansible.builtin.debug:
    msg: "{{ plan.plan.steps | map(attribute='description') | list }}"

- name: Stop before any downtime when a preflight check failed, naming the checks
  ansible.builtin.assert:
    that: plan.plan.ok
    fail_msg: "{{ plan.plan.preflight | rejectattr('ok') | map(attribute='message') | list }}"

- name: Plan with a longer worker timeout and a secret for the worker
  bosun.compose.job_plan:
    name: nightly-backup
    project: shop
    job:
      timeout: 2h
      secret_env:
        RESTIC_PASSWORD: "{{ vault_restic_password }}"
"""

RETURN = r"""
plan:
  description: The execution plan.
  returned: when the job was found and could be planned
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
  sample:
    run_id: 5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f
    job: nightly-backup
    stack: shop
    deadline: 3690
    ok: true
job:
  description:
    - The job after the play's overrides, as M(bosun.compose.job_info) returns it in
      RV(bosun.compose.job_info#module:jobs), without C(last_run).
  returned: when the job was found
  type: dict
  contains:
    name:
      description: The job name (C(bosun.job.name)).
      type: str
      sample: nightly-backup
    enabled:
      description: Whether the job is enabled (C(bosun.job.enabled), default true).
      type: bool
    runnable:
      description: Enabled and without error problems.
      type: bool
    stack:
      description: The Compose project the job stops and restarts.
      type: str
      sample: shop
    containers:
      description: The member containers (those labelled with the job name), sorted by name.
      type: list
      elements: dict
      sample: [{id: 4f1c..., name: shop-db-1, service: db, state: running}]
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
        state:
          description: The container's state (C(running), C(exited), ...).
          type: str
          sample: running
    image:
      description: The worker image (C(bosun.job.worker.image)); null when missing (an error problem).
      type: str
      sample: backup-tools:1.4
    command:
      description: The worker command as a list of arguments; null means the image's own command.
      type: list
      elements: str
      sample: [sh, -c, "tar -C /mnt/data -cf /mnt/backup/data.tar ."]
    env:
      description: Environment variables for the worker (C(bosun.job.worker.env.<NAME>)).
      type: dict
      sample: {RETENTION_DAYS: "7"}
    user:
      description: The user the worker runs as; null means the image's.
      type: str
    network:
      description: The network of the worker; null means Docker's default bridge.
      type: str
    mounts:
      description: The volumes attached to the job, sorted by path.
      type: list
      elements: dict
      sample: [{volume: shop_data, path: /mnt/shop_data, mode: ro}]
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
    timeout:
      description: The worker's maximum run time in seconds.
      type: int
      sample: 3600
    stop_timeout:
      description: Seconds each container gets to stop; null means the container's own stop timeout.
      type: int
    start_timeout:
      description: Seconds the stack gets to start again.
      type: int
      sample: 60
    schedule:
      description: The job's cron schedule, for AWX or cron to use; this collection does not run schedules.
      type: str
      sample: "30 2 * * *"
    overlap_policy:
      description: What a run does when another run holds the stack, V(queue) or V(skip).
      type: str
      sample: queue
    problems:
      description: This job's problems, in the format of M(bosun.compose.job_info)'s RV(bosun.compose.job_info#module:problems).
      type: list
      elements: dict
error:
  description:
    - Why the task failed - the error's C(type) (for example V(LeaseHeldError), V(DockerUnavailableError),
      V(APIError)) and its context, such as the container, label, value, image or holder concerned.
  returned: when the task failed on an error
  type: dict
  sample: {type: LeaseHeldError, project: shop, owner_alive: true}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bosun.compose.plugins.module_utils._module import connect, guard, job_argument_spec
from ansible_collections.bosun.compose.plugins.module_utils._planner import plan_job, resolve_job


def main() -> None:
    module = AnsibleModule(argument_spec=job_argument_spec(run_id=dict(type="str")), supports_check_mode=True)
    p = module.params
    with guard(module):
        api = connect(module)
        job, secret_env = resolve_job(api, p["name"], p["project"], p["job"])
        plan = plan_job(
            api,
            job,
            secret_env=secret_env,
            run_id=p["run_id"],
            pull=p["pull"],
            check_mode=module.check_mode,
            allowed_images=p["allowed_images"],
            keep_stopped=p["keep_stopped"],
        )
    result = dict(changed=False, plan=plan.to_dict(), job=job.to_dict())
    if not plan.ok:
        module.fail_json(msg="preflight failed: " + "; ".join(c.message for c in plan.failed_checks), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
