# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Options that select a job and override its labels. Keep in sync with
    # plugins/module_utils/_module.py job_argument_spec().
    DOCUMENTATION = r"""
options:
  name:
    description:
      - The job's name, as in the C(bosun.job.name) label.
    type: str
    required: true
  project:
    description:
      - The stack (Compose project) the job must target, to pick one job when names repeat across stacks.
    type: str
  job:
    description:
      - Values that win over the job's labels, or a complete inline definition of a job whose stack carries
        no labels (then O(job.stack) and O(job.image) are required).
    type: dict
    suboptions:
      stack:
        description: The Compose project to stop and restart.
        type: str
      image:
        description: The worker image.
        type: str
      command:
        description: The worker command, a list of arguments or a shell-quoted string; default the image's own.
        type: raw
      env:
        description:
          - Environment variables for the worker, merged over the labels' C(bosun.job.worker.env.*).
          - Values are strings or numbers; booleans become V(true) or V(false), as in M(bosun.compose.worker).
        type: dict
      secret_env:
        description:
          - Environment variables whose values are secret; they reach the worker but never appear in
            results, plans or logs of this collection.
        type: dict
      user:
        description: The user the worker runs as.
        type: str
      network:
        description: The worker's network, V(none), V(bridge) or a user-defined network; never V(host).
        type: str
      mounts:
        description: The named volumes mounted into the worker; replaces the volumes attached by labels.
        type: list
        elements: dict
        suboptions:
          volume:
            description: The volume name.
            type: str
            required: true
          path:
            description: The absolute path inside the worker; default C(/mnt/<volume>).
            type: str
          mode:
            description: Read-only or read-write.
            type: str
            choices: [ro, rw]
            default: ro
      timeout:
        description: The worker's maximum run time, seconds or a duration such as V(30m).
        type: raw
      stop_timeout:
        description: Seconds each container gets to stop (then it is killed); default the container's own.
        type: raw
      start_timeout:
        description: Seconds the stack gets to start and become healthy again.
        type: raw
      overlap_policy:
        description: What to do when another run holds the stack.
        type: str
        choices: [queue, skip]
      stop_scope:
        description:
          - What the run stops, as the label C(bosun.job.stop-scope). V(stack) every running container of the stack;
            V(attached) those that mount one of the job's volumes; V(writers) those that mount one read-write;
            V(none) nothing (a hot job). With V(attached) and V(writers) every running container that depends on a
            chosen one is stopped too. What stays up is never touched.
        type: str
        choices: [stack, attached, writers, none]
      stop_mode:
        description:
          - How the stop scope goes down, as the label C(bosun.job.stop-mode). V(stop) stops it (grace period,
            restart, health wait); V(pause) freezes it (C(docker pause)) and thaws it afterwards - no grace period,
            no start-up; the worker then sees crash-consistent data.
        type: str
        choices: [stop, pause]
      after_command:
        description:
          - The after-phase command, as the label C(bosun.job.after.command); setting it enables the after-phase, a
            second one-shot container that runs once the stack is up again, with the worker's volumes and paths.
        type: raw
      after_image:
        description: The after-phase image; default the worker image.
        type: str
      after_timeout:
        description: The after-phase's maximum run time, seconds or a duration such as V(30m); default 1h.
        type: raw
      after_env:
        description: Environment variables of the after-phase, over the worker's (which it gets too).
        type: dict
      after_user:
        description: The user the after-phase runs as; default the worker's.
        type: str
      after_network:
        description: The after-phase's network (the worker's rules); default the worker's.
        type: str
  allowed_images:
    description:
      - Shell-style patterns (V(registry.example.com/backup/*), V(backup-tools:1.*)) the worker image must match;
        any other image fails preflight before anything stops.
      - Set it in the play or in C(module_defaults); no label can change it. Default any image.
    type: list
    elements: str
  pull:
    description:
      - V(never) fails when the worker image is not present; V(missing) pulls it first, before anything stops.
    type: str
    choices: [never, missing]
    default: never
  keep_stopped:
    description:
      - Leave the stop-set stopped on purpose once the stop succeeded (for a migration), whatever the worker
        did; the lease is released and the result lists the containers in C(kept_stopped). Only the
        C(pre) and C(finally) hooks run (one whose container is left stopped is skipped), and no after-phase. A
        job with stop mode V(pause) is stopped, never left frozen. A failed or cancelled stop still restarts what it
        stopped.
      - Never a label; per run only.
    type: bool
    default: false
  max_duration:
    description:
      - The most seconds the whole run may take, RV(bosun.compose.job_plan#module:plan.max_duration) (the downtime
        deadline plus every hook's timeout and the after-phase). A job whose plan can take longer fails preflight,
        before anything stops, naming both figures.
      - The limit of the C(async) task that runs M(bosun.compose.job_run), less the lock wait and a margin, so that
        C(async) never kills a run that is still within its own bounds; the role C(bosun.compose.run_job) sets it
        from C(run_job_async_limit).
      - Never a label; per run only. Default no limit.
    type: int
"""
