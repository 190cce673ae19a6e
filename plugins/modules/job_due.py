#!/usr/bin/python
# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: job_due
short_description: Say which scheduled maintenance jobs on a Docker host are due now
version_added: 0.1.0
description:
  - Discovers the jobs (as M(bosun.compose.job_info)) and decides for each job and stack whether its schedule
    (C(bosun.job.schedule), a 5-field cron expression or a descriptor such as V(@daily)) has a time, in
    O(timezone), that passed after the latest of - its last run's start (the run records in O(state_dir)), the
    moment this module first saw it, and the moment this module last returned it as due.
  - A job never seen before is not due - its first sight is recorded on the host and it becomes due at its first
    scheduled time after that, never at once.
  - However many scheduled times were missed (host down, controller down), a job is due once (catch-up is one run).
  - The circuit breaker - after O(max_failures) consecutive failed runs a job is held (RV(held), with its last
    failure) and not due until a run succeeds (run by hand with M(bosun.compose.job_run) or the role
    C(bosun.compose.run_job)) or O(reset) names it. V(success) and V(skipped) end a streak; V(locked),
    V(cancelled) and runs still in progress neither count nor end it; every other outcome counts. A job that fails
    its preflight in the role's C(job_plan) step leaves no run record and does not count.
  - The schedule is Vixie cron's - names, ranges, steps and lists; 0 and 7 are Sunday; when both the day of month
    and the day of week are restricted (neither starts with C(*)) a day matches when either does. A wall time that
    does not exist in O(timezone) (clocks go forward) does not fire; one that happens twice (clocks go back) fires
    once, the first time.
  - This module runs nothing; the playbook C(bosun.compose.run_due) runs what it returns as due, one job after the
    other. Outside check mode it records on the host, in O(state_dir)C(/schedule/<job>/<stack>.json), each
    job's first sight (C(first_seen)), each reset (C(reset_at)) and each time it returned the job as due
    (C(dispatched_at)), so a job handed out once is not handed out again for the same scheduled time even if
    its run never started.
author:
  - bosun.compose contributors (@bosun-compose)
extends_documentation_fragment:
  - bosun.compose.docker
  - bosun.compose.docker.attributes
  - bosun.compose.run_state
attributes:
  check_mode:
    support: full
    details:
      - In check mode the same decision is returned and nothing is recorded - no first sight, no reset, no
        dispatch. A O(reset) shows the job as released; C(changed) says whether the host state would change.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - A second call at once returns the same jobs and changes nothing, except that a job returned as due by the
        first call is not due in the second (it was handed out).
options:
  project:
    description:
      - Only jobs of this stack (the Compose project name, or the C(bosun.stack) label).
    type: str
  jobs:
    description:
      - Shell-style patterns (V(backup-*)); only jobs whose name matches one of them. Default all.
    type: list
    elements: str
    default: ["*"]
  stacks:
    description:
      - Shell-style patterns; only jobs whose stack matches one of them. Default all.
    type: list
    elements: str
    default: ["*"]
  timezone:
    description:
      - The IANA time zone the schedules are read in, such as V(Europe/Berlin); the same for every job.
      - Any zone but V(UTC) needs the time zone database (tzdata) on the host where the module runs.
    type: str
    default: UTC
  max_failures:
    description:
      - Consecutive failed runs after which a job is held; V(0) turns the circuit breaker off.
    type: int
    default: 3
  reset:
    description:
      - Names of jobs to release from the circuit breaker - their failures so far no longer count (C(reset_at) is
        recorded, on every selected stack of that job). A name that matches no selected job is a warning.
      - A released job whose schedule passed while it was held is due at once.
    type: list
    elements: str
    default: []
notes:
  - The order of RV(due) is the order run_due runs the jobs - by stack, then job name. Jobs of one stack never
    overlap anyway - the lease and the job's overlap policy decide.
  - Times in the result are in O(timezone), as ISO 8601 with the zone's offset; the run records' own times
    (RV(due[].last_failure.started_at)) stay UTC.
seealso:
  - module: bosun.compose.job_info
  - module: bosun.compose.job_run
  - ref: ansible_collections.bosun.compose.docsite.scheduling
    description: How to run the schedules of a whole fleet from one AWX schedule or one timer.
