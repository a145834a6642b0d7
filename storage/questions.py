"""Where each interview question was posted, so that its answer can edit it in place."""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import QuestionMessage


async def remember(
    session: AsyncSession, *, platform: str, conversation_key: str, step: str, ref: str, at: dt.datetime
) -> None:
    """The newest post of a step's question wins: a step asked again (`back`, a next action)
    is answered on its latest message."""
    row = await session.get(QuestionMessage, (platform, conversation_key, step))
    if row is None:
        row = QuestionMessage(
            platform=platform, conversation_key=conversation_key, step=step, ref=ref, posted_at=at
        )
    else:
        row.ref, row.posted_at = ref, at
    session.add(row)


async def recall(session: AsyncSession, *, platform: str, conversation_key: str, step: str) -> str | None:
    row = await session.get(QuestionMessage, (platform, conversation_key, step))
    return row.ref if row else None
