"""Parsers for interview answers and command arguments.

Each takes text and returns a normalised value, or raises `ParseError` whose
message is shown to the person as is: say what was wrong and what would work.
Times are interpreted in the responder's timezone and returned in UTC.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.messages import Mention


class ParseError(ValueError):
    """The answer could not be understood; the message says why, for a person."""


SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
SEVERITY_HELP = {
    "SEV1": "critical: broad outage or data loss",
    "SEV2": "major: a key feature down for many users",
    "SEV3": "minor: degraded, workaround exists",
    "SEV4": "low: little or no user impact",
}
_SEVERITY_ALIASES = {
    "critical": "SEV1",
    "major": "SEV2",
    "high": "SEV2",
    "minor": "SEV3",
    "medium": "SEV3",
    "low": "SEV4",
}

AREAS = (
    "network",
    "storage",
    "compute",
    "deploy",
    "dependency",
    "data",
    "capacity",
    "security",
    "code",
    "other",
)
AREA_LABELS = {
    "network": "network",
    "storage": "storage",
    "compute": "compute/scheduling",
    "deploy": "deploy/config",
    "dependency": "dependency",
    "data": "data",
    "capacity": "capacity",
    "security": "security",
    "code": "code",
    "other": "other",
}
_AREA_ALIASES = {
    "net": "network",
    "networking": "network",
    "dns": "network",
    "disk": "storage",
    "scheduling": "compute",
    "compute/scheduling": "compute",
    "compute-scheduling": "compute",
    "config": "deploy",
    "configuration": "deploy",
    "deployment": "deploy",
    "deploy/config": "deploy",
    "deploy-config": "deploy",
    "release": "deploy",
    "dependencies": "dependency",
    "third-party": "dependency",
    "vendor": "dependency",
    "database": "data",
    "scale": "capacity",
    "load": "capacity",
    "bug": "code",
    "software": "code",
}

ACTION_KINDS = ("prevent", "detect", "mitigate", "process")
_KIND_ALIASES = {
    "prevention": "prevent",
    "detection": "detect",
    "alerting": "detect",
    "monitoring": "detect",
    "mitigation": "mitigate",
    "runbook": "process",
    "procedure": "process",
}

RISK_KEYS = ("complexity", "coupling", "recovery", "spof", "diagnosability")
RISK_LABELS = {
    "complexity": "adds system complexity",
    "coupling": "adds coupling",
    "recovery": "makes recovery harder",
    "spof": "adds a single point of failure",
    "diagnosability": "makes the system harder to diagnose",
}
_RISK_ALIASES = {
    "complex": "complexity",
    "complexity": "complexity",
    "coupling": "coupling",
    "coupled": "coupling",
    "recovery": "recovery",
    "rollback": "recovery",
    "spof": "spof",
    "single point of failure": "spof",
    "single point": "spof",
    "diagnosability": "diagnosability",
    "diagnose": "diagnosability",
    "diagnosis": "diagnosability",
    "observability": "diagnosability",
}

_YES = {"yes", "y", "yep", "yeah", "ok", "okay", "sure", "confirm", "publish"}
_NO = {"no", "n", "nope", "nah"}


def check_length(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) > limit:
        raise ParseError(
            f"That answer is {len(text):,} characters; the limit is {limit:,}. "
            "Please shorten it or split it over several messages. Nothing was saved."
        )
    return text


def nonempty(text: str, what: str = "an answer") -> str:
    text = text.strip()
    if not text:
        raise ParseError(f"I need {what} here (or say `skip`).")
    return text


def parse_title(text: str) -> str:
    title = " ".join(nonempty(text, "a short title").split())
    if len(title) > 200:
        raise ParseError(
            f"A title is at most 200 characters (that one has {len(title)}). "
            "Keep it short: the details come later."
        )
    return title


def parse_severity(text: str) -> str:
    word = re.sub(r"[\s\-_]", "", text.strip().lower())
    if word.startswith("sev"):
        word = word[3:]
    if word in {"1", "2", "3", "4"}:
        return f"SEV{word}"
    if word in _SEVERITY_ALIASES:
        return _SEVERITY_ALIASES[word]
    raise ParseError(f"Severity is one of SEV1, SEV2, SEV3, SEV4 (1 is the worst). You wrote {_quote(text)}.")


def parse_area(text: str) -> str:
    word = text.strip().lower()
    if word in AREAS:
        return word
    if word in _AREA_ALIASES:
        return _AREA_ALIASES[word]
    raise ParseError(
        "Pick one capability area: " + ", ".join(AREA_LABELS[a] for a in AREAS) + f". "
        f"You wrote {_quote(text)}."
    )


def parse_action_kind(text: str) -> str:
    word = text.strip().lower()
    if word in ACTION_KINDS:
        return word
    if word in _KIND_ALIASES:
        return _KIND_ALIASES[word]
    raise ParseError(
        "An action is one of: prevent (stops it happening), detect (catches it sooner), "
        "mitigate (limits the damage), process (how we work). "
        f"You wrote {_quote(text)}."
    )


def parse_services(text: str) -> list[str]:
    parts = [p.strip().strip("`") for p in re.split(r"[,\n;]+", text)]
    services: list[str] = []
    for part in parts:
        if not part:
            continue
        if len(part) > 80:
            raise ParseError(
                f"{_quote(part[:40] + '…')} is long for a service name (80 characters at most). "
                "List service names separated by commas."
            )
        if part.lower() not in (s.lower() for s in services):
            services.append(part)
    if not services:
        raise ParseError("List the services touched, separated by commas (or say `skip`).")
    if len(services) > 30:
        raise ParseError("That is more than 30 services; list the ones that mattered most.")
    return services


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def split_items(text: str) -> list[str]:
    """A message that is a bulleted or numbered list becomes several entries."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) > 1 and all(_BULLET.match(line) for line in lines):
        return [_BULLET.sub("", line).strip() for line in lines]
    return [text.strip()]


