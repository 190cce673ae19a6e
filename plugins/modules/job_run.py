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
    takes the stack's lease on the Docker daemon, then runs the plan's phases in this order, in this one module
    process on the Docker host.
  - >-
    1. The C(pre) hooks, in the running stack, in stop order (dependents first; ties by container name).
    2. The stop of the job's stop scope (C(bosun.job.stop-scope) - the whole stack, the containers attaching or
    writing the job's volumes and what depends on them, or nothing), level by level in reverse dependency order -
    or, with stop mode V(pause), C(docker pause) (a crash-looping container is stopped, a paused one left as it is);
    with a scope that chooses nothing there is no downtime.
    3. The worker. 4. The start (or unpause) of exactly the containers it stopped, in dependency order - or, with
    O(keep_stopped), nothing. 5. The C(post) hooks when the run did not fail (outcome V(success) or V(skipped)), or
    else the C(error) hooks, in start order. 6. The after-phase, only while the outcome is still V(success).
    7. The C(finally) hooks, always. 8. The release of the lease, held until here so that another run of the
    stack waits.
  - Hooks are C(bosun.job.hook.<phase>) labels on the job's member containers, exec'd inside that container (as
    C(docker exec), never privileged), one per container and phase, with C(BOSUN_JOB_NAME), C(BOSUN_RUN_ID),
    C(BOSUN_STACK), C(BOSUN_PHASE) and, for C(post) (V(success) or V(skipped)), C(error) and C(finally),
    C(BOSUN_OUTCOME) in their environment. A hook whose container is not running when its phase comes is skipped,
    with the reason. A C(pre) hook that fails, times out or is skipped with C(bosun.job.hook.pre.on-error=abort)
    (the default) ends the run before anything stops - the C(error) and C(finally) hooks still run and the outcome
    is V(hook_failed); with V(continue) the run goes on. A C(post), C(error) or C(finally) hook that fails or times
    out makes a run that had not failed V(hook_failed) (the stack is up, the message names the hook); a run that
    failed keeps its outcome and its message adds the hook.
  - The after-phase (C(bosun.job.after.command)) is a second one-shot container, C(bosun-after-<job>-<first 8 of
    run_id>), hardened like the worker, with the worker's volumes, paths and environment, that runs once the
    stack is up again; when it fails the outcome is V(after_failed) and the stack stays up.
  - A worker that exits with code 75 (C(EX_TEMPFAIL)) had nothing to do - the outcome is V(skipped), the task does
    not fail, the C(post) hooks run and the after-phase does not.
  - With O(keep_stopped), once the stop succeeded the stop-set stays stopped whatever the worker did (a job with
    stop mode V(pause) is stopped, never left frozen), only the C(pre) and C(finally) hooks run (a C(finally) hook
    in a container left stopped is skipped), there is no after-phase, the lease is released, RV(kept_stopped) lists
    the containers and the message says how many were left stopped on purpose.
  - Run it with C(async) so that it finishes even when the controller dies or the connection drops; the role
    C(bosun.compose.run_job) does, with a limit derived from the plan's RV(plan.max_duration), the bound of the
    whole run, and polls it with M(bosun.compose.job_status). With O(on_controller_loss=cancel) a run whose
    controller stops polling cancels itself instead of finishing unattended.
  - SIGTERM, SIGHUP and SIGINT cancel the run. Before the first stop nothing is stopped and the outcome is
    V(cancelled) - before the lease is taken nothing else happens; once it is taken (during the C(pre) hooks the
    running hook is ended and no further one runs) the C(error) and C(finally) hooks run before the lease is
    released, as at the end of every run that took the lease, one whose worker could not be created included. During the
    stop no further level is stopped and what was stopped is started again (V(cancelled)); during the worker the
    worker is stopped (SIGTERM, its grace period, SIGKILL) and the stack restarted (V(cancelled)). A signal during
    the restart and the C(post), C(error) and C(finally) hooks is absorbed - they are never interrupted and the
    outcome stays what the job did; during the after-phase it stops the after-phase container (V(cancelled), the
    stack is up).
  - Containers that are up but not running are stopped too and afterwards get their state back - a
    crash-looping one (C(restarting)) is started and left to its restart policy (not waited for), a paused
    one is paused again.
  - The restart waits for each level to run and, where a container has a healthcheck, to be healthy, before
    starting what depends on it, within the job's start timeout; when the timeout runs out the remaining
    levels are still started. A container left unhealthy, or not running and healthy when the timeout ran
    out, makes the outcome V(start_unhealthy) - the task fails naming each one and its health, the stack
    is left running and the lease released. An unpaused container runs at once and is not waited for.
  - If this process is killed outright, the lease on the daemon still names what was stopped or paused and the
    run's pending C(error) and C(finally) hooks; the next run on that stack, or M(bosun.compose.stack) with
    O(bosun.compose.stack#module:state=recovered), restarts (or unpauses) it and runs those hooks with
    C(BOSUN_OUTCOME=interrupted).
  - Each run leaves a small JSON record in O(state_dir)C(/runs/<job>/<run_id>.json), the worker's full log
    in O(state_dir)C(/logs/<job>/<run_id>.log) and the after-phase's in O(state_dir)C(/logs/<job>/<run_id>.after.log).
  - "Signals from the host (O(ping_url), O(webhook_url), O(metrics_dir)), so that they do not depend on the controller:
    the C(/start) ping once the lease is taken and before the C(pre) hooks; at the end, after the restart, the
    hooks and the release of the lease (never before the restart), the metrics file, the success or C(/fail) ping
    and the webhook. Each HTTP attempt times out after 5 seconds, with at most 3 attempts (1 and 2 seconds apart);
    a failure to send is a warning and is listed in RV(signals), never a failed task. URLs are never shown."
  - While a run with signals is in progress, O(state_dir)C(/pending/<job>/<run_id>.json) (mode 0600) keeps its
    start record and its targets, URLs included (they never leave the host); when the run dies, the recovery
    (the next run on the stack, or M(bosun.compose.stack) O(bosun.compose.stack#module:state=recovered) with the
    same O(state_dir)) sends its end from it, with outcome V(interrupted). Its C(/start) stays open until then.
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
    details:
      - >-
        In check mode the job is discovered, planned and preflighted; the plan is returned, the message names every
        step the run would take (C(check mode: would ...; then ...)), and nothing is touched and no hook runs.
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
  ping_url:
    description:
      - A Healthchecks-compatible ping URL (http or https), such as C(https://hc-ping.com/<uuid>). The run POSTs
        to C(<url>/start) when it starts, and at its end to C(<url>) when it did not fail (outcome V(success) or
        V(skipped)) or C(<url>/fail) when it did, with the short run report (outcome, message, times, the
        worker's last 20 log lines) as the text body.
      - Sent only from the Docker host and never shown (C(no_log)); a failure is a warning.
    type: str
  webhook_url:
    description:
      - An http or https URL that receives one JSON POST at the end of each run - the run record (as in
        O(state_dir)C(/runs/<job>/<run_id>.json)) plus C(host), the Docker host's name; from the recovery of a
        run that died, the outcome is V(interrupted), C(downtime_seconds) is null and C(log_path) is absent.
      - Sent only from the Docker host and never shown (C(no_log)); a failure is a warning.
    type: str
  on_controller_loss:
    description:
      - What the run does when the controller stops polling it (killed, cancelled in AWX, its connection lost).
      - V(finish) - the run goes on unattended to its end or its deadline, as it would without a controller.
      - V(cancel) - the run cancels itself once its controller heartbeat (O(state_dir)C(/heartbeat/<run_id>)) has
        not been refreshed for O(controller_timeout) seconds, as for SIGTERM - the worker (or after-phase) is stopped,
        what was stopped is started again, and the outcome is V(cancelled) with C(controller lost) in the message, in
        the result and the run record on the host. Before the first stop nothing is stopped; the restart and the
        C(post), C(error) and C(finally) hooks are never interrupted.
      - >-
        With V(cancel), start the run with C(async) and C(poll: 0) and poll it with M(bosun.compose.job_status)
        (which refreshes the heartbeat), as the role C(bosun.compose.run_job) does; O(run_id) is required. A run
        polled by C(async_status) or Ansible's own C(poll) would cancel itself after O(controller_timeout).
      - Ignored in check mode, which touches nothing.
    type: str
    choices: [finish, cancel]
    default: finish
  controller_timeout:
    description:
      - Seconds without a poll after which a run with O(on_controller_loss=cancel) cancels itself; the run creates
        its heartbeat when it starts, so this is also the grace before the first poll. At least 1.
      - Keep it well above the time between two polls (M(bosun.compose.job_status) O(bosun.compose.job_status#module:wait)
        and a round trip to the host).
    type: int
    default: 60
  metrics_dir:
    description:
      - A directory on the Docker host, such as node_exporter's textfile collector directory, where each run
        rewrites atomically C(bosun_<job>_<stack>.prom) (each name with characters other than letters, digits and
        C(_) made C(_)) with the gauges C(bosun_job_last_run_timestamp_seconds) (when the run ended),
        C(bosun_job_last_success_timestamp_seconds) (when the last run with outcome V(success) ended; kept when
        this run did not succeed), C(bosun_job_last_duration_seconds), C(bosun_job_last_downtime_seconds) and
        C(bosun_job_last_outcome{outcome="..."}) (1 for the run's outcome, 0 for the others), labels C(job) and
        C(stack).
      - It must exist; a failure to write is a warning.
    type: path
notes:
  - The outcome is one of V(success), V(worker_failed), V(timeout), V(cancelled), V(image_missing), V(preflight_failed),
    V(stop_failed), V(start_failed), V(start_unhealthy), V(lease_lost), V(hook_failed), V(after_failed), V(interfered), V(locked),
    V(skipped), V(not_found), V(invalid). Any outcome but V(success) and V(skipped) fails the task with a message naming the
    outcome and its cause; the full result is still returned.
  - V(hook_failed) - a C(pre) hook with on-error abort failed, timed out, was skipped (its container not running) or could
    not be run, and nothing was stopped; or a C(post), C(error) or C(finally) hook failed or timed out after a run that
    had not failed (the job itself succeeded; the stack is up, or kept stopped on purpose). V(after_failed) - the
    after-phase failed, timed out or could not run; the stack is up again.
  - V(interfered) - while the stack was down (from the first stop until the restart), someone else started or unpaused a
    container of the stop-set (C(docker start)), or created a container of one of its services (C(docker compose up -d)
    recreating it) - the run stops its worker at once, as a cancel does, and restarts what it stopped and is still down,
    never the stale container of a recreated service and never stopping what the other party started. The message
    names each container and what happened. The C(error) hooks run, not the C(post) hooks. A signal that came first
    keeps the outcome V(cancelled).
  - V(skipped) - the worker exited with code 75 (nothing to do this time), or the overlap policy is V(skip) and another
    run holds the stack. Neither fails the task.
  - A failing C(post), C(error) or C(finally) hook does not change the outcome of a run that already failed; the message
    adds it. Each hook's result is in RV(hooks) and in the C(run_hook) steps. A skipped one (its container not running)
    is no failure, except in phase C(pre) with on-error abort.
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

- name: Show how each hook ended
  ansible.builtin.debug:
    msg: "{{ run.hooks | map(attribute='reason') | list }}"

- name: Back up with a short freeze of only the containers that write the job's volumes; the rest stays up
  bosun.compose.job_run:
    name: nightly-backup
    project: shop
    job:
      stop_scope: writers
      stop_mode: pause
  async: 7200
  poll: 5

- name: Migrate the data and leave the old stack stopped on purpose
  bosun.compose.job_run:
    name: migrate-to-v2
    project: shop
    keep_stopped: true
  async: 7200
  poll: 5
  register: migration

- name: Name what was left stopped
  ansible.builtin.debug:
    msg: "left stopped: {{ migration.kept_stopped | map(attribute='name') | join(', ') }}"

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
    - An after-phase that is cancelled makes it V(cancelled), one that fails V(after_failed).
    - A C(post) or C(finally) hook that fails after a run that had not failed makes it V(hook_failed).
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
  description:
    - The steps that ran, in order; a step not reached is not listed. Each hook is a step of its own (C(run_hook)).
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description:
        - V(run_hook) (one per hook), V(stop_containers), V(run_worker), V(start_containers), V(keep_stopped) or
          V(run_after).
      type: str
      sample: run_worker
    status:
      description:
        - V(ok), V(failed), V(skipped) or V(cancelled).
        - V(skipped) is a hook whose container was not running, a worker that exited 75, an after-phase not run
          because of a cancel, or a restart left to the run that holds the stack now.
        - There is no C(start_containers) step when the stop never began (a C(pre) hook failed, a cancel, or a stop
          scope that chose nothing).
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
      description:
        - The containers the step stopped, started or left stopped, or the hook's container (C(run_hook)); empty for
          C(run_worker) and C(run_after).
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
      description: The step's result in words, such as C(exited with code 0), C(2/2 started) or the hook's C(reason).
      type: str
      sample: exited with code 0
    phase:
      description: Only set in C(run_hook) steps, the hook's phase (V(pre), V(post), V(error), V(finally)); null otherwise.
      type: str
      sample: pre
    command:
      description: Only set in C(run_hook) steps, the hook's command as a list of arguments; null otherwise.
      type: list
      elements: str
      sample: [pg_dump, -U, shop, -f, /backup/shop.sql, shop]
    exit_code:
      description: Only set in C(run_hook) steps, the hook's exit code; null otherwise, and when the hook reached none.
      type: int
      sample: 0
    output_tail:
      description: Only set in C(run_hook) steps, the hook's last output lines; empty otherwise.
      type: list
      elements: str
      sample: [pg_dump - dumped 12 tables]
worker:
  description: What the worker did; null when it never started.
  returned: when the worker ran
  type: dict
  contains:
    name:
      description: The container's name.
      type: str
      sample: bosun-worker-nightly-backup-d649eff4
    exit_code:
      description: The exit code; null if it never reached one.
      type: int
      sample: 0
    timed_out:
      description: Whether its timeout ran out (the run failed even if it then exited 0).
      type: bool
      sample: false
    cancelled:
      description: Whether the run was cancelled by a signal while it ran.
      type: bool
      sample: false
    duration:
      description: Its run time in seconds.
      type: float
      sample: 12.339
    log_tail:
      description: The last O(tail_lines) lines of its log, stdout and stderr together.
      type: list
      elements: str
      sample: [copied 3 files]
    log_path:
      description: The file on the Docker host holding the whole log; null if it could not be written.
      type: str
      sample: /var/lib/bosun/logs/nightly-backup/d649eff415624286b5b7eb364fac3c54.log
    error:
      description: A problem met while starting it, reading its logs or removing it; null if none.
      type: str
      sample: null
    removed:
      description: Whether the container was removed (see O(keep)).
      type: bool
      sample: true
after:
  description:
    - What the after-phase did, in the format of RV(worker); null when no after-phase ran.
    - Its whole log is in O(state_dir)C(/logs/<job>/<run_id>.after.log).
  returned: when the after-phase ran
  type: dict
  contains:
    name:
      description: The container's name.
      type: str
      sample: bosun-after-nightly-backup-d649eff4
    exit_code:
      description: The exit code; null if it never reached one.
      type: int
      sample: 0
    timed_out:
      description: Whether its timeout ran out (the run failed even if it then exited 0).
      type: bool
      sample: false
    cancelled:
      description: Whether the run was cancelled by a signal while it ran.
      type: bool
      sample: false
    duration:
      description: Its run time in seconds.
      type: float
      sample: 12.339
    log_tail:
      description: The last O(tail_lines) lines of its log, stdout and stderr together.
      type: list
      elements: str
      sample: [no errors were found]
    log_path:
      description: The file on the Docker host holding the whole log; null if it could not be written.
      type: str
      sample: /var/lib/bosun/logs/nightly-backup/d649eff415624286b5b7eb364fac3c54.after.log
    error:
      description: A problem met while starting it, reading its logs or removing it; null if none.
      type: str
      sample: null
    removed:
      description: Whether the container was removed (see O(keep)).
      type: bool
      sample: true
hooks:
  description:
    - Each hook that ran or was skipped, in run order (C(pre), then C(post) or C(error), then C(finally)); empty when
      the job has none or none was reached.
  returned: always
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
stopped:
  description: The containers this run stopped (or paused), in stop order.
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
kept_stopped:
  description: The containers this run left stopped on purpose (O(keep_stopped)); empty otherwise.
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
  description:
    - Seconds from the first stop to the end of the restart; with O(keep_stopped), to the moment the run left the
      stop-set stopped; 0 when the stop never began.
  returned: always
  type: float
  sample: 1.264
lease_kept:
  description:
    - Whether this run's lease was still on the stack when the run ended (checked then on the Engine, not
      inferred), so that a recovery or the next run restarts what it could not; false when it released the lease or
      never took one (check mode, a preflight failure, a run that was skipped or gave up waiting); null when the
      Engine could not be asked.
    - The role's safety net runs only when this is not false (also when job_run returned no result).
  returned: unless the module failed with an unexpected error
  type: bool
  sample: false
duration_seconds:
  description: Seconds the whole run took, from the plan to the release of the lease, hooks and after-phase included.
  returned: always
  type: float
  sample: 14.871
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
  description:
    - The JSON record of the run in the state directory on the Docker host, with its RV(provenance); null when none
      was written.
  returned: always
  type: str
  sample: /var/lib/bosun/runs/nightly-backup/d649eff415624286b5b7eb364fac3c54.json
provenance:
  description:
    - What the run ran against, so that a restore months later can pick the matching version of the app; the same
      dict is kept in the run record (RV(record_path)).
    - Taken from the plan, that is from the containers as the run found them before the first stop.
  returned: when the job could be planned
  type: dict
  contains:
    plan_hash:
      description:
        - C(sha256:) and the hex SHA-256 of the canonical JSON (sorted keys, no blanks) of RV(plan) without its
          C(run_id), C(created_at), C(preflight) and C(ok), and with the run id replaced in every value.
        - Two runs of the same job on the same containers with the same settings have the same plan hash; a
          recreated container (a new id), another image or another label changes it.
      type: str
      sample: sha256:9f2c4e8a1b3d5f7092e4c6a8b0d2f4e6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8
    project:
      description: Where the stack was deployed from, from Compose's labels on its running containers (the value most carry).
      type: dict
      contains:
        config_files:
          description: The project's compose files (C(com.docker.compose.project.config_files)); empty when not labelled.
          type: list
          elements: str
          sample: [/srv/shop/compose.yaml, /srv/shop/compose.prod.yaml]
        working_dir:
          description: The project's working directory (C(com.docker.compose.project.working_dir)); null when not labelled.
          type: str
          sample: /srv/shop
    worker:
      description: The worker's image.
      type: dict
      contains:
        image:
          description: The image reference the worker runs.
          type: str
          sample: restic/restic:0.17.3
        image_id:
          description: The image id the run pinned in its preflight; null when the image was not found.
          type: str
          sample: sha256:3c1f0e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e
    after:
      description: The after-phase's image, in the format of RV(provenance.worker); null when the job has no after-phase.
      type: dict
    containers:
      description: Each container of the stop-set (those the run stops or pauses), in stop order.
      type: list
      elements: dict
      contains:
        name:
          description: The container name.
          type: str
          sample: shop-db-1
        service:
          description: The Compose service.
          type: str
          sample: db
        image:
          description:
            - The image reference the container was created from, as the Engine lists it; the Engine shows the image id
              instead when that tag has since been moved to another image.
          type: str
          sample: postgres:16.4
        image_id:
          description: The id of the image the container runs.
          type: str
          sample: sha256:0f4e3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f
        config_hash:
          description: Compose's hash of the service's configuration (C(com.docker.compose.config-hash)); null when not labelled.
          type: str
          sample: 8d2f1b6e4c3a5d7f9e0b1a2c4d6e8f0a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e
signals:
  description:
    - What became of the run's signals, in the order sent - V(ping start), V(pending record) (only when it could not
      be written), then at the end V(metrics), V(ping success) or V(ping fail), V(webhook), each only when its option
      is set - and of a dead run's signals sent by the recovery this run made first. A failed one is also a warning.
    - URLs are never shown.
  returned: always
  type: list
  elements: dict
  contains:
    signal:
      description: V(ping start), V(pending record), V(metrics), V(ping success), V(ping fail) or V(webhook).
      type: str
      sample: ping success
    ok:
      description: Whether it was sent (or, for V(metrics) and V(pending record), written).
      type: bool
      sample: true
    detail:
      description:
        - "What happened, such as C(sent (HTTP 200)), C(failed after 3 attempts: HTTP 503 Service Unavailable) or
          C(written to /var/lib/node_exporter/bosun_nightly_backup_shop.prom); never the URL."
      type: str
      sample: sent (HTTP 200)
    attempts:
      description: How many HTTP attempts it took (0 when nothing was sent over HTTP).
      type: int
      sample: 1
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
from ansible_collections.bosun.compose.plugins.module_utils._heartbeat import watch_controller
from ansible_collections.bosun.compose.plugins.module_utils._module import (
    compose_recreator,
    connect,
    error_details,
    guard,
    job_argument_spec,
    state_dir_spec,
    worker_output_spec,
)
from ansible_collections.bosun.compose.plugins.module_utils._planner import resolve_job
from ansible_collections.bosun.compose.plugins.module_utils._run_signals import SignalTargets
from ansible_collections.bosun.compose.plugins.module_utils._state import default_state_dir


def main() -> None:
    module = AnsibleModule(
        argument_spec=job_argument_spec(
            run_id=dict(type="str"),
            lock_timeout=dict(type="int", default=3600),
            ping_url=dict(type="str", no_log=True),
            webhook_url=dict(type="str", no_log=True),
            metrics_dir=dict(type="path"),
            on_controller_loss=dict(type="str", choices=["finish", "cancel"], default="finish"),
            controller_timeout=dict(type="int", default=60),
            **worker_output_spec(),
            **state_dir_spec(),
        ),
        required_if=[("on_controller_loss", "cancel", ["run_id"])],
        supports_check_mode=True,
    )
    p = module.params
    empty = dict(
        run_id=p["run_id"] or "",
        job=p["name"],
        stack=p["project"],
        steps=[],
        hooks=[],
        stopped=[],
        restarted=[],
        kept_stopped=[],
        signals=[],
        downtime_seconds=0.0,
        duration_seconds=0.0,
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
                lease_kept=False,
                **empty,
            )
        except BosunError as exc:
            module.fail_json(
                msg=f"invalid: {exc.message}",
                outcome="invalid",
                message=exc.message,
                error=error_details(exc),
                lease_kept=False,
                **empty,
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
            max_duration=p["max_duration"],
            signals=SignalTargets(p["ping_url"], p["webhook_url"], p["metrics_dir"]),
        )
        state_dir = p["state_dir"] or default_state_dir()
        on_loss = "finish" if module.check_mode else p["on_controller_loss"]
        with watch_controller(on_loss, state_dir, p["run_id"], p["controller_timeout"], cancel.trigger):
            result = Executor(api, state_dir, recreator=compose_recreator(module, api)).run(job, options, cancel)
    out = result.to_dict()
    for warning in result.warnings:
        module.warn(warning)
    try:
        if result.ok:
            module.exit_json(changed=result.changed, **out)
        module.fail_json(msg=f"{result.outcome}: {result.message}", changed=result.changed, **out)
    except BrokenPipeError:
        pass  # the controller is gone; the run is complete and recorded on the host


if __name__ == "__main__":
    main()
