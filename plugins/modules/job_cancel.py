#!/usr/bin/python
# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: job_cancel
short_description: Cancel the job run that holds a stack
version_added: 0.1.0
description:
  - Finds the run holding the stack through its lease on the Docker daemon and sends SIGTERM to that run's
    M(bosun.compose.job_run) process. The run then stops its worker (SIGTERM, grace, SIGKILL), starts the stack
    again and ends with outcome V(cancelled).
  - Cancelling an AWX job or killing C(ansible-playbook) only stops the controller; the transaction goes on,
    on the Docker host, until the worker ends. This module is the way to stop it from another play or AWX job.
  - Waits until the run has released the stack, up to O(wait) seconds.
  - The run's process must run on the host this module runs on (the Docker host the run was started on).
author:
  - bosun.compose contributors (@bosun-compose)
extends_documentation_fragment:
  - bosun.compose.docker
  - bosun.compose.docker.attributes
  - bosun.compose.run_state
attributes:
  check_mode:
    support: full
    details: Reports which process would be signalled; sends nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: With no run holding the stack, nothing is done and C(changed) is false.
options:
  project:
    description: The stack (Compose project) whose run to cancel.
    type: str
    required: true
  run_id:
    description: Cancel only this run; another run holding the stack is left alone.
    type: str
  wait:
    description: Seconds to wait for the run to restart the stack and release it.
    type: int
    default: 120
seealso:
  - module: bosun.compose.job_run
  - module: bosun.compose.stack
"""

EXAMPLES = r"""
- name: Stop the backup that is running on the shop stack
  bosun.compose.job_cancel:
    project: shop
  register: cancelled

- name: Show how it ended
  ansible.builtin.debug:
    msg: "{{ cancelled.run.outcome | default(cancelled.message) }}"
"""

RETURN = r"""
action:
  description: V(none) (no run holds the stack), V(other_run), V(would_cancel) (check mode) or V(cancelled).
  returned: always
  type: str
message:
  description: What was done.
  returned: always
  type: str
lease:
  description: The lease of the cancelled run (C(run_id), C(job), C(owner), C(stop_set), ...).
  returned: when a run held the stack
  type: dict
run:
  description: The record of the cancelled run (C(outcome), C(message), C(downtime_seconds), ...), when it could be read.
  returned: when the run released the stack
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

from ansible_collections.bosun.compose.plugins.module_utils._cancel import cancel_run
from ansible_collections.bosun.compose.plugins.module_utils._module import (
    connect,
    docker_argument_spec,
    guard,
    state_dir_spec,
)
from ansible_collections.bosun.compose.plugins.module_utils._state import default_state_dir


def main() -> None:
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            project=dict(type="str", required=True),
            run_id=dict(type="str"),
            wait=dict(type="int", default=120),
            **state_dir_spec(),
        ),
        supports_check_mode=True,
    )
    p = module.params
    with guard(module):
        result = cancel_run(
            connect(module),
            p["project"],
            run_id=p["run_id"],
            wait=p["wait"],
            check=module.check_mode,
            state_dir=p["state_dir"] or default_state_dir(),
        )
    module.exit_json(**result.to_dict())


if __name__ == "__main__":
    main()
