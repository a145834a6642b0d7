"""Group commits: callers writing at once share one commit; the conveyor's claims and
settlements, and the inbox's rows, share one statement each; a failed commit fails every
caller and keeps nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.conveyor import CLAIMS, SETTLEMENTS, InboxWriter
from adapters.group_commit import GroupCommit
from storage import outbox
from storage.db import Database
from storage.inbox import Received
from storage.models import InboxEntry, OutboxEntry

AT = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


async def _rows(db: Database, count: int) -> list[int]:
    async with db.transaction() as session:
        rows = await outbox.add(
            session,
            platform="slack",
            tenant="T1",
            conversation_key="C1:1.0",
            kind=outbox.REPLY,
            payloads=[{"n": i} for i in range(count)],
            at=AT,
        )
    return [row.id for row in rows if row.id is not None]


def _outbox_updates(db: Database) -> list[str]:
    return _statements(db, "UPDATE OUTBOX")


def _statements(db: Database, prefix: str) -> list[str]:
    """Every statement from now on that starts with `prefix` (upper case)."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(prefix):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    return seen


async def _state(db: Database) -> dict[int, tuple[dt.datetime | None, dt.datetime | None, str | None]]:
    async with db.sessions() as session:
        rows = (await session.exec(select(OutboxEntry))).all()
    return {row.id: (row.claimed_at, row.settled_at, row.outcome) for row in rows if row.id is not None}


async def test_claims_arriving_together_share_one_statement_and_each_hears_its_own_answer(
    db: Database,
) -> None:
    first, taken, third = await _rows(db, 3)
    async with db.transaction() as session:
        assert await outbox.claim(session, entry_id=taken, at=AT)  # another process has this one
    ledger = GroupCommit(db=db, urgent=False)
    updates = _outbox_updates(db)
    later = AT + dt.timedelta(seconds=1)

    answers = await asyncio.gather(
        ledger.add(CLAIMS, (first, AT)), ledger.add(CLAIMS, (taken, AT)), ledger.add(CLAIMS, (third, later))
    )

    assert answers == [True, False, True]
    assert len(updates) == 1
    state = await _state(db)
    assert state[taken][0] == AT  # the other claim is untouched
    assert state[first][0] == state[third][0] == later  # stamped with the commit's latest claim


async def test_settlements_keep_each_rows_own_time_and_outcome(db: Database) -> None:
    sent, failed = await _rows(db, 2)
    ledger = GroupCommit(db=db, urgent=False)
    later = AT + dt.timedelta(seconds=5)

    await asyncio.gather(
        ledger.add(SETTLEMENTS, (sent, AT, "sent")), ledger.add(SETTLEMENTS, (failed, later, "failed"))
    )

    state = await _state(db)
    assert state[sent][1:] == (AT, "sent")
    assert state[failed][1:] == (later, "failed")


async def test_a_failing_write_fails_every_caller_of_its_commit_and_keeps_none(db: Database) -> None:
    first, second = await _rows(db, 2)
    ledger = GroupCommit(db=db, urgent=False)

    async def broken(_session: AsyncSession) -> None:
        raise RuntimeError("the disk is full")

    results = await asyncio.gather(
        ledger.add(CLAIMS, (first, AT)),
        ledger.run(broken),
        ledger.add(SETTLEMENTS, (second, AT, "sent")),
        return_exceptions=True,
    )

    assert all(isinstance(result, RuntimeError) for result in results)
    assert await _state(db) == {first: (None, None, None), second: (None, None, None)}
    # The next commit is a fresh one: the ledger keeps working.
    assert await ledger.add(CLAIMS, (first, AT)) is True


@pytest.mark.parametrize("count", [0, 1])
async def test_claiming_nothing_or_one_row_needs_no_special_case(db: Database, count: int) -> None:
    ids = await _rows(db, count)
    async with db.transaction() as session:
        assert await outbox.claim_all(session, entry_ids=ids, at=AT) == ids
        await outbox.settle_each(session, [(i, AT, "sent") for i in ids])
    assert all(outcome == "sent" for _, _, outcome in (await _state(db)).values())


async def test_inbox_rows_arriving_together_are_one_insert_and_a_delivery_already_in_gets_none(
    db: Database,
) -> None:
    def received(event_key: str, conversation: str = "C1:1.0") -> Received:
        return Received(
            tenant="T1", event_key=event_key, conversation_key=conversation, payload={"k": event_key}, at=AT
        )

    writer = InboxWriter(platform="slack", db=db)
    assert await writer.write(received("Ev0")) is not None
    inserts = _statements(db, "INSERT INTO INBOX")
    ids = await asyncio.gather(*(writer.write(received(key)) for key in ("Ev1", "Ev0", "Ev2", "Ev1", "Ev3")))
    assert len(inserts) == 1
    first, already_in, second, twice, third = ids
    assert already_in is None and twice is None
    assert first is not None and second is not None and third is not None
    assert len({first, second, third}) == 3
    async with db.sessions() as session:
        rows = {row.id: row for row in (await session.exec(select(InboxEntry))).all()}
    assert rows[first].event_key == "Ev1" and rows[first].payload == {"k": "Ev1"}
    assert rows[third].event_key == "Ev3" and rows[third].received_at == AT
    assert sorted(row.event_key for row in rows.values()) == ["Ev0", "Ev1", "Ev2", "Ev3"]
