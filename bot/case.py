"""The clinical case: plain immutable values, and the one definition of its written sections.

`CaseDraft` is the case as the interview, drafting and rendering see it. `FIELDS` describes each
written section a responder answers in their own words (a text, or a list of entries): where it
is shown, how it is labelled and asked, how much it weighs in similar-case search. The storage
row keeps each as a column of the same name; the mapping to and from rows (bot/store.py), the
JSON export and import (bot/render.py, bot/insights/records.py), the Markdown, Slack, Teams and
web renderings and the drafting material iterate over `FIELDS` instead of naming each field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.messages import Mention

TIMELINE = ("started", "detected", "mitigated", "resolved")


@dataclass(frozen=True)
class CaseField:
    """One written section of a case, answered in a responder's own words."""

    key: str  # the CaseDraft attribute, the `cases` column, the JSON key (export and import)
    label: str  # how a person names it: "Contributing factors"
    section: str  # the heading of the rendered section it appears under
    kind: Literal["text", "list"]
    question: str
    help: str
    empty: str | None = "none recorded"  # shown when unanswered; None: left out when empty
    main: bool = False  # the section's own body (no sub-heading of its own)
    skippable: bool = True
    # Its weight group in the full-text index (A highest .. D lowest); the migration that
    # creates the index puts the column in that group. None: not searched.
    search: Literal["A", "B", "C", "D"] | None = None
    max_chars: int = 4000  # per entry (list) or in all (text), as imported
    max_items: int = 200

    def value(self, case: CaseDraft) -> Any:
        return getattr(case, self.key)

    def present(self, case: CaseDraft) -> bool:
        return bool(self.value(case))

    def entries(self, case: CaseDraft) -> list[str]:
        return self.entries_of(self.value(case))

    def entries_of(self, value: Any) -> list[str]:
        """The entries of a value of this field (the draft's, or a stored column's)."""
        if self.kind == "list":
            return [str(entry) for entry in value or ()]
        return [value] if value else []

    def from_row(self, stored: Any) -> Any:
        """The draft's value from the stored column (JSON list or text)."""
        return tuple(stored or ()) if self.kind == "list" else stored

    def to_row(self, value: Any) -> Any:
        """The column's value (also the JSON export's) from the draft's."""
        return list(value) if self.kind == "list" else value


FIELDS: tuple[CaseField, ...] = (
    CaseField(
        "symptoms",
        "Symptoms",
        "Symptoms",
        "list",
        "What did you **observe**? User impact, alerts, dashboards, error messages: one per "
        "message (a bulleted list works too). Say `done` when finished.",
        "Symptoms are what you saw, before you knew the cause.",
        main=True,
        skippable=False,
        search="A",
    ),
    CaseField(
        "lucky",
        "Where we got lucky",
        "Misjudgment risks",
        "list",
        "**Where did we get lucky?** What limited the damage: a quiet hour, a cautious default, "
        "someone who happened to be online. One per message; `done` when finished, `skip` if none.",
        "Luck is a control you did not design: naming it shows what to make deliberate next time.",
        search="C",
    ),
    CaseField(
        "root_cause",
        "Root cause",
        "Root cause",
        "text",
        "What was the **root cause**? Describe systems and conditions, not people.",
        "Blameless: 'the deploy pipeline allowed an unreviewed config change', not "
        "'Alex pushed a bad config'.",
        empty="not yet established",
        main=True,
        search="D",
        max_chars=20000,
    ),
    CaseField(
        "contributing_factors",
        "Contributing factors",
        "Root cause",
        "list",
        "Any **contributing factors** (conditions that made it possible or worse)? One per "
        "message; `done` when finished, `skip` if none.",
        "e.g. `No alert on connection-pool saturation`, `Runbook out of date`.",
        empty=None,
        search="D",
    ),
)
FIELDS_BY_KEY: dict[str, CaseField] = {f.key: f for f in FIELDS}


