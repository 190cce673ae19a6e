# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures the core's unit tests share."""

from __future__ import annotations

import time

import pytest

from ansible_collections.bosun.compose.plugins.module_utils import _worker_runner
from ansible_collections.bosun.compose.tests.unit.plugins.module_utils.fake_engine import FakeClock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A fake clock that the worker runner's waits use too: no test waits for real time."""
    fake = FakeClock(time.time())
    monkeypatch.setattr(_worker_runner, "time", fake.time_module())
    return fake
