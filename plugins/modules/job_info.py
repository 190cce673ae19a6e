#!/usr/bin/python
# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: job_info
short_description: Discover the maintenance jobs declared with labels on a Docker host
version_added: 0.1.0
description:
  - Lists the jobs that Compose stacks on the Docker host declare with C(bosun.job.*) container labels and
    C(bosun.job.attach) volume labels (the label contract v1, see
    R(the label contract guide,ansible_collections.bosun.compose.docsite.labels)).
  - Each job is returned normalized (stack, member containers, worker image, command, environment, user,
    network, mounts, timeouts in seconds, schedule, overlap policy, stop scope and mode, hooks, after-phase)
    together with its problems.
  - Bad labels never fail the task; each one is reported in RV(problems) naming the container or volume,
    the label, the offending value and what is allowed. A job with an error problem is not runnable.
  - A job is identified by its name and its stack; the same name in two stacks is two jobs (with a warning).
  - Stopped containers count, so a job is found even while its stack is down.
  - Discovery costs one container list and one volume list, both filtered by label on the daemon side, and one
    more list for the leases.
  - RV(engine) says whether the host runs Docker or Podman, and which version.
author:
  - bosun.compose contributors (@bosun-compose)
extends_documentation_fragment:
  - bosun.compose.docker
  - bosun.compose.docker.attributes
  - bosun.compose.run_state
attributes:
  check_mode:
    support: full
    details: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: N/A
    details: The module changes nothing.
  idempotent:
    support: full
options:
  name:
    description:
      - Return only the job of this name.
      - No job of that name is not an error; RV(jobs) is then empty.
    type: str
  project:
    description:
      - Return only jobs that target this stack (the Compose project name, or the C(bosun.stack) label).
    type: str
  history:
    description:
      - How many of each job's newest runs on this host to return in RV(jobs[].history), from the run records
        in O(state_dir).
      - V(0) returns none. A negative value fails the task.
    type: int
    default: 1
  timezone:
    description:
      - The IANA time zone, such as V(Europe/Berlin), the schedules are read in for RV(jobs[].next_due).
    type: str
    default: UTC
notes:
  - Container labels (Compose C(services.<svc>.labels)) C(bosun.job.name), C(bosun.job.enabled),
    C(bosun.job.worker.image), C(bosun.job.worker.command), C(bosun.job.worker.env.<NAME>),
    C(bosun.job.worker.user), C(bosun.job.worker.network), C(bosun.job.timeout), C(bosun.job.stop-timeout),
    C(bosun.job.start-timeout), C(bosun.job.schedule), C(bosun.job.overlap-policy), C(bosun.stack),
    C(bosun.job.stop-scope), C(bosun.job.stop-mode).
  - Hook labels, per member container and never merged - C(bosun.job.hook.<phase>) (phase C(pre), C(post), C(error)
    or C(finally)), C(bosun.job.hook.<phase>.user), C(bosun.job.hook.<phase>.timeout) and
    C(bosun.job.hook.pre.on-error). Only containers of the job's own stack can carry hooks.
  - After-phase labels C(bosun.job.after.command) (it enables the after-phase), C(bosun.job.after.image),
    C(bosun.job.after.timeout), C(bosun.job.after.env.<NAME>), C(bosun.job.after.user), C(bosun.job.after.network);
    any of them without C(bosun.job.after.command) is a warning.
  - Volume labels (Compose C(volumes.<v>.labels)) C(bosun.job.attach), C(bosun.job.mount.path),
    C(bosun.job.mount.mode).
  - Durations are V(90s), V(30m), V(1h30m) or a whole number of seconds; zero, negative and over 7 days are errors.
  - Containers started by this collection as workers carry C(bosun.worker.job) and are never job members.
seealso:
  - module: bosun.compose.job_plan
"""

EXAMPLES = r"""
- name: List every job on the Docker host
  bosun.compose.job_info:
  register: found

- name: Show jobs that cannot run, and why
  ansible.builtin.debug:
    msg: "{{ found.problems | selectattr('severity', 'equalto', 'error') | map(attribute='message') | list }}"

