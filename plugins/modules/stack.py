#!/usr/bin/python
# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: stack
short_description: Stop a Docker Compose stack for maintenance and start exactly what was stopped
version_added: 0.1.0
description:
  - Stops the running containers of a Compose project in reverse dependency order and starts exactly those
    containers again in dependency order, waiting for health where a container has a healthcheck.
  - Talks to the Docker Engine API only; it never runs C(docker compose). The dependency order comes from the
    labels Compose v2 writes (C(com.docker.compose.depends_on)).
  - Containers of one dependency level stop and start in parallel, so independent services cost one grace
    period, not one each.
  - Before the first container stops, the stop-set and its owner are recorded on the Docker daemon as a lease
    (a never-started container C(bosun-lease-<project>) whose C(bosun.lease.*) labels hold the run id, job,
    owner, expiry and stop-set). The lease survives controller crashes and host reboots, keeps a second run
    off the stack, and lets O(state=started) and O(state=recovered) start exactly what was stopped.
  - Containers that were not running when the stack was stopped (deliberately stopped services, finished
    one-shot containers) are never started.
author:
  - bosun.compose contributors (@bosun-compose)
extends_documentation_fragment:
  - bosun.compose.docker
  - bosun.compose.docker.attributes
  - bosun.compose.run_state
attributes:
  check_mode:
    support: full
    details: Reports what would be stopped or started and touches nothing.
  diff_mode:
    support: full
    details: The diff maps each container name to its state before and after.
  idempotent:
    support: full
options:
  project:
    description:
      - The Compose project name of the stack.
      - Required, except with O(state=recovered) and O(run_id). Without it, the stack is the one whose lease O(run_id)
        holds on this Docker host (its lease container, or with O(state_dir) the journal of a pruned one; see
        RV(project)). No lease of that run means nothing to recover, not a failure.
      - A lease whose labels cannot be read is left alone with a warning when it names another run. The task fails,
        naming its container, label and value, when it names O(run_id), or names no run while no readable lease is
        O(run_id)'s.
    type: str
  state:
    description:
      - V(stopped) records the lease and stops the running containers (all of the project, or O(services) and
        their dependents). Nothing running means no change. A stack held by another run fails the task, naming
        the holder.
      - V(started) starts exactly a stop-set, the one given in O(containers) or else the one recorded by the last
        V(stopped) of the project, then releases the lease. It goes on past failures, reports C(N/M started) and
        fails the task after trying every container if any failed; the lease is then kept so that a later run
        can retry. When it starts the stop-set of a job run's lease, it then runs the pending C(error) and
        C(finally) hooks that lease recorded, before the release (see RV(hooks)).
      - V(recovered) restarts the stop-set of a lease whose owner is dead or whose lease expired, after stopping
        and removing that run's worker containers (and its after-phase container), unpauses what a run with stop
        mode C(pause) froze, runs the dead run's pending C(error) and C(finally) hooks recorded in the lease (with
        C(BOSUN_OUTCOME=interrupted); see RV(recover.hooks)), then releases the lease. It touches nothing while the
        owner is alive, or when O(run_id) names another run than the lease's.
      - After a recovery, when the dead M(bosun.compose.job_run) left a pending record in O(state_dir) (it had a
        ping URL, a webhook URL or a metrics directory), that run's end is sent from it with outcome V(interrupted) -
        the C(/fail) ping, the webhook, the metrics file - see RV(recover.signals). Give the same O(state_dir) as
        the run's. A failure to send is a warning, never a failed task.
    type: str
    choices: [stopped, started, recovered]
    default: stopped
  services:
    description:
      - With O(state=stopped), stop only these services and every service that depends on them, directly or
        transitively; RV(added_services) names the dependents added.
    type: list
    elements: str
  containers:
    description:
      - With O(state=started), the explicit stop-set to start, as container ids, unique id prefixes of at least
        12 characters, or names. Only containers of the project are started.
      - The lease is released when it belongs to O(run_id).
    type: list
    elements: str
  run_id:
    description:
      - The run id recorded in the lease. Default a new random id for V(stopped).
      - With V(started), starting from the lease fails when the lease belongs to another run. Without O(run_id),
        the lease's stop-set is started, unless the lease is held by a live process (for example a job run
        whose worker may be running); then its run id is needed.
      - With V(recovered), recover only this run's lease; without O(project), the stack is the one that holds it.
    type: str
  job:
    description:
      - A label for the lease naming the job that stops the stack, shown to anyone who finds the stack held.
    type: str
  lease_ttl:
    description:
      - Seconds the lease of V(stopped) is valid. After that another run may recover the stack with
        V(recovered). Choose it longer than the whole maintenance window.
    type: int
    default: 3600
  stop_timeout:
    description:
      - Seconds each container gets to stop after SIGTERM before Docker kills it.
      - Default each container's own stop timeout (Compose C(stop_grace_period), else 10 seconds).
    type: int
  start_timeout:
    description:
      - Seconds the whole start gets to bring containers up and wait for their health. When the time is up the
        remaining containers are still started, without waiting, and reported in C(timed_out) of RV(start).
    type: int
    default: 60
