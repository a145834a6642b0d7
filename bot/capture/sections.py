"""Which of the interview's questions a case already answers, and so which one comes next.

An account, a shortcut or a channel's history can fill sections before the interview reaches
them. The interview asks `first_missing(...)` for its next question: a step whose section holds
a value it never asked for itself (not in its history) is passed over. Steps the interview did
visit are asked again as before (`back` still reaches them); edits (`return_to`) are not
skipped; action steps are always asked (each action needs its owner, due date and risk check).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.case import TIMELINE, CaseDraft


def answered(case: CaseDraft) -> frozenset[str]:
    """The interview steps whose sections hold a value."""
    found = {point for point in TIMELINE if case.time(point) is not None}
    values = {
        "title": case.title,
        "severity": case.severity,
        "area": case.area,
        "services": case.services,
        "symptoms": case.symptoms,
        "hypotheses": case.hypotheses,
        "signals": case.signals,
        "diagnostic_path": case.diagnostic_path,
        "root_cause": case.root_cause,
        "contributing_factors": case.contributing_factors,
    }
    found |= {step for step, value in values.items() if value}
    return frozenset(found)


def first_missing(case: CaseDraft, order: Sequence[str], *, start: str, visited: Iterable[str]) -> str:
    """`start`, or the first step after it that is neither answered elsewhere nor an action's."""
    seen = frozenset(visited)
    filled = answered(case) - seen
    index = order.index(start)
    for step in order[index:]:
        if step not in filled:
            return step
    return order[-1]