"""

EXAMPLES = r"""
- name: Which jobs are due on this host?
  bosun.compose.job_due:
    timezone: Europe/Berlin
  register: due

- name: Show them, in the order they would run
  ansible.builtin.debug:
    msg: "{{ due.due | map(attribute='job') | list }}"

- name: Show the jobs the circuit breaker holds, with their last failure
  ansible.builtin.debug:
    msg: "{{ item.job }} ({{ item.stack }}): {{ item.last_failure.outcome }} at {{ item.last_failure.started_at }}"
  loop: "{{ due.held }}"

- name: Release a job from the circuit breaker, only among the backup jobs of the shop stacks
  bosun.compose.job_due:
    jobs: ["backup-*"]
    stacks: ["shop-*"]
    reset: [backup-db]
    max_failures: 5
"""

RETURN = r"""
now:
  description: The moment the decision was made, in O(timezone).
  returned: always
  type: str
  sample: "2026-06-15T02:35:01+02:00"
timezone:
  description: The time zone the schedules were read in (O(timezone)).
  returned: always
  type: str
  sample: Europe/Berlin
due:
  description: The jobs due now, in the order run_due runs them - by stack, then job name.
  returned: always
  type: list
  elements: dict
  contains:
    job:
      description: The job name (C(bosun.job.name)).
      type: str
      sample: nightly-backup
    stack:
      description: The stack (Compose project) it runs on.
      type: str
      sample: shop
    schedule:
      description: Its schedule (C(bosun.job.schedule)), normalized; null when it has none.
      type: str
      sample: "30 2 * * *"
    due:
      description: Whether it is due now (true only in RV(due)).
      type: bool
      sample: true
    held:
      description: Whether the circuit breaker holds it (true only in RV(held)).
      type: bool
      sample: false
    reason:
      description: Why it is in this list, in words, with the times concerned.
      type: str
      sample: "scheduled at 2026-06-15T02:30:00+02:00; the last run started at 2026-06-14T02:30:04+02:00 (success)"
    last_scheduled:
      description:
        - The latest time the schedule fired at or before RV(now), in O(timezone) (ISO 8601 with the zone's offset);
          null when it never fired or the job has no schedule.
      type: str
      sample: "2026-06-15T02:30:00+02:00"
    next_scheduled:
      description: The next time the schedule fires after RV(now), in O(timezone); null when it never fires again.
      type: str
      sample: "2026-06-16T02:30:00+02:00"
    last_run:
      description: The newest run record of the job on this stack; null when it never ran here.
      type: dict
      contains:
        outcome:
          description: Its outcome (see M(bosun.compose.job_run)); a run still in progress shows the outcome it recorded.
          type: str
          sample: success
        started_at:
          description: When it started, in O(timezone).
          type: str
          sample: "2026-06-14T02:30:04+02:00"
    streak:
      description: Consecutive failed runs since the last success (or reset) - the circuit breaker's count.
      type: int
      sample: 0
    last_failure:
      description: The newest failed run of the streak; null when the streak is 0.
      type: dict
      contains:
        outcome:
          description: Its outcome, such as V(worker_failed).
          type: str
          sample: worker_failed
        started_at:
          description: When it started, as recorded (UTC).
          type: str
          sample: "2026-06-14T00:30:04.118+00:00"
        message:
          description: The run's message.
          type: str
          sample: "worker_failed: worker exited with code 3"
held:
  description: The jobs held by the circuit breaker (O(max_failures) failed runs in a row) until a run succeeds or O(reset) names them.
  returned: always
  type: list
  elements: dict
  contains:
    job:
      description: The job name (C(bosun.job.name)).
      type: str
      sample: nightly-backup
    stack:
      description: The stack (Compose project) it runs on.
      type: str
      sample: shop
    schedule:
      description: Its schedule (C(bosun.job.schedule)), normalized; null when it has none.
      type: str
      sample: "30 2 * * *"
    due:
      description: Whether it is due now (true only in RV(due)).
      type: bool
      sample: false
    held:
      description: Whether the circuit breaker holds it (true only in RV(held)).
      type: bool
      sample: true
    reason:
      description: Why it is in this list, in words, with the times concerned.
      type: str
      sample: "held by the circuit breaker after 3 consecutive failed run(s) (...)"
    last_scheduled:
      description:
        - The latest time the schedule fired at or before RV(now), in O(timezone) (ISO 8601 with the zone's offset);
          null when it never fired or the job has no schedule.
      type: str
      sample: "2026-06-15T02:30:00+02:00"
    next_scheduled:
      description: The next time the schedule fires after RV(now), in O(timezone); null when it never fires again.
      type: str
      sample: "2026-06-16T02:30:00+02:00"
    last_run:
      description: The newest run record of the job on this stack; null when it never ran here.
      type: dict
      contains:
        outcome:
          description: Its outcome (see M(bosun.compose.job_run)); a run still in progress shows the outcome it recorded.
          type: str
          sample: success
        started_at:
          description: When it started, in O(timezone).
          type: str
          sample: "2026-06-14T02:30:04+02:00"
    streak:
      description: Consecutive failed runs since the last success (or reset) - the circuit breaker's count.
      type: int
      sample: 3
    last_failure:
      description: The newest failed run of the streak; null when the streak is 0.
      type: dict
      contains:
        outcome:
          description: Its outcome, such as V(worker_failed).
          type: str
          sample: worker_failed
        started_at:
          description: When it started, as recorded (UTC).
          type: str
          sample: "2026-06-14T00:30:04.118+00:00"
        message:
          description: The run's message.
          type: str
          sample: "worker_failed: worker exited with code 3"
waiting:
  description: The scheduled jobs that are not due yet (first seen now, or run since their last scheduled time), with their next time.
  returned: always
  type: list
  elements: dict
  contains:
    job:
      description: The job name (C(bosun.job.name)).
      type: str
      sample: nightly-backup
    stack:
      description: The stack (Compose project) it runs on.
      type: str
      sample: shop
    schedule:
      description: Its schedule (C(bosun.job.schedule)), normalized; null when it has none.
      type: str
      sample: "30 2 * * *"
    due:
      description: Whether it is due now (true only in RV(due)).
      type: bool
      sample: false
    held:
      description: Whether the circuit breaker holds it (true only in RV(held)).
      type: bool
      sample: false
    reason:
      description: Why it is in this list, in words, with the times concerned.
      type: str
      sample: "next at 2026-06-16T02:30:00+02:00; the last run started at 2026-06-15T02:30:04+02:00 (success)"
    last_scheduled:
      description:
        - The latest time the schedule fired at or before RV(now), in O(timezone) (ISO 8601 with the zone's offset);
          null when it never fired or the job has no schedule.
      type: str
      sample: "2026-06-15T02:30:00+02:00"
    next_scheduled:
      description: The next time the schedule fires after RV(now), in O(timezone); null when it never fires again.
      type: str
      sample: "2026-06-16T02:30:00+02:00"
    last_run:
      description: The newest run record of the job on this stack; null when it never ran here.
      type: dict
      contains:
        outcome:
          description: Its outcome (see M(bosun.compose.job_run)); a run still in progress shows the outcome it recorded.
          type: str
          sample: success
        started_at:
          description: When it started, in O(timezone).
          type: str
          sample: "2026-06-14T02:30:04+02:00"
    streak:
      description: Consecutive failed runs since the last success (or reset) - the circuit breaker's count.
      type: int
      sample: 0
    last_failure:
      description: The newest failed run of the streak; null when the streak is 0.
      type: dict
      contains:
        outcome:
          description: Its outcome, such as V(worker_failed).
          type: str
          sample: worker_failed
        started_at:
          description: When it started, as recorded (UTC).
          type: str
          sample: "2026-06-14T00:30:04.118+00:00"
        message:
          description: The run's message.
          type: str
          sample: "worker_failed: worker exited with code 3"
unscheduled:
  description: The jobs run_due leaves alone - no schedule, disabled, with error problems, or a schedule matching no date (see reason).
  returned: always
  type: list
  elements: dict
  contains:
    job:
      description: The job name (C(bosun.job.name)).
      type: str
      sample: nightly-backup
    stack:
      description: The stack (Compose project) it runs on.
      type: str
      sample: shop
    schedule:
      description: Its schedule (C(bosun.job.schedule)), normalized; null when it has none.
      type: str
      sample: "30 2 * * *"
    due:
      description: Whether it is due now (true only in RV(due)).
      type: bool
      sample: false
    held:
      description: Whether the circuit breaker holds it (true only in RV(held)).
      type: bool
      sample: false
    reason:
      description: Why it is in this list, in words, with the times concerned.
      type: str
      sample: "no bosun.job.schedule label"
    last_scheduled:
      description:
        - The latest time the schedule fired at or before RV(now), in O(timezone) (ISO 8601 with the zone's offset);
          null when it never fired or the job has no schedule.
      type: str
      sample: "2026-06-15T02:30:00+02:00"
    next_scheduled:
      description: The next time the schedule fires after RV(now), in O(timezone); null when it never fires again.
      type: str
      sample: "2026-06-16T02:30:00+02:00"
    last_run:
      description: The newest run record of the job on this stack; null when it never ran here.
      type: dict
      contains:
        outcome:
          description: Its outcome (see M(bosun.compose.job_run)); a run still in progress shows the outcome it recorded.
          type: str
          sample: success
        started_at:
          description: When it started, in O(timezone).
          type: str
          sample: "2026-06-14T02:30:04+02:00"
    streak:
      description: Consecutive failed runs since the last success (or reset) - the circuit breaker's count.
      type: int
      sample: 0
    last_failure:
      description: The newest failed run of the streak; null when the streak is 0.
      type: dict
      contains:
        outcome:
          description: Its outcome, such as V(worker_failed).
          type: str
          sample: worker_failed
        started_at:
          description: When it started, as recorded (UTC).
          type: str
          sample: "2026-06-14T00:30:04.118+00:00"
        message:
          description: The run's message.
          type: str
          sample: "worker_failed: worker exited with code 3"
reset:
  description: The jobs and stacks released from the circuit breaker by O(reset) (in check mode, that would be).
  returned: always
  type: list
  elements: dict
  contains:
    job:
      description: The job name.
      type: str
      sample: backup-db
    stack:
      description: The stack.
      type: str
      sample: shop
problems:
  description:
    - The validation errors and warnings of the selected jobs, in the format of M(bosun.compose.job_info)'s
      RV(bosun.compose.job_info#module:problems). A job with an error problem is in RV(unscheduled).
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
      sample: "container 'shop-db-1': label 'bosun.job.schedule' has value '61 * * * *': minute field '61': 61 is outside 0-59"
error:
  description:
    - Why the task failed - the error's C(type) (for example V(ScheduleError), V(DockerUnavailableError)) and its
      context, such as the time zone, the job, the stack or the state directory concerned.
  returned: when the task failed on an error
  type: dict
  sample: {type: ScheduleError, timezone: Europe/Berln}
"""

import datetime

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bosun.compose.plugins.module_utils._discovery import discover
from ansible_collections.bosun.compose.plugins.module_utils._due import DueOptions, check_due, select
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
            project=dict(type="str"),
            jobs=dict(type="list", elements="str", default=["*"]),
            stacks=dict(type="list", elements="str", default=["*"]),
            timezone=dict(type="str", default="UTC"),
            max_failures=dict(type="int", default=3),
            reset=dict(type="list", elements="str", default=[]),
            **state_dir_spec(),
        ),
        supports_check_mode=True,
    )
    p = module.params
    options = DueOptions(
        jobs=p["jobs"],
        stacks=p["stacks"],
        project=p["project"],
        timezone=p["timezone"],
        max_failures=p["max_failures"],
        reset=p["reset"],
    )
    with guard(module):
        jobs, _stray = discover(connect(module))
        now = datetime.datetime.now(datetime.timezone.utc)
        report = check_due(jobs, p["state_dir"] or default_state_dir(), options, now, module.check_mode)
    for name in report.unknown_reset:
        module.warn(f"reset: no selected job is named {name!r}; nothing was released for it")
    problems = [pr.to_dict() for j in select(jobs, options) for pr in j.problems]
    module.exit_json(changed=report.changed, problems=problems, **report.to_dict())


if __name__ == "__main__":
    main()
