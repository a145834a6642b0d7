"""The clinical case as the interview sees it: plain immutable values.

The interview's transition function works on these; the service maps them to
and from the storage rows, so the state machine never touches a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from bot.messages import Mention

TIMELINE = ("started", "detected", "mitigated", "resolved")


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
