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
    job:
      description: The job name.
      type: str
    stack:
      description: The Compose project.
      type: str
    created_at:
      description: When the plan was made (UTC, ISO 8601).
      type: str
    steps:
      description:
        - The steps in order. C(stop_containers) and C(start_containers) carry C(levels), lists of
          containers (C(id), C(name), C(service)) that stop or start together; C(run_worker) carries C(worker).
      type: list
      elements: dict
    stop_budget:
      description: Seconds the stop step may take at most (each level's longest grace period plus a margin).
      type: int
    start_budget:
      description: Seconds the start step may take at most.
      type: int
    deadline:
      description: The maximum downtime in seconds.
      type: int
    preflight:
      description: The checks, each with C(name), C(object), C(ok) and C(message).
      type: list
      elements: dict
    ok:
      description: Whether every preflight check passed.
      type: bool
  sample:
    run_id: 5f0c2a7e9b1d4c3a8e6f0a1b2c3d4e5f
    job: nightly-backup
    stack: shop
    deadline: 3690
    ok: true
job:
  description: The job after the play's overrides, in the format of M(bosun.compose.job_info)'s RV(bosun.compose.job_info#module:jobs).
  returned: when the job was found
  type: dict
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
        )
    result = dict(changed=False, plan=plan.to_dict(), job=job.to_dict())
    if not plan.ok:
        module.fail_json(msg="preflight failed: " + "; ".join(c.message for c in plan.failed_checks), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