- name: Show the stacks left down by a run that died (bosun.compose.stack state=recovered restarts them)
  ansible.builtin.debug:
    msg: "{{ found.leases | rejectattr('owner_alive') | map(attribute='project') | list }}"

- name: Show the last five runs of one job, newest first
  bosun.compose.job_info:
    name: nightly-backup
    project: shop
    history: 5
  register: backup_runs

- name: Print their outcomes and downtimes
  ansible.builtin.debug:
    msg: "{{ backup_runs.jobs[0].history | map(attribute='outcome') | zip(backup_runs.jobs[0].history
             | map(attribute='downtime_seconds')) | list }}"

- name: Look up one job of one stack on a remote engine
  bosun.compose.job_info:
    name: nightly-backup
    project: shop
    docker_host: tcp://docker1.example.com:2376
    validate_certs: true
    ca_path: /etc/docker/certs/ca.pem
  register: backup
"""

RETURN = r"""
jobs:
  description: The jobs found, sorted by name.
  returned: always
  type: list
  elements: dict
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
      description: The job's cron schedule (C(bosun.job.schedule)), run by the playbook C(bosun.compose.run_due).
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
      description: This job's problems, in the format of RV(problems).
      type: list
      elements: dict
    last_run:
      description:
        - The record of the job's newest run on this host; null when it never ran or the state directory is not readable.
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
        duration_seconds:
          description: Seconds the whole run took, hooks and after-phase included.
          type: float
          sample: 2.904
        log_path:
          description: The worker's full log on the Docker host; null when it has none.
          type: str
          sample: /var/lib/bosun/logs/nightly-backup/e7926892a9ba45978e81e45a9044bb17.log
        provenance:
          description:
            - What the run ran against, as M(bosun.compose.job_run) returns it in
              RV(bosun.compose.job_run#module:provenance); missing in the records of runs before this field existed.
          type: dict
    history:
      description:
        - The job's newest runs on this host, at most O(history) of them, newest first (by C(started_at)), from the run
          records; empty when it never ran or the state directory is not readable.
        - RV(jobs[].last_run) is the full record of the newest one.
      type: list
      elements: dict
      contains:
        run_id:
          description: The run id.
          type: str
          sample: e7926892a9ba45978e81e45a9044bb17
        outcome:
          description: How the run ended, as in M(bosun.compose.job_run)'s RV(bosun.compose.job_run#module:outcome).
          type: str
          sample: success
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
        duration_seconds:
          description: Seconds the whole run took, hooks and after-phase included.
          type: float
          sample: 2.904
    next_due:
      description:
        - The next time the job's schedule fires, in O(timezone) (ISO 8601 with the zone's offset); null without a
          schedule or when it matches no date.
        - Whether the playbook C(bosun.compose.run_due) runs it then (first sight, circuit breaker) says
          M(bosun.compose.job_due).
      type: str
      sample: "2026-12-02T02:30:00+01:00"
