# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one validation vocabulary: the rules for every value a label, a play override or a module option gives.

Discovery (labels), the planner (play overrides), WorkerSpec and the worker module all call these, so a
value is accepted or refused the same way wherever it comes from. Each parser returns the normalized value
or raises LabelError, whose message says what is allowed; callers add which object, label or option it was.
Pure: no Ansible, no Docker.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import json
import re
import shlex
import typing as t

from ansible_collections.bosun.compose.plugins.module_utils._model import (
    MAX_DURATION,
    STOP_MODES,
    STOP_SCOPES,
    MountMode,
    OnError,
    OverlapPolicy,
    StopMode,
    StopScope,
)

_TRUE = frozenset(("true", "yes", "1"))
_FALSE = frozenset(("false", "no", "0"))
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
# POSIX portable environment variable names.
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{7,127}$")
# Docker's own rule for volume names.
_VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DESCRIPTORS = frozenset(("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"))
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# field name, low, high, names (index + low = value)
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
JOB_NAME_RULE = "must start with a letter or digit and use only letters, digits, '_', '.', '-' (at most 63)"
NETWORK_RULE = (
    "must be a bridge or user-defined network, or 'none'; host, container: and service: networking "
    "are not allowed for workers"
)


class LabelError(ValueError):
    """One value that does not parse; the message says what is allowed."""


def _scalar(value: t.Any) -> str:
    """Text from a string or a number; booleans, null, lists and dicts are refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise LabelError(f"must be a string, not {type(value).__name__}")


def parse_text(value: t.Any) -> str:
    v = _scalar(value).strip()
    if not v:
        raise LabelError("must not be empty")
    return v


def parse_bool(value: t.Any) -> bool:
    if isinstance(value, bool):
        return value
    v = _scalar(value).strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise LabelError("must be one of true, false, yes, no, 1, 0 (any case)")


def parse_duration(value: t.Any) -> int:
    """Seconds from 90, '90', '90s', '30m', '1h30m'; zero, negative and over 7 days are refused."""
    if isinstance(value, bool):
        raise LabelError("must be a duration such as 90s, 30m or 1h30m, or a whole number of seconds")
    if isinstance(value, int):
        seconds = value
    else:
        v = _scalar(value).strip()
        if re.fullmatch(r"[+-]?\d+", v):
            seconds = int(v)
        else:
            m = _DURATION.fullmatch(v)
            if not v or m is None:
                raise LabelError("must be a duration such as 90s, 30m or 1h30m, or a whole number of seconds")
            h, mi, s = (int(g) if g else 0 for g in m.groups())
            seconds = h * 3600 + mi * 60 + s
    if seconds <= 0:
        raise LabelError("must be a positive duration such as 90s, 30m or 1h30m")
    if seconds > MAX_DURATION:
        raise LabelError(f"must be at most 7 days ({MAX_DURATION} seconds)")
    return seconds


def parse_command(value: t.Any) -> list[str]:
    """A list of arguments (strings or numbers), a JSON array of strings, or a shell-quoted string.

    A string is split like a POSIX shell would, but no shell runs it.
    """
    if isinstance(value, (list, tuple)):
        try:
            argv = [_scalar(a) for a in value]
        except LabelError:
            raise LabelError("must be a list of strings, a JSON array of strings or a shell-quoted string") from None
    else:
        v = _scalar(value).strip()
        if v.startswith("["):
            try:
                parsed = json.loads(v)
            except ValueError as exc:
                raise LabelError(
                    f"is not a valid JSON array ({exc}); use a JSON array of strings or a shell-quoted string"
                ) from None
            if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
                raise LabelError("must be a JSON array of strings, or a shell-quoted string")
            argv = parsed
        else:
            try:
                argv = shlex.split(v)
            except ValueError as exc:
                raise LabelError(
                    f"is not a valid shell-quoted string ({exc}); use a JSON array of strings or a shell-quoted string"
                ) from None
    if not argv:
        raise LabelError("must name at least the program to run")
    return argv


def env_value(value: t.Any) -> str:
    """An environment value: strings as they are, numbers as text, booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return _scalar(value)
    except LabelError:
        raise LabelError(f"must be a string, number or boolean, not {type(value).__name__}") from None


def parse_env_name(value: t.Any) -> str:
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise LabelError(f"environment variable name {value!r} must match [A-Za-z_][A-Za-z0-9_]*")
    return value


def parse_env(value: t.Any) -> dict[str, str]:
    """A mapping of NAME: value, names by parse_env_name and values by env_value."""
    if not isinstance(value, t.Mapping):
        raise LabelError("must be a dict of NAME: value")
    env: dict[str, str] = {}
    for name, v in value.items():
        parse_env_name(name)
        try:
            env[name] = env_value(v)
        except LabelError as exc:
            raise LabelError(f"variable {name!r} {exc}") from None
    return env