notes:
  - The lease is an ordinary stopped container; C(docker container prune) removes it, and with it the record of
    what to start again. It carries no Compose label, so C(docker compose) ignores it.
  - The owner recorded by this module has no process id, because the module ends with its task; only O(lease_ttl)
    tells whether the run is still alive.
  - A playbook C(always) section does not run when ansible-playbook is interrupted; run O(state=recovered)
    (for example at the start of the next run) to restore a stack whose run died.
seealso:
  - module: bosun.compose.job_info
"""

EXAMPLES = r"""
- name: Maintenance window for the shop stack
  block:
    - name: Stop the stack
      bosun.compose.stack:
        project: shop
        state: stopped
        job: nightly-backup
        lease_ttl: 7200
      register: stopped

    - name: Back up while everything is stopped
      ansible.builtin.command: /usr/local/bin/backup-shop
      changed_when: true
  always:
    - name: Start exactly what was stopped
      bosun.compose.stack:
        project: shop
        state: started
        run_id: "{{ stopped.run_id }}"

- name: Stop only the database and what depends on it
  bosun.compose.stack:
    project: shop
    state: stopped
    services: [db]
    stop_timeout: 30

- name: Restore the stack if an earlier run died while holding it
  bosun.compose.stack:
    project: shop
    state: recovered

- name: Restore whatever stack a dead run held, knowing only its run id
  bosun.compose.stack:
    state: recovered
    run_id: "{{ job.run_id }}"
  register: recovered  # recovered.project is the stack, null when no lease of that run was found
"""

RETURN = r"""
project:
  description:
    - The stack, O(project); with V(recovered) and O(run_id) but no O(project), the stack whose lease that run
      holds on this Docker host, null when there is no lease of that run.
  returned: always
  type: str
  sample: shop
run_id:
  description: The run id of the lease written (V(stopped)) or used.
  returned: always
  type: str
  sample: 3f2a9c1e5b7d4a60
stop_set:
  description:
    - The containers recorded to start again (V(stopped)), asked to start (V(started)) or recorded by the lease
      that V(recovered) found, in stop order.
  returned: always
  type: list
  elements: dict
  sample: [{id: 4f1c..., name: shop-web-1, service: web}]
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
      description: Only with V(recovered). The container's state before the run that took it down.
      type: str
      sample: running
    action:
      description: Only with V(recovered). How that run took it down, V(stop) or V(pause).
      type: str
      sample: stop
stopped:
  description: The containers stopped (or, in check mode, that would be), in stop order.
  returned: always
  type: list
  elements: dict
  sample: [{id: 4f1c..., name: shop-web-1, service: web}]
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
added_services:
  description: Services added to O(services) because they depend on them.
  returned: always
  type: list
  elements: str
  sample: [web]
