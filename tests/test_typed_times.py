"""Times as people type them, each form checked by properties over many times and zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import ParseError, month_first, parse_when

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
ZONES = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Sydney"])
# A minute on the day before NOW's local date, in the speaker's zone.
CLOCKS = st.tuples(st.integers(0, 23), st.integers(0, 59))


def _yesterday(tz: ZoneInfo, hour: int, minute: int) -> dt.datetime:
    day = NOW.astimezone(tz).date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def _twelve_hour(hour: int, minute: int) -> str:
    return f"{(hour % 12) or 12}:{minute:02d}{'am' if hour < 12 else 'pm'}"


@given(ZONES, CLOCKS)
def test_yesterday_before_or_after_the_clock_in_24_and_12_hour_forms(
    zone_name: str, clock: tuple[int, int]
) -> None:
    tz = ZoneInfo(zone_name)
    hour, minute = clock
    expected = _yesterday(tz, hour, minute).astimezone(dt.UTC)
    for text in (
        f"{hour:02d}:{minute:02d} yesterday",
        f"yesterday {hour:02d}:{minute:02d}",
        f"{_twelve_hour(hour, minute)} yesterday",
        f"yesterday {_twelve_hour(hour, minute)}",
        f"about {hour}:{minute:02d} yesterday",
    ):
        assert parse_when(text, now=NOW, tz=tz) == expected, text


@given(ZONES, CLOCKS, st.integers(1, 28), st.integers(1, 11))
def test_a_numeric_day_is_read_day_first_unless_the_locale_says_month_first(
    zone_name: str, clock: tuple[int, int], day: int, month: int
) -> None:
    tz = ZoneInfo(zone_name)
    hour, minute = clock
    expected = dt.datetime(2026, month, day, hour, minute, tzinfo=tz).astimezone(dt.UTC)
    assert parse_when(f"{day}/{month} {hour:02d}:{minute:02d}", now=NOW, tz=tz) == expected
    assert parse_when(f"{day}.{month}.2026 {hour:02d}:{minute:02d}", now=NOW, tz=tz) == expected
    assert parse_when(f"{hour:02d}:{minute:02d} {day}/{month}", now=NOW, tz=tz) == expected
    us = parse_when(f"{month}/{day} {hour:02d}:{minute:02d}", now=NOW, tz=tz, month_first=True)
    assert us == expected


@given(st.integers(1, 600), st.sampled_from(["about ", "around ", "~", ""]))
def test_a_duration_later_counts_from_the_previous_time(minutes: int, about: str) -> None:
    previous = NOW - dt.timedelta(days=1)
    got = parse_when(f"{about}{minutes} minutes later", now=NOW, tz=dt.UTC, previous=previous)
    assert got == previous + dt.timedelta(minutes=minutes)


def test_about_an_hour_later() -> None:
    previous = dt.datetime(2026, 11, 30, 20, 40, tzinfo=dt.UTC)
    got = parse_when("about an hour later", now=NOW, tz=dt.UTC, previous=previous)
    assert got == previous + dt.timedelta(hours=1)


def test_a_day_first_reading_that_cannot_be_a_month_says_how_it_reads() -> None:
    with pytest.raises(ParseError, match="day/month"):
        parse_when("11/30 21:40", now=NOW, tz=dt.UTC)


def test_month_first_comes_from_the_locale_region() -> None:
    assert month_first("en-US") and month_first("en_US") and month_first("es-US")
    assert not month_first("en-GB") and not month_first("fr-FR") and not month_first(None)
    assert not month_first("en")
