"""Where each interview question was posted, so that its answer can edit it in place.

Both statements are Core, built once: every list answer looks its question up, and an ORM
`get` by the three-column key cost more than a tenth of applying the answer."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import QuestionMessage
from storage.repo import insert_for
from storage.tables import table_of


async def remember(
    session: AsyncSession, *, platform: str, conversation_key: str, step: str, ref: str, at: dt.datetime
) -> None:
    """The newest post of a step's question wins: a step asked again (`back`, a next action)
    is answered on its latest message."""
    connection = await session.connection()
    values = {
        "platform": platform,
        "conversation_key": conversation_key,
        "step": step,
        "ref": ref,
        "posted_at": at,
    }
    await connection.execute(_remember_statement(connection.dialect.name), values)


async def recall(session: AsyncSession, *, platform: str, conversation_key: str, step: str) -> str | None:
    connection = await session.connection()
    params = {"platform": platform, "key": conversation_key, "step": step}
    found = (await connection.execute(_recall_query(), params)).scalar_one_or_none()
    return str(found) if found is not None else None


@cache
def _remember_statement(dialect: str) -> Any:
    table = table_of(QuestionMessage)
    insert = insert_for(dialect)(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.platform, table.c.conversation_key, table.c.step],
        set_={"ref": insert.excluded.ref, "posted_at": insert.excluded.posted_at},
    )


@cache
def _recall_query() -> Any:
    table = table_of(QuestionMessage)
    return select(table.c.ref).where(
        table.c.platform == bindparam("platform"),
        table.c.conversation_key == bindparam("key"),
        table.c.step == bindparam("step"),
    )
