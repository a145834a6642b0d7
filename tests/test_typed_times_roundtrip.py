"""Every typed form, rendered from a random past instant in a random zone, reads back to that instant;
a numeric day follows the locale; `later` counts from the previous answer."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.parsing import FUTURE_TOLERANCE, ParseError, month_first, parse_when, reading, weekday_text

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
ZONE_NAMES = [
    "UTC",
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "Pacific/Auckland",
]
ZONES = st.sampled_from(ZONE_NAMES).map(ZoneInfo)
LOCALES = st.sampled_from(["en-GB", "en-US", "fr-FR", "es-US", "de", None])
# A whole minute in the last 360 days (and at least 3 minutes ago): the most recent occurrence
# of its day and clock is itself, so forms without a year read back to it.
PAST = st.integers(3, 360 * 24 * 60).map(lambda minutes: NOW - dt.timedelta(minutes=minutes))


def _local(instant: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The instant as its zone writes it; skipped when that local time also names another instant
    (the repeated hour of a DST change), which no form without an offset can tell apart."""
    local = instant.astimezone(tz)
    assume(local.replace(fold=0).astimezone(dt.UTC) == local.replace(fold=1).astimezone(dt.UTC))
    return local


def _numeric(local: dt.datetime, locale: str | None, *, year: bool) -> str:
    day, month = f"{local.day}", f"{local.month}"
    first, second = (month, day) if month_first(locale) else (day, month)
    return f"{first}/{second}" + (f"/{local.year}" if year else "")


def _twelve_hour(local: dt.datetime) -> str:
    return f"{(local.hour % 12) or 12}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'}"


@given(PAST, ZONES, LOCALES)
def test_every_written_form_reads_back_to_its_instant(
    instant: dt.datetime, tz: ZoneInfo, locale: str | None
) -> None:
    local = _local(instant, tz)
    clock = f"{local:%H:%M}"
    forms = [
        f"{local:%Y-%m-%d} {clock}",
        f"{local:%Y-%m-%d}T{clock}",
        f"{_numeric(local, locale, year=True)} {clock}",
        f"{_numeric(local, locale, year=False)} {clock}",
        f"{_numeric(local, locale, year=False)} at {_twelve_hour(local)}",
        f"{clock} {_numeric(local, locale, year=False)}",
        f"{local.day:02d}.{local.month:02d}.{local.year} {clock}" if not month_first(locale) else None,
        f"{local:%b} {local.day} {clock}",
        f"{local.day} {local:%B} {local.year} at {_twelve_hour(local)}",
        f"{local:%a} {local.day} {local:%b} {local.year} {local.hour}h{local.minute:02d}",
        f"about {local:%b %d} {clock}",
    ]
    for text in filter(None, forms):
        got = parse_when(text, now=NOW, tz=tz, month_first=month_first(locale))
        assert got == instant, text


@given(PAST, ZONES)
def test_the_echo_reads_back_to_its_instant_even_in_a_repeated_hour(
    instant: dt.datetime, tz: ZoneInfo
) -> None:
    echo = weekday_text(instant, now=NOW, tz=tz)  # `Mon 30 Nov 21:40 (UTC+01:00)`: the offset decides
    assert parse_when(echo, now=NOW, tz=tz) == instant, echo
    said = reading("30/11 21:40", instant, now=NOW, tz=tz, month_first=False)
    assert said == f"read as {echo}, day first"


@given(st.integers(3, 24 * 60 * 6), ZONES)
def test_yesterday_today_a_weekday_and_ago_read_back(minutes_ago: int, tz: ZoneInfo) -> None:
    instant = NOW - dt.timedelta(minutes=minutes_ago)
    local = _local(instant, tz)
    clock, today = f"{local:%H:%M}", NOW.astimezone(tz).date()
    assert parse_when(f"{minutes_ago} minutes ago", now=NOW, tz=tz) == instant
    days_back = (today - local.date()).days
    forms = [f"{local:%A} {clock}", f"{_twelve_hour(local)} on {local:%a}"] if days_back > 0 else []
    if days_back == 1:
        forms += [f"yesterday {clock}", f"{clock} yesterday", f"{_twelve_hour(local)} last night"]
    if days_back == 0:
        forms += [f"today {clock}", clock, f"at {_twelve_hour(local)}"]
    for text in forms:
        assert parse_when(text, now=NOW, tz=tz) == instant, text


