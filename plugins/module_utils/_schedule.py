# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cron schedules: when an expression that ``_values.parse_schedule`` accepts fires, in a time zone.

The meaning is Vixie cron's: five fields (minute, hour, day of month, month, day of week), names, ranges,
steps (``a-b/s``; ``n/s`` runs from n to the field's end) and lists; 0 and 7 are both Sunday. When both day
fields are restricted (neither starts with ``*``), a day matches when either matches; otherwise both must.
Descriptors: ``@yearly``/``@annually``, ``@monthly``, ``@weekly``, ``@daily``/``@midnight``, ``@hourly``.

Times are wall-clock times of the zone: a wall time that does not exist (the hour skipped when clocks go
forward) does not fire, an ambiguous one (the hour repeated when clocks go back) fires once, at its first
occurrence. The search jumps field by field (month, day, hour, minute), so a yearly schedule costs a few
dozen steps, not half a million minutes. Pure: no Ansible, no Docker, no clock of its own.

PRIVATE: this is a private part of the collection; its API may change in any release.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import typing as t
import zoneinfo

from ansible_collections.bosun.compose.plugins.module_utils._errors import ScheduleError
from ansible_collections.bosun.compose.plugins.module_utils._values import (
    _CRON_FIELDS,
    _cron_value,
    LabelError,
    parse_schedule,
)

DESCRIPTOR_EXPRESSIONS: t.Mapping[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# How far the search looks before it decides that an expression never fires (``0 0 31 2 *``); 29 February
# needs up to 8 years (2096 -> 2104).
SEARCH_YEARS = 30
_MINUTE = datetime.timedelta(minutes=1)
_DAY = datetime.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Cron:
    """A parsed expression: the allowed values of each field, sorted, and whether the day fields are restricted."""

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]  # 0 = Sunday ... 6 = Saturday
    days_restricted: bool
    weekdays_restricted: bool

    def day_matches(self, day: datetime.date) -> bool:
        """Vixie cron's rule: both day fields restricted -> either matches; otherwise both must."""
        dom = day.day in self.days
        dow = (day.weekday() + 1) % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow


def _field_values(field: str, low: int, high: int, names: tuple[str, ...]) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        rng, _slash, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if rng == "*":
            first, last = low, high
        else:
            a, dash, b = rng.partition("-")
            first = _cron_value(a, low, high, names)
            # "n/s" runs to the field's end, as in Vixie cron and cronie; a plain "n" is n alone.
            last = _cron_value(b, low, high, names) if dash else (high if step_text else first)
        values.update(range(first, last + 1, step))
    return values


def parse_cron(expression: str) -> Cron:
    """The expression parsed; ScheduleError (naming the expression) when parse_schedule refuses it."""
    try:
        normalized = parse_schedule(expression)
    except LabelError as exc:
        raise ScheduleError(f"schedule {expression!r} {exc}", schedule=expression) from None
    fields = DESCRIPTOR_EXPRESSIONS.get(normalized, normalized).split()
    values = [_field_values(f, low, high, names) for f, (_n, low, high, names) in zip(fields, _CRON_FIELDS)]
    weekdays = {v % 7 for v in values[4]}  # 7 is Sunday too
    return Cron(
        expression=normalized,
        minutes=tuple(sorted(values[0])),
        hours=tuple(sorted(values[1])),
        days=tuple(sorted(values[2])),
        months=tuple(sorted(values[3])),
        weekdays=tuple(sorted(weekdays)),
        days_restricted=not fields[2].startswith("*"),
        weekdays_restricted=not fields[4].startswith("*"),
    )


def timezone(name: str) -> datetime.tzinfo:
    """The IANA time zone of that name; UTC needs no time zone database."""
    if name.upper() in ("UTC", "ETC/UTC", "Z"):
        return datetime.timezone.utc
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(
            f"time zone {name!r} is not an IANA time zone name known on this host (such as UTC, Europe/Berlin "
            "or America/New_York; the host needs its time zone database, tzdata)",
            timezone=name,
        ) from None


# ---- the search over naive wall-clock times, minute precision ----------------------------------------------


def _after(values: tuple[int, ...], current: int) -> int | None:
    """The smallest value > current, or None."""
    i = bisect.bisect_right(values, current)
    return values[i] if i < len(values) else None


def _before(values: tuple[int, ...], current: int) -> int | None:
    """The largest value < current, or None."""
    i = bisect.bisect_left(values, current)
    return values[i - 1] if i > 0 else None


def _first_of_next_month(w: datetime.datetime, cron: Cron) -> datetime.datetime:
    month = _after(cron.months, w.month)
    if month is None:
        return datetime.datetime(w.year + 1, cron.months[0], 1)
    return datetime.datetime(w.year, month, 1)


def _end_of_previous_month(w: datetime.datetime, cron: Cron) -> datetime.datetime:
    month = _before(cron.months, w.month)
    year = w.year
    if month is None:
        month, year = cron.months[-1], w.year - 1
    first_of_next = datetime.datetime(year + 1, 1, 1) if month == 12 else datetime.datetime(year, month + 1, 1)
    return first_of_next - _MINUTE  # 23:59 of that month's last day


def _match_from(cron: Cron, w: datetime.datetime) -> datetime.datetime | None:
    """The first naive wall time >= w (a whole minute) that the expression matches, or None."""
    limit = w.year + SEARCH_YEARS
    while w.year <= limit:
        if w.month not in cron.months:
            w = _first_of_next_month(w, cron)
        elif not cron.day_matches(w.date()):
            w = datetime.datetime(w.year, w.month, w.day) + _DAY
        elif w.hour not in cron.hours:
            hour = _after(cron.hours, w.hour)
            day = datetime.datetime(w.year, w.month, w.day)
            w = day + _DAY if hour is None else day.replace(hour=hour)
        elif w.minute not in cron.minutes:
            minute = _after(cron.minutes, w.minute)
            top = w.replace(minute=0)
            w = top + datetime.timedelta(hours=1) if minute is None else top.replace(minute=minute)
        else:
            return w
    return None


def _match_until(cron: Cron, w: datetime.datetime) -> datetime.datetime | None:
    """The last naive wall time <= w (a whole minute) that the expression matches, or None."""
    limit = w.year - SEARCH_YEARS
    while w.year >= limit:
        if w.month not in cron.months:
            w = _end_of_previous_month(w, cron)
        elif not cron.day_matches(w.date()):
            w = datetime.datetime(w.year, w.month, w.day) - _MINUTE
        elif w.hour not in cron.hours:
            hour = _before(cron.hours, w.hour)
            day = datetime.datetime(w.year, w.month, w.day)
            w = day - _MINUTE if hour is None else day.replace(hour=hour, minute=59)
        elif w.minute not in cron.minutes:
            minute = _before(cron.minutes, w.minute)
            top = w.replace(minute=0)
            w = top - _MINUTE if minute is None else top.replace(minute=minute)
        else:
            return w
    return None


def _instant(wall: datetime.datetime, tz: datetime.tzinfo) -> datetime.datetime | None:
    """The moment (in UTC) of a naive wall time: its first occurrence when ambiguous, None when it does not exist.

    UTC, because Python never finds an ambiguous wall time of one zone equal to a time of another zone (PEP 495).
    """
    moment = wall.replace(tzinfo=tz, fold=0).astimezone(datetime.timezone.utc)
    if moment.astimezone(tz).replace(tzinfo=None) != wall:
        return None  # in the gap of a forward change: this wall time never happens
    return moment


def _minute_floor(at: datetime.datetime, tz: datetime.tzinfo) -> datetime.datetime:
    local = at.astimezone(tz)
    return local.replace(second=0, microsecond=0, tzinfo=None, fold=0)


def _aware(at: datetime.datetime) -> datetime.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at!r} has no time zone; give an aware datetime")
    return at


