"""The value ledger: the figures that show whether prevention pays off.

Definitions (the README repeats them for readers of the report):
- An incident belongs to the period its start falls in (else its detection, else publication).
- Median: the middle value (mean of the two middle ones). p90: nearest rank, the
  ceil(0.9 n)-th smallest. Times are minutes from start to detection / mitigation / resolution.
- Trend: the change of the median against the previous period, in percent (negative is faster).
- Repeat: an incident with an earlier one at most 90 days before it, in the same area with a
  service in common, or with a similar root cause (at least half of their root-cause words
  in common, Jaccard >= 0.5, each with three words or more).
- Follow-through, per period: prevention actions due in it (cancelled ones left out); closed
  on time (done on or before the due date); median days to close (actions closed in the period,
  from creation to closure); overdue now (due in the period, still open, due date passed).
- Before/after, per area with at least one closed action: the first closure splits the area's
  history; incidents per 30 days, repeats and median time to resolve on each side. Compared
  only with at least MIN_SIDE_INCIDENTS incidents and MIN_SIDE_DAYS days on each side; otherwise
  the sample sizes are shown with "not enough data yet".
- Change failure, per period: incidents set off by a deploy or a configuration change (the
  deploy/config area, a triggering operation that is a change, or a change as the root cause).
- Cost of misjudgment, per period and area: the minutes wrong hypotheses and misleading signals
  cost, as stated with them ("cost: 15 min"); misjudgments without a stated cost are counted apart.
- On-call burden, per period: responder-hours per incident, the responders who answered the
  interview (or gave a diagnostic step) times the hours from detection (else start) to
  resolution (else mitigation); incidents without both are left out and counted.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.insights import meaning
from bot.parsing import ParseError
from bot.parsing.errors import short
from storage.models import Case, PreventionAction
from storage.search import words

REPEAT_WINDOW = dt.timedelta(days=90)
ROOT_SIMILARITY = 0.5
MIN_ROOT_WORDS = 3
SEVERITY_KEYS = ("SEV1", "SEV2", "SEV3", "SEV4", "unset")
MEASURES = ("detect", "mitigate", "resolve")
MIN_SIDE_INCIDENTS = 5
MIN_SIDE_DAYS = 90


# --- inputs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incident:
    number: int
    started: dt.datetime
    severity: str
    area: str
    services: frozenset[str]
    root_words: frozenset[str]
    minutes: dict[str, float | None]
    change: bool = False  # set off by a deploy or configuration change
    misjudgment_minutes: float = 0.0
    misjudgments_uncosted: int = 0
    responder_hours: float | None = None

    @classmethod
    def of(cls, case: Case, responders: int = 0) -> Incident | None:
        when = case.started_at or case.detected_at or case.published_at
        if when is None:
            return None

        def minutes(end: dt.datetime | None) -> float | None:
            if case.started_at is None or end is None:
                return None
            return (end - case.started_at).total_seconds() / 60

        costs = [meaning.cost_minutes(m.get("cost")) for m in case.misjudgments or ()]
        return cls(
            number=case.number,
            started=when,
            severity=case.severity or "unset",
            area=case.area or "unset",
            services=frozenset(s.casefold() for s in case.services or ()),
            root_words=frozenset(words(case.root_cause or "")),
            minutes={
                "detect": minutes(case.detected_at),
                "mitigate": minutes(case.mitigated_at),
                "resolve": minutes(case.resolved_at),
            },
            change=meaning.change_triggered(case),
            misjudgment_minutes=sum(c for c in costs if c is not None),
            misjudgments_uncosted=sum(1 for c in costs if c is None),
            responder_hours=_responder_hours(case, responders),
        )


def _responder_hours(case: Case, responders: int) -> float | None:
    named = {str(s.get("by")) for s in case.diagnostic_path or () if s.get("by")}
    people = max(responders, len(named))
    begin = case.detected_at or case.started_at
    end = case.resolved_at or case.mitigated_at
    if not people or begin is None or end is None:
        return None
    return people * (end - begin).total_seconds() / 3600


@dataclass(frozen=True)
class ActionFact:
    case_number: int
    area: str
    created: dt.datetime
    due: dt.date | None
    status: str
    closed_at: dt.datetime | None

    @classmethod
    def of(cls, case_number: int, area: str, action: PreventionAction) -> ActionFact:
        return cls(case_number, area, action.created_at, action.due_date, action.status, action.closed_at)


# --- periods ------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # exclusive
    label: str

    def holds(self, when: dt.datetime | dt.date) -> bool:
        day = when.astimezone(dt.UTC).date() if isinstance(when, dt.datetime) else when
        return self.start <= day < self.end


def month(year: int, number: int) -> Period:
    start = dt.date(year, number, 1)
    end = dt.date(year + number // 12, number % 12 + 1, 1)
    return Period(start, end, f"{year}-{number:02d}")


def quarter(year: int, number: int) -> Period:
    start = dt.date(year, 3 * number - 2, 1)
    end = dt.date(year + number // 4, (3 * number) % 12 + 1, 1)
    return Period(start, end, f"{year}-Q{number}")


def containing(day: dt.date, kind: str) -> Period:
    return month(day.year, day.month) if kind == "month" else quarter(day.year, (day.month - 1) // 3 + 1)


def previous(period: Period, kind: str) -> Period:
    return containing(period.start - dt.timedelta(days=1), kind)


@dataclass(frozen=True)
class Window:
    kind: str  # "month" | "quarter"
    periods: tuple[Period, ...]  # oldest first


DEFAULT_COUNT = {"month": 6, "quarter": 4}
_MONTH_REF = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER_REF = re.compile(r"^(?:(\d{4})-?q([1-4])|q([1-4])[- ]?(\d{4}))$")


FIRST_YEAR, LAST_YEAR = 1970, 2999  # a period outside them is a typo (and 9999-12 has no end)


def parse_window(text: str, *, today: dt.date) -> Window:
    """`[month|quarter] [YYYY-MM|YYYY-Qn] [N]`, in any order; defaults: 6 months up to today."""
    short(text, "a period")
    _year(str(today.year), today.isoformat())
    kind: str | None = None
    anchor: tuple[dt.date, str] | None = None  # a day in the named period, and its kind
    count: int | None = None
    tokens = text.lower().replace("quarterly", "quarter").replace("monthly", "month").split()
    for token in tokens:
        if token in {"month", "months", "quarter", "quarters"}:
            kind = token.rstrip("s")
        elif token.isdigit() and 1 <= int(token) <= 36:
            count = int(token)
        elif m := _MONTH_REF.match(token):
            if not 1 <= int(m.group(2)) <= 12:
                raise ParseError(f"{token} is not a month; write YYYY-MM, e.g. 2026-03.")
            anchor = (dt.date(_year(m.group(1), token), int(m.group(2)), 1), "month")
        elif m := _QUARTER_REF.match(token):
            year, number = _year(m.group(1) or m.group(4), token), int(m.group(2) or m.group(3))
            anchor = (dt.date(year, 3 * number, 1), "quarter")  # its last month
        else:
            raise ParseError(
                f"I don't understand {token!r}. Try `ledger`, `ledger quarter`, `ledger 2026-03`, "
                "`ledger 2026-Q1`, or `ledger month 12` (up to 36 periods)."
            )
    kind = kind or (anchor[1] if anchor else "month")
    periods = [containing(anchor[0] if anchor else today, kind)]
    for _ in range((count or DEFAULT_COUNT[kind]) - 1):
        periods.append(previous(periods[-1], kind))
    return Window(kind, tuple(reversed(periods)))


def _year(digits: str, token: str) -> int:
    year = int(digits)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ParseError(f"{token} is out of range: the ledger covers the years {FIRST_YEAR} to {LAST_YEAR}.")
    return year


# --- figures ------------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def change(current: float | None, before: float | None) -> float | None:
    """Percent change of a figure against the previous period (None when either is missing)."""
    if current is None or before is None or before == 0:
        return None
    return (current - before) / before * 100


def similar_roots(a: frozenset[str], b: frozenset[str]) -> bool:
    if len(a) < MIN_ROOT_WORDS or len(b) < MIN_ROOT_WORDS:
        return False
    return len(a & b) / len(a | b) >= ROOT_SIMILARITY


def repeats_of(incidents: Sequence[Incident]) -> dict[int, int]:
    """{case number: the earlier case it repeats} for every repeat incident."""
    ordered = sorted(incidents, key=lambda i: (i.started, i.number))
    found: dict[int, int] = {}
    for index, current in enumerate(ordered):
        for earlier in reversed(ordered[:index]):
            if current.started - earlier.started > REPEAT_WINDOW:
                break
            same_place = current.area == earlier.area != "unset" and bool(current.services & earlier.services)
            if same_place or similar_roots(current.root_words, earlier.root_words):
                found[current.number] = earlier.number
                break
    return found


@dataclass(frozen=True)
class Timing:
    median: float | None
    p90: float | None
    count: int
    trend: float | None  # percent change of the median against the previous period


@dataclass(frozen=True)
class FollowThrough:
    due: int
    on_time: int
    closed_in_period: int
    median_days_to_close: float | None
    overdue_now: int

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due * 100 if self.due else None


@dataclass(frozen=True)
class PeriodFigures:
    period: Period
    incidents: tuple[int, ...]  # case numbers
    by_severity: dict[str, int]
    by_area: dict[str, int]
    timings: dict[str, Timing]
    repeats: dict[int, int]  # repeat case -> the earlier case
    follow_through: FollowThrough
    change_failures: tuple[int, ...] = ()  # incidents set off by a deploy or configuration change
    misjudgment_minutes: dict[str, float] = field(default_factory=dict)  # by area, stated costs only
    misjudgments_uncosted: int = 0
    burden: Burden | None = None


@dataclass(frozen=True)
class Burden:
    """On-call burden of a period: responder-hours per incident (incidents with responders and times)."""

    mean_hours: float
    p90_hours: float
    total_hours: float
    incidents: int
    unknown: int  # incidents of the period left out

    @classmethod
    def of(cls, incidents: Sequence[Incident]) -> Burden | None:
        hours = [i.responder_hours for i in incidents if i.responder_hours is not None]
        if not hours:
            return None
        return cls(
            mean_hours=sum(hours) / len(hours),
            p90_hours=p90(hours) or 0.0,
            total_hours=sum(hours),
            incidents=len(hours),
            unknown=len(incidents) - len(hours),
        )


@dataclass(frozen=True)
class BeforeAfter:
    area: str
    pivot: dt.date  # the first closure of an action of this area
    closed_actions: int
    before_incidents: int
    after_incidents: int
    before_per_30_days: float | None
    after_per_30_days: float | None
    before_repeats: int
    after_repeats: int
    before_median_resolve: float | None
    after_median_resolve: float | None
    before_days: float = 0.0
    after_days: float = 0.0

    @property
    def enough(self) -> bool:
        """Both sides have the incidents and the time a comparison needs."""
        return (
            min(self.before_incidents, self.after_incidents) >= MIN_SIDE_INCIDENTS
            and min(self.before_days, self.after_days) >= MIN_SIDE_DAYS
        )


@dataclass(frozen=True)
class Ledger:
    window: Window
    today: dt.date
    periods: tuple[PeriodFigures, ...]
    before_after: tuple[BeforeAfter, ...]
    overdue_now: int
    latest_incident: dt.date | None


def _timings(now: Sequence[Incident], before: Sequence[Incident]) -> dict[str, Timing]:
    result = {}
    for measure in MEASURES:
        values = [m for i in now if (m := i.minutes[measure]) is not None]
        earlier = [m for i in before if (m := i.minutes[measure]) is not None]
        middle = median(values)
        result[measure] = Timing(middle, p90(values), len(values), change(middle, median(earlier)))
    return result


def _follow_through(period: Period, actions: Sequence[ActionFact], today: dt.date) -> FollowThrough:
    live = [a for a in actions if a.status != "cancelled"]
    due = [a for a in live if a.due is not None and period.holds(a.due)]
    on_time = [a for a in due if a.status == "done" and a.closed_at and a.due and a.closed_at.date() <= a.due]
    closed = [a for a in live if a.status == "done" and a.closed_at and period.holds(a.closed_at)]
    days = [(a.closed_at - a.created).total_seconds() / 86400 for a in closed if a.closed_at]
    overdue = [a for a in due if a.status == "open" and a.due is not None and a.due < today]
    return FollowThrough(len(due), len(on_time), len(closed), median(days), len(overdue))


def _counts(keys: Sequence[str], order: Sequence[str] = ()) -> dict[str, int]:
    counted: dict[str, int] = {}
    for key in keys:
        counted[key] = counted.get(key, 0) + 1
    rank = {k: i for i, k in enumerate(order)}
    return dict(sorted(counted.items(), key=lambda kv: (rank.get(kv[0], len(rank)), -kv[1], kv[0])))


def _before_after(
    incidents: Sequence[Incident], actions: Sequence[ActionFact], repeats: dict[int, int], today: dt.date
) -> tuple[BeforeAfter, ...]:
    results = []
    closed_by_area: dict[str, list[ActionFact]] = {}
    for action in actions:
        if action.status == "done" and action.closed_at is not None:
            closed_by_area.setdefault(action.area, []).append(action)
    for area, closed in sorted(closed_by_area.items()):
        pivot = min(a.closed_at for a in closed if a.closed_at)
        mine = [i for i in incidents if i.area == area]
        before = [i for i in mine if i.started < pivot]
        after = [i for i in mine if i.started >= pivot]
        first = min((i.started for i in mine), default=pivot)
        span_before = (pivot - first).total_seconds() / 86400
        span_after = (dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC) - pivot).total_seconds() / 86400

        def rate(count: int, days: float) -> float | None:
            return count / days * 30 if days >= 1 else None

        def ttr(group: list[Incident]) -> float | None:
            return median([m for i in group if (m := i.minutes["resolve"]) is not None])

        results.append(
            BeforeAfter(
                area=area,
                pivot=pivot.date(),
                closed_actions=len(closed),
                before_incidents=len(before),
                after_incidents=len(after),
                before_per_30_days=rate(len(before), span_before),
                after_per_30_days=rate(len(after), span_after),
                before_repeats=sum(1 for i in before if i.number in repeats),
                after_repeats=sum(1 for i in after if i.number in repeats),
                before_median_resolve=ttr(before),
                after_median_resolve=ttr(after),
                before_days=span_before,
                after_days=span_after,
            )
        )
    return tuple(results)


def _misjudgment_minutes(incidents: Sequence[Incident]) -> dict[str, float]:
    by_area: dict[str, float] = {}
    for incident in incidents:
        if incident.misjudgment_minutes:
            by_area[incident.area] = by_area.get(incident.area, 0.0) + incident.misjudgment_minutes
    return dict(sorted(by_area.items(), key=lambda kv: (-kv[1], kv[0])))


def compute(
    cases: Sequence[Case],
    actions: Sequence[tuple[int, PreventionAction]],
    *,
    window: Window,
    today: dt.date,
    responders: dict[int, int] | None = None,
) -> Ledger:
    """`responders`: {case id: people who answered its interview}."""
    known = responders or {}
    incidents = [i for c in cases if (i := Incident.of(c, known.get(c.id or 0, 0))) is not None]
    area_of = {c.number: c.area or "unset" for c in cases}
    facts = [ActionFact.of(number, area_of.get(number, "unset"), a) for number, a in actions]
    repeats = repeats_of(incidents)
    figures = []
    for period in window.periods:
        now = [i for i in incidents if period.holds(i.started)]
        before_period = previous(period, window.kind)
        earlier = [i for i in incidents if before_period.holds(i.started)]
        figures.append(
            PeriodFigures(
                period=period,
                incidents=tuple(sorted(i.number for i in now)),
                by_severity=_counts([i.severity for i in now], SEVERITY_KEYS),
                by_area=_counts([i.area for i in now]),
                timings=_timings(now, earlier),
                repeats={i.number: repeats[i.number] for i in now if i.number in repeats},
                follow_through=_follow_through(period, facts, today),
                change_failures=tuple(sorted(i.number for i in now if i.change)),
                misjudgment_minutes=_misjudgment_minutes(now),
                misjudgments_uncosted=sum(i.misjudgments_uncosted for i in now),
                burden=Burden.of(now),
            )
        )
    overdue = sum(1 for a in facts if a.status == "open" and a.due is not None and a.due < today)
    latest = max((i.started for i in incidents), default=None)
    return Ledger(
        window=window,
        today=today,
        periods=tuple(figures),
        before_after=_before_after(incidents, facts, repeats, today),
        overdue_now=overdue,
        latest_incident=latest.date() if latest else None,
    )