leases:
  description:
    - The stacks held by a run right now, from the leases on the Docker daemon, with what each run stopped; also
      each lease whose container was pruned but whose journal is in O(state_dir) (RV(leases[].source) V(journal)).
    - A lease whose owner is not alive marks a stack left down by a run that died; M(bosun.compose.stack) with
      O(bosun.compose.stack#module:state=recovered) (or the C(bosun.compose.recover) playbook) restarts it.
    - A lease whose labels cannot be read is in RV(problems) instead; the other leases are listed all the same.
  returned: always
  type: list
  elements: dict
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
    owner_alive:
      description: Whether the owner may still be running; false means the stack waits for recovery.
      type: bool
      sample: true
problems:
  description:
    - Every validation error and warning found, those of the listed jobs and those that belong to no job
      (for example a volume attached to a job that no container declares).
    - Also each lease whose labels cannot be read (of O(project) only, when given), as an V(error) of kind
      V(container) that names the lease container, the label and its value; such a lease is not in RV(leases).
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: V(error) (the job cannot run) or V(warning).
      type: str
    kind:
      description: The kind of object, V(container), V(volume) or V(job).
      type: str
    object:
      description: The container, volume or job name.
      type: str
    label:
      description: The label concerned.
      type: str
    value:
      description: The offending value, shortened to 200 characters; null when the label is missing.
      type: str
    job:
      description: The job the problem belongs to, if any.
      type: str
    message:
      description: A sentence naming the object, the label, the value and what is allowed.
      type: str
      sample: "container 'shop-db-1': label 'bosun.job.timeout' has value '-5s': must be a positive duration such as 90s, 30m or 1h30m"
engine:
  description:
    - The engine that answers on O(docker_host), from its version endpoint.
  returned: success
  type: dict
  contains:
    kind:
      description: V(docker) for the Docker Engine, V(podman) for Podman's Docker-compatible API service.
      type: str
      sample: podman
    version:
      description: The engine's version.
      type: str
      sample: 4.3.1
    api_version:
      description: The Docker Engine API version it serves.
      type: str
      sample: "1.41"
    can_update_restart_policy:
      description:
        - Whether the engine can change a container's restart policy in place (Docker can; Podman 4 cannot).
      type: bool
error:
  description:
    - Why the task failed - the error's C(type) (for example V(LeaseHeldError), V(DockerUnavailableError),
      V(APIError)) and its context, such as the container, label, value, image or holder concerned.
  returned: when the task failed on an error
  type: dict
  sample: {type: LeaseHeldError, project: shop, owner_alive: true}
"""

import time
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bosun.compose.plugins.module_utils._discovery import discover, select_jobs
from ansible_collections.bosun.compose.plugins.module_utils._lease import list_leases, owner_alive
from ansible_collections.bosun.compose.plugins.module_utils._model import Job
from ansible_collections.bosun.compose.plugins.module_utils._module import (
    connect,
    docker_argument_spec,
    guard,
    state_dir_spec,
)
from ansible_collections.bosun.compose.plugins.module_utils._schedule import next_fire_text, timezone
from ansible_collections.bosun.compose.plugins.module_utils._state import default_state_dir, history_entry, runs


def job_entry(job: Job, state_dir: str, history: int, next_due: str | None) -> dict[str, t.Any]:
    """A job as returned: its normalized form, its newest run record, its last ``history`` runs (one read) and
    the next time its schedule fires."""
    recent = runs(state_dir, job.name, job.stack, limit=max(history, 1))
    return dict(
        job.to_dict(),
        last_run=recent[0] if recent else None,
        history=[history_entry(r) for r in recent[:history]],
        next_due=next_due,
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec=docker_argument_spec(
            name=dict(type="str"),
            project=dict(type="str"),
            history=dict(type="int", default=1),
            timezone=dict(type="str", default="UTC"),
            **state_dir_spec(),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["history"] < 0:
        module.fail_json(msg=f"history must be 0 or more (the number of runs to return per job), got {p['history']}")
    with guard(module):
        tz = timezone(p["timezone"])
        api = connect(module)
        jobs, stray = discover(api)
        leases = list_leases(api, p["state_dir"] or default_state_dir())
        engine = api.engine()
    selected = select_jobs(jobs, p["name"], p["project"])
    unfiltered = p["name"] is None and p["project"] is None
    problems = (
        [pr for j in selected for pr in j.problems] + (stray if unfiltered else []) + leases.problems(p["project"])
    )
    state_dir = p["state_dir"] or default_state_dir()
    now = time.time()
    module.exit_json(
        changed=False,
        jobs=[job_entry(j, state_dir, p["history"], next_fire_text(j.schedule, now, tz)) for j in selected],
        problems=[pr.to_dict() for pr in problems],
        engine=engine.as_dict(),
        leases=[
            dict(lease.to_dict(), owner_alive=owner_alive(lease, now))
            for lease in leases.leases
            if p["project"] is None or lease.project == p["project"]
        ],
    )


if __name__ == "__main__":
    main()
