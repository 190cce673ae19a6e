# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures the core's unit tests share.

The collection is imported inside the fixtures: pytest loads this file before pytest-ansible puts the collection
on the path when a single test file of this folder is given on the command line.
"""

from __future__ import annotations

import time
import typing as t

import pytest

if t.TYPE_CHECKING:
    from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import FakeClock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A fake clock that the worker runner's waits use too: no test waits for real time."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.bosun.compose.plugins.module_utils import _worker_runner

    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import FakeClock

    fake = FakeClock(time.time())
    monkeypatch.setattr(_worker_runner, "time", fake.time_module())
    return fake
