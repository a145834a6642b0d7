"""Similar past cases: what was seen, how it was first diagnosed, what the cause was.

The ranking is the database's (storage.search). This module prepares the query and judges the
answers: a terse query ("aad auth failing in asia") is written out with the shared vocabulary
(abbreviations, synonyms, the places a continent stands for), and a relevance floor drops the
matches that speak of too few of the query's ideas, so an unrelated case is never offered just
because it was the best of a bad lot. Then matches become what a responder reads: in chat, on
the command line, and as JSON.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.case import FIELDS, CaseDraft
from bot.insights.vocabulary import Idea, Text, content_stems, idea_groups, mentions, tokens
from bot.interview import ORDER
from bot.messages import Choice, ListItem, Reply, ReplyKind
from bot.parsing import AREA_LABELS
from storage.models import Case
from storage.search import Match, ranked_case_ids, with_cases

log = logging.getLogger(__name__)

FIRST_STEPS = 3
CANDIDATES = 10  # ranked by the database, then judged by the floor
FLOOR_SHARE = 0.2  # a long query: a match must speak of a fifth of its ideas
ROOT_CAUSE_CHARS = 600  # the floor reads the start of a long entry (a root cause): where it names the fault
TERSE = 6  # ideas: at most this many is a query typed in chat


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


def search_text(ideas: Sequence[Idea], *, expand: bool = True) -> str:
    """What the database is asked: the typed words written out, then, for a terse query, the
    other names of its specific ideas (a long text already says things several ways; synonyms
    would only blur it). A generic idea's other names ("failure", "outage", "down") are words
    most cases hold: they would make the database rank nearly every case again and tell none
    apart (bench/similar.py: same top-1/top-3, a third off p95); the floor still hears them."""
    typed = [w for idea in ideas for w in tokens(idea.word)]
    if len(ideas) > TERSE or not expand:
        return " ".join(typed)
    # A query of generic ideas alone ("failing") has nothing else to go on: it keeps them all.
    named = [idea for idea in ideas if not idea.generic] or ideas
    return " ".join([*typed, *(p for idea in named for p in idea.phrases)])


async def candidates(
    session: AsyncSession, *, tenant_id: int, ideas: Sequence[Idea], exclude_case_id: int | None = None
) -> list[Match]:
    """The database's best matches for the words as written out, then (a terse query) for the
    words with their synonyms: many synonyms can outweigh the words themselves in the ranking,
    so both lists are kept, the first first."""
    texts = [search_text(ideas, expand=False)]
    if len(ideas) <= TERSE and (expanded := search_text(ideas)) != texts[0]:
        texts.append(expanded)
    ranked: dict[int, float] = {}
    for text in texts:
        for case_id, score in await ranked_case_ids(
            session, tenant_id=tenant_id, query=text, limit=CANDIDATES, exclude_case_id=exclude_case_id
        ):
            ranked.setdefault(case_id, score)
    return await with_cases(session, tenant_id=tenant_id, ranked=list(ranked.items()))


def ideas_needed(count: int) -> int:
    """How many of a query's ideas a case must speak of: all of one, two of a terse query,
    a fifth of a long one (a whole case's symptoms)."""
    if count <= 1:
        return count
    return max(2, math.ceil(FLOOR_SHARE * count)) if count > 6 else 2


def case_text(case: Case) -> Text:
    texts = [
        case.title or "",
        *(case.services or ()),
        *(str(m.get("text", "")) for m in case.misjudgments or ()),
        *(str(s.get("text", "")) for s in (case.diagnostic_path or ())[:FIRST_STEPS]),
        # The written sections that search weighs (bot/case.py FIELDS), each entry from its start.
        *(
            entry[:ROOT_CAUSE_CHARS]
            for field in FIELDS
            if field.search
            for entry in field.entries_of(getattr(case, field.key))
        ),
    ]
    return _stems_of(" ".join(texts))


@lru_cache(maxsize=4096)
def _stems_of(words: str) -> Text:
    """A case's words as stems, kept: the same past cases are judged again and again, and
    stemming them was the floor's whole cost. Keyed by the words themselves, so an edited case
    is stemmed anew."""
    return Text.of(content_stems(words))


def clear_caches() -> None:
    """Forget the kept stems and query ideas (bench/similar.py times lookups without them too)."""
    _stems_of.cache_clear()
    query_ideas.cache_clear()


def above_floor(ideas: Sequence[Idea], matches: Sequence[Match], *, limit: int | None = None) -> list[Match]:
    """The relevance floor: the matches that speak of enough of the query's ideas.

    A terse query's specific ideas (what and where, not just "failing") must be met twice when
    it has two or more of them. Terse queries are re-ranked by the ideas met, then the database's
    rank; long ones keep the database's order (its weighting of rare words knows more), so their
    judging stops at `limit` kept: reading a case's words is the floor's cost.
    """
    needed = ideas_needed(len(ideas))
    specific = [i for i in ideas if not i.generic]
    needed_specific = min(2, len(specific)) if len(ideas) <= TERSE else min(1, len(specific))
    kept: list[tuple[int, int, int, Match]] = []
    for rank, match in enumerate(matches):
        words = case_text(match.case)
        met = [i for i in ideas if mentions(i, words)]
        met_specific = sum(1 for i in met if not i.generic)
        if len(met) >= needed and met_specific >= needed_specific:
            kept.append((-met_specific, -len(met), rank, match))
        if limit is not None and len(kept) >= limit and len(ideas) > TERSE:
            break
    if len(ideas) <= TERSE:
        kept.sort(key=lambda k: k[:3])
    return [k[3] for k in kept][:limit]


async def find_similar(
    session: AsyncSession,
    *,
    tenant_id: int,
    text: str,
    limit: int = 3,
    exclude_case_id: int | None = None,
) -> list[SimilarCase]:
    """Up to `limit` published cases like `text`, best first; none rather than unrelated ones."""
    ideas = query_ideas(text)
    if not ideas or limit < 1:
        return []
    matches = await candidates(session, tenant_id=tenant_id, ideas=ideas, exclude_case_id=exclude_case_id)
    return [SimilarCase.of(m.case, m.score) for m in above_floor(ideas, matches, limit=limit)]


@lru_cache(maxsize=512)
def query_ideas(text: str) -> tuple[Idea, ...]:
    """A query's ideas, kept for the next time: a case page or a draft asks the same again."""
    return tuple(idea_groups(text))


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
