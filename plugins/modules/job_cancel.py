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
  description: The lease of the run that held the stack (the one cancelled, or in check mode the one that would be).
  returned: when a run held the stack
  type: dict
  contains:
    project:
      description: The stack.
      type: str
      sample: shop
    run_id:
      description: The run holding it.
      type: str
      sample: 3f2a9c1e5d0b4c7a8e6f1a2b3c4d5e6f
    job:
      description: The job of that run; empty for a lease a M(bosun.compose.stack) V(stopped) task wrote.
      type: str
      sample: nightly-backup
    owner:
      description: The process that holds the lease.
      type: dict
      contains:
        hostname:
          description: The Docker host's hostname.
          type: str
          sample: docker01
        boot_id:
          description: The host's boot id (C(/proc/sys/kernel/random/boot_id)); a different one means the owner died in a reboot.
          type: str
          sample: a5e544e2-a47d-4e5b-b230-c0a10eac4e54
        pid:
          description: The owner's process id; null for a lease that M(bosun.compose.stack) wrote (no process stays).
          type: int
          sample: 41237
        pid_start:
          description: The owner's process start time (clock ticks since boot), so a reused pid is not taken for it.
          type: int
          sample: 9126354
    expires:
      description: When the lease expires (Unix seconds).
      type: int
      sample: 1796130367
    expires_iso:
      description: When the lease expires (UTC, ISO 8601).
      type: str
      sample: "2026-12-01T13:06:07+00:00"
    created:
      description: When the lease was written (Unix seconds).
      type: int
      sample: 1796126767
    stop_set:
      description:
        - The containers the run stopped (or paused), in stop order; recovery starts (or unpauses) exactly these.
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
        state:
          description: The container's state before the run (C(running), C(restarting), C(paused)); the recovery returns it to it.
          type: str
          sample: running
        action:
          description: How the run took it down, V(stop) or V(pause).
          type: str
          sample: stop
        restart_policy:
          description:
          - The restart policy the container had before the run, which the run set to V(always) while it is down (so that
            a daemon restart or a reboot starts it again) and gives back once it runs again (or a recovery does). Absent
            when the run did not change it (it had V(always) already).
          type: dict
          returned: when the run changed it
          contains:
            name:
              description: V(no), V(on-failure) or V(unless-stopped).
              type: str
              sample: unless-stopped
            max_retries:
              description: The retry limit of V(on-failure); 0 otherwise.
              type: int
              sample: 0
    stop_budget:
      description: Seconds the run's stop step may take; recovery waits that long for a stop left in progress.
      type: int
      sample: 22
    hooks:
      description:
        - The run's pending C(error) and C(finally) hooks, in run order; a recovery of the stack runs them after the
          restart, with C(BOSUN_OUTCOME=interrupted). Empty for a lease a M(bosun.compose.stack) V(stopped) task wrote.
      type: list
      elements: dict
      contains:
        phase:
          description: V(error) or V(finally).
          type: str
          sample: finally
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
        command:
          description: The command as a list of arguments.
          type: list
          elements: str
          sample: [rm, -f, /srv/maintenance]
        user:
          description: The user it runs as; null means the container's own.
          type: str
          sample: null
        timeout:
          description: Seconds it may run.
          type: int
          sample: 300
    container:
      description: The lease container on the Docker daemon (never started).
      type: str
      sample: bosun-lease-shop
    journal:
      description:
      - The lease's copy on the Docker host (C(<state_dir>/leases/<project>.json)), which outlives a pruned lease
        container; null when the run had none (a M(bosun.compose.stack) V(stopped) task writes none).
      type: str
      sample: /var/lib/bosun/leases/shop.json
    source:
      description: Where the lease was read, V(daemon) (the lease container) or V(journal) (its container was pruned).
      type: str
      sample: daemon
run:
  description: The record the cancelled run left, when it could be read (the run's newest record in O(state_dir)).
  returned: when the run released the stack
  type: dict
  contains:
    run_id:
      description: The run id.
      type: str
      sample: e7926892a9ba45978e81e45a9044bb17
    job:
      description: The job name.
      type: str
      sample: nightly-backup
    stack:
      description: The stack.
      type: str
      sample: shop
    outcome:
      description: How the run ended, as in M(bosun.compose.job_run)'s RV(bosun.compose.job_run#module:outcome).
      type: str
      sample: success
    message:
      description: A sentence on the outcome and its cause.
      type: str
      sample: job 'nightly-backup' succeeded; stack 'shop' was down 1.7s
    started_at:
      description: When the run started (UTC, ISO 8601).
      type: str
      sample: "2026-12-01T02:30:53.507+00:00"
    finished_at:
      description: When the run ended (UTC, ISO 8601).
      type: str
      sample: "2026-12-01T02:30:55.315+00:00"
    downtime_seconds:
      description: Seconds from the first stop to the end of the restart.
      type: float
      sample: 1.716
    log_path:
      description: The worker's full log on the Docker host; null when it has none.
      type: str
      sample: /var/lib/bosun/logs/nightly-backup/e7926892a9ba45978e81e45a9044bb17.log
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
