"""Reminder settings from the environment (listed in the README).

REMINDER_DAY / REMINDER_TIME are the default slot; a tenant can set its own with
the `reminders` command (stored in reminder_schedules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from bot.config import EnvSettings, Invalid, whole
from bot.parsing import ParseError, parse_clock, parse_weekday
from bot.reminders.schedule import WeeklySlot


def _weekday(value: Any) -> Any:
    if isinstance(value, int):
        return value
    try:
        return parse_weekday(str(value))
    except ParseError:
        raise Invalid(f"{{name}}={value!r}: use a day name such as monday") from None


def _clock(value: Any) -> Any:
    if isinstance(value, dt.time):
        return value
    try:
        return parse_clock(str(value))
    except ParseError:
        raise Invalid(f"{{name}}={value!r}: use HH:MM, e.g. 09:00") from None


def _span(unit: dt.timedelta, low: int, high: int) -> Callable[[Any], Any]:
    """A whole number of `unit`s in [low, high] from the environment; a timedelta as it is."""
    count = whole(low, high)

    def check(value: Any) -> Any:
        return value if isinstance(value, dt.timedelta) else unit * count(value)

    return check


DEFAULT_SLOT = WeeklySlot(0, dt.time(9, 0))  # Monday 09:00
SECOND, DAY = dt.timedelta(seconds=1), dt.timedelta(days=1)


class ReminderSettings(EnvSettings):
    weekday: Annotated[int, BeforeValidator(_weekday)] = Field(
        DEFAULT_SLOT.weekday, validation_alias="REMINDER_DAY"
    )
    at: Annotated[dt.time, BeforeValidator(_clock)] = Field(DEFAULT_SLOT.at, validation_alias="REMINDER_TIME")
    tick_seconds: Annotated[float, BeforeValidator(whole(1, 3600))] = Field(
        60.0, validation_alias="REMINDER_TICK_SECONDS"
    )
    # A claim older than this belongs to a sweep that died: another sweep may take it over.
    claim_ttl: Annotated[dt.timedelta, BeforeValidator(_span(SECOND, 30, 86400))] = Field(
        dt.timedelta(minutes=10), validation_alias="REMINDER_CLAIM_TTL_SECONDS"
    )
    max_attempts: Annotated[int, BeforeValidator(whole(1, 50))] = Field(
        5, validation_alias="REMINDER_MAX_ATTEMPTS"
    )
    retry_base: dt.timedelta = Field(dt.timedelta(minutes=2), exclude=True)  # doubled after each failure
    retry_cap: dt.timedelta = Field(dt.timedelta(hours=2), exclude=True)
    escalate_after: Annotated[dt.timedelta, BeforeValidator(_span(DAY, 1, 365))] = Field(
        dt.timedelta(days=14), validation_alias="REMINDER_ESCALATE_AFTER_DAYS"
    )
    send_concurrency: Annotated[int, BeforeValidator(whole(1, 64))] = Field(
        4, validation_alias="REMINDER_SEND_CONCURRENCY"
    )
    # Outcomes are written back in batches at least this often while sending.
    flush_seconds: float = Field(2.0, exclude=True)

    @property
    def slot(self) -> WeeklySlot:
        return WeeklySlot(self.weekday, self.at)

    def backoff(self, attempts: int) -> dt.timedelta:
        delay = self.retry_base * (2 ** max(attempts - 1, 0))
        return min(delay, self.retry_cap)
