# Copyright (c) 2026, bosun.compose contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cron math: fields, Vixie's day-of-month/day-of-week rule, descriptors, time zones and DST, speed."""

from __future__ import annotations

import datetime
import time

import pytest

from ansible_collections.bosun.compose.plugins.module_utils._errors import ScheduleError
from ansible_collections.bosun.compose.plugins.module_utils._schedule import (
    next_fire,
    next_fire_text,
    parse_cron,
    previous_fire,
    timezone,
)

UTC = datetime.timezone.utc
BERLIN = timezone("Europe/Berlin")


def utc(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def fires(expr: str, start: datetime.datetime, count: int, tz: datetime.tzinfo = UTC) -> list[str]:
    """The next ``count`` fire times after ``start``, as ISO texts in ``tz``."""
    out, at = [], start
    for _i in range(count):
        nxt = next_fire(expr, at, tz)
        assert nxt is not None
        out.append(nxt.astimezone(tz).isoformat())
        at = nxt
    return out


@pytest.mark.parametrize(
    ("expr", "field", "values"),
    [
        ("*/15 * * * *", "minutes", (0, 15, 30, 45)),
        ("5-20/5 * * * *", "minutes", (5, 10, 15, 20)),
        ("50/5 * * * *", "minutes", (50, 55)),  # n/s runs to the field's end
        ("1,3,58-59 * * * *", "minutes", (1, 3, 58, 59)),
        ("0 9-17/4 * * *", "hours", (9, 13, 17)),
        ("0 0 * jan,Jun-aug *", "months", (1, 6, 7, 8)),
        ("0 0 * * mon-fri", "weekdays", (1, 2, 3, 4, 5)),
        ("0 0 * * 5-7", "weekdays", (0, 5, 6)),  # 7 is Sunday
        ("0 0 * * 7", "weekdays", (0,)),
        ("0 0 */10 * *", "days", (1, 11, 21, 31)),
    ],
)
def test_fields_expand_like_vixie_cron(expr: str, field: str, values: tuple[int, ...]) -> None:
    assert getattr(parse_cron(expr), field) == values


@pytest.mark.parametrize(
    ("descriptor", "expression"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ],
)
def test_descriptors_fire_as_their_expression(descriptor: str, expression: str) -> None:
    start = utc(2026, 2, 27, 13, 7)
    assert fires(descriptor, start, 5) == fires(expression, start, 5)


def test_descriptor_times() -> None:
    start = utc(2026, 2, 27, 13, 7)  # a Friday
    assert fires("@hourly", start, 2) == ["2026-02-27T14:00:00+00:00", "2026-02-27T15:00:00+00:00"]
    assert fires("@weekly", start, 2) == ["2026-03-01T00:00:00+00:00", "2026-03-08T00:00:00+00:00"]
    assert fires("@monthly", start, 2) == ["2026-03-01T00:00:00+00:00", "2026-04-01T00:00:00+00:00"]
    assert fires("@yearly", start, 2) == ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"]


def test_both_day_fields_restricted_match_either() -> None:
    # The 13th, or any Friday: Vixie cron's OR rule.
    got = fires("0 12 13 * fri", utc(2026, 3, 1), 4)
    assert got == [
        "2026-03-06T12:00:00+00:00",  # Friday
        "2026-03-13T12:00:00+00:00",  # Friday the 13th: once
        "2026-03-20T12:00:00+00:00",
        "2026-03-27T12:00:00+00:00",
    ]
    assert fires("0 12 1 * mon", utc(2026, 3, 31), 2) == ["2026-04-01T12:00:00+00:00", "2026-04-06T12:00:00+00:00"]


def test_a_star_day_field_makes_the_days_and() -> None:
    # Day of week starts with '*' (here */1): both must match, so only the first of the month.
    assert fires("0 0 1 * */1", utc(2026, 3, 5), 2) == ["2026-04-01T00:00:00+00:00", "2026-05-01T00:00:00+00:00"]
    # Day of month '*': only Sundays (0 and 7 alike).
    assert fires("0 0 * * 7", utc(2026, 3, 5), 2) == ["2026-03-08T00:00:00+00:00", "2026-03-15T00:00:00+00:00"]


def test_next_is_strictly_after_and_previous_is_at_or_before() -> None:
    at = utc(2026, 5, 4, 2, 30)
    assert next_fire("30 2 * * *", at, UTC) == utc(2026, 5, 5, 2, 30)
    assert previous_fire("30 2 * * *", at, UTC) == at
    assert previous_fire("30 2 * * *", at - datetime.timedelta(microseconds=1), UTC) == utc(2026, 5, 3, 2, 30)
    assert next_fire("* * * * *", utc(2026, 5, 4, 2, 30, 59), UTC) == utc(2026, 5, 4, 2, 31)
    assert previous_fire("* * * * *", utc(2026, 5, 4, 2, 30, 59), UTC) == utc(2026, 5, 4, 2, 30)


def test_year_and_month_boundaries_and_leap_days() -> None:
    assert next_fire("59 23 31 12 *", utc(2026, 12, 31, 23, 59), UTC) == utc(2027, 12, 31, 23, 59)
    assert previous_fire("0 0 1 1 *", utc(2026, 6, 1), UTC) == utc(2026, 1, 1)
    assert next_fire("0 0 29 2 *", utc(2097, 3, 1), UTC) == utc(2104, 2, 29)  # 2100 is no leap year
    assert previous_fire("0 0 29 2 *", utc(2104, 2, 28), UTC) == utc(2096, 2, 29)
    assert next_fire("0 0 31 * *", utc(2026, 4, 1), UTC) == utc(2026, 5, 31)  # April has no 31st


def test_a_date_that_never_comes_gives_none() -> None:
    assert next_fire("0 0 31 2 *", utc(2026, 1, 1), UTC) is None
    assert previous_fire("0 0 30 2 *", utc(2026, 1, 1), UTC) is None


def test_time_zone_shifts_the_wall_time() -> None:
    assert next_fire("30 2 * * *", utc(2026, 1, 10), BERLIN) == utc(2026, 1, 10, 1, 30)  # CET = UTC+1
    assert next_fire("30 2 * * *", utc(2026, 7, 10), BERLIN) == utc(2026, 7, 10, 0, 30)  # CEST = UTC+2
    nyc = timezone("America/New_York")
    assert previous_fire("0 9 * * *", utc(2026, 7, 10, 14), nyc) == utc(2026, 7, 10, 13)  # EDT = UTC-4
    assert previous_fire("0 9 * * *", utc(2026, 7, 10, 12), nyc) == utc(2026, 7, 9, 13)


def test_spring_forward_skips_the_wall_time_that_does_not_exist() -> None:
    # Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
    before = utc(2026, 3, 28, 12)
    assert fires("30 2 * * *", before, 2, BERLIN) == ["2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"]
    assert previous_fire("30 2 * * *", utc(2026, 3, 29, 12), BERLIN) == utc(2026, 3, 28, 1, 30)
    # Every 30 minutes: 01:30 CET, then 03:00 CEST, 59 real minutes of nothing in between.
    assert fires("*/30 * * * *", utc(2026, 3, 29, 0, 0), 3, BERLIN) == [
        "2026-03-29T01:30:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:30:00+02:00",
    ]


def test_fall_back_fires_an_ambiguous_wall_time_once() -> None:
    # Berlin, 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:00-02:59 happen twice.
    start = utc(2026, 10, 24, 12)
    assert fires("30 2 * * *", start, 2, BERLIN) == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    assert fires("0,30 * * * *", utc(2026, 10, 24, 23, 45), 5, BERLIN) == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T03:00:00+01:00",  # the second 02:00 and 02:30 (CET) do not fire again
        "2026-10-25T03:30:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]
    # Asked during the second pass of the hour: the fire was the first pass.
    second_pass = utc(2026, 10, 25, 1, 40)  # 02:40 CET
    assert previous_fire("30 2 * * *", second_pass, BERLIN) == utc(2026, 10, 25, 0, 30)
    assert next_fire("30 2 * * *", second_pass, BERLIN) == utc(2026, 10, 26, 1, 30)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        next_fire("* * * * *", datetime.datetime(2026, 1, 1), UTC)


def test_bad_expression_and_time_zone_name_what_is_allowed() -> None:
    with pytest.raises(ScheduleError, match=r"schedule '61 \* \* \* \*' minute field '61': 61 is outside 0-59"):
        parse_cron("61 * * * *")
    with pytest.raises(ScheduleError, match="time zone 'Europe/Berln' is not an IANA time zone name") as exc:
        timezone("Europe/Berln")
    assert exc.value.context == {"timezone": "Europe/Berln"}
    assert timezone("UTC") is UTC


def test_the_search_jumps_instead_of_scanning_minutes() -> None:
    at = utc(2026, 6, 15, 12, 34)
    t0 = time.perf_counter()
    for _i in range(200):
        next_fire("0 0 1 1 *", at, BERLIN)
        previous_fire("0 0 1 1 *", at, BERLIN)
        next_fire("0 0 31 2 *", at, BERLIN)  # never: the whole 30-year window
    per_call = (time.perf_counter() - t0) / 600
    # A minute-by-minute scan of one year alone is 525,600 steps (well over 0.1 s in Python).
    assert per_call < 0.005, per_call


def brute_force(expr: str, start: datetime.datetime, end: datetime.datetime, tz: datetime.tzinfo) -> list:
    """Every fire time in (start, end], minute by minute in UTC: the wall time matches and is its first occurrence."""
    cron = parse_cron(expr)
    out, m = [], start.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    while m <= end:
        local = m.astimezone(tz)
        if (
            local.fold == 0
            and local.minute in cron.minutes
            and local.hour in cron.hours
            and local.month in cron.months
            and cron.day_matches(local.date())
        ):
            out.append(m)
        m += datetime.timedelta(minutes=1)
    return out


@pytest.mark.parametrize(
    "expr", ["*/7 * * * *", "30 2 * * *", "0,45 1-3 * * *", "15 */2 25-31 3,10 sun", "5 3 * * 6", "@hourly"]
)
@pytest.mark.parametrize("start", [utc(2026, 3, 27, 22), utc(2026, 10, 23, 22)], ids=["spring", "fall"])
def test_agrees_with_a_minute_by_minute_scan_across_dst(expr: str, start: datetime.datetime) -> None:
    end = start + datetime.timedelta(days=3)
    expected = brute_force(expr, start, end, BERLIN)
    got, at = [], start
    while True:
        nxt = next_fire(expr, at, BERLIN)
        if nxt is None or nxt > end:
            break
        got.append(nxt)
        at = nxt
    assert got == expected
    # previous_fire walks the same times backwards.
    back, at = [], end
    while True:
        prev = previous_fire(expr, at, BERLIN)
        if prev is None or prev <= start:
            break
        back.append(prev)
        at = prev - datetime.timedelta(microseconds=1)
    assert back[::-1] == expected


def test_next_fire_text_for_job_info() -> None:
    at = utc(2026, 12, 1, 12).timestamp()
    assert next_fire_text("30 2 * * *", at, BERLIN) == "2026-12-02T02:30:00+01:00"
    assert next_fire_text(None, at, BERLIN) is None
    assert next_fire_text("0 0 31 2 *", at, UTC) is None  # matches no date
    assert next_fire_text("bad", at, UTC) is None  # discovery reports a bad label; job_info shows no time