def _cron_value(token: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if token.lower() in names:
        return names.index(token.lower()) + low
    if not token.isdigit():
        raise LabelError(f"{token!r} is not a number")
    n = int(token)
    if not low <= n <= high:
        raise LabelError(f"{n} is outside {low}-{high}")
    return n


def parse_schedule(value: t.Any) -> str:
    """A 5-field cron expression or an @daily-style descriptor, normalized to single spaces."""
    v = _scalar(value).strip()
    if v.startswith("@"):
        if v.lower() in _DESCRIPTORS:
            return v.lower()
        raise LabelError(f"must be a 5-field cron expression or one of {', '.join(sorted(_DESCRIPTORS))}")
    fields = v.split()
    if len(fields) != 5:
        raise LabelError(
            f"must be a 5-field cron expression (minute hour day-of-month month day-of-week), got {len(fields)} fields"
        )
    for field, (fname, low, high, names) in zip(fields, _CRON_FIELDS):
        for part in field.split(","):
            try:
                rng, _slash, step = part.partition("/")
                if step and (not step.isdigit() or int(step) == 0):
                    raise LabelError(f"step {step!r} must be a positive number")
                if rng == "*":
                    continue
                a, dash, b = rng.partition("-")
                lo = _cron_value(a, low, high, names)
                if dash and lo > _cron_value(b, low, high, names):
                    raise LabelError(f"range {rng!r} runs backwards")
            except LabelError as exc:
                raise LabelError(f"{fname} field {field!r}: {exc}") from None
    return " ".join(fields)


def parse_mount_path(value: t.Any) -> str:
    """An absolute path inside the worker, normalized ('.', empty parts and trailing slashes removed)."""
    v = _scalar(value).strip()
    if not v.startswith("/"):
        raise LabelError("must be an absolute path inside the worker, such as /mnt/data")
    if ".." in v.split("/"):
        raise LabelError("must not contain '..'")
    norm = "/" + "/".join(p for p in v.split("/") if p not in ("", "."))
    if norm == "/":
        raise LabelError("must not be '/': mount the volume below it, such as /mnt/data")
    return norm


def parse_volume_name(value: t.Any) -> str:
    """A named volume; host paths are refused (workers mount named volumes only)."""
    v = _scalar(value).strip()
    if not _VOLUME_NAME.match(v):
        raise LabelError(
            "must be a volume name: a letter or digit first, then letters, digits, '_', '.', '-' "
            "(host paths are not allowed)"
        )
    return v


def _one_of(value: t.Any, allowed: t.Sequence[str]) -> str:
    v = _scalar(value).strip().lower()
    if v in allowed:
        return v
    shown = [repr(a) for a in allowed]
    raise LabelError(f"must be {' or '.join(shown)}" if len(shown) == 2 else f"must be one of {', '.join(shown)}")


def parse_mode(value: t.Any) -> MountMode:
    return t.cast(MountMode, _one_of(value, ("ro", "rw")))


def parse_overlap(value: t.Any) -> OverlapPolicy:
    return t.cast(OverlapPolicy, _one_of(value, ("queue", "skip")))


def parse_stop_scope(value: t.Any) -> StopScope:
    return t.cast(StopScope, _one_of(value, STOP_SCOPES))


def parse_stop_mode(value: t.Any) -> StopMode:
    return t.cast(StopMode, _one_of(value, STOP_MODES))


def parse_on_error(value: t.Any) -> OnError:
    return t.cast(OnError, _one_of(value, ("abort", "continue")))


def parse_network(value: t.Any) -> str:
    v = _scalar(value).strip()
    if not v:
        raise LabelError("must name a Docker network, or 'none'")
    if v == "host" or v.startswith(("container:", "service:")):
        raise LabelError(NETWORK_RULE)
    return v


def parse_job_names(value: t.Any) -> list[str]:
    """One job name or a comma-separated list of them (a volume may belong to several jobs)."""
    v = _scalar(value)
    names = [n.strip() for n in v.split(",")]
    if not v.strip() or any(not n for n in names):
        raise LabelError("must be a job name or a comma-separated list of job names, with no empty entries")
    for n in names:
        if not _JOB_NAME.match(n):
            raise LabelError(f"job name {n!r} {JOB_NAME_RULE}")
    return names


def parse_job_name(value: t.Any) -> str:
    v = _scalar(value).strip()
    if "," in v:
        raise LabelError("must be a single job name; only volumes may list several")
    if not _JOB_NAME.match(v):
        raise LabelError(JOB_NAME_RULE)
    return v


def parse_run_id(value: t.Any) -> str:
    if not isinstance(value, str) or not _RUN_ID.match(value):
        raise LabelError(
            "must be 8 to 128 letters, digits, '_', '.', '-', starting with a letter or digit (a uuid4 hex is typical)"
        )
    return value