def parse_yes_no(text: str) -> bool:
    word = text.strip().lower().rstrip("!.")
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ParseError("Please answer `yes` or `no`.")


def parse_risks(text: str) -> dict[str, bool]:
    """The five risk-check answers: name the risks that apply, or `none`."""
    raw = text.strip().lower()
    if raw in {"none", "no", "nothing", "n/a", "na", "-"}:
        return dict.fromkeys(RISK_KEYS, False)
    if raw in {"all", "all of them"}:
        return dict.fromkeys(RISK_KEYS, True)
    tokens = [t for t in re.split(r"[\s,;/]+", raw) if t]
    if len(tokens) == 5 and all(t in _YES | _NO for t in tokens):
        return {key: t in _YES for key, t in zip(RISK_KEYS, tokens, strict=True)}
    found: dict[str, bool] = dict.fromkeys(RISK_KEYS, False)
    rest = raw
    for alias in sorted(_RISK_ALIASES, key=len, reverse=True):
        if re.search(rf"\b{re.escape(alias)}\b", rest):
            found[_RISK_ALIASES[alias]] = True
            rest = re.sub(rf"\b{re.escape(alias)}\b", " ", rest)
    leftover = [t for t in re.split(r"[\s,;/]+", rest) if t and t not in {"and", "&", "adds", "a"}]
    if leftover or not any(found.values()):
        raise ParseError(
            "Name the risks this action brings: "
            + ", ".join(f"`{k}` ({RISK_LABELS[k]})" for k in RISK_KEYS)
            + " — or `none`. You can also answer five yes/no in that order."
        )
    return found


# --- people -----------------------------------------------------------------

MENTION_RE = re.compile(r"<@([A-Za-z0-9._:\-]+)(?:\|([^>]*))?>")


def parse_owner(text: str, *, mentions: Sequence[Mention], sender: Mention) -> Mention:
    stripped = text.strip()
    if stripped.lower() in {"me", "myself", "i", "i'll do it"}:
        return sender
    found = MENTION_RE.findall(stripped)
    ids = list(dict.fromkeys(user_id for user_id, _ in found))
    if len(ids) > 1:
        raise ParseError("One owner per action: the one person accountable for it. Mention just one.")
    if not ids:
        raise ParseError("Mention the owner with @ so I can remind them (e.g. @dana), or say `me`.")
    user_id = ids[0]
    name = next((m.display_name for m in mentions if m.user_id == user_id), None)
    if name is None:
        name = next((label for uid, label in found if uid == user_id and label), None)
    return Mention(user_id=user_id, display_name=name)


