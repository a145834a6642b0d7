"""Query-string parameters, checked: a bad value is a friendly 400 that names it."""

from __future__ import annotations

import datetime as dt
import re

from multidict import MultiMapping

from adapters.web.context import BadInput
from bot.insights.ledger import month, quarter
from bot.parsing import AREAS, SEVERITIES
from storage.models import ActionStatus, CaseStatus

MAX_PER_PAGE = 100
YEARS = r"(19[7-9]\d|2\d{3})"  # 1970-2999: a period in the calendar the dates can hold
_YEAR = re.compile(rf"^{YEARS}$")
_MONTH = re.compile(rf"^{YEARS}-(\d{{1,2}})$")
_QUARTER = re.compile(rf"^{YEARS}-[qQ]([1-4])$")
PERIOD_PATTERN = rf"^({YEARS}(-(0?[1-9]|1[0-2]|[qQ][1-4]))?)?$"  # empty: any period
# The ledger windows the API documents: `[month|quarter] [YYYY-MM|YYYY-Qn] [N]`.
WINDOW_PATTERN = (
    rf"^((month|quarter)( |$))?({YEARS}-(0[1-9]|1[0-2]|[qQ][1-4])( |$))?([1-9]|[12][0-9]|3[0-6])?$"
)


def text(query: MultiMapping[str], name: str, *, limit: int = 200) -> str | None:
    value = (query.get(name) or "").strip()
    if len(value) > limit:
        raise BadInput(f"`{name}` is too long (at most {limit} characters).")
    return value or None


def number(
    query: MultiMapping[str], name: str, *, default: int | None, low: int = 1, high: int = 10**9
) -> int | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadInput(f"`{name}` must be a whole number from {low} to {high}, not {raw[:20]!r}.")
    return int(raw)


def paging(query: MultiMapping[str], *, per_page: int = 25) -> tuple[int, int]:
    page = number(query, "page", default=1, high=100_000) or 1
    size = number(query, "per_page", default=per_page, high=MAX_PER_PAGE) or per_page
    return page, size


def choice(query: MultiMapping[str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = text(query, name)
    if value is None:
        return None
    if name == "severity":
        value = value.upper()
    if value not in allowed:
        raise BadInput(f"`{name}` must be one of {', '.join(allowed)}, not {value[:30]!r}.")
    return value


def case_status(query: MultiMapping[str]) -> str | None:
    return choice(query, "status", tuple(s.value for s in CaseStatus))


def action_status(query: MultiMapping[str], *, default: str | None = ActionStatus.OPEN) -> str | None:
    allowed = ("open", "done", "cancelled", "all")
    value = choice(query, "status", allowed) or default
    return None if value == "all" else value


def severity(query: MultiMapping[str]) -> str | None:
    return choice(query, "severity", tuple(SEVERITIES))


def area(query: MultiMapping[str]) -> str | None:
    return choice(query, "area", tuple(AREAS))


def period(query: MultiMapping[str]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """`2026`, `2026-11` or `2026-Q4`: the start of the incident falls in it (UTC)."""
    value = text(query, "period", limit=10)
    if value is None:
        return None, None
    if found := _YEAR.match(value):
        start, end = dt.date(int(found[1]), 1, 1), dt.date(int(found[1]) + 1, 1, 1)
    elif (found := _MONTH.match(value)) and 1 <= int(found[2]) <= 12:
        chosen = month(int(found[1]), int(found[2]))
        start, end = chosen.start, chosen.end
    elif found := _QUARTER.match(value):
        chosen = quarter(int(found[1]), int(found[2]))
        start, end = chosen.start, chosen.end
    else:
        raise BadInput(f"`period` is a year, a month or a quarter (2026, 2026-11, 2026-Q4), not {value!r}.")
    return _midnight(start), _midnight(end)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
