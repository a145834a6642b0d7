"""A person's ledger: what one responder has given the casebook, and what came of it.

Cases led (the interviews they started); diagnostic steps contributed (steps recorded under their
name); their prevention actions: due so far, closed on time, still overdue; and, for each area
where they closed an action, whether the area's incidents fell after their first closure there
(incidents per 30 days on each side, compared only with enough data: see bot.insights.ledger).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.insights.capability_map import label, refs
from bot.insights.ledger import MIN_SIDE_DAYS, MIN_SIDE_INCIDENTS
from storage.models import Case, Person, PreventionAction


@dataclass(frozen=True)
class AreaAfter:
    area: str
    pivot: dt.date  # their first closure of an action of this area
    before: int
    after: int
    before_days: float
    after_days: float

    @property
    def enough(self) -> bool:
        return min(self.before, self.after) >= MIN_SIDE_INCIDENTS and min(
            self.before_days, self.after_days
        ) >= (MIN_SIDE_DAYS)

    @property
    def before_rate(self) -> float:
        return self.before / self.before_days * 30 if self.before_days >= 1 else 0.0

    @property
    def after_rate(self) -> float:
        return self.after / self.after_days * 30 if self.after_days >= 1 else 0.0

    @property
    def fell(self) -> bool:
        return self.enough and self.after_rate < self.before_rate


@dataclass(frozen=True)
class PersonLedger:
    name: str
    today: dt.date
    cases_led: tuple[int, ...]
    steps: int
    step_cases: tuple[int, ...]
    actions: int  # owned, cancelled ones left out
    due: int  # due today or earlier
    on_time: int
    overdue: int
    areas: tuple[AreaAfter, ...]


def _name(person: Person) -> str:
    return person.display_name or person.platform_user_id


def compute(
    person: Person,
    cases: Sequence[Case],
    actions: Sequence[tuple[int, PreventionAction]],
    *,
    today: dt.date,
) -> PersonLedger:
    names = {n.casefold() for n in (person.display_name, person.platform_user_id) if n}
    led = tuple(sorted(c.number for c in cases if c.lead_id == person.id))
    steps = [
        c.number for c in cases for s in c.diagnostic_path or () if str(s.get("by") or "").casefold() in names
    ]
    area_of = {c.number: c.area or "unset" for c in cases}
    mine = [(n, a) for n, a in actions if a.owner_id == person.id and a.status != "cancelled"]
    due = [a for _, a in mine if a.due_date is not None and a.due_date <= today]
    on_time = [
        a
        for a in due
        if a.status == "done" and a.closed_at and a.due_date and a.closed_at.date() <= a.due_date
    ]
    overdue = [a for a in due if a.status == "open" and a.due_date is not None and a.due_date < today]
    return PersonLedger(
        name=_name(person),
        today=today,
        cases_led=led,
        steps=len(steps),
        step_cases=tuple(sorted(set(steps))),
        actions=len(mine),
        due=len(due),
        on_time=len(on_time),
        overdue=len(overdue),
        areas=_areas(cases, [(area_of.get(n, "unset"), a) for n, a in mine], today),
    )


def _areas(
    cases: Sequence[Case], mine: Sequence[tuple[str, PreventionAction]], today: dt.date
) -> tuple[AreaAfter, ...]:
    firsts: dict[str, dt.datetime] = {}
    for area, action in mine:
        if action.status == "done" and action.closed_at is not None:
            firsts[area] = min(firsts.get(area, action.closed_at), action.closed_at)
    end = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
    found = []
    for area, pivot in sorted(firsts.items()):
        starts = [c.started_at for c in cases if (c.area or "unset") == area and c.started_at]
        before = [s for s in starts if s < pivot]
        first = min(starts, default=pivot)
        found.append(
            AreaAfter(
                area=area,
                pivot=pivot.date(),
                before=len(before),
                after=len(starts) - len(before),
                before_days=(pivot - first).total_seconds() / 86400,
                after_days=(end - pivot).total_seconds() / 86400,
            )
        )
    return tuple(found)


def markdown(ledger: PersonLedger) -> str:
    lines = [f"**{ledger.name}'s ledger** (as of {ledger.today.isoformat()})"]
    lines.append(
        f"- Cases led: {len(ledger.cases_led)}" + (f" ({refs(ledger.cases_led)})" if ledger.cases_led else "")
    )
    lines.append(
        f"- Diagnostic steps contributed: {ledger.steps}"
        + (f" in {len(ledger.step_cases)} case(s) ({refs(ledger.step_cases)})" if ledger.steps else "")
    )
    share = f" ({ledger.on_time / ledger.due:.0%})" if ledger.due else ""
    lines.append(
        f"- Prevention actions: {ledger.actions} owned, {ledger.due} due so far, "
        f"{ledger.on_time} closed on time{share}, {ledger.overdue} overdue"
    )
    if not ledger.areas:
        lines.append("- Areas after their actions: none yet (no action of theirs closed)")
    for item in ledger.areas:
        sides = (
            f"{item.before} incident(s) over {item.before_days:.0f} days before, "
            f"{item.after} over {item.after_days:.0f} days after"
        )
        if item.enough:
            verdict = "fell" if item.fell else "did not fall"
            lines.append(
                f"- **{label(item.area)}** after their first closure ({item.pivot.isoformat()}): "
                f"incidents {verdict}, {item.before_rate:.2f} → {item.after_rate:.2f} per 30 days ({sides})"
            )
        else:
            lines.append(
                f"- **{label(item.area)}** after their first closure ({item.pivot.isoformat()}): "
                f"not enough data yet ({sides}; {MIN_SIDE_INCIDENTS} incidents and {MIN_SIDE_DAYS} days "
                "a side needed)"
            )
    return "\n".join(lines)
