"""Durations: `25 minutes`, `1h30m`, `a day`, and how they are shown."""

from __future__ import annotations

import datetime as dt
import re

from bot.parsing.errors import ParseError, quote, short

_UNIT_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "wks": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
# A part starts where a number starts (never inside one): a long run of digits is tried once.
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50,
}  # fmt: skip
_DURATION_PART = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?|[a-z]+(?= ))\s*([a-z]+)")


def parse_duration(text: str) -> dt.timedelta:
    """`25 minutes`, `1h30m`, `2 hours 5 min`, `a day`, `three hours`, `half an hour`."""
    raw = short(text, "a duration").strip().lower().replace(" and ", " ").replace(",", " ")
    raw = raw.replace("half an hour", "30 minutes").replace("a half hour", "30 minutes")
    pos = 0
    total = 0.0
    matched = False
    for m in _DURATION_PART.finditer(raw):
        if raw[pos : m.start()].strip():
            raise ParseError(f"I can't read {quote(text)} as a duration (try `25 minutes`).")
        amount_text, unit = m.groups()
        if amount_text[0].isalpha() and amount_text not in _NUMBER_WORDS:
            raise ParseError(f"I can't read {quote(text)} as a duration (try `25 minutes`).")
        amount = _NUMBER_WORDS.get(amount_text) or float(amount_text)
        if unit not in _UNIT_SECONDS:
            raise ParseError(f"Unknown unit {quote(unit)}: use minutes, hours, days or weeks.")
        total += amount * _UNIT_SECONDS[unit]
        pos = m.end()
        matched = True
    if not matched or raw[pos:].strip():
        raise ParseError(f"I can't read {quote(text)} as a duration (try `25 minutes`).")
    return dt.timedelta(seconds=total)


def format_duration(delta: dt.timedelta | None) -> str:
    if delta is None:
        return "unknown"
    minutes = round(delta.total_seconds() / 60)
    if minutes < 0:
        return "invalid"
    days, rem = divmod(minutes, 1440)
    hours, mins = divmod(rem, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return " ".join(parts)