def fields_in(section: str) -> tuple[CaseField, ...]:
    return tuple(f for f in FIELDS if f.section == section)


@dataclass(frozen=True)
class Misjudgment:
    kind: str  # "hypothesis" (a wrong lead) | "signal" (misleading, or nearly made it worse)
    text: str
    cost: str | None = None


@dataclass(frozen=True)
class DiagnosticStep:
    text: str
    by: str | None = None


@dataclass(frozen=True)
class ActionDraft:
    number: int
    description: str
    owner: Mention | None = None
    due: dt.date | None = None
    kind: str | None = None
    risks: dict[str, bool] | None = None
    status: str = "draft"
    issue_url: str | None = None  # its issue in the workspace's tracker (read-only here)

    @property
    def complete(self) -> bool:
        return self.owner is not None and self.due is not None

    @property
    def risk_flags(self) -> list[str]:
        return [key for key, flagged in (self.risks or {}).items() if flagged]


@dataclass(frozen=True)
class CaseDraft:
    number: int
    title: str | None = None
    severity: str | None = None
    area: str | None = None
    services: tuple[str, ...] = ()
    started: dt.datetime | None = None
    detected: dt.datetime | None = None
    mitigated: dt.datetime | None = None
    resolved: dt.datetime | None = None
    symptoms: tuple[str, ...] = ()
    misjudgments: tuple[Misjudgment, ...] = ()
    lucky: tuple[str, ...] = ()
    diagnostic_path: tuple[DiagnosticStep, ...] = ()
    root_cause: str | None = None
    contributing_factors: tuple[str, ...] = ()
    actions: tuple[ActionDraft, ...] = ()
    lead: Mention | None = None
    status: str = "interviewing"
    created_at: dt.datetime | None = None  # the case row's, once it has one

    def time(self, point: str) -> dt.datetime | None:
        value: dt.datetime | None = getattr(self, point)
        return value

    def with_time(self, point: str, value: dt.datetime | None) -> CaseDraft:
        changes: dict[str, Any] = {point: value}
        return replace(self, **changes)

    def action(self, number: int | None) -> ActionDraft | None:
        return next((a for a in self.actions if a.number == number), None)

    def with_action(self, action: ActionDraft) -> CaseDraft:
        others = [a for a in self.actions if a.number != action.number]
        return replace(self, actions=tuple(sorted([*others, action], key=lambda a: a.number)))

    def without_action(self, number: int) -> CaseDraft:
        return replace(self, actions=tuple(a for a in self.actions if a.number != number))

    def next_action_number(self) -> int:
        return max((a.number for a in self.actions), default=0) + 1

    @property
    def hypotheses(self) -> tuple[Misjudgment, ...]:
        return tuple(m for m in self.misjudgments if m.kind == "hypothesis")

    @property
    def signals(self) -> tuple[Misjudgment, ...]:
        return tuple(m for m in self.misjudgments if m.kind == "signal")

    def duration(self, start: str, end: str) -> dt.timedelta | None:
        a, b = self.time(start), self.time(end)
        return b - a if a and b else None

    @property
    def time_to_detect(self) -> dt.timedelta | None:
        return self.duration("started", "detected")

    @property
    def time_to_mitigate(self) -> dt.timedelta | None:
        return self.duration("started", "mitigated")

    @property
    def time_to_resolve(self) -> dt.timedelta | None:
        return self.duration("started", "resolved")

    def missing(self) -> list[str]:
        """What a reviewer would ask about before publishing."""
        gaps = []
        if not self.started:
            gaps.append("start time")
        if not self.detected:
            gaps.append("detection time")
        if not self.resolved:
            gaps.append("resolution time")
        if not self.symptoms:
            gaps.append("symptoms")
        if not self.diagnostic_path:
            gaps.append("diagnostic path")
        if not self.root_cause:
            gaps.append("root cause")
        if not self.actions:
            gaps.append("prevention actions")
        gaps += [f"risk check of action {a.number}" for a in self.actions if a.risks is None]
        return gaps