@given(PAST, ZONES)
def test_a_numeric_day_is_day_first_unless_the_locale_writes_the_month_first(
    instant: dt.datetime, tz: ZoneInfo
) -> None:
    local = _local(instant, tz)
    clock = f"{local:%H:%M}"
    gb = parse_when(f"{local.day}/{local.month} {clock}", now=NOW, tz=tz, month_first=month_first("en-GB"))
    us = parse_when(f"{local.month}/{local.day} {clock}", now=NOW, tz=tz, month_first=month_first("en-US"))
    assert gb == us == instant
    if local.day != local.month:  # the other order is another day, or no day at all
        try:
            other = parse_when(f"{local.month}/{local.day} {clock}", now=NOW, tz=tz, month_first=False)
        except ParseError as error:
            assert local.day > 12 and "day/month" in str(error)
        else:
            assert other != instant


@given(PAST, st.integers(1, 12 * 60), st.sampled_from(["about ", "around ", "~", ""]))
def test_later_counts_from_the_previous_answer(previous: dt.datetime, minutes: int, about: str) -> None:
    hours, rest = divmod(minutes, 60)
    spoken = [f"{about}{minutes} minutes later", f"+{minutes}m", f"{about}{minutes} min after"]
    if rest == 0:
        spoken += [f"{about}{'an' if hours == 1 else hours} hour{'s' if hours > 1 else ''} later"]
    expected = previous + dt.timedelta(minutes=minutes)
    for text in spoken:
        if expected > NOW + FUTURE_TOLERANCE:
            with pytest.raises(ParseError, match="in the future"):
                parse_when(text, now=NOW, tz=dt.UTC, previous=previous)
        else:
            assert parse_when(text, now=NOW, tz=dt.UTC, previous=previous) == expected, text


@given(PAST, ZONES)
def test_about_an_hour_later_is_an_hour_after_the_previous_answer(
    previous: dt.datetime, tz: ZoneInfo
) -> None:
    previous -= dt.timedelta(hours=1)  # so that an hour later is not in the future
    got = parse_when("about an hour later", now=NOW, tz=tz, previous=previous)
    assert got == previous + dt.timedelta(hours=1)


@given(PAST, ZONES, st.integers(1, 6))
def test_a_weekday_that_is_not_the_dates_is_refused(instant: dt.datetime, tz: ZoneInfo, shift: int) -> None:
    local = _local(instant, tz)
    wrong = (local + dt.timedelta(days=shift)).strftime("%a")
    with pytest.raises(ParseError, match=f"is a {local:%A}"):
        parse_when(f"{wrong} {local.day} {local:%b} {local.year} {local:%H:%M}", now=NOW, tz=tz)


TOKENS = ["yesterday", "today", "last night", "at", "on", "mon", "Nov", "30", "21:40", "9.40", "21h40", "pm"]
TOKENS += ["30/11", "11/30/2026", "2026-11-30", "(UTC+01:00)", "+01:00", "Z", "ago", "later", "+", "an hour"]
TOKENS += ["about", "minutes", "three", "half an hour", "31/02", "99:99", "0", ",", "."]
TYPED = st.one_of(st.text(max_size=80), st.lists(st.sampled_from(TOKENS), max_size=6).map(" ".join))


@given(TYPED, ZONES, st.booleans())
def test_any_text_is_read_or_refused_never_crashes(text: str, tz: ZoneInfo, first: bool) -> None:
    try:
        got = parse_when(text, now=NOW, tz=tz, previous=NOW - dt.timedelta(days=1), month_first=first)
    except ParseError:
        return
    assert got.tzinfo is not None and got <= NOW + FUTURE_TOLERANCE