lease:
  description: The lease recorded (V(stopped)) or found (V(started), V(recovered)); null when there is none.
  returned: always
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
released:
  description: Whether the lease was removed.
  returned: always
  type: bool
stop:
  description: The stop result (V(stopped)); null for the other states.
  returned: always
  type: dict
  contains:
    stopped:
      description: The containers stopped, in stop order.
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
    failed:
      description: The containers that could not be stopped; the ones already stopped are started again (rollback).
      type: list
      elements: dict
      contains:
        container:
          description: The container (C(id), C(name), C(service)).
          type: dict
          sample: {id: 4f1c..., name: shop-db-1, service: db}
        error:
          description: Why it could not be stopped or started.
          type: str
          sample: "500 Server Error: driver failed programming external connectivity"
        gone:
          description: Whether the container no longer exists (retrying cannot help).
          type: bool
          sample: false
    skipped:
      description: Planned but left alone (not running any more, in a level after a failed one, or after a cancel).
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
    duration:
      description: Seconds the stop took.
      type: float
      sample: 0.19
    cancelled:
      description: Whether a signal to the module cut the stop short.
      type: bool
      sample: false
    fenced:
      description: Why the stop ended early because this task lost the stack's lease to another run; null normally.
      type: str
      sample: null
start:
  description: The start result (V(started), V(recovered), or the rollback of a failed V(stopped)); null otherwise.
  returned: always
  type: dict
  contains:
    summary:
      description: How many of the containers asked for run now, such as C(3/4 started).
      type: str
      sample: 2/2 started
    started:
      description: The containers started, in start order.
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
    already_running:
      description: The containers that were running already.
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
    failed:
      description: The containers that could not be started.
      type: list
      elements: dict
      contains:
        container:
          description: The container (C(id), C(name), C(service)).
          type: dict
          sample: {id: 4f1c..., name: shop-db-1, service: db}
        error:
          description: Why it could not be stopped or started.
          type: str
          sample: "500 Server Error: driver failed programming external connectivity"
        gone:
          description: Whether the container no longer exists (retrying cannot help).
          type: bool
          sample: false
    unhealthy:
      description: Started, but reported unhealthy by their health check.
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
    timed_out:
      description: Not healthy or not running when the start timeout ran out.
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
    paused:
      description: Containers that were paused before the stop, started and paused again.
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
    unpaused:
      description: Containers that a run with stop mode C(pause) froze, unpaused; they run at once and are not waited for.
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
    restarting:
      description: Containers that were crash-looping (C(restarting)) before the stop, started and left to their restart policy.
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
    duration:
      description: Seconds the start took.
      type: float
      sample: 0.486
hooks:
  description:
    - With V(started) from a job run's lease, the pending C(error) and C(finally) hooks that lease recorded, run
      after the start and before the release, with C(BOSUN_OUTCOME=interrupted), in the format of RV(recover.hooks).
      Empty otherwise; V(recovered) reports its hooks in RV(recover.hooks).
  returned: always
  type: list
  elements: dict
  contains:
    phase:
      description: The phase, V(error) or V(finally).
      type: str
      sample: finally
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
    exit_code:
      description: The hook's exit code; null when it reached none (skipped, timed out, cancelled, or an error).
      type: int
      sample: 0
    timed_out:
      description: Whether it outlived its C(timeout) (then, on a local Engine, it is sent SIGTERM and SIGKILL).
      type: bool
      sample: false
    cancelled:
      description: Whether a cancel (a signal to the module) ended it; only C(pre) hooks can be cancelled.
      type: bool
      sample: false
    skipped:
      description: Why it did not run, such as C(container 'shop-web-1' is exited, not running); null when it ran.
      type: str
      sample: null
    started_at:
      description: When it started (UTC, ISO 8601).
      type: str
      sample: "2026-01-31T02:30:00.118+00:00"
    duration:
      description: Seconds it ran.
      type: float
      sample: 1.284
    output_tail:
      description: Its last output lines (at most 20), stdout and stderr together.
      type: list
      elements: str
      sample: [pg_dump - dumped 12 tables]
    error:
      description: A problem met while running it (the exec could not be created, started or inspected); null if none.
      type: str
      sample: null
    ok:
      description: Whether it ran and exited 0 within its timeout.
      type: bool
      sample: true
    reason:
      description: How it ended, in words.
      type: str
      sample: pre hook in 'shop-db-1' exited with code 0
