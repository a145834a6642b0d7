"""Points in the past, for the timeline: `14:05`, `yesterday 23:10`, `25 minutes ago`,
`2026-11-20 14:05 +01:00`, `Nov 20 14:05`, `+12m`. Read in the responder's timezone."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.parsing.durations import parse_duration
from bot.parsing.errors import ParseError, quote, short

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_name) if name})
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
WEEKDAYS.update({name.lower(): i for i, name in enumerate(calendar.day_abbr)})

# `21:40`, `21h40` (as much of Europe writes it), `9:40pm`, `9.40pm` (a dot only before am/pm:
# `14.05` alone could be a day).
_CLOCK = (
    r"(?P<hour>\d{1,2})(?:(?::|h|\.(?=\d{2}\s*[ap]m))(?P<minute>\d{2}))?(?::(?P<second>\d{2}))?"
    r"\s*(?P<ampm>am|pm)?"
)
# A zone after the time: `Z`, `UTC`, `+01:00`, `Europe/Paris`, or `(UTC+01:00)` as the echo shows it.
_ZONE_NAME = r"z|(?:utc|gmt)?[+-]\d{2}:?\d{2}|utc|gmt|[a-z]+/[a-z_]+(?:/[a-z_]+)?"
_ZONE = r"(?:\s*\(?(?P<zone>" + _ZONE_NAME + r")\)?)?"
_ISO = re.compile(r"^(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})(?:[t\s]+|\s*at\s+)" + _CLOCK + _ZONE + "$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_DAY_WORD = re.compile(r"^(?P<day>today|yesterday|[a-z]+)(?:\s+at)?\s+" + _CLOCK + _ZONE + "$")
_BARE = re.compile(r"^(?:at\s+)?" + _CLOCK + _ZONE + "$")
# A calendar day written with a month name, month first or day first, year optional.
MONTH_DAY = (
    r"(?P<mon>[a-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?",
    r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>[a-z]+)\.?(?:,?\s+(?P<y>\d{4}))?",
)
_MONTH_DAY_AT = tuple(re.compile("^" + day + r",?(?:\s+at)?\s+" + _CLOCK + _ZONE + "$") for day in MONTH_DAY)
# A day written in numbers, `30/11` or `30.11.2026`: day first unless the person's locale
# writes the month first.
_NUMERIC_AT = re.compile(
    r"^(?P<a>\d{1,2})[/.](?P<b>\d{1,2})(?:[/.](?P<y>\d{4}|\d{2}))?,?(?:\s+at)?\s+" + _CLOCK + _ZONE + "$"
)
# The clock first, the day after: `21:40 yesterday`, `9:40pm on friday`, `21:40 30/11`.
_CLOCK_FIRST = re.compile(
    r"^(?:at\s+)?(?P<clock>\d{1,2}(?:[:h]\d{2}){1,2}\s*(?:am|pm)?|\d{1,2}(?:\.\d{2})?\s*(?:am|pm))\s+(?:on\s+)?"
    r"(?P<day>today|yesterday|[a-z]+|\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?|[a-z]+\.?\s+\d{1,2}\w*|\d{1,2}\w*\s+[a-z]+)"
    r"(?P<zone>\s+\(?(?:" + _ZONE_NAME + r")\)?)?$"
)
# Ways of saying the day that mean `yesterday` or `today` once a clock time is given.
_DAY_PHRASES = re.compile(
    r"\b(?:(?P<y>last night|yesterday (?:morning|afternoon|evening|night))|"
    r"(?P<t>this (?:morning|afternoon|evening)|tonight|today (?:morning|afternoon|evening)))\b"
)
# A weekday before a written date, `Mon 30 Nov 21:40` (the echo typed back): checked, then dropped.
_WEEKDAY_BEFORE_DATE = re.compile(
    r"^(?P<weekday>[a-z]+)\.?,?\s+(?=\d{1,2}(?:st|nd|rd|th)?\s+(?!am\b|pm\b)[a-z]|\d{1,2}[/.]\d{1,2}|"
    r"[a-z]+\.?\s+\d{1,2}(?:st|nd|rd|th)?\b(?!:|\s*[ap]m))"
)
_ABOUT = re.compile(r"^(?:about|around|roughly|approximately|approx\.?|circa|ca\.|~)\s*")
_AGO = re.compile(r"^(?P<dur>.+?)\s+ago$")
_LATER = re.compile(r"^(?:\+\s*(?P<a>.+)|(?P<b>.+?)\s+(?:later|after)|after\s+(?P<c>.+))$")

MAX_PAST = dt.timedelta(days=3 * 366)
FUTURE_TOLERANCE = dt.timedelta(minutes=2)


def zone(name: str | None) -> dt.tzinfo:
    if not name:
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _zone_from(token: str | None, default: dt.tzinfo) -> dt.tzinfo:
    if not token:
        return default
    token = token.strip().strip("()")
    if token in {"z", "utc", "gmt"}:
        return dt.UTC
    if re.fullmatch(r"(?:utc|gmt)[+-].+", token):
        token = token[3:]
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", token)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        offset = dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        if offset > dt.timedelta(hours=14):
            raise ParseError(f"{token} is not a valid UTC offset.")
        return dt.timezone(sign * offset)
    try:
        return ZoneInfo("/".join(part.capitalize() for part in token.split("/")))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ParseError(f"I don't know the timezone {quote(token)}.") from exc


def clock_time(m: re.Match[str]) -> dt.time:
    hour = int(m.group("hour"))
    minute = int(m.group("minute") or 0)
    second = int(m.group("second") or 0)
    ampm = m.group("ampm")
    if m.group("minute") is None and ampm is None:
        raise ParseError("Give the time as HH:MM, e.g. `14:05`.")
    if ampm:
        if not 1 <= hour <= 12:
            raise ParseError(f"{hour}{ampm} is not a valid time.")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ParseError(f"{quote(m.group(0).strip())} is not a valid time of day.")
    return dt.time(hour, minute, second)


def _combine(day: dt.date, clock: dt.time, tz: dt.tzinfo) -> dt.datetime:
    try:
        return dt.datetime.combine(day, clock, tzinfo=tz)
    except ValueError as exc:
        raise ParseError(str(exc)) from exc


def calendar_date(y: int, mo: int, d: int) -> dt.date:
    try:
        return dt.date(y, mo, d)
    except ValueError as exc:
        raise ParseError(f"{y:04d}-{mo:02d}-{d:02d} is not a date on the calendar.") from exc


def parse_when(
    text: str,
    *,
    now: dt.datetime,
    tz: dt.tzinfo,
    previous: dt.datetime | None = None,
    month_first: bool = False,
) -> dt.datetime:
    """A point in the past: `14:05`, `yesterday 23:10`, `25 minutes ago`,
    `2026-11-20 14:05 +01:00`, `Nov 20 14:05`, `+12m` (after `previous`), `now`.

    A bare time means its most recent occurrence, so `23:10` said just after
    midnight is last night. Returns UTC.
    """
    raw = _ABOUT.sub("", " ".join(short(text, "a time").strip().lower().split()))
    if not raw:
        raise ParseError("I need a time here (or say `skip` if nobody knows).")
    raw = _DAY_PHRASES.sub(lambda m: "yesterday" if m.group("y") else "today", raw)
    weekday = None
    if (m := _WEEKDAY_BEFORE_DATE.match(raw)) and m.group("weekday") in WEEKDAYS:
        weekday, raw = WEEKDAYS[m.group("weekday")], raw[m.end() :]
    local_now = now.astimezone(tz)
    result = _parse_when(raw, now=now, local_now=local_now, tz=tz, previous=previous, month_first=month_first)
    if weekday is not None and result.astimezone(tz).weekday() != weekday:
        day = result.astimezone(tz)
        raise ParseError(
            f"{day.day} {day:%b %Y} is a {calendar.day_name[day.weekday()]}, not a "
            f"{calendar.day_name[weekday]}. Check the day."
        )
    result = result.astimezone(dt.UTC)
    if result > now + FUTURE_TOLERANCE:
        shown = result.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
        raise ParseError(f"{shown} is in the future. When did it actually happen?")
    if now - result > MAX_PAST:
        raise ParseError(
            "That is more than three years ago. Check the year, or give the full date "
            f"and time, e.g. `{example_time(local_now)}`."
        )
    return result


def _parse_when(
    raw: str,
    *,
    now: dt.datetime,
    local_now: dt.datetime,
    tz: dt.tzinfo,
    previous: dt.datetime | None,
    month_first: bool = False,
) -> dt.datetime:
    if raw in {"now", "just now", "right now"}:
        return now
    if m := _AGO.match(raw):
        return now - parse_duration(m.group("dur"))
    if m := _LATER.match(raw):
        if previous is None:
            raise ParseError("There is no earlier time to count from yet; give a clock time instead.")
        return previous + parse_duration(m.group("a") or m.group("b") or m.group("c"))
    if _DATE_ONLY.match(raw):
        raise ParseError(f"Add the time of day, e.g. `{raw} 14:05`.")
    if m := _ISO.match(raw):
        day = calendar_date(int(m.group("y")), int(m.group("mo")), int(m.group("d")))
        return _combine(day, clock_time(m), _zone_from(m.group("zone"), tz))
    if m := _BARE.match(raw):
        zone_ = _zone_from(m.group("zone"), tz)
        local = now.astimezone(zone_)
        candidate = _combine(local.date(), clock_time(m), zone_)
        if candidate > now + FUTURE_TOLERANCE:
            candidate = _combine(local.date() - dt.timedelta(days=1), clock_time(m), zone_)
        return candidate
    for pattern in _MONTH_DAY_AT:
        if (m := pattern.match(raw)) and m.group("mon") in MONTHS:
            zone_ = _zone_from(m.group("zone"), tz)
            month, day_n = MONTHS[m.group("mon")], int(m.group("d"))
            clock = clock_time(m)
            if m.group("y"):
                return _combine(calendar_date(int(m.group("y")), month, day_n), clock, zone_)
            year = now.astimezone(zone_).year
            candidate = _combine(calendar_date(year, month, day_n), clock, zone_)
            if candidate > now + FUTURE_TOLERANCE:
                candidate = _combine(calendar_date(year - 1, month, day_n), clock, zone_)
            return candidate
    if m := _DAY_WORD.match(raw):
        word = m.group("day")
        zone_ = _zone_from(m.group("zone"), tz)
        local_day = now.astimezone(zone_).date()
        if word == "today":
            day = local_day
        elif word == "yesterday":
            day = local_day - dt.timedelta(days=1)
        elif word in WEEKDAYS:
            back = (local_day.weekday() - WEEKDAYS[word]) % 7
            day = local_day - dt.timedelta(days=back)
        else:
            raise _when_error(raw, local_now)
        candidate = _combine(day, clock_time(m), zone_)
        if word in WEEKDAYS and candidate > now + FUTURE_TOLERANCE:
            candidate -= dt.timedelta(days=7)
        return candidate
    if m := _NUMERIC_AT.match(raw):
        return _numeric(m, now=now, tz=tz, month_first=month_first)
    if m := _CLOCK_FIRST.match(raw):
        swapped = f"{m.group('day')} {m.group('clock')}{m.group('zone') or ''}"
        return _parse_when(
            swapped, now=now, local_now=local_now, tz=tz, previous=previous, month_first=month_first
        )
    raise _when_error(raw, local_now)


def _numeric(m: re.Match[str], *, now: dt.datetime, tz: dt.tzinfo, month_first: bool) -> dt.datetime:
    day_n, month = (
        (int(m.group("b")), int(m.group("a"))) if month_first else (int(m.group("a")), int(m.group("b")))
    )
    if not 1 <= month <= 12:
        order = "month/day" if month_first else "day/month"
        raise ParseError(f"{quote(m.group(0))} has no month {month}: I read numeric dates as {order}.")
    zone_ = _zone_from(m.group("zone"), tz)
    clock = clock_time(m)
    if m.group("y"):
        year = int(m.group("y"))
        return _combine(calendar_date(year + 2000 if year < 100 else year, month, day_n), clock, zone_)
    year = now.astimezone(zone_).year
    candidate = _combine(calendar_date(year, month, day_n), clock, zone_)
    if candidate > now + FUTURE_TOLERANCE:
        candidate = _combine(calendar_date(year - 1, month, day_n), clock, zone_)
    return candidate


def example_time(local_now: dt.datetime) -> str:
    """A full past time to show in a hint: yesterday 14:05 in the speaker's zone, with its offset."""
    yesterday = (local_now - dt.timedelta(days=1)).replace(hour=14, minute=5)
    return (
        yesterday.strftime("%Y-%m-%d %H:%M ")
        + yesterday.strftime("%z")[:3]
        + ":"
        + yesterday.strftime("%z")[3:]
    )


