"""The answer parsers: what they accept, and what they refuse with a reason."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import parsing
from bot.messages import Mention
from bot.parsing import ParseError

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)  # Friday 16:00 in Paris
PARIS = ZoneInfo("Europe/Paris")


def when(text: str, *, tz: dt.tzinfo = PARIS, previous: dt.datetime | None = None) -> dt.datetime:
    return parsing.parse_when(text, now=NOW, tz=tz, previous=previous)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:05", dt.datetime(2026, 11, 20, 13, 5, tzinfo=dt.UTC)),
        ("2026-11-20 14:05 +01:00", dt.datetime(2026, 11, 20, 13, 5, tzinfo=dt.UTC)),
        ("2026-11-20T14:05Z", dt.datetime(2026, 11, 20, 14, 5, tzinfo=dt.UTC)),
        ("2026-11-20 14:05 UTC", dt.datetime(2026, 11, 20, 14, 5, tzinfo=dt.UTC)),
        ("2026-11-20 14:05", dt.datetime(2026, 11, 20, 13, 5, tzinfo=dt.UTC)),
        ("25 minutes ago", NOW - dt.timedelta(minutes=25)),
        ("1h30m ago", NOW - dt.timedelta(minutes=90)),
        ("2 hours 5 min ago", NOW - dt.timedelta(minutes=125)),
        ("yesterday 23:10", dt.datetime(2026, 11, 19, 22, 10, tzinfo=dt.UTC)),
        ("today at 9:30am", dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.UTC)),
        ("Nov 19 08:00", dt.datetime(2026, 11, 19, 7, 0, tzinfo=dt.UTC)),
        ("19 November 2026 08:00", dt.datetime(2026, 11, 19, 7, 0, tzinfo=dt.UTC)),
        ("wednesday 10:00", dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)),
        ("now", NOW),
    ],
)
def test_times_in_the_responders_timezone(text: str, expected: dt.datetime) -> None:
    assert when(text) == expected


def test_a_bare_time_later_than_now_means_yesterday() -> None:
    # 23:10 in Paris has not happened yet today at 16:00: it was last night.
    assert when("23:10") == dt.datetime(2026, 11, 19, 22, 10, tzinfo=dt.UTC)


def test_relative_to_the_previous_time() -> None:
    start = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    assert when("+12m", previous=start) == start + dt.timedelta(minutes=12)
    assert when("1 hour later", previous=start) == start + dt.timedelta(hours=1)
    with pytest.raises(ParseError, match="no earlier time"):
        when("+12m")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-11-21 10:00", "future"),
        ("in an hour", "can't read"),
        ("25:00", "not a valid time"),
        ("2026-02-30 10:00", "not a date on the calendar"),
        ("2026-11-20", "time of day"),
        ("2019-01-01 10:00", "three years"),
        ("the db fell over", "can't read"),
        ("14:05 Mars/Olympus", "timezone"),
        ("", "need a time"),
    ],
)
def test_times_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        when(text)


TODAY = dt.date(2026, 11, 20)  # a Friday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("next friday", dt.date(2026, 11, 27)),
        ("friday", dt.date(2026, 11, 20)),
        ("next monday", dt.date(2026, 11, 23)),
        ("in 2 weeks", dt.date(2026, 12, 4)),
        ("in 3 days", dt.date(2026, 11, 23)),
        ("in a month", dt.date(2026, 12, 20)),
        ("end of month", dt.date(2026, 11, 30)),
        ("eoq", dt.date(2026, 12, 31)),
        ("tomorrow", dt.date(2026, 11, 21)),
        ("Dec 3", dt.date(2026, 12, 3)),
        ("3 Jan", dt.date(2027, 1, 3)),
        ("by 2026-12-01", dt.date(2026, 12, 1)),
    ],
)
def test_due_dates(text: str, expected: dt.date) -> None:
    assert parsing.parse_due_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [("2026-11-01", "in the past"), ("2030-01-01", "two years"), ("someday", "can't read"), ("", "due date")],
)
def test_due_dates_refused(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parsing.parse_due_date(text, today=TODAY)


@given(st.integers(min_value=-2000, max_value=2000))
def test_a_due_date_is_never_in_the_past(offset: int) -> None:
    day = TODAY + dt.timedelta(days=offset)
    try:
        due = parsing.parse_due_date(day.isoformat(), today=TODAY)
    except ParseError:
        assert day < TODAY or day - TODAY > parsing.MAX_AHEAD
    else:
        assert due == day and due >= TODAY


@given(st.integers(min_value=0, max_value=60 * 24 * 365 * 2))
def test_minutes_ago_round_trips(minutes: int) -> None:
    assert when(f"{minutes} minutes ago") == NOW - dt.timedelta(minutes=minutes)


@given(
    st.datetimes(
        min_value=dt.datetime(2024, 1, 1),
        max_value=dt.datetime(2026, 11, 20, 14, 0),
        timezones=st.just(dt.UTC),
    ),
    st.sampled_from(["UTC", "Europe/Paris", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata"]),
)
def test_iso_with_offset_is_exact_in_any_zone(moment: dt.datetime, zone_name: str) -> None:
    moment = moment.replace(second=0, microsecond=0)
    local = moment.astimezone(ZoneInfo(zone_name))
    text = local.strftime("%Y-%m-%d %H:%M ") + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    assert when(text, tz=ZoneInfo("UTC")) == moment


@given(st.text(max_size=40))
def test_parse_when_either_answers_or_explains(text: str) -> None:
    try:
        result = when(text)
    except ParseError as error:
        assert str(error)  # a reason a person can read
    else:
        assert result.tzinfo is not None and result <= NOW + parsing.FUTURE_TOLERANCE


@given(st.text(max_size=30))
def test_parse_due_date_either_answers_or_explains(text: str) -> None:
    try:
        due = parsing.parse_due_date(text, today=TODAY)
    except ParseError as error:
        assert str(error)
    else:
        assert TODAY <= due <= TODAY + parsing.MAX_AHEAD


@pytest.mark.parametrize(
    ("text", "expected"),
    [("SEV1", "SEV1"), ("sev 2", "SEV2"), ("3", "SEV3"), ("low", "SEV4"), ("Major", "SEV2")],
)
def test_severity(text: str, expected: str) -> None:
    assert parsing.parse_severity(text) == expected


def test_severity_refused() -> None:
    with pytest.raises(ParseError, match="SEV1, SEV2"):
        parsing.parse_severity("SEV5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("network", "network"),
        ("DNS", "network"),
        ("deploy/config", "deploy"),
        ("compute/scheduling", "compute"),
    ],
)
def test_area(text: str, expected: str) -> None:
    assert parsing.parse_area(text) == expected


def test_area_refused_lists_the_areas() -> None:
    with pytest.raises(ParseError, match="compute/scheduling"):
        parsing.parse_area("vibes")


def test_services_are_split_and_deduplicated() -> None:
    assert parsing.parse_services("api, `db`\npayments; API") == ["api", "db", "payments"]
    with pytest.raises(ParseError):
        parsing.parse_services(" , ;")


def test_bulleted_messages_become_several_items() -> None:
    assert parsing.split_items("- one\n- two\n3. three") == ["one", "two", "three"]
    assert parsing.split_items("one line\nand its continuation") == ["one line\nand its continuation"]


SENDER = Mention("U1", "Alice")


def test_owner_mentions() -> None:
    mentions = (Mention("U2", "Bob"),)
    assert parsing.parse_owner("<@U2>", mentions=mentions, sender=SENDER) == Mention("U2", "Bob")
    assert parsing.parse_owner("<@U3|carol>", mentions=(), sender=SENDER) == Mention("U3", "carol")
    assert parsing.parse_owner("me", mentions=(), sender=SENDER) == SENDER
    with pytest.raises(ParseError, match="One owner"):
        parsing.parse_owner("<@U2> and <@U3>", mentions=(), sender=SENDER)
    with pytest.raises(ParseError, match="Mention the owner"):
        parsing.parse_owner("bob", mentions=(), sender=SENDER)


def test_risk_check() -> None:
    assert parsing.parse_risks("none") == dict.fromkeys(parsing.RISK_KEYS, False)
    flagged = parsing.parse_risks("coupling, single point of failure")
    assert [k for k, v in flagged.items() if v] == ["coupling", "spof"]
    assert parsing.parse_risks("yes no no no yes")["diagnosability"] is True
    with pytest.raises(ParseError, match="none"):
        parsing.parse_risks("it is fine i think")


def test_snooze() -> None:
    assert parsing.parse_snooze("1w", today=TODAY) == dt.date(2026, 11, 27)
    assert parsing.parse_snooze("until 2026-12-01", today=TODAY) == dt.date(2026, 12, 1)
    assert parsing.parse_snooze("3 days", today=TODAY) == dt.date(2026, 11, 23)
    with pytest.raises(ParseError, match="at most three months"):
        parsing.parse_snooze("20 weeks", today=TODAY)
    with pytest.raises(ParseError, match="not after today"):
        parsing.parse_snooze("today", today=TODAY)


def test_length_limit_refuses_rather_than_cuts() -> None:
    with pytest.raises(ParseError, match="limit is 100"):
        parsing.check_length("x" * 101, 100)
    assert parsing.check_length("  ok  ", 100) == "ok"


def test_durations_format() -> None:
    assert parsing.format_duration(dt.timedelta(minutes=125)) == "2 h 5 min"
    assert parsing.format_duration(dt.timedelta(days=1, minutes=1)) == "1 d 1 min"
    assert parsing.format_duration(None) == "unknown"


def test_clock_times_and_weekdays_on_their_own() -> None:
    assert parsing.parse_clock("09:00") == dt.time(9, 0)
    assert parsing.parse_clock("9pm") == dt.time(21, 0)
    for bad in ("25:00", "9", "noonish"):
        with pytest.raises(ParseError):
            parsing.parse_clock(bad)
    assert parsing.parse_weekday("Mondays") == 0
    assert parsing.parse_weekday("sun") == 6
    assert parsing.parse_weekday("7") == 6
    with pytest.raises(ParseError, match="day of the week"):
        parsing.parse_weekday("someday")


@given(
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2060, 1, 1)),
    st.sampled_from(["UTC", "Europe/Paris", "Asia/Tokyo", "America/Los_Angeles"]),
)
def test_example_dates_in_hints_are_always_accepted(moment: dt.datetime, tz_name: str) -> None:
    """The examples a hint offers are computed from now: typing one back is never refused."""
    from zoneinfo import ZoneInfo

    from bot.parsing import example_due, example_time, parse_due_date
    from bot.parsing.times import parse_when

    tz = ZoneInfo(tz_name)
    now = moment.replace(tzinfo=dt.UTC)
    today = now.astimezone(tz).date()
    assert parse_due_date(example_due(today), today=today) > today
    shown = example_time(now.astimezone(tz))
    assert parse_when(shown, now=now, tz=tz, previous=None) < now
