#!/usr/bin/python
# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: job_status
short_description: Poll a job_run started under async, and keep its controller heartbeat fresh
version_added: 0.1.0
description:
  - >-
    The poll of a M(bosun.compose.job_run) task started with C(async) and C(poll: 0), in place of
    C(ansible.builtin.async_status); the role C(bosun.compose.run_job) polls with it.
  - Each call refreshes the run's controller heartbeat (O(state_dir)C(/heartbeat/<run_id>)), then waits up to
    O(wait) seconds for the job to finish, refreshing the heartbeat every second while it waits, and returns as soon
    as the job has finished - so a long O(wait) costs fewer round trips and adds no delay.
  - A run started with O(bosun.compose.job_run#module:on_controller_loss=cancel) cancels itself when its heartbeat
    has not been refreshed for O(bosun.compose.job_run#module:controller_timeout) seconds - when the controller that
    polls it was killed or lost its connection. Keep O(wait) well under that timeout. A heartbeat that does not
    exist (a run with V(finish), or one that has ended) is not created.
  - When the job has finished, the result is the job's own result (for M(bosun.compose.job_run) its RV(outcome),
    RV(message), steps and the rest, see its return values) with RV(finished) true, as C(async_status) returns it, and
    the task fails when the job failed. The job's result file is then removed (as C(async_status mode=cleanup)), so a
    finished job is returned once.
  - Loop on it with C(until) on RV(finished) (or a failed task), C(retries) enough to cover the C(async) limit
    (that limit divided by O(wait), plus a few) and C(delay) V(0).
author:
  - bosun.compose contributors (@bosun-compose)
extends_documentation_fragment:
  - bosun.compose.run_state
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Polls as in a normal run, like C(async_status) - it touches nothing a play manages, only the run's heartbeat
        and the job's result file once collected.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: N/A
    details: Each call is one poll of a running job.
options:
  jid:
    description:
      - The async job id, C(ansible_job_id) of the result registered by the C(async) task.
    type: str
    required: true
  wait:
    description:
      - Seconds to wait on the host for the job to finish before returning with RV(finished) false; V(0) looks once.
      - At most V(3600). With O(bosun.compose.job_run#module:on_controller_loss=cancel) keep it well under the run's
        O(bosun.compose.job_run#module:controller_timeout) - a poll that outlives its controller refreshes the
        heartbeat until it returns.
    type: int
    default: 5
  async_dir:
    description:
      - The directory of the async job results on the host, the shell option C(async_dir) of the C(async) task
        (C(ANSIBLE_ASYNC_DIR), C(ansible_async_dir)); the directory of the registered C(results_file) is exact.
    type: path
    default: ~/.ansible_async
  run_id:
    description:
      - The run id of the M(bosun.compose.job_run) task, whose controller heartbeat each poll refreshes.
      - Without it no heartbeat is refreshed (a run with V(cancel) then cancels itself after its timeout).
    type: str
notes:
  - O(state_dir) must be the one the M(bosun.compose.job_run) task was given (or both the default).
seealso:
  - module: bosun.compose.job_run
  - name: ansible.builtin.async_status
    description: Ansible's own poll of an async task, which refreshes no heartbeat.
    link: https://docs.ansible.com/ansible/latest/collections/ansible/builtin/async_status_module.html
"""

EXAMPLES = r"""
- name: Start the job; it cancels itself if nobody polls it for 60 seconds
  bosun.compose.job_run:
    name: nightly-backup
    project: shop
    run_id: "{{ planned.plan.run_id }}"
    on_controller_loss: cancel
    controller_timeout: 60
  async: 7200
  poll: 0
  register: started

- name: Wait for it, up to 5 seconds per poll, keeping its heartbeat fresh
  bosun.compose.job_status:
    jid: "{{ started.ansible_job_id }}"
    async_dir: "{{ started.results_file | dirname }}"
    run_id: "{{ planned.plan.run_id }}"
    wait: 5
  register: run
  until: run.finished or run is failed
  retries: 1450
  delay: 0

- name: Show how it ended
  ansible.builtin.debug:
    msg: "{{ run.outcome }}: {{ run.message }}"
"""

RETURN = r"""
finished:
  description: Whether the job has finished; when it has, the job's own result keys are returned too.
  returned: always
  type: bool
  sample: true
started:
  description: Always true, as with C(async_status).
  returned: always
  type: bool
  sample: true
ansible_job_id:
  description: The async job id polled.
  returned: always
  type: str
  sample: j894715364103.4242
results_file:
  description: The job's result file on the host; removed once the finished result was returned.
  returned: always
  type: str
  sample: /root/.ansible_async/j894715364103.4242
msg:
  description:
    - Why the poll or the job failed - for example no such job in O(async_dir) (never started there, or already
      collected), C(Timeout exceeded) when Ansible killed the job at its C(async) limit, or the job's own message.
  returned: when the task failed
  type: str
  sample: "worker_failed: worker 'bosun-worker-nightly-backup-5f0c2a7e' exited with code 1"
outcome:
  description: The outcome of the M(bosun.compose.job_run) job, RV(bosun.compose.job_run#module:outcome).
  returned: when a job_run job has finished
  type: str
  sample: success
message:
  description: The sentence on that outcome, RV(bosun.compose.job_run#module:message).
  returned: when a job_run job has finished
  type: str
error:
  description: Why the poll failed - the error's C(type) (V(AsyncJobError), V(HeartbeatError)) and its context.
  returned: when the poll itself failed
  type: dict
  sample: {type: AsyncJobError, jid: j894715364103.4242, async_dir: /root/.ansible_async}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bosun.compose.plugins.module_utils._async_job import wait_for_result
from ansible_collections.bosun.compose.plugins.module_utils._heartbeat import touch_heartbeat
from ansible_collections.bosun.compose.plugins.module_utils._module import guard, state_dir_spec
from ansible_collections.bosun.compose.plugins.module_utils._state import default_state_dir


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            jid=dict(type="str", required=True),
            wait=dict(type="int", default=5),
            async_dir=dict(type="path", default="~/.ansible_async"),
            run_id=dict(type="str"),
            **state_dir_spec(),
        ),
        supports_check_mode=True,
    )
    p = module.params
    state_dir, run_id = p["state_dir"] or default_state_dir(), p["run_id"]
    with guard(module, ansible_job_id=p["jid"], started=True, finished=False):
        poll = wait_for_result(
            p["async_dir"], p["jid"], p["wait"], tick=(lambda: touch_heartbeat(state_dir, run_id)) if run_id else None
        )
    for warning in poll.warnings:
        module.warn(warning)
    out = poll.to_dict()
    if poll.failed:
        out.pop("failed", None)
        module.fail_json(msg=str(out.pop("msg", "the job failed")), **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