def next_fire(cron: Cron | str, at: datetime.datetime, tz: datetime.tzinfo) -> datetime.datetime | None:
    """The first moment (UTC) strictly after ``at`` at which the schedule fires in ``tz``; None if it never does."""
    c = cron if isinstance(cron, Cron) else parse_cron(cron)
    at = _aware(at)
    w: datetime.datetime | None = _minute_floor(at, tz)
    while w is not None:
        w = _match_from(c, w)
        if w is None:
            return None
        moment = _instant(w, tz)
        if moment is not None and moment > at:
            return moment
        w += _MINUTE  # a wall time in the gap, or one already past (the second pass of a repeated hour)
    return None


def previous_fire(cron: Cron | str, at: datetime.datetime, tz: datetime.tzinfo) -> datetime.datetime | None:
    """The last moment (UTC) at or before ``at`` at which the schedule fired in ``tz``; None if it never did."""
    c = cron if isinstance(cron, Cron) else parse_cron(cron)
    at = _aware(at)
    w: datetime.datetime | None = _minute_floor(at, tz)
    while w is not None:
        w = _match_until(c, w)
        if w is None:
            return None
        moment = _instant(w, tz)
        if moment is not None and moment <= at:
            return moment
        w -= _MINUTE
    return None


def next_fire_text(expression: str | None, at: float, tz: datetime.tzinfo) -> str | None:
    """The next fire time after the Unix time ``at``, as ISO 8601 in ``tz``; None without a (valid, possible) schedule."""
    if expression is None:
        return None
    try:
        moment = next_fire(expression, datetime.datetime.fromtimestamp(at, datetime.timezone.utc), tz)
    except ScheduleError:
        return None
    return None if moment is None else moment.astimezone(tz).isoformat(timespec="seconds")
