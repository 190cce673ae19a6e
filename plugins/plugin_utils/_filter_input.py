# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Input checks shared by the collection's filter plugins: a wrong type or a missing key is an
AnsibleFilterError that names the filter, the input and what it got.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from ansible.errors import AnsibleFilterError


def mapping(value: t.Any, filter_name: str, what: str) -> cabc.Mapping[str, t.Any]:
    if not isinstance(value, cabc.Mapping):
        raise AnsibleFilterError(f"{filter_name}: {what} must be a dict, got {type(value).__name__}")
    return value


def sequence(value: t.Any, filter_name: str, what: str) -> list[t.Any]:
    if isinstance(value, (str, bytes, cabc.Mapping)) or not isinstance(value, cabc.Sequence):
        raise AnsibleFilterError(f"{filter_name}: {what} must be a list, got {type(value).__name__}")
    return list(value)


def field(value: cabc.Mapping[str, t.Any], key: str, filter_name: str, what: str) -> t.Any:
    try:
        return value[key]
    except KeyError:
        raise AnsibleFilterError(f"{filter_name}: {what} has no key {key!r}") from None