class Unrecognised(ParseError):
    """No form of the grammar matched (as opposed to a form that matched with a bad value)."""


def _when_error(raw: str, local_now: dt.datetime) -> ParseError:
    return Unrecognised(
        f"I can't read {quote(raw)} as a time. Try `14:05`, `yesterday 23:10`, "
        f"`25 minutes ago`, `+12m` (after the previous time) or `{example_time(local_now)}`."
    )


# A numeric day inside a typed time, `30/11` or `30.11.2026`: its reading rests on a convention.
# (`9.40pm` is a clock, not a day.)
_NUMERIC_DAY = re.compile(r"(?<![\d:])\d{1,2}[/.]\d{1,2}(?![\d:]|\s*[ap]m)", re.IGNORECASE)


def reading(
    text: str, when: dt.datetime, *, now: dt.datetime, tz: dt.tzinfo, month_first: bool
) -> str | None:
    """`read as Mon 30 Nov 21:40 (UTC+01:00), day first` when `text` wrote the day in numbers, whose
    order depends on the speaker's locale: echoed with the weekday so a wrong reading stands out.
    None when the text left no such choice."""
    if not _NUMERIC_DAY.search(text):
        return None
    return f"read as {weekday_text(when, now=now, tz=tz)}, {'month' if month_first else 'day'} first"


