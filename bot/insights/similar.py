"""Similar past cases: what was seen, how it was first diagnosed, what the cause was.

The ranking is the database's (storage.search); this module turns matches into what a
responder reads: in chat, on the command line, and as JSON.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.case import CaseDraft
from bot.interview import ORDER
from bot.messages import Choice, ListItem, Reply, ReplyKind
from bot.parsing import AREA_LABELS
from storage.models import Case
from storage.search import similar_cases

log = logging.getLogger(__name__)

FIRST_STEPS = 3


@dataclass(frozen=True)
class SimilarCase:
    number: int
    title: str
    severity: str | None
    area: str | None
    started: str | None  # YYYY-MM-DD
    symptoms: tuple[str, ...]
    first_steps: tuple[str, ...]
    root_cause: str | None
    score: float

    @classmethod
    def of(cls, case: Case, score: float) -> SimilarCase:
        steps = tuple(str(s.get("text", "")) for s in case.diagnostic_path or () if s.get("text"))
        return cls(
            number=case.number,
            title=case.title or "Untitled incident",
            severity=case.severity,
            area=case.area,
            started=case.started_at.date().isoformat() if case.started_at else None,
            symptoms=tuple(case.symptoms or ()),
            first_steps=steps[:FIRST_STEPS],
            root_cause=case.root_cause,
            score=score,
        )


async def find_similar(
    session: AsyncSession,
    *,
    tenant_id: int,
    text: str,
    limit: int = 3,
    exclude_case_id: int | None = None,
) -> list[SimilarCase]:
    matches = await similar_cases(
        session, tenant_id=tenant_id, query=text, limit=limit, exclude_case_id=exclude_case_id
    )
    return [SimilarCase.of(m.case, m.score) for m in matches]


def query_of(draft: CaseDraft) -> str:
    """What a case in progress is searched by: its symptoms first, then title and services."""
    return " ".join([*draft.symptoms, draft.title or "", *draft.services])


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _heading(found: SimilarCase) -> str:
    facts = [f for f in (found.severity, AREA_LABELS.get(found.area or "", found.area), found.started) if f]
    return f"**#{found.number} {found.title}**" + (f" ({', '.join(facts)})" if facts else "")


def describe(found: SimilarCase) -> str:
    """One case as Markdown: heading, first diagnostic steps, root cause."""
    lines = [_heading(found)]
    if found.first_steps:
        lines.append("First steps: " + " → ".join(clip(s, 160) for s in found.first_steps))
    lines.append("Root cause: " + (clip(found.root_cause, 300) if found.root_cause else "_not recorded_"))
    return "\n".join(lines)


def similar_text(found: list[SimilarCase], *, query: str) -> str:
    if not found:
        return f"No past case resembles {clip(query, 80)!r} yet."
    blocks = [f"{i}. " + describe(item).replace("\n", "\n   ") for i, item in enumerate(found, start=1)]
    return "\n".join(blocks).replace("**", "")


def similar_json(found: list[SimilarCase]) -> list[dict[str, Any]]:
    return [
        {
            "number": f.number,
            "title": f.title,
            "severity": f.severity,
            "area": f.area,
            "started": f.started,
            "first_steps": list(f.first_steps),
            "root_cause": f.root_cause,
            "score": round(f.score, 4),
        }
        for f in found
    ]


def similar_reply(found: list[SimilarCase], *, intro: str, case_number: int | None = None) -> Reply:
    items = tuple(
        ListItem(describe(f), choices=(Choice(f"Show #{f.number}", f"/show {f.number}"),), ref=f"#{f.number}")
        for f in found
    )
    return Reply(intro, ReplyKind.LIST, items=items, case_number=case_number)


def leaves_symptoms(before: str, after: str) -> bool:
    """The interview moved on from the symptoms step (forward, not `back` or a refusal)."""
    return before == "symptoms" and after in ORDER and ORDER.index(after) > ORDER.index("symptoms")


async def suggestions_for(
    session: AsyncSession, *, tenant_id: int, case_id: int | None, draft: CaseDraft
) -> list[Reply]:
    """Up to three past cases like this one, as a reply; nothing if none, or if the search fails.

    Runs in a savepoint: a failing lookup must never cost the answer that was just given.
    """
    if not draft.symptoms:
        return []
    try:
        async with session.begin_nested():
            found = await find_similar(
                session, tenant_id=tenant_id, text=query_of(draft), exclude_case_id=case_id
            )
    except SQLAlchemyError:
        log.exception("similar-case lookup failed for case #%d; the interview goes on", draft.number)
        return []
    if not found:
        return []
    return [
        similar_reply(
            found,
            intro="**Past cases with similar symptoms.** Their first diagnostic steps may save you time:",
            case_number=draft.number,
        )
    ]
