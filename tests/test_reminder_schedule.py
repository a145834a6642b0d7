"""When a digest is due: the weekly slot in each person's zone, and the settings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError
from bot.parsing import ParseError, parse_clock, parse_weekday
from bot.reminders.config import ReminderSettings
from bot.reminders.schedule import WeeklySlot, last_due, next_slot, week_key

MONDAY_NINE = WeeklySlot(0, dt.time(9, 0))
LA = ZoneInfo("America/Los_Angeles")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def test_the_slot_is_read_in_the_persons_zone() -> None:
    # Monday 2026-11-23 09:00 in Tokyo is 00:00 UTC; in Los Angeles (PST) 17:00 UTC.
    tokyo = ZoneInfo("Asia/Tokyo")
    assert last_due(utc(2026, 11, 23, 0, 0), tokyo, MONDAY_NINE).slot_at == utc(2026, 11, 23, 0, 0)
    assert last_due(utc(2026, 11, 22, 23, 59), tokyo, MONDAY_NINE).week == "2026-W47"
    assert last_due(utc(2026, 11, 23, 16, 59), LA, MONDAY_NINE).week == "2026-W47"
    due = last_due(utc(2026, 11, 23, 17, 0), LA, MONDAY_NINE)
    assert (due.week, due.slot_at, due.local_today) == (
        "2026-W48",
        utc(2026, 11, 23, 17),
        dt.date(2026, 11, 23),
    )


def test_daylight_saving_moves_the_utc_time_not_the_local_one() -> None:
    # Los Angeles leaves daylight time on 2026-11-01: 09:00 is 16:00 UTC before, 17:00 after.
    assert last_due(utc(2026, 10, 27, 12), LA, MONDAY_NINE).slot_at == utc(2026, 10, 26, 16)
    assert last_due(utc(2026, 11, 3, 12), LA, MONDAY_NINE).slot_at == utc(2026, 11, 2, 17)
    assert next_slot(utc(2026, 10, 27, 12), LA, MONDAY_NINE) == utc(2026, 11, 2, 17)


def test_each_iso_week_has_one_slot_even_on_sundays_and_year_ends() -> None:
    sunday = WeeklySlot(6, dt.time(18, 0))
    assert last_due(utc(2026, 12, 28, 10), dt.UTC, sunday).week == "2026-W52"
    assert week_key(dt.date(2027, 1, 1)) == "2026-W53"  # ISO: 2027-01-01 is in 2026's last week


@pytest.mark.parametrize(("text", "day"), [("monday", 0), ("Tue", 1), ("fridays", 4), ("7", 6)])
def test_weekdays(text: str, day: int) -> None:
    assert parse_weekday(text) == day


@pytest.mark.parametrize(
    ("text", "clock"), [("09:00", dt.time(9)), ("9:30", dt.time(9, 30)), ("2pm", dt.time(14))]
)
def test_clock_times(text: str, clock: dt.time) -> None:
    assert parse_clock(text) == clock


@pytest.mark.parametrize("text", ["9", "25:00", "09:61", "noonish", "13pm"])
def test_bad_clock_times(text: str) -> None:
    with pytest.raises(ParseError):
        parse_clock(text)


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDER_DAY", "wednesday")
    monkeypatch.setenv("REMINDER_TIME", "10:15")
    monkeypatch.setenv("REMINDER_MAX_ATTEMPTS", "3")
    settings = ReminderSettings.from_env()
    assert (settings.slot, settings.max_attempts) == (WeeklySlot(2, dt.time(10, 15)), 3)
    assert settings.backoff(1) == dt.timedelta(minutes=2) and settings.backoff(30) == settings.retry_cap
    monkeypatch.setenv("REMINDER_DAY", "someday")
    with pytest.raises(ConfigError, match="REMINDER_DAY='someday'"):
        ReminderSettings.from_env()
    monkeypatch.setenv("REMINDER_DAY", "monday")
    monkeypatch.setenv("REMINDER_TICK_SECONDS", "0")
    with pytest.raises(ConfigError, match="REMINDER_TICK_SECONDS must be between 1 and 3600"):
        ReminderSettings.from_env()
