"""The inbox: what a platform was told we have, in arrival order per conversation."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboxEntry
from storage.repo import insert_for
from storage.tables import table_of


async def receive(
    session: AsyncSession,
    *,
    platform: str,
    tenant: str,
    event_key: str,
    conversation_key: str,
    payload: dict[str, Any],
    at: dt.datetime,
) -> int | None:
    """The new row's id, or None when this event is already in (a retry, a redelivery)."""
    values = {
        "platform": platform,
        "tenant": tenant,
        "event_key": event_key,
        "conversation_key": conversation_key,
        "payload": payload,
        "received_at": at,
    }
    connection = await session.connection()
    row = (await connection.execute(_receive_statement(connection.dialect.name), values)).first()
    return int(row[0]) if row else None


@cache
def _receive_statement(dialect: str) -> Any:
    """Built once: every acknowledgement waits for this INSERT, and building it per row (with
    the ORM's bulk path around it) cost more than running it."""
    table = table_of(InboxEntry)
    return insert_for(dialect)(table).on_conflict_do_nothing().returning(table.c.id)


async def pending(session: AsyncSession, *, platform: str, tenant: str, key: str) -> list[InboxEntry]:
    params = {"platform": platform, "tenant": tenant, "key": key}
    return list((await session.exec(_pending_query(), params=params)).all())


@cache
def _pending_query() -> Any:
    return (
        select(InboxEntry)
        .where(
            col(InboxEntry.platform) == bindparam("platform"),
            col(InboxEntry.tenant) == bindparam("tenant"),
            col(InboxEntry.conversation_key) == bindparam("key"),
            col(InboxEntry.applied_at).is_(None),
        )
        .order_by(col(InboxEntry.id))
    )


async def pending_conversations(session: AsyncSession, *, platform: str) -> list[tuple[str, str]]:
    """(tenant, conversation key) of every conversation with unapplied rows, oldest first."""
    query = (
        select(InboxEntry.tenant, InboxEntry.conversation_key)
        .where(InboxEntry.platform == platform, col(InboxEntry.applied_at).is_(None))
        .order_by(col(InboxEntry.id))
    )
    return list(dict.fromkeys((await session.exec(query)).all()))


async def mark_applied(session: AsyncSession, *, entry_id: int, at: dt.datetime) -> None:
    connection = await session.connection()
    await connection.execute(_mark_applied_statement(), {"the_id": entry_id, "applied_at": at})


@cache
def _mark_applied_statement() -> Any:
    table = table_of(InboxEntry)
    return update(table).where(table.c.id == bindparam("the_id"))


async def claim_prelude(session: AsyncSession, *, entry_id: int, at: dt.datetime) -> bool:
    """True for the one caller that may now run the row's prelude (it was never started)."""
    result = await session.exec(
        update(InboxEntry)
        .where(col(InboxEntry.id) == entry_id, col(InboxEntry.prelude_claimed_at).is_(None))
        .values(prelude_claimed_at=at)
    )
    return bool(result.rowcount)


async def keep_prelude(session: AsyncSession, *, entry_id: int, result: str) -> None:
    await session.exec(update(InboxEntry).where(col(InboxEntry.id) == entry_id).values(prelude_result=result))
