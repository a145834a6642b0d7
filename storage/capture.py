"""Queries of the capture paths: which cases a person may add a message to, from a channel."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, Conversation


async def recent_cases(session: AsyncSession, *, tenant_id: int, limit: int) -> list[Case]:
    """The tenant's latest cases, newest first (cancelled ones left out)."""
    query = (
        select(Case)
        .where(Case.tenant_id == tenant_id, Case.status != "cancelled")
        .order_by(col(Case.number).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def case_of_place(session: AsyncSession, *, tenant_id: int, place: str) -> int | None:
    """The case whose interview runs (else last ran) in a place: a channel's threads share its
    prefix (`<channel>:`), so `place` is a key or a prefix of keys."""
    query = (
        select(Conversation.case_id, Conversation.active)
        .where(
            Conversation.tenant_id == tenant_id,
            Conversation.flow == "interview",
            col(Conversation.conversation_key).startswith(place),
        )
        .order_by(col(Conversation.active).desc(), col(Conversation.id).desc())
        .limit(1)
    )
    found = (await session.exec(query)).first()
    return found[0] if found else None
