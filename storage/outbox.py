"""The outbox: replies and jobs decided in an answer's transaction, delivered from here.

A reply row is claimed (claimed_at) in its own commit just before it is sent and settled after
the platform answered. A claimed row left unsettled by a crash may or may not have landed:
`settle_interrupted` settles it as at-most-once (outcome "unknown") instead of sending it again,
unless the platform takes it twice without showing it twice (a reaction), which goes again.
A job row is re-run after a crash (a job's own writes are repeatable; its replies are new rows).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxEntry
from storage.tables import table_of

log = logging.getLogger(__name__)

REPLY = "reply"
JOB = "job"


async def add(
    session: AsyncSession,
    *,
    platform: str,
    tenant: str,
    conversation_key: str,
    kind: str,
    payloads: list[dict[str, Any]],
    at: dt.datetime,
    inbox_id: int | None = None,
) -> list[OutboxEntry]:
    """The rows, inserted in one statement; returned with their ids (not attached to the
    session: nothing flushes them again)."""
    place = {"platform": platform, "tenant": tenant, "conversation_key": conversation_key}
    rows = [row_values(**place, kind=kind, payload=p, at=at, inbox_id=inbox_id) for p in payloads]
    return await add_rows(session, rows)


def row_values(
    *,
    platform: str,
    tenant: str,
    conversation_key: str,
    kind: str,
    payload: dict[str, Any],
    at: dt.datetime,
    inbox_id: int | None = None,
) -> dict[str, Any]:
    """One row's columns, for `add_rows`."""
    return {
        "platform": platform,
        "tenant": tenant,
        "conversation_key": conversation_key,
        "inbox_id": inbox_id,
        "kind": kind,
        "created_at": at,
        "payload": payload,
    }


async def add_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> list[OutboxEntry]:
    """Rows of any kinds and inbox rows (`row_values`), in one statement, in order; returned
    with their ids, detached."""
    if not rows:
        return []
    connection = await session.connection()
    ids = await connection.execute(_add_statement(), rows)
    entries = [OutboxEntry(**values) for values in rows]
    for entry, entry_id in zip(entries, ids.scalars(), strict=True):
        entry.id = entry_id
    return entries


@cache
def _add_statement() -> Any:
    table = _table()
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


async def unsettled(session: AsyncSession, *, platform: str, tenant: str, key: str) -> list[OutboxEntry]:
    """A conversation's rows nobody has taken yet (replies and jobs), oldest first."""
    params = {"platform": platform, "tenant": tenant, "key": key}
    return list((await session.exec(_unsettled_query(), params=params)).all())


# The statements every answer runs (its replies looked up, claimed, settled) are built once,
# with bound parameters: building them per call cost more than running them.
@cache
def _unsettled_query() -> Any:
    return (
        select(OutboxEntry)
        .where(
            col(OutboxEntry.platform) == bindparam("platform"),
            col(OutboxEntry.tenant) == bindparam("tenant"),
            col(OutboxEntry.conversation_key) == bindparam("key"),
            col(OutboxEntry.settled_at).is_(None),
            col(OutboxEntry.claimed_at).is_(None),
        )
        .order_by(col(OutboxEntry.id))
    )


async def pending_conversations(session: AsyncSession, *, platform: str) -> list[tuple[str, str]]:
    query = (
        select(OutboxEntry.tenant, OutboxEntry.conversation_key)
        .where(OutboxEntry.platform == platform, col(OutboxEntry.settled_at).is_(None))
        .order_by(col(OutboxEntry.id))
    )
    return list(dict.fromkeys((await session.exec(query)).all()))


async def claim(session: AsyncSession, *, entry_id: int, at: dt.datetime) -> bool:
    """True for the one process that may now send (or run) this row."""
    connection = await session.connection()
    result = await connection.execute(_claim_statement(), {"the_id": entry_id, "claimed_at": at})
    return bool(result.rowcount)


