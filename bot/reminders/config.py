"""Reminder settings from the environment (listed in the README).

REMINDER_DAY / REMINDER_TIME are the default slot; a tenant can set its own with
the `reminders` command (stored in reminder_schedules).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from bot.config import ConfigError, env_int
from bot.parsing import ParseError, parse_clock, parse_weekday
from bot.reminders.schedule import WeeklySlot


def _slot() -> WeeklySlot:
    day, time = os.environ.get("REMINDER_DAY") or "monday", os.environ.get("REMINDER_TIME") or "09:00"
    try:
        weekday = parse_weekday(day)
    except ParseError as exc:
        raise ConfigError(f"REMINDER_DAY={day!r}: use a day name such as monday") from exc
    try:
        at = parse_clock(time)
    except ParseError as exc:
        raise ConfigError(f"REMINDER_TIME={time!r}: use HH:MM, e.g. 09:00") from exc
    return WeeklySlot(weekday, at)


DEFAULT_SLOT = WeeklySlot(0, dt.time(9, 0))  # Monday 09:00


@dataclass(frozen=True)
class ReminderSettings:
    slot: WeeklySlot = DEFAULT_SLOT
    tick_seconds: float = 60.0
    # A claim older than this belongs to a sweep that died: another sweep may take it over.
    claim_ttl: dt.timedelta = dt.timedelta(minutes=10)
    max_attempts: int = 5
    retry_base: dt.timedelta = dt.timedelta(minutes=2)  # doubled after each failed attempt
    retry_cap: dt.timedelta = dt.timedelta(hours=2)
    escalate_after: dt.timedelta = dt.timedelta(days=14)
    send_concurrency: int = 4
    # Outcomes are written back in batches at least this often while sending.
    flush_seconds: float = 2.0

    @classmethod
    def from_env(cls) -> ReminderSettings:
        return cls(
            slot=_slot(),
            tick_seconds=env_int("REMINDER_TICK_SECONDS", 60, low=1, high=3600),
            claim_ttl=dt.timedelta(seconds=env_int("REMINDER_CLAIM_TTL_SECONDS", 600, low=30, high=86400)),
            max_attempts=env_int("REMINDER_MAX_ATTEMPTS", 5, low=1, high=50),
            escalate_after=dt.timedelta(days=env_int("REMINDER_ESCALATE_AFTER_DAYS", 14, low=1, high=365)),
            send_concurrency=env_int("REMINDER_SEND_CONCURRENCY", 4, low=1, high=64),
        )

    def backoff(self, attempts: int) -> dt.timedelta:
        delay = self.retry_base * (2 ** max(attempts - 1, 0))
        return min(delay, self.retry_cap)
