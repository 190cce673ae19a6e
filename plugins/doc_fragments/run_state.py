# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Where run records and worker logs live. Keep in sync with
    # plugins/module_utils/_module.py state_dir_spec() and worker_output_spec().
    DOCUMENTATION = r"""
options:
  state_dir:
    description:
      - The state directory on the Docker host, where M(bosun.compose.job_run) keeps run records
        (C(runs/<job>/<run_id>.json)) and worker logs (C(logs/<job>/<run_id>.log)).
      - Discovery keeps its container index there too (C(index/), one small file per Docker Engine) - the ids of the
        containers that carry bosun labels, kept current through the Engine's container creation events, so that
        finding the jobs and leases does not walk every container on a large host. It is only a cache (deleted, it
        is rebuilt by the next list); in check mode it is read, not written.
      - Default C(/var/lib/bosun) as root, else C($XDG_STATE_HOME/bosun) (C(~/.local/state/bosun)).
    type: path
"""

    # The worker's output: how much of its log to return, and whether to keep a failed worker.
    WORKER_OUTPUT = r"""
options:
  tail_lines:
    description:
      - How many of the worker's last log lines to return. The whole log is always kept in the state directory.
    type: int
    default: 50
  keep:
    description:
      - V(never) always removes the worker container. V(on_failure) keeps it when the run failed, for
        inspection; remove it yourself afterwards.
    type: str
    choices: [never, on_failure]
    default: never
"""
