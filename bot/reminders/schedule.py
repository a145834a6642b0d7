"""When a person's weekly digest is due: pure functions of the time, their zone and the slot.

A slot is a weekday and a local time ("Monday 09:00"), read in each person's own
timezone. The week a digest belongs to is the ISO week of the slot's local date,
so each (person, week) has exactly one slot and one delivery row.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class WeeklySlot:
    weekday: int  # 0 = Monday
    at: dt.time

    def describe(self) -> str:
        return f"{calendar.day_name[self.weekday]} {self.at:%H:%M}"


@dataclass(frozen=True)
class Due:
    """The most recent slot at or before now, for one person."""

    week: str  # ISO week of the slot, e.g. "2026-W48"
    slot_at: dt.datetime  # the slot, UTC
    local_today: dt.date  # the person's date now (snoozes end on a local date)


def week_key(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _local_slot(day: dt.date, slot: WeeklySlot, tz: dt.tzinfo) -> dt.datetime:
    # A slot inside a DST gap (02:30 on the spring-forward night) lands just after it.
    return dt.datetime.combine(day, slot.at, tzinfo=tz)


def last_due(now: dt.datetime, tz: dt.tzinfo, slot: WeeklySlot) -> Due:
    local_now = now.astimezone(tz)
    day = local_now.date() - dt.timedelta(days=(local_now.weekday() - slot.weekday) % 7)
    at = _local_slot(day, slot, tz)
    if at > local_now:
        day -= dt.timedelta(days=7)
        at = _local_slot(day, slot, tz)
    return Due(week=week_key(day), slot_at=at.astimezone(dt.UTC), local_today=local_now.date())


def next_slot(now: dt.datetime, tz: dt.tzinfo, slot: WeeklySlot) -> dt.datetime:
    """The first slot strictly after now, UTC."""
    previous = last_due(now, tz, slot).slot_at.astimezone(tz)
    day = previous.date() + dt.timedelta(days=7)
    return _local_slot(day, slot, tz).astimezone(dt.UTC)