def weekday_text(when: dt.datetime, *, now: dt.datetime, tz: dt.tzinfo) -> str:
    """`Mon 30 Nov 21:40 (UTC+01:00)`, with the year when it is not this year."""
    local = when.astimezone(tz)
    offset = local.strftime("%z") or "+0000"
    year = f" {local.year}" if local.year != now.astimezone(tz).year else ""
    day = f"{local:%a} {local.day} {local:%b}{year}"
    return f"{day} {local:%H:%M} (UTC{offset[:3]}:{offset[3:]})"


_CLOCK_ONLY = re.compile("^" + _CLOCK + "$")


def parse_clock(text: str) -> dt.time:
    """A time of day on its own: `09:00`, `9am`."""
    m = _CLOCK_ONLY.match(short(text, "a time of day").strip().lower())
    if not m:
        raise ParseError(f"{quote(text)} is not a time of day; use HH:MM, e.g. `09:00`.")
    return clock_time(m)


def parse_weekday(text: str) -> int:
    """A day of the week, Monday = 0: `monday`, `Mondays`, `mon`, or ISO `1`-`7`."""
    key = short(text, "a day of the week").strip().lower()
    for candidate in (key, key.removesuffix("s")):
        if candidate in WEEKDAYS:
            return WEEKDAYS[candidate]
    if key.isdigit() and 1 <= int(key) <= 7:
        return int(key) - 1
    raise ParseError(f"{quote(text)} is not a day of the week (e.g. `monday`).")
