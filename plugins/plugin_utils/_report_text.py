# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Text helpers shared by the filters of the role bosun.compose.run_job (plan_lines, run_report, report_lines).

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import typing as t


def text(value: t.Any) -> str:
    """A value as Jinja's ~ renders it (None as 'None', numbers as Python prints them)."""
    return value if isinstance(value, str) else str(value)
