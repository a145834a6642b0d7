"""Dates ahead: due dates (`2026-12-15`, `next friday`, `in 2 weeks`, `end of month`)
and snoozes (`1w`, `until monday`)."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from bot.parsing.durations import parse_duration
from bot.parsing.errors import ParseError, quote, short
from bot.parsing.times import MONTH_DAY, MONTHS, WEEKDAYS, calendar_date

_IN = re.compile(r"^(?:in\s+)?(?P<n>\d+|an?|one|two|three|four|six)\s*(?P<unit>[a-z]+)$")
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6}
MAX_AHEAD = dt.timedelta(days=2 * 366)


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _future_date(raw: str, today: dt.date) -> dt.date:
    if raw in {"today", "eod", "end of day"}:
        return today
    if raw == "tomorrow":
        return today + dt.timedelta(days=1)
    if raw in {"eow", "end of week", "end of the week", "this week"}:
        return today + dt.timedelta(days=(4 - today.weekday()) % 7)
    if raw in {"next week"}:
        return today + dt.timedelta(days=7 - today.weekday())
    if raw in {"eom", "end of month", "end of the month", "this month"}:
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if raw in {"eoq", "end of quarter", "end of the quarter", "this quarter"}:
        last_month = (today.month - 1) // 3 * 3 + 3
        return dt.date(today.year, last_month, calendar.monthrange(today.year, last_month)[1])
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw):
        return calendar_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    words = raw.split()
    if len(words) in (1, 2) and words[-1] in WEEKDAYS and words[0] in {words[-1], "next", "this", "on"}:
        ahead = (WEEKDAYS[words[-1]] - today.weekday()) % 7
        if words[0] == "next" and ahead == 0:
            ahead = 7
        return today + dt.timedelta(days=ahead)
    if m := _IN.match(raw):
        n_text = m.group("n")
        n = _NUMBER_WORDS.get(n_text) or int(n_text)
        unit = m.group("unit")
        if unit in {"d", "day", "days"}:
            return today + dt.timedelta(days=n)
        if unit in {"w", "wk", "wks", "week", "weeks"}:
            return today + dt.timedelta(weeks=n)
        if unit in {"mo", "month", "months"}:
            return _add_months(today, n)
        if unit in {"q", "quarter", "quarters"}:
            return _add_months(today, 3 * n)
    for pattern in MONTH_DAY:
        m = re.fullmatch(pattern, raw)
        if m and m.group("mon") in MONTHS:
            month, day_n = MONTHS[m.group("mon")], int(m.group("d"))
            if m.group("y"):
                return calendar_date(int(m.group("y")), month, day_n)
            if _valid(today.year, month, day_n) and dt.date(today.year, month, day_n) >= today:
                return dt.date(today.year, month, day_n)
            return calendar_date(today.year + 1, month, day_n)
    raise ParseError(
        f"I can't read {quote(raw)} as a date. Try `{example_due(today)}`, `next friday`, "
        "`in 2 weeks` or `end of month`."
    )


def example_due(today: dt.date) -> str:
    """A due date to show in a hint: two weeks from `today`, so the example is never in the past."""
    return (today + dt.timedelta(days=14)).isoformat()


def _valid(y: int, mo: int, d: int) -> bool:
    try:
        dt.date(y, mo, d)
    except ValueError:
        return False
    return True


def parse_due_date(text: str, *, today: dt.date) -> dt.date:
    """A due date: today or later, within two years."""
    raw = " ".join(short(text, "a due date").strip().lower().split()).removeprefix("by ").removeprefix("due ")
    if not raw:
        raise ParseError(f"I need a due date, e.g. `{example_due(today)}`, `next friday`, `in 2 weeks`.")
    due = _future_date(raw, today)
    if due < today:
        raise ParseError(f"{due.isoformat()} is in the past; a due date must be today or later.")
    if due - today > MAX_AHEAD:
        raise ParseError(
            f"{due.isoformat()} is more than two years away. Pick a date the owner can "
            "commit to; a long plan can be split into smaller actions."
        )
    return due


def parse_snooze(text: str, *, today: dt.date) -> dt.date:
    """Until when to snooze: `1w`, `3 days`, `until <date>`, `until monday`."""
    raw = " ".join(short(text, "a snooze").strip().lower().split())
    raw = raw.removeprefix("until ").removeprefix("till ").removeprefix("for ")
    if not raw:
        raise ParseError(f"Snooze until when? e.g. `1w`, `3 days`, `until {example_due(today)}`.")
    try:
        delta = parse_duration(raw)
    except ParseError:
        until = _future_date(raw, today)
    else:
        if delta < dt.timedelta(days=1):
            raise ParseError("Snooze for at least a day (e.g. `1d`, `1w`).")
        until = today + dt.timedelta(days=round(delta.total_seconds() / 86400))
    if until <= today:
        raise ParseError(f"{until.isoformat()} is not after today; snooze until a later date.")
    if until - today > dt.timedelta(days=92):
        raise ParseError(
            "Snoozes are for at most three months. If the action no longer matters, "
            "cancel it with a reason instead."
        )
    return until
