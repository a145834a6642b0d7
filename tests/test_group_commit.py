"""Group commits: callers writing at once share one commit; the conveyor's claims and
settlements share one statement each; a failed commit fails every caller and keeps nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.conveyor import CLAIMS, SETTLEMENTS
from adapters.group_commit import GroupCommit
from storage import outbox
from storage.db import Database
from storage.models import OutboxEntry

AT = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


async def _rows(db: Database, count: int) -> list[int]:
    async with db.transaction() as session:
        rows = outbox.add(
            session,
            platform="slack",
            tenant="T1",
            conversation_key="C1:1.0",
            kind=outbox.REPLY,
            payloads=[{"n": i} for i in range(count)],
            at=AT,
        )
        await session.flush()
    return [row.id for row in rows if row.id is not None]


def _outbox_updates(db: Database) -> list[str]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
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