# --- durations ----------------------------------------------------------------

_UNIT_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "wks": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?|an?|one)\s*([a-z]+)")


def parse_duration(text: str) -> dt.timedelta:
    """`25 minutes`, `1h30m`, `2 hours 5 min`, `a day`."""
    raw = text.strip().lower().replace(" and ", " ").replace(",", " ")
    pos = 0
    total = 0.0
    matched = False
    for m in _DURATION_PART.finditer(raw):
        if raw[pos : m.start()].strip():
            raise ParseError(f"I can't read {_quote(text)} as a duration (try `25 minutes`).")
        amount_text, unit = m.groups()
        amount = 1.0 if amount_text in {"a", "an", "one"} else float(amount_text)
        if unit not in _UNIT_SECONDS:
            raise ParseError(f"Unknown unit {_quote(unit)}: use minutes, hours, days or weeks.")
        total += amount * _UNIT_SECONDS[unit]
        pos = m.end()
        matched = True
    if not matched or raw[pos:].strip():
        raise ParseError(f"I can't read {_quote(text)} as a duration (try `25 minutes`).")
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


# --- points in time ---------------------------------------------------------------

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_name) if name})
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
WEEKDAYS.update({name.lower(): i for i, name in enumerate(calendar.day_abbr)})

_CLOCK = r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?(?::(?P<second>\d{2}))?\s*(?P<ampm>am|pm)?"
_ZONE = r"(?:\s*(?P<zone>z|utc|gmt|[+-]\d{2}:?\d{2}|[a-z]+/[a-z_]+(?:/[a-z_]+)?))?"
_ISO = re.compile(r"^(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})(?:[t\s]+|\s*at\s+)" + _CLOCK + _ZONE + "$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_DAY_WORD = re.compile(r"^(?P<day>today|yesterday|[a-z]+)(?:\s+at)?\s+" + _CLOCK + _ZONE + "$")
_BARE = re.compile(r"^(?:at\s+)?" + _CLOCK + _ZONE + "$")
_MONTH_FIRST = re.compile(
    r"^(?P<mon>[a-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?,?(?:\s+at)?\s+"
    + _CLOCK + _ZONE + "$"
)  # fmt: skip
_DAY_FIRST = re.compile(
    r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>[a-z]+)\.?(?:\s+(?P<y>\d{4}))?,?(?:\s+at)?\s+"
    + _CLOCK + _ZONE + "$"
)  # fmt: skip
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
    token = token.strip()
    if token in {"z", "utc", "gmt"}:
        return dt.UTC
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
        raise ParseError(f"I don't know the timezone {_quote(token)}.") from exc


def _clock(m: re.Match[str]) -> dt.time:
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
        raise ParseError(f"{_quote(m.group(0).strip())} is not a valid time of day.")
    return dt.time(hour, minute, second)


def _combine(day: dt.date, clock: dt.time, tz: dt.tzinfo) -> dt.datetime:
    try:
        return dt.datetime.combine(day, clock, tzinfo=tz)
    except ValueError as exc:
        raise ParseError(str(exc)) from exc


def _date(y: int, mo: int, d: int) -> dt.date:
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
) -> dt.datetime:
    """A point in the past: `14:05`, `yesterday 23:10`, `25 minutes ago`,
    `2026-11-20 14:05 +01:00`, `Nov 20 14:05`, `+12m` (after `previous`), `now`.

    A bare time means its most recent occurrence, so `23:10` said just after
    midnight is last night. Returns UTC.
    """
    raw = " ".join(text.strip().lower().split())
    if not raw:
        raise ParseError("I need a time here (or say `skip` if nobody knows).")
    local_now = now.astimezone(tz)
    result = _parse_when(raw, now=now, local_now=local_now, tz=tz, previous=previous)
    result = result.astimezone(dt.UTC)
    if result > now + FUTURE_TOLERANCE:
        shown = result.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
        raise ParseError(f"{shown} is in the future. When did it actually happen?")
    if now - result > MAX_PAST:
        raise ParseError(
            "That is more than three years ago. Check the year, or give the full date "
            "and time, e.g. `2026-11-20 14:05`."
        )
    return result


