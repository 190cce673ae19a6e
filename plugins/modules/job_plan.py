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
  - The plan is the single source of truth; M(bosun.compose.job_run) runs exactly these steps, in this order.
    C(run_hooks) of phase C(pre) (the job's C(pre) hooks, in the running stack, in stop order);
    C(stop_containers) (the containers of the stop scope, in stop order, grouped by dependency level - containers
    of one level stop in parallel - each with its action, V(stop), or V(pause) with stop mode V(pause));
    C(run_worker) (image, command, environment names with secret values hidden, mounts, network, user, timeout);
    C(start_containers) (the exact reverse, or the unpause) or, with O(keep_stopped), C(keep_stopped) (what is
    left stopped on purpose); C(run_hooks) of phase C(post) (run when the run did not fail) and of phase C(error)
    (run when it failed); C(run_after) (the after-phase, a second one-shot container with the stack up); and
    C(run_hooks) of phase C(finally) (always). A C(run_hooks) or C(run_after) step is there only when the job has
    it; with O(keep_stopped) there are no C(post) or C(error) hooks and no after-phase.
  - The plan names the stop scope and the stop mode, what stops and what stays up (RV(plan.stays_up)), and each
    phase's hooks (RV(plan.hooks)).
  - The plan carries the deadline, the maximum downtime (stop budget + worker timeout and grace + start budget),
    and RV(plan.max_duration), the bound of the whole run - the deadline plus every hook's timeout and the
    after-phase's.
  - Preflight checks, before anything stops, that the job is valid and enabled, the worker image (and the
    after-phase's) is present (or pulls it with O(pull=missing)), every attached volume exists, the stack has running
    containers, the container of each C(pre) hook is running, and no other live run holds the stack. The task fails
    when a check fails, naming the object; the plan is still returned.
author:
  - bosun.compose contributors (@bosun-compose)
extends_documentation_fragment:
  - bosun.compose.docker
  - bosun.compose.docker.attributes
  - bosun.compose.job
  - bosun.compose.run_state
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

- name: Plan a migration that leaves the stack stopped, and show what stays stopped and what stays up
  bosun.compose.job_plan:
    name: migrate-to-v2
    project: shop
    keep_stopped: true
  register: migration

- name: Show the stop scope and what the migration leaves alone
  ansible.builtin.debug:
    msg:
      - "scope {{ migration.plan.stop_scope }}, mode {{ migration.plan.stop_mode }}"
      - "stays up: {{ migration.plan.stays_up | map(attribute='name') | join(', ') }}"
      - "pre hooks: {{ migration.plan.hooks.pre | map(attribute='container.name') | join(', ') }}"
      - "the whole run takes at most {{ migration.plan.max_duration }} s"

- name: Plan the backup with only the writers of its volumes paused instead of the whole stack stopped
  bosun.compose.job_plan:
    name: nightly-backup
    project: shop
    job:
      stop_scope: writers
      stop_mode: pause

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
      description:
        - The steps in run order - V(run_hooks) of phase C(pre), V(stop_containers), V(run_worker), V(start_containers)
          (or V(keep_stopped) with O(keep_stopped)), V(run_hooks) of phase C(post), V(run_hooks) of phase C(error),
          V(run_after), V(run_hooks) of phase C(finally).
        - The stop, worker and start (or keep) steps are always there; a C(run_hooks) step only when the job has hooks
          of its phase, C(run_after) only with an after-phase. With O(keep_stopped) there are no C(post) or C(error)
          hooks and no after-phase. The run takes either the C(post) or the C(error) step, after the restart.
      type: list
      elements: dict
      contains:
        type:
          description: V(run_hooks), V(stop_containers), V(run_worker), V(start_containers), V(keep_stopped) or V(run_after).
          type: str
          sample: stop_containers
        description:
          description: The step in words.
          type: str
          sample: stop 2 container(s) of stack 'shop' in 2 level(s) (scope stack)
        timeout:
          description:
            - Seconds the step may take - the start timeout in C(start_containers), the sum of its hooks' timeouts in
              C(run_hooks); null for the other steps, whose bounds are RV(plan.stop_budget) and the C(timeout) of the
              worker or the after-phase.
          type: int
          sample: 60
        when:
          description: Only in C(run_hooks) and C(run_after) steps. When the step runs, in words.
          type: str
          sample: after the restart, when the run succeeded
        phase:
          description: Only in C(run_hooks) steps. The phase, V(pre), V(post), V(error) or V(finally).
          type: str
          sample: pre
        hooks:
          description:
            - Only in C(run_hooks) steps. The phase's hooks in run order - C(pre) hooks in stop order (dependents
              first), the others in start order (dependencies first); ties by container name.
          type: list
          elements: dict
          contains:
            phase:
              description: The phase, V(pre), V(post), V(error) or V(finally).
              type: str
              sample: pre
            container:
              description: The container the hook is exec'd in, the one that carries its C(bosun.job.hook.<phase>) label.
              type: dict
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
            command:
              description: The command as a list of arguments (C(bosun.job.hook.<phase>)).
              type: list
              elements: str
              sample: [pg_dump, -U, shop, -f, /backup/shop.sql, shop]
            user:
              description: The user it runs as (C(bosun.job.hook.<phase>.user)); null means the container's own.
              type: str
              sample: postgres
            timeout:
              description: Seconds it may run (C(bosun.job.hook.<phase>.timeout), default 300).
              type: int
              sample: 300
            on_error:
              description:
                - Only for C(pre) hooks (C(bosun.job.hook.pre.on-error)). V(abort) - a failure or timeout ends the run with
                  outcome V(hook_failed) before anything stops - or V(continue).
              type: str
              sample: abort
        levels:
          description:
            - Only in C(stop_containers), C(start_containers) and C(keep_stopped) steps. The containers by dependency
              level, each level a list of containers that stop or start together; stop levels run dependents first,
              start levels (and the levels left stopped) dependencies first.
            - Each container is C(id), C(name), C(service), and C(state) (V(restarting) or V(paused)) for one that
              is up but not running; the run returns it to that state.
            - In C(stop_containers) each container also has C(action), V(stop) or V(pause) - how it is taken down. With
              stop mode V(pause) running containers are paused, crash-looping (C(restarting)) ones stopped, and ones
              paused already left out (they are in RV(plan.stays_up)).
          type: list
          elements: list
          sample:
            - [{id: 4f1c..., name: shop-app-1, service: app, action: stop}]
            - [{id: 9b2e..., name: shop-db-1, service: db, action: stop}]
        restart_policies:
          description:
            - Only in C(stop_containers). The stop-set containers (by id) whose restart policy the run sets to
              V(always) before the first stop, so that a daemon restart or a reboot while they are down starts them
              again; each with the policy it has now (C(name), C(max_retries)), given back once it runs again.
              Containers that have V(always) already, or were started with C(--rm), are not listed.
          type: dict
          returned: when the run changes a restart policy
          sample: {4f1c...: {name: unless-stopped, max_retries: 0}}
        worker:
          description:
            - Only in the C(run_worker) and C(run_after) steps. The spec of the worker or of the after-phase, as
              M(bosun.compose.worker) returns it in RV(bosun.compose.worker#module:spec) (C(name), C(image),
              C(image_id), C(command), C(env) with secret values masked, C(secret_env_names), C(mounts), C(network),
              C(user), C(timeout), C(stop_grace), C(stack), C(labels), C(job), C(run_id)), plus C(role) - V(worker),
              or V(after) for the after-phase, named C(bosun-after-<job>-<first 8 of run_id>).
          type: dict
          sample:
            name: bosun-worker-nightly-backup-5f0c2a7e
            image: backup-tools:1.4
            command: [sh, -c, "tar -C /mnt/data -cf /mnt/backup/db.tar ."]
            mounts: [{volume: shop_data, path: /mnt/data, mode: ro}, {volume: shop_backup, path: /mnt/backup, mode: rw}]
            timeout: 1800
            role: worker
    stop_budget:
      description: Seconds the stop step may take at most (each level's longest grace period, 0 for a pause, plus a margin).
      type: int
      sample: 22
    start_budget:
      description: Seconds the start step may take at most.
      type: int
      sample: 60
    deadline:
      description: The maximum downtime in seconds (stop budget + worker timeout and grace + start budget).
      type: int
      sample: 1882
    max_duration:
      description:
        - The longest the whole run may take, in seconds - the deadline plus the timeouts (and a margin for stopping
          one that outlives it) of the C(pre) hooks, of the C(post) or C(error) hooks (the longer of the two), of the
          C(finally) hooks, and the after-phase's timeout and grace.
        - The run's lease on the daemon expires 60 seconds after it; the role C(bosun.compose.run_job) derives its
          C(async) limit from it.
      type: int
      sample: 5509
    stop_scope:
      description:
        - What the run stops (C(bosun.job.stop-scope), or the override) - V(stack) every running container of the stack,
          V(attached) those mounting one of the job's volumes, V(writers) those mounting one read-write, V(none)
          nothing; with V(attached) and V(writers) also every container that depends on a chosen one.
      type: str
      sample: stack
    stop_mode:
      description:
        - How the stop scope goes down (C(bosun.job.stop-mode), or the override), V(stop) or V(pause) (C(docker pause),
          then unpause). With O(keep_stopped) always V(stop) - a stack kept down is stopped, never left frozen.
      type: str
      sample: stop
    stays_up:
      description: The up containers of the stack that the stop scope leaves alone, sorted by name; the run never touches them.
      type: list
      elements: dict
      sample: [{id: 77dd..., name: shop-cache-1, service: cache, state: running}]
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
          description: The container's state when the plan was made (C(running), C(restarting), C(paused)).
          type: str
          sample: running
    keep_stopped:
      description: Whether the run leaves the stop-set stopped on purpose (O(keep_stopped)).
      type: bool
      sample: false
    hooks:
      description:
        - The hooks the run will run, by phase, each list in run order (as in the C(run_hooks) steps). A phase
          without hooks, or one that the run skips (C(post) and C(error) with O(keep_stopped)), has an empty list.
      type: dict
      contains:
        pre:
          description: The C(pre) hooks, in stop order, run in the running stack before anything stops.
          type: list
          elements: dict
          contains:
            phase:
              description: The phase, V(pre), V(post), V(error) or V(finally).
              type: str
              sample: pre
            container:
              description: The container the hook is exec'd in, the one that carries its C(bosun.job.hook.<phase>) label.
              type: dict
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
            command:
              description: The command as a list of arguments (C(bosun.job.hook.<phase>)).
              type: list
              elements: str
              sample: [pg_dump, -U, shop, -f, /backup/shop.sql, shop]
            user:
              description: The user it runs as (C(bosun.job.hook.<phase>.user)); null means the container's own.
              type: str
              sample: postgres
            timeout:
              description: Seconds it may run (C(bosun.job.hook.<phase>.timeout), default 300).
              type: int
              sample: 300
            on_error:
              description:
                - Only for C(pre) hooks (C(bosun.job.hook.pre.on-error)). V(abort) - a failure or timeout ends the run with
                  outcome V(hook_failed) before anything stops - or V(continue).
              type: str
              sample: abort
        post:
          description: The C(post) hooks, in start order, run after the restart when the run succeeded (or was V(skipped)).
          type: list
          elements: dict
          contains:
            phase:
              description: The phase, V(pre), V(post), V(error) or V(finally).
              type: str
              sample: pre
            container:
              description: The container the hook is exec'd in, the one that carries its C(bosun.job.hook.<phase>) label.
              type: dict
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
            command:
              description: The command as a list of arguments (C(bosun.job.hook.<phase>)).
              type: list
              elements: str
              sample: [pg_dump, -U, shop, -f, /backup/shop.sql, shop]
            user:
              description: The user it runs as (C(bosun.job.hook.<phase>.user)); null means the container's own.
              type: str
              sample: postgres
            timeout:
              description: Seconds it may run (C(bosun.job.hook.<phase>.timeout), default 300).
              type: int
              sample: 300
            on_error:
              description:
                - Only for C(pre) hooks (C(bosun.job.hook.pre.on-error)). V(abort) - a failure or timeout ends the run with
                  outcome V(hook_failed) before anything stops - or V(continue).
              type: str
              sample: abort
        error:
          description: The C(error) hooks, in start order, run after the restart when the run failed.
          type: list
          elements: dict
          contains:
            phase:
              description: The phase, V(pre), V(post), V(error) or V(finally).
              type: str
              sample: pre
            container:
              description: The container the hook is exec'd in, the one that carries its C(bosun.job.hook.<phase>) label.
              type: dict
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
            command:
              description: The command as a list of arguments (C(bosun.job.hook.<phase>)).
              type: list
              elements: str
              sample: [pg_dump, -U, shop, -f, /backup/shop.sql, shop]
            user:
              description: The user it runs as (C(bosun.job.hook.<phase>.user)); null means the container's own.
              type: str
              sample: postgres
            timeout:
              description: Seconds it may run (C(bosun.job.hook.<phase>.timeout), default 300).
              type: int
              sample: 300
            on_error:
              description:
                - Only for C(pre) hooks (C(bosun.job.hook.pre.on-error)). V(abort) - a failure or timeout ends the run with
                  outcome V(hook_failed) before anything stops - or V(continue).
              type: str
              sample: abort
        finally:
          description: The C(finally) hooks, in start order, run last whatever the outcome.
          type: list
          elements: dict
          contains:
            phase:
              description: The phase, V(pre), V(post), V(error) or V(finally).
              type: str
              sample: pre
            container:
              description: The container the hook is exec'd in, the one that carries its C(bosun.job.hook.<phase>) label.
              type: dict
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
            command:
              description: The command as a list of arguments (C(bosun.job.hook.<phase>)).
              type: list
              elements: str
              sample: [pg_dump, -U, shop, -f, /backup/shop.sql, shop]
            user:
              description: The user it runs as (C(bosun.job.hook.<phase>.user)); null means the container's own.
              type: str
              sample: postgres
            timeout:
              description: Seconds it may run (C(bosun.job.hook.<phase>.timeout), default 300).
              type: int
              sample: 300
            on_error:
              description:
                - Only for C(pre) hooks (C(bosun.job.hook.pre.on-error)). V(abort) - a failure or timeout ends the run with
                  outcome V(hook_failed) before anything stops - or V(continue).
              type: str
              sample: abort
    after:
      description:
        - The after-phase container's spec, in the format of the C(worker) of the C(run_worker) step, with C(role)
          V(after); null when the job has no after-phase (C(bosun.job.after.command)) or with O(keep_stopped).
      type: dict
      sample:
        name: bosun-after-nightly-backup-5f0c2a7e
        image: backup-tools:1.4
        command: [restic, check]
        timeout: 3600
        role: after
    preflight:
      description:
        - The checks made before anything stops, in order - the job enabled and its labels valid (only when they
          fail), the stack, the allowed images, the worker image (and the after-phase's, when it differs), each
          volume, each C(pre) hook's container, the stop scope when it chooses nothing (informational, it passes),
          the network of each container of the stop-set, the lease.
      type: list
      elements: dict
      contains:
        name:
          description:
            - The check, V(enabled), V(labels), V(graph), V(stack), V(allowed_images), V(image), V(volume), V(hook),
              V(scope), V(network), V(max_duration), V(systemd) or V(lease).
          type: str
          sample: volume
        object:
          description: What was checked (the job, a container, the stack, an image or a volume name).
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
    max_duration: 4602
    stop_scope: stack
    stop_mode: stop
    keep_stopped: false
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
    stop_scope:
      description:
        - What a run stops (C(bosun.job.stop-scope), default V(stack)) - V(stack), V(attached), V(writers) or V(none).
      type: str
      sample: stack
    stop_mode:
      description: How a run takes the stop scope down (C(bosun.job.stop-mode), default V(stop)), V(stop) or V(pause).
      type: str
      sample: stop
    hooks:
      description:
        - The job's hooks, from the C(bosun.job.hook.<phase>) labels of its member containers (one per container and
          phase, never merged), by container name, then phase.
      type: list
      elements: dict
      contains:
        phase:
          description: The phase, V(pre), V(post), V(error) or V(finally).
          type: str
          sample: pre
        container:
          description: The container the hook is exec'd in, the one that carries its C(bosun.job.hook.<phase>) label.
          type: dict
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
        command:
          description: The command as a list of arguments (C(bosun.job.hook.<phase>)).
          type: list
          elements: str
          sample: [pg_dump, -U, shop, -f, /backup/shop.sql, shop]
        user:
          description: The user it runs as (C(bosun.job.hook.<phase>.user)); null means the container's own.
          type: str
          sample: postgres
        timeout:
          description: Seconds it may run (C(bosun.job.hook.<phase>.timeout), default 300).
          type: int
          sample: 300
        on_error:
          description:
            - Only for C(pre) hooks (C(bosun.job.hook.pre.on-error)). V(abort) - a failure or timeout ends the run with
              outcome V(hook_failed) before anything stops - or V(continue).
          type: str
          sample: abort
    after:
      description:
        - The after-phase (C(bosun.job.after.*)), a second one-shot container that runs once the stack is up again;
          null when the job has no C(bosun.job.after.command).
      type: dict
      contains:
        command:
          description: The command as a list of arguments (C(bosun.job.after.command)).
          type: list
          elements: str
          sample: [restic, check]
        image:
          description: The image (C(bosun.job.after.image)), default the worker image.
          type: str
          sample: restic/restic:0.17.3
        timeout:
          description: Its maximum run time in seconds (C(bosun.job.after.timeout), default 3600).
          type: int
          sample: 3600
        env:
          description: Its environment variables (C(bosun.job.after.env.<NAME>)), over the worker's, which it gets too.
          type: dict
          sample: {RESTIC_CHECK_SUBSET: 5%}
        user:
          description: The user it runs as (C(bosun.job.after.user)); null means the worker's.
          type: str
          sample: null
        network:
          description: Its network (C(bosun.job.after.network)); null means the worker's.
          type: str
          sample: null
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

from ansible_collections.bosun.compose.plugins.module_utils._module import (
    connect,
    guard,
    job_argument_spec,
    state_dir_spec,
)
from ansible_collections.bosun.compose.plugins.module_utils._planner import plan_job, resolve_job
from ansible_collections.bosun.compose.plugins.module_utils._state import default_state_dir


def main() -> None:
    module = AnsibleModule(
        argument_spec=job_argument_spec(run_id=dict(type="str"), **state_dir_spec()), supports_check_mode=True
    )
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
            max_duration=p["max_duration"],
            state_dir=p["state_dir"] or default_state_dir(),
        )
    result = dict(changed=False, plan=plan.to_dict(), job=job.to_dict())
    if not plan.ok:
        module.fail_json(msg="preflight failed: " + "; ".join(c.message for c in plan.failed_checks), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
