# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the job_run module as a plain process with every Docker API call timestamped (bench only).

    PYTHONPATH=build/collections BENCH_TRACE_FILE=trace.json python bench/trace_job_run.py args.json

Wraps DockerApi._call (the one place the core talks to the Engine) and DockerApi.wait_container and writes [[what, start, end], ...]
(wall seconds) to BENCH_TRACE_FILE when the module exits; the module itself runs unchanged.
"""

import atexit
import json
import os
import runpy
import sys
import time
from pathlib import Path

from ansible_collections.bosun.compose.plugins.module_utils._docker_api import DockerApi

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "plugins" / "modules" / "job_run.py"
_trace = []
_orig = DockerApi._call  # pylint: disable=protected-access
_orig_wait = DockerApi.wait_container


def _call(self, what, fn, *args, **kwargs):
    t0 = time.time()
    try:
        return _orig(self, what, fn, *args, **kwargs)
    finally:
        _trace.append([what, t0, time.time()])


def _wait(self, cid, timeout, what=""):
    # The engine's blocking wait bypasses _call on its normal path: timed on its own.
    t0 = time.time()
    try:
        return _orig_wait(self, cid, timeout, what)
    finally:
        _trace.append([what or f"wait for container {cid[:12]}", t0, time.time()])


def _dump():
    with open(os.environ["BENCH_TRACE_FILE"], "w", encoding="utf-8") as f:
        json.dump(_trace, f)


DockerApi._call = _call  # type: ignore[method-assign]
DockerApi.wait_container = _wait  # type: ignore[method-assign]
atexit.register(_dump)
sys.argv = [str(MODULE)] + sys.argv[1:]
runpy.run_path(str(MODULE), run_name="__main__")