def _parse_when(
    raw: str,
    *,
    now: dt.datetime,
    local_now: dt.datetime,
    tz: dt.tzinfo,
    previous: dt.datetime | None,
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
        day = _date(int(m.group("y")), int(m.group("mo")), int(m.group("d")))
        return _combine(day, _clock(m), _zone_from(m.group("zone"), tz))
    if m := _BARE.match(raw):
        zone_ = _zone_from(m.group("zone"), tz)
        local = now.astimezone(zone_)
        candidate = _combine(local.date(), _clock(m), zone_)
        if candidate > now + FUTURE_TOLERANCE:
            candidate = _combine(local.date() - dt.timedelta(days=1), _clock(m), zone_)
        return candidate
    for pattern in (_MONTH_FIRST, _DAY_FIRST):
        if (m := pattern.match(raw)) and m.group("mon") in MONTHS:
            zone_ = _zone_from(m.group("zone"), tz)
            month, day_n = MONTHS[m.group("mon")], int(m.group("d"))
            clock = _clock(m)
            if m.group("y"):
                return _combine(_date(int(m.group("y")), month, day_n), clock, zone_)
            year = now.astimezone(zone_).year
            candidate = _combine(_date(year, month, day_n), clock, zone_)
            if candidate > now + FUTURE_TOLERANCE:
                candidate = _combine(_date(year - 1, month, day_n), clock, zone_)
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
            raise _when_error(raw)
        candidate = _combine(day, _clock(m), zone_)
        if word in WEEKDAYS and candidate > now + FUTURE_TOLERANCE:
            candidate -= dt.timedelta(days=7)
        return candidate
    raise _when_error(raw)


def _when_error(raw: str) -> ParseError:
    return ParseError(
        f"I can't read {_quote(raw)} as a time. Try `14:05`, `yesterday 23:10`, "
        "`25 minutes ago`, `+12m` (after the previous time) or `2026-11-20 14:05 +01:00`."
    )


# --- dates ahead --------------------------------------------------------------------

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
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
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
    for pattern in (
        r"(?P<mon>[a-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?",
        r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>[a-z]+)\.?(?:,?\s+(?P<y>\d{4}))?",
    ):
        m = re.fullmatch(pattern, raw)
        if m and m.group("mon") in MONTHS:
            month, day_n = MONTHS[m.group("mon")], int(m.group("d"))
            if m.group("y"):
                return _date(int(m.group("y")), month, day_n)
            candidate = _date(today.year, month, day_n) if _valid(today.year, month, day_n) else None
            if candidate is None or candidate < today:
                return _date(today.year + 1, month, day_n)
            return candidate
    raise ParseError(
        f"I can't read {_quote(raw)} as a date. Try `2026-12-01`, `next friday`, "
        "`in 2 weeks` or `end of month`."
    )


def _valid(y: int, mo: int, d: int) -> bool:
    try:
        dt.date(y, mo, d)
    except ValueError:
        return False
    return True


def parse_due_date(text: str, *, today: dt.date) -> dt.date:
    """A due date: today or later, within two years."""
    raw = " ".join(text.strip().lower().split()).removeprefix("by ").removeprefix("due ")
    if not raw:
        raise ParseError("I need a due date, e.g. `2026-12-01`, `next friday`, `in 2 weeks`.")
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
    """Until when to snooze: `1w`, `3 days`, `until 2026-12-01`, `until monday`."""
    raw = " ".join(text.strip().lower().split())
    raw = raw.removeprefix("until ").removeprefix("till ").removeprefix("for ")
    if not raw:
        raise ParseError("Snooze until when? e.g. `1w`, `3 days`, `until 2026-12-01`.")
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


def _quote(text: str) -> str:
    text = text.strip().replace("`", "'")
    if len(text) > 60:
        text = text[:57] + "…"
    return f"`{text}`"
