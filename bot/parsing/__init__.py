"""Parsers for interview answers and command arguments.

Each takes text and returns a normalised value, or raises `ParseError` whose
message is shown to the person as is: say what was wrong and what would work.
Times are interpreted in the responder's timezone and returned in UTC.
"""

from bot.parsing.answers import (
    ACTION_KINDS,
    AREA_LABELS,
    AREAS,
    MENTION_RE,
    RISK_KEYS,
    RISK_LABELS,
    SEVERITIES,
    SEVERITY_HELP,
    check_length,
    nonempty,
    parse_action_kind,
    parse_area,
    parse_owner,
    parse_risks,
    parse_services,
    parse_severity,
    parse_title,
    parse_yes_no,
    split_cost,
    split_items,
)
from bot.parsing.dates import MAX_AHEAD, example_due, parse_due_date, parse_snooze
from bot.parsing.durations import format_duration, parse_duration
from bot.parsing.errors import ParseError, quote
from bot.parsing.locales import date_order, locale_tag, month_first
from bot.parsing.times import (
    FUTURE_TOLERANCE,
    MAX_PAST,
    MONTHS,
    WEEKDAYS,
    example_time,
    parse_clock,
    parse_weekday,
    parse_when,
    reading,
    weekday_text,
    zone,
)

__all__ = [
    "ACTION_KINDS",
    "AREAS",
    "AREA_LABELS",
    "FUTURE_TOLERANCE",
    "MAX_AHEAD",
    "MAX_PAST",
    "MENTION_RE",
    "MONTHS",
    "RISK_KEYS",
    "RISK_LABELS",
    "SEVERITIES",
    "SEVERITY_HELP",
    "WEEKDAYS",
    "ParseError",
    "check_length",
    "date_order",
    "example_due",
    "example_time",
    "format_duration",
    "locale_tag",
    "month_first",
    "nonempty",
    "parse_action_kind",
    "parse_area",
    "parse_clock",
    "parse_due_date",
    "parse_duration",
    "parse_owner",
    "parse_risks",
    "parse_services",
    "parse_severity",
    "parse_snooze",
    "parse_title",
    "parse_weekday",
    "parse_when",
    "parse_yes_no",
    "quote",
    "reading",
    "split_cost",
    "split_items",
    "weekday_text",
    "zone",
]