async def settle(session: AsyncSession, *, entry_id: int, at: dt.datetime, outcome: str) -> None:
    connection = await session.connection()
    await connection.execute(_settle_statement(), {"the_id": entry_id, "settled_at": at, "outcome": outcome})


@cache
def _claim_statement() -> Any:
    table = _table()
    return update(table).where(table.c.id == bindparam("the_id"), table.c.claimed_at.is_(None))


@cache
def _settle_statement() -> Any:
    table = _table()
    return update(table).where(table.c.id == bindparam("the_id"))


def _table() -> Any:
    return table_of(OutboxEntry)


async def settle_interrupted(
    session: AsyncSession,
    *,
    platform: str,
    at: dt.datetime,
    repeatable: Callable[[dict[str, Any]], bool] = lambda _payload: False,
) -> int:
    """After a crash: replies claimed but never settled become at-most-once ("unknown"), except
    those `repeatable` says the platform takes twice without showing them twice (a reaction):
    those, and jobs claimed but never finished, are released to go again. Returns how many
    replies were settled at-most-once."""
    interrupted = (
        col(OutboxEntry.platform) == platform,
        col(OutboxEntry.claimed_at).is_not(None),
        col(OutboxEntry.settled_at).is_(None),
    )
    replies = (
        await session.exec(
            select(OutboxEntry.id, OutboxEntry.payload).where(*interrupted, col(OutboxEntry.kind) == REPLY)
        )
    ).all()
    again = {entry_id for entry_id, payload in replies if repeatable(dict(payload))}
    unknown = [entry_id for entry_id, _ in replies if entry_id not in again]
    if unknown:
        await session.exec(
            update(OutboxEntry)
            .where(col(OutboxEntry.id).in_(unknown))
            .values(settled_at=at, outcome="unknown")
        )
    if again:
        await session.exec(update(OutboxEntry).where(col(OutboxEntry.id).in_(again)).values(claimed_at=None))
    await session.exec(
        update(OutboxEntry).where(*interrupted, col(OutboxEntry.kind) == JOB).values(claimed_at=None)
    )
    return len(unknown)


async def settle_replies_of(session: AsyncSession, *, inbox_id: int, at: dt.datetime, outcome: str) -> None:
    """Settle an inbox row's replies without sending them (shown another way, e.g. in a modal)."""
    await session.exec(
        update(OutboxEntry)
        .where(
            col(OutboxEntry.inbox_id) == inbox_id,
            col(OutboxEntry.kind) == REPLY,
            col(OutboxEntry.settled_at).is_(None),
        )
        .values(settled_at=at, outcome=outcome)
    )


async def claim_all(session: AsyncSession, *, entry_ids: list[int], at: dt.datetime) -> list[int]:
    """Claim several rows in one statement (replies sent together, or claims sharing a commit);
    the ids now ours, in the order given."""
    if not entry_ids:
        return []
    connection = await session.connection()
    table = _table()
    claimed = await connection.execute(
        update(table)
        .where(table.c.id.in_(entry_ids), table.c.claimed_at.is_(None))
        .values(claimed_at=at)
        .returning(table.c.id)
    )
    ours = set(claimed.scalars())
    return [entry_id for entry_id in entry_ids if entry_id in ours]


async def settle_each(session: AsyncSession, settlements: list[tuple[int, dt.datetime, str]]) -> None:
    """Settle several rows, each with its own time and outcome, in one statement."""
    if not settlements:
        return
    connection = await session.connection()
    await connection.execute(
        _settle_statement(),
        [{"the_id": entry_id, "settled_at": at, "outcome": outcome} for entry_id, at, outcome in settlements],
    )


async def settle_all(session: AsyncSession, *, entry_ids: list[int], at: dt.datetime, outcome: str) -> None:
    await session.exec(
        update(OutboxEntry).where(col(OutboxEntry.id).in_(entry_ids)).values(settled_at=at, outcome=outcome)
    )