summary:
  description: One line saying what happened.
  returned: always
  type: str
  sample: 3/3 started
recover:
  description: What V(recovered) did; null for the other states.
  returned: always
  type: dict
  contains:
    action:
      description:
        - V(none) (no lease; without O(project), no lease of O(run_id) on this Docker host), V(in_progress) (the
          lease's owner is alive), V(other_run) (the lease belongs to another run than O(run_id)), V(recovered),
          V(recovered_concurrently) (another recovery of the same lease, running at the same time, did it and released
          the lease) or V(would_recover) (check mode).
      type: str
      sample: recovered
    changed:
      description: Whether anything was started or released.
      type: bool
      sample: true
    message:
      description: What was done, in words.
      type: str
      sample: "stack 'shop' holds no lease: nothing to recover"
    lease:
      description: The lease found, as in RV(lease); null when there was none.
      type: dict
    workers_stopped:
      description: The names of the dead run's workers that were stopped before the restart.
      type: list
      elements: str
      sample: [bosun-worker-nightly-backup-3f2a9c1e]
    start:
      description: The start of the stop-set, as in RV(start); null when nothing was started.
      type: dict
    released:
      description: Whether the lease was removed.
      type: bool
      sample: true
    hooks:
      description:
        - The dead run's pending C(error) and C(finally) hooks (recorded in its lease) that the recovery ran after the
          restart, in order, each with C(BOSUN_OUTCOME=interrupted); a hook whose container is not running is
          skipped. Empty when the lease recorded none, and in check mode (the message counts them).
      type: list
      elements: dict
      contains:
        phase:
          description: The phase, V(error) or V(finally).
          type: str
          sample: finally
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
        exit_code:
          description: The hook's exit code; null when it reached none (skipped, timed out, cancelled, or an error).
          type: int
          sample: 0
        timed_out:
          description: Whether it outlived its C(timeout) (then, on a local Engine, it is sent SIGTERM and SIGKILL).
          type: bool
          sample: false
        cancelled:
          description: Whether a cancel (a signal to the module) ended it; only C(pre) hooks can be cancelled.
          type: bool
          sample: false
        skipped:
          description: Why it did not run, such as C(container 'shop-web-1' is exited, not running); null when it ran.
          type: str
          sample: null
        started_at:
          description: When it started (UTC, ISO 8601).
          type: str
          sample: "2026-01-31T02:30:00.118+00:00"
        duration:
          description: Seconds it ran.
          type: float
          sample: 1.284
        output_tail:
          description: Its last output lines (at most 20), stdout and stderr together.
          type: list
          elements: str
          sample: [pg_dump - dumped 12 tables]
        error:
          description: A problem met while running it (the exec could not be created, started or inspected); null if none.
          type: str
          sample: null
        ok:
          description: Whether it ran and exited 0 within its timeout.
          type: bool
          sample: true
        reason:
          description: How it ended, in words.
          type: str
          sample: pre hook in 'shop-db-1' exited with code 0
    signals:
      description:
        - The dead run's end signals that the recovery sent from the run's pending record in O(state_dir), in
          order - V(metrics), V(ping fail), V(webhook) - each only when the run had that target; empty otherwise,
          and in check mode. A failed one is also a warning. URLs are never shown.
      type: list
      elements: dict
      contains:
        signal:
          description: V(metrics), V(ping fail) or V(webhook).
          type: str
          sample: webhook
        ok:
          description: Whether it was sent (or, for V(metrics), written).
          type: bool
          sample: true
        detail:
          description: What happened, without the URL.
          type: str
          sample: sent (HTTP 200)
        attempts:
          description: How many HTTP attempts it took (0 for V(metrics)).
          type: int
          sample: 1
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
from ansible_collections.bosun.compose.plugins.module_utils._maintenance import (
    WindowResult,
    recover_run,
    recover_stack,
    start_stop_set,
    stop_for_maintenance,
)
from ansible_collections.bosun.compose.plugins.module_utils._model import new_run_id
from ansible_collections.bosun.compose.plugins.module_utils._module import (
    compose_recreator,
    connect,
    docker_argument_spec,
    guard,
    state_dir_spec,
)
from ansible_collections.bosun.compose.plugins.module_utils._stack_control import StackControl
from ansible_collections.bosun.compose.plugins.module_utils._state import default_state_dir


def _check_options(module: AnsibleModule) -> None:
    p = module.params
    if p["project"] is None and not (p["state"] == "recovered" and p["run_id"]):
        module.fail_json(
            msg="project is required, except with state=recovered and run_id "
            f"(got state={p['state']}, run_id={p['run_id']!r})"
        )
    for key in ("lease_ttl", "start_timeout"):
        if p[key] <= 0:
            module.fail_json(msg=f"{key} {p[key]!r} is not valid; allowed: a positive number of seconds")
    if p["stop_timeout"] is not None and p["stop_timeout"] < 0:
        module.fail_json(msg=f"stop_timeout {p['stop_timeout']!r} is not valid; allowed: zero or more seconds")
    if p["services"] and p["state"] != "stopped":
        module.fail_json(msg=f"services is only allowed with state=stopped, not state={p['state']}")
    if p["containers"] is not None and p["state"] != "started":
        module.fail_json(msg=f"containers is only allowed with state=started, not state={p['state']}")


def main() -> None:
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            project=dict(type="str"),
            state=dict(type="str", choices=["stopped", "started", "recovered"], default="stopped"),
            services=dict(type="list", elements="str"),
            containers=dict(type="list", elements="str"),
            run_id=dict(type="str"),
            job=dict(type="str"),
            lease_ttl=dict(type="int", default=3600),
            stop_timeout=dict(type="int"),
            start_timeout=dict(type="int", default=60),
            **state_dir_spec(),
        ),
        supports_check_mode=True,
    )
    _check_options(module)
    p = module.params
    result: WindowResult
    # An interrupted controller reaches the module as SIGTERM or SIGHUP: a stop in progress is rolled back.
    with guard(module, changed=False, project=p["project"]), Cancellation() as cancel:
        api = connect(module)
        if p["project"] is None:  # state=recovered with run_id (_check_options): the stack its lease is on
            result = recover_run(
                api,
                p["run_id"],
                start_timeout=p["start_timeout"],
                check=module.check_mode,
                state_dir=p["state_dir"] or default_state_dir(),
                recreator=compose_recreator(module, api),
            )
        elif p["state"] == "stopped":
            result = stop_for_maintenance(
                StackControl(api, p["project"]),
                run_id=p["run_id"] or new_run_id(),
                job=p["job"] or "",
                lease_ttl=p["lease_ttl"],
                services=p["services"],
                stop_timeout=p["stop_timeout"],
                start_timeout=p["start_timeout"],
                check=module.check_mode,
                cancel=cancel.event,
            )
        elif p["state"] == "started":
            result = start_stop_set(
                StackControl(api, p["project"]),
                run_id=p["run_id"],
                containers=p["containers"],
                start_timeout=p["start_timeout"],
                check=module.check_mode,
            )
        else:
            result = recover_stack(
                StackControl(api, p["project"]),
                run_id=p["run_id"],
                start_timeout=p["start_timeout"],
                check=module.check_mode,
                state_dir=p["state_dir"] or default_state_dir(),
                recreator=compose_recreator(module, api),
            )
    for warning in result.warnings:
        module.warn(warning)
    if result.error:
        module.fail_json(msg=result.error, **result.to_dict())
    module.exit_json(**result.to_dict())


if __name__ == "__main__":
    main()
