"""The capability map: per capability area, how problems here show, get noticed and get diagnosed.

Texts are grouped by meaning (bot.insights.meaning): "high latency", "increased latency" and
"elevated latency" are one symptom; "HTTP 500-level response codes" and "502s" are 5xx. For each
area: its distinctive symptoms, ranked tf-idf-like (cases in the area with the symptom, times how
rare it is across the whole casebook), and apart from them the symptoms common to most areas;
how incidents were detected; the first checks and how often they led to the cause; what revealed
it; the misleading signals and wrong leads by the time they cost; the root causes (statements
such as "no definitive root cause yet" are not causes); and the diagnosability gaps: incidents
detected by customers, or more than SLOW_DETECTION after they started.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.insights import meaning
from bot.insights.similar import clip
from bot.parsing import AREA_LABELS, AREAS
from storage.models import Case

TOP = 5
UNSET = "unset"
SLOW_DETECTION = dt.timedelta(minutes=30)
DISTINCTIVE_LIFT = 1.5  # how much more frequent in the area than overall a symptom must be
SMALL_AREA = 5  # cases: below this, a one-off symptom may still be distinctive


@dataclass(frozen=True)
class Entry:
    text: str
    cases: tuple[int, ...]  # case numbers, oldest first
    minutes: float | None = None  # misjudgments: the time they cost, in total
    led_to_cause: int | None = None  # first checks: cases whose cause was then found
    median_mitigate: float | None = None  # first checks: median minutes from start to mitigation

    @property
    def count(self) -> int:
        return len(self.cases)


@dataclass(frozen=True)
class Gap:
    number: int
    reason: str  # "customer report" or "detected after 2 h"
    detect_minutes: float | None


@dataclass(frozen=True)
class AreaMap:
    area: str
    cases: tuple[int, ...]
    symptoms: tuple[Entry, ...] = ()
    common_symptoms: tuple[Entry, ...] = ()
    detection: tuple[Entry, ...] = ()
    first_checks: tuple[Entry, ...] = ()
    revealing_steps: tuple[Entry, ...] = ()
    misleading_signals: tuple[Entry, ...] = ()
    wrong_leads: tuple[Entry, ...] = ()
    root_causes: tuple[Entry, ...] = ()
    gaps: tuple[Gap, ...] = ()
    latest: str | None = None  # YYYY-MM-DD of the most recent case


@dataclass(frozen=True)
class CapabilityMap:
    areas: tuple[AreaMap, ...] = field(default_factory=tuple)
    total_cases: int = 0

    @property
    def total(self) -> int:
        return self.total_cases or sum(len(a.cases) for a in self.areas)


Keyed = tuple[int, str, str]  # (case number, grouping key, label)


@dataclass
class _Groups:
    cases: dict[str, list[int]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def add(self, number: int, key: str, label: str) -> None:
        self.labels.setdefault(key, label)
        if number not in self.cases.setdefault(key, []):
            self.cases[key].append(number)


def _group(items: Iterable[Keyed]) -> _Groups:
    groups = _Groups()
    for number, key, label in items:
        groups.add(number, key, label)
    return groups


def grouped(pairs: Iterable[tuple[int, str]], *, top: int = TOP, kind: str = "symptom") -> tuple[Entry, ...]:
    """(case number, text) pairs -> entries by meaning, most cases first; ties: most recent first."""
    groups = _group(
        (n, k, label) for n, text in pairs if text.strip() for k, label in meaning.keys(text, kind)
    )
    ranked = sorted(groups.cases, key=lambda k: (-len(groups.cases[k]), -max(groups.cases[k]), k))
    return tuple(Entry(groups.labels[k], tuple(sorted(groups.cases[k]))) for k in ranked[:top])


def _symptom_items(case: Case) -> list[Keyed]:
    return [
        (case.number, key, label)
        for text in case.symptoms or ()
        if not meaning.is_detection_text(text)
        for key, label in meaning.keys(text, "symptom")
    ]


@dataclass(frozen=True)
class _Corpus:
    """What the whole casebook says, for ranking one area against the others."""

    total: int
    cases_with: dict[str, int]


def _corpus(by_area: dict[str, list[Case]]) -> _Corpus:
    cases_with: dict[str, int] = {}
    for cases in by_area.values():
        for key, numbers in _group(item for c in cases for item in _symptom_items(c)).cases.items():
            cases_with[key] = cases_with.get(key, 0) + len(numbers)
    return _Corpus(sum(len(c) for c in by_area.values()), cases_with)


def _symptoms(
    cases: Sequence[Case], corpus: _Corpus, top: int
) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
    """(distinctive, common) symptoms of an area.

    Distinctive: at least DISTINCTIVE_LIFT times as frequent in the area as in the whole casebook,
    ranked by cases x log(lift) (tf-idf-like); a one-off counts only in a small area. Common: the
    rest, most cases first (what every area sees: "service unavailable", "error rate").
    Whole sentences of a report group only by the concepts they name, never as themselves.
    """
    items = [i for c in cases for i in _symptom_items(c) if not i[1].startswith("text:")]
    groups = _group(items)
    size = max(1, len(cases))

    def lift(key: str) -> float:
        overall = corpus.cases_with.get(key, 0) / max(1, corpus.total)
        return (len(groups.cases[key]) / size) / overall if overall else 0.0

    def entries(chosen: list[str]) -> tuple[Entry, ...]:
        return tuple(Entry(groups.labels[k], tuple(sorted(groups.cases[k]))) for k in chosen[:top])

    least = 1 if size < SMALL_AREA else 2
    distinctive = [k for k in groups.cases if lift(k) >= DISTINCTIVE_LIFT and len(groups.cases[k]) >= least]
    distinctive.sort(
        key=lambda k: (
            -len(groups.cases[k]) * math.log(lift(k)),
            -len(groups.cases[k]),
            -max(groups.cases[k]),
            k,
        )
    )
    common = sorted(
        (k for k in groups.cases if k not in distinctive and len(groups.cases[k]) >= least),
        key=lambda k: (-len(groups.cases[k]), k),
    )
    return entries(distinctive), entries(common[:3])


def _minutes(case: Case, end: dt.datetime | None) -> float | None:
    if case.started_at is None or end is None:
        return None
    return (end - case.started_at).total_seconds() / 60


def _first_checks(cases: Sequence[Case], top: int) -> tuple[Entry, ...]:
    by_number = {c.number: c for c in cases}
    groups = _group(
        (c.number, key, label)
        for c in cases
        for step in (c.diagnostic_path or ())[:1]
        if (text := str(step.get("text", ""))).strip()
        for key, label in meaning.keys(text, "check", all_concepts=False)
    )

    def entry(key: str) -> Entry:
        numbers = tuple(sorted(groups.cases[key]))
        found = sum(1 for n in numbers if meaning.has_cause(by_number[n]))
        times = [m for n in numbers if (m := _minutes(by_number[n], by_number[n].mitigated_at)) is not None]
        return Entry(groups.labels[key], numbers, led_to_cause=found, median_mitigate=_median(times))

    built = [entry(k) for k in groups.cases]
    built.sort(key=lambda e: (-(e.led_to_cause or 0), -e.count, -max(e.cases), e.text))
    return tuple(built[:top])


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _misjudgments(cases: Sequence[Case], kind: str, top: int) -> tuple[Entry, ...]:
    groups = _Groups()
    cost: dict[str, float] = {}
    for case in cases:
        for item in case.misjudgments or ():
            text = str(item.get("text", ""))
            if item.get("kind") != kind or not text.strip():
                continue
            for key, label in meaning.keys(text, "symptom", all_concepts=False)[:1]:
                groups.add(case.number, key, label)
                cost[key] = cost.get(key, 0.0) + (meaning.cost_minutes(item.get("cost")) or 0.0)
    built = [
        Entry(groups.labels[k], tuple(sorted(n)), minutes=cost.get(k) or None)
        for k, n in groups.cases.items()
    ]
    built.sort(key=lambda e: (-(e.minutes or 0), -e.count, -max(e.cases), e.text))
    return tuple(built[:top])


def _causes(cases: Sequence[Case], top: int) -> tuple[Entry, ...]:
    groups = _group((c.number, key, label) for c in cases for key, label in meaning.cause_keys(c))
    ranked = sorted(groups.cases, key=lambda k: (-len(groups.cases[k]), -max(groups.cases[k]), k))
    return tuple(Entry(groups.labels[k], tuple(sorted(groups.cases[k]))) for k in ranked[:top])


def _detection(cases: Sequence[Case]) -> tuple[Entry, ...]:
    groups = _group(
        (c.number, method, meaning.detection_label(method))
        for c in cases
        if (method := meaning.detection_method(c))
    )
    order = [*meaning.DETECTION_ORDER, meaning.NOT_RECORDED]
    ranked = sorted(
        groups.cases, key=lambda k: (k == meaning.NOT_RECORDED, -len(groups.cases[k]), order.index(k))
    )
    return tuple(Entry(groups.labels[k], tuple(sorted(groups.cases[k]))) for k in ranked)


def _gaps(cases: Sequence[Case], top: int) -> tuple[Gap, ...]:
    found = []
    for case in cases:
        minutes = _minutes(case, case.detected_at)
        if meaning.detection_method(case) == "customer":
            found.append(Gap(case.number, "customer report", minutes))
        elif minutes is not None and minutes > SLOW_DETECTION.total_seconds() / 60:
            found.append(Gap(case.number, f"detected after {_duration(minutes)}", minutes))
    found.sort(key=lambda g: (g.reason != "customer report", -(g.detect_minutes or 0), -g.number))
    return tuple(found[: top * 2])


def _duration(minutes: float) -> str:
    from bot.parsing import format_duration

    return format_duration(dt.timedelta(minutes=minutes))


def area_map(area: str, cases: Sequence[Case], corpus: _Corpus, *, top: int = TOP) -> AreaMap:
    symptoms, common = _symptoms(cases, corpus, top)
    dated = [c.started_at for c in cases if c.started_at]
    return AreaMap(
        area=area,
        cases=tuple(sorted(c.number for c in cases)),
        symptoms=symptoms,
        common_symptoms=common,
        detection=_detection(cases),
        first_checks=_first_checks(cases, top),
        revealing_steps=grouped(
            [(c.number, str(s.get("text", ""))) for c in cases for s in (c.diagnostic_path or ())[-1:]],
            top=top,
            kind="check",
        ),
        misleading_signals=_misjudgments(cases, "signal", top),
        wrong_leads=_misjudgments(cases, "hypothesis", top),
        root_causes=_causes(cases, top),
        gaps=_gaps(cases, top),
        latest=max(dated).date().isoformat() if dated else None,
    )


def build(cases: Sequence[Case], *, area: str | None = None, top: int = TOP) -> CapabilityMap:
    """The map of every area (or one), each ranked against the whole casebook."""
    by_area: dict[str, list[Case]] = {}
    for case in cases:
        by_area.setdefault(case.area or UNSET, []).append(case)
    corpus = _corpus(by_area)
    if area is not None:
        return CapabilityMap((area_map(area, by_area.get(area, []), corpus, top=top),), len(cases))
    order = [*AREAS, UNSET]
    areas = sorted(by_area, key=lambda a: (-len(by_area[a]), order.index(a) if a in order else len(order)))
    return CapabilityMap(tuple(area_map(a, by_area[a], corpus, top=top) for a in areas), len(cases))


# --- rendering ---------------------------------------------------------------------------------------


def label(area: str) -> str:
    return AREA_LABELS.get(area, area)


def refs(numbers: Sequence[int], *, most: int = 6) -> str:
    shown = ", ".join(f"#{n}" for n in numbers[-most:][::-1])
    return shown + (f" +{len(numbers) - most} more" if len(numbers) > most else "")


def _describe(entry: Entry) -> str:
    facts = [f"{entry.count} case(s)"]
    if entry.minutes:
        facts.insert(0, f"{_duration(entry.minutes)} lost")
    if entry.led_to_cause is not None:
        facts.append(f"cause found in {entry.led_to_cause}")
    if entry.median_mitigate is not None:
        facts.append(f"median {_duration(entry.median_mitigate)} to mitigate")
    return f"- {clip(entry.text, 140)} — {', '.join(facts)}: {refs(entry.cases)}"


def _entries(title: str, entries: Sequence[Entry]) -> list[str]:
    if not entries:
        return [f"**{title}:** _none recorded_"]
    return [f"**{title}:**"] + [_describe(e) for e in entries]


def _gap_lines(gaps: Sequence[Gap]) -> list[str]:
    if not gaps:
        return ["**Diagnosability gaps:** _none: every incident was detected by us within 30 min_"]
    return [
        "**Diagnosability gaps** (detected by customers, or after more than 30 min):",
        "- " + ", ".join(f"#{g.number} {g.reason}" for g in gaps),
    ]


def render_area(found: AreaMap) -> str:
    if not found.cases:
        return f"**{label(found.area)}**: no published cases yet."
    detection = ", ".join(f"{e.text} {e.count}" for e in found.detection)
    lines = [
        f"### {label(found.area)} — {len(found.cases)} case(s), latest {found.latest or 'undated'}",
        f"Cases: {refs(found.cases, most=12)}",
        f"**Detected by:** {detection}",
    ]
    lines += _entries("Distinctive symptoms", found.symptoms)
    if found.common_symptoms:
        common = ", ".join(f"{e.text} ({e.count})" for e in found.common_symptoms)
        lines.append(f"_Also seen, as everywhere:_ {common}")
    for title, entries in (
        ("First checks (and how often the cause was then found)", found.first_checks),
        ("What revealed the cause", found.revealing_steps),
        ("Misleading signals (by time lost)", found.misleading_signals),
        ("Wrong leads (by time lost)", found.wrong_leads),
        ("Root causes", found.root_causes),
    ):
        lines += _entries(title, entries)
    lines += _gap_lines(found.gaps)
    return "\n".join(lines)


def render_overview(found: CapabilityMap) -> str:
    if not found.areas:
        return "The capability map is empty: no published cases yet."
    lines = [f"**Capability map** — {found.total} published case(s). `map <area>` for the details."]
    for area in found.areas:
        distinctive = ", ".join(f"{clip(e.text, 50)} ({e.count})" for e in area.symptoms[:3])
        causes = ", ".join(f"{clip(e.text, 50)} ({e.count})" for e in area.root_causes[:2])
        customer = sum(1 for g in area.gaps if g.reason == "customer report")
        slow = len(area.gaps) - customer
        lines.append(
            f"- **{label(area.area)}**: {len(area.cases)} case(s), latest {area.latest or 'undated'}"
            + (f"; symptoms: {distinctive}" if distinctive else "")
            + (f"; causes: {causes}" if causes else "")
            + (f"; gaps: {customer} found by customers, {slow} slow to detect" if area.gaps else "")
        )
    return "\n".join(lines)


def render(found: CapabilityMap, *, detailed: bool) -> str:
    if detailed:
        return "\n\n".join(render_area(a) for a in found.areas)
    return render_overview(found)


def as_json(found: CapabilityMap) -> dict[str, Any]:
    def entries(items: Sequence[Entry]) -> list[dict[str, Any]]:
        return [
            {
                "text": e.text,
                "count": e.count,
                "cases": list(e.cases),
                **({"minutes_lost": e.minutes} if e.minutes is not None else {}),
                **({"led_to_cause": e.led_to_cause} if e.led_to_cause is not None else {}),
                **({"median_mitigate_min": e.median_mitigate} if e.median_mitigate is not None else {}),
            }
            for e in items
        ]

    return {
        "total_cases": found.total,
        "areas": [
            {
                "area": a.area,
                "cases": list(a.cases),
                "latest": a.latest,
                "detection": entries(a.detection),
                "symptoms": entries(a.symptoms),
                "common_symptoms": entries(a.common_symptoms),
                "first_checks": entries(a.first_checks),
                "revealing_steps": entries(a.revealing_steps),
                "misleading_signals": entries(a.misleading_signals),
                "wrong_leads": entries(a.wrong_leads),
                "root_causes": entries(a.root_causes),
                "gaps": [
                    {"case": g.number, "reason": g.reason, "detect_min": g.detect_minutes} for g in a.gaps
                ],
            }
            for a in found.areas
        ],
    }
