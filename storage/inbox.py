"""The inbox: what a platform was told we have, in arrival order per conversation."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboxEntry
from storage.repo import insert_for
from storage.tables import table_of


@dataclass(frozen=True)
class Received:
    """One delivery to store: what a platform sent, under its own id for the delivery."""

    tenant: str
    event_key: str
    conversation_key: str
    payload: dict[str, Any]
    at: dt.datetime


async def receive_all(session: AsyncSession, *, platform: str, rows: list[Received]) -> list[int | None]:
    """Each row's new id, in order, or None for a delivery already in (a retry, a redelivery,
    or the same delivery twice in `rows`). One INSERT per commit, not one per row: every
    acknowledgement waits for this commit. (SQLAlchemy sends the cached one-row statement's
    VALUES repeated for every row; a statement built with every row's values cost more to
    compile, each commit, than the rows cost to store.)"""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        result = await connection.execute(_receive_arrays_statement(), _arrays(platform, rows))
    else:
        result = await connection.execute(
            _receive_statement(connection.dialect.name), [_values(platform, row) for row in rows]
        )
    ids = {(tenant, event_key): int(entry_id) for entry_id, tenant, event_key in result}
    # A delivery twice in one commit: the first of them got the row.
    return [ids.pop((row.tenant, row.event_key), None) for row in rows]


@cache
def _receive_statement(dialect: str) -> Any:
    table = table_of(InboxEntry)
    return (
        insert_for(dialect)(table)
        .on_conflict_do_nothing()
        .returning(table.c.id, table.c.tenant, table.c.event_key)
    )


@cache
def _receive_arrays_statement() -> Any:
    """PostgreSQL: the rows as one array per column, so the statement's text is the same for
    any number of rows (prepared once; a VALUES list of 50 rows was parsed afresh by the
    driver and the server at every commit). Rows leave unnest in order: the first of a
    delivery twice in one commit gets the row."""
    return text(
        "INSERT INTO inbox (platform, tenant, event_key, conversation_key, payload, received_at) "
        "SELECT :platform, r.tenant, r.event_key, r.conversation_key, r.payload, r.received_at "
        "FROM unnest(CAST(:tenants AS text[]), CAST(:event_keys AS text[]), CAST(:keys AS text[]), "
        "CAST(:payloads AS jsonb[]), CAST(:times AS timestamptz[])) "
        "AS r(tenant, event_key, conversation_key, payload, received_at) "
        "ON CONFLICT DO NOTHING RETURNING id, tenant, event_key"
    )


def _arrays(platform: str, rows: list[Received]) -> dict[str, Any]:
    return {
        "platform": platform,
        "tenants": [row.tenant for row in rows],
        "event_keys": [row.event_key for row in rows],
        "keys": [row.conversation_key for row in rows],
        "payloads": [json.dumps(row.payload) for row in rows],
        "times": [row.at for row in rows],
    }


def _values(platform: str, row: Received) -> dict[str, Any]:
    return {
        "platform": platform,
        "tenant": row.tenant,
        "event_key": row.event_key,
        "conversation_key": row.conversation_key,
        "payload": row.payload,
        "received_at": row.at,
    }


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


class AlreadyApplied(Exception):
    """Another process applied this row first: this transaction must not commit."""


async def mark_applied(session: AsyncSession, *, entry_id: int, at: dt.datetime) -> None:
    """The row is applied by this transaction. This is what keeps a row applied once when two
    processes take it at once (the second one's update waits for the first one's commit, then
    finds the row applied and raises AlreadyApplied), so a row needs no other deduplication."""
    await mark_all_applied(session, [(entry_id, at)])


async def mark_all_applied(session: AsyncSession, applied: list[tuple[int, dt.datetime]]) -> None:
    """`mark_applied` for several rows (id, moment) in one statement; AlreadyApplied when any
    of them was applied elsewhere."""
    if not applied:
        return
    connection = await session.connection()
    values = [{"the_id": entry_id, "applied_at": at} for entry_id, at in applied]
    result = await connection.execute(_mark_applied_statement(), values)
    if result.rowcount != len(applied):
        raise AlreadyApplied(f"one of inbox rows {[i for i, _ in applied]} was applied by another process")


@cache
def _mark_applied_statement() -> Any:
    table = table_of(InboxEntry)
    return update(table).where(table.c.id == bindparam("the_id"), table.c.applied_at.is_(None))


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
