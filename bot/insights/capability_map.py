"""The capability map: per capability area, how problems here show and get diagnosed.

For each area: how many cases; the most common symptoms; the first checks made and the
step that revealed the cause; the misleading signals and wrong leads met; the root causes;
and, for every entry, the cases behind it. Entries are grouped by their normalised text and
counted once per case; imported cases group their root causes by the source's label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.case import CaseDraft
from bot.insights.similar import clip
from bot.parsing import AREA_LABELS, AREAS
from bot.store import draft_from_rows
from storage.models import Case

TOP = 5
UNSET = "unset"


@dataclass(frozen=True)
class Entry:
    text: str
    cases: tuple[int, ...]  # case numbers, oldest first

    @property
    def count(self) -> int:
        return len(self.cases)


@dataclass(frozen=True)
class AreaMap:
    area: str
    cases: tuple[int, ...]
    symptoms: tuple[Entry, ...] = ()
    first_checks: tuple[Entry, ...] = ()
    revealing_steps: tuple[Entry, ...] = ()
    misleading_signals: tuple[Entry, ...] = ()
    wrong_leads: tuple[Entry, ...] = ()
    root_causes: tuple[Entry, ...] = ()
    latest: str | None = None  # YYYY-MM-DD of the most recent case


@dataclass(frozen=True)
class CapabilityMap:
    areas: tuple[AreaMap, ...] = field(default_factory=tuple)

    @property
    def total(self) -> int:
        return sum(len(a.cases) for a in self.areas)


def _key(text: str) -> str:
    return re.sub(r"[\s.;:!,]+$", "", " ".join(text.lower().split()))


def grouped(pairs: Iterable[tuple[int, str]], *, top: int = TOP) -> tuple[Entry, ...]:
    """(case number, text) pairs -> entries, most cases first; ties: most recent case first.

    Texts shared by several cases come before one-off texts, whatever their order.
    """
    cases: dict[str, list[int]] = {}
    spelling: dict[str, str] = {}
    for number, text in pairs:
        key = _key(text)
        if not key:
            continue
        spelling.setdefault(key, " ".join(text.split()))
        if number not in cases.setdefault(key, []):
            cases[key].append(number)
    ranked = sorted(cases, key=lambda k: (-len(cases[k]), -max(cases[k]), k))
    return tuple(Entry(spelling[k], tuple(sorted(cases[k]))) for k in ranked[:top])


def _root_cause(case: Case) -> str | None:
    labels = (case.extra or {}).get("root_cause_labels")
    if isinstance(labels, list) and labels:
        return str(labels[0])
    return clip(case.root_cause, 160) if case.root_cause else None


def area_map(area: str, cases: Sequence[Case], *, top: int = TOP) -> AreaMap:
    drafts = [draft_from_rows(case, [], {}) for case in cases]

    def each(extract: Callable[[CaseDraft], Iterable[str]]) -> tuple[Entry, ...]:
        return grouped([(d.number, text) for d in drafts for text in extract(d)], top=top)

    dated = [d.started for d in drafts if d.started]
    return AreaMap(
        area=area,
        cases=tuple(sorted(d.number for d in drafts)),
        symptoms=each(lambda d: d.symptoms),
        first_checks=each(lambda d: [s.text for s in d.diagnostic_path[:1]]),
        revealing_steps=each(lambda d: [s.text for s in d.diagnostic_path[-1:]]),
        misleading_signals=each(lambda d: [m.text for m in d.signals]),
        wrong_leads=each(lambda d: [m.text for m in d.hypotheses]),
        root_causes=grouped([(c.number, r) for c in cases if (r := _root_cause(c))], top=top),
        latest=max(dated).date().isoformat() if dated else None,
    )


def build(cases: Sequence[Case], *, area: str | None = None, top: int = TOP) -> CapabilityMap:
    by_area: dict[str, list[Case]] = {}
    for case in cases:
        by_area.setdefault(case.area or UNSET, []).append(case)
    if area is not None:
        return CapabilityMap((area_map(area, by_area.get(area, []), top=top),))
    order = [*AREAS, UNSET]
    areas = sorted(by_area, key=lambda a: (-len(by_area[a]), order.index(a) if a in order else len(order)))
    return CapabilityMap(tuple(area_map(a, by_area[a], top=top) for a in areas))


# --- rendering ---------------------------------------------------------------------------------------


def label(area: str) -> str:
    return AREA_LABELS.get(area, area)


def refs(numbers: Sequence[int], *, most: int = 6) -> str:
    shown = ", ".join(f"#{n}" for n in numbers[-most:][::-1])
    return shown + (f" +{len(numbers) - most} more" if len(numbers) > most else "")


def _entries(title: str, entries: Sequence[Entry]) -> list[str]:
    if not entries:
        return [f"**{title}:** _none recorded_"]
    return [f"**{title}:**"] + [
        f"- {clip(e.text, 140)} — {e.count} case(s): {refs(e.cases)}" for e in entries
    ]


def render_area(found: AreaMap) -> str:
    if not found.cases:
        return f"**{label(found.area)}**: no published cases yet."
    lines = [
        f"### {label(found.area)} — {len(found.cases)} case(s), latest {found.latest or 'undated'}",
        f"Cases: {refs(found.cases, most=12)}",
    ]
    for title, entries in (
        ("Most common symptoms", found.symptoms),
        ("First checks", found.first_checks),
        ("What revealed the cause", found.revealing_steps),
        ("Misleading signals", found.misleading_signals),
        ("Wrong leads", found.wrong_leads),
        ("Root causes", found.root_causes),
    ):
        lines += _entries(title, entries)
    return "\n".join(lines)


def render_overview(found: CapabilityMap) -> str:
    if not found.areas:
        return "The capability map is empty: no published cases yet."
    lines = [f"**Capability map** — {found.total} published case(s). `map <area>` for the details."]
    for area in found.areas:
        common = ", ".join(f"{clip(e.text, 60)} ({e.count})" for e in area.symptoms if e.count > 1)
        causes = ", ".join(f"{clip(e.text, 60)} ({e.count})" for e in area.root_causes[:2])
        lines.append(
            f"- **{label(area.area)}**: {len(area.cases)} case(s), latest {area.latest or 'undated'}"
            + (f"; symptoms: {common}" if common else "")
            + (f"; causes: {causes}" if causes else "")
        )
    return "\n".join(lines)


def render(found: CapabilityMap, *, detailed: bool) -> str:
    if detailed:
        return "\n\n".join(render_area(a) for a in found.areas)
    return render_overview(found)


def as_json(found: CapabilityMap) -> dict[str, Any]:
    def entries(items: Sequence[Entry]) -> list[dict[str, Any]]:
        return [{"text": e.text, "count": e.count, "cases": list(e.cases)} for e in items]

    return {
        "total_cases": found.total,
        "areas": [
            {
                "area": a.area,
                "cases": list(a.cases),
                "latest": a.latest,
                "symptoms": entries(a.symptoms),
                "first_checks": entries(a.first_checks),
                "revealing_steps": entries(a.revealing_steps),
                "misleading_signals": entries(a.misleading_signals),
                "wrong_leads": entries(a.wrong_leads),
                "root_causes": entries(a.root_causes),
            }
            for a in found.areas
        ],
    }
