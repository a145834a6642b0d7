"""The inbox's group insert: every row of a commit in one statement, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select

from storage import inbox
from storage.db import Database
from storage.models import InboxEntry

AT = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


def _row(n: int, *, event: str | None = None) -> inbox.Received:
    payload = {"text": f"line {n} — ünïcode", "nested": {"n": n, "list": [1, None, "x"]}}
    return inbox.Received(
        tenant="T1",
        event_key=event or f"ev-{n}",
        conversation_key=f"C1:{n % 3}",
        payload=payload,
        at=AT + dt.timedelta(milliseconds=n),
    )


async def _receive(db: Database, rows: list[inbox.Received]) -> list[int | None]:
    async with db.transaction() as session:
        return await inbox.receive_all(session, platform="slack", rows=rows)


async def test_a_commit_of_sixty_rows_stores_each_once_in_order(db: Database) -> None:
    rows = [_row(n) for n in range(60)]
    ids = await _receive(db, rows)
    assert all(entry_id is not None for entry_id in ids)
    assert ids == sorted(ids, key=lambda i: i or 0)  # arrival order is id order
    async with db.sessions() as session:
        stored = (await session.exec(select(InboxEntry).order_by(col(InboxEntry.id)))).all()
    assert [(e.event_key, e.conversation_key, e.payload, e.received_at) for e in stored] == [
        (r.event_key, r.conversation_key, r.payload, r.at) for r in rows
    ]


async def test_a_delivery_twice_in_one_commit_or_again_later_gets_no_second_row(db: Database) -> None:
    first = await _receive(db, [_row(1)])
    again = await _receive(db, [_row(2), _row(3, event="ev-2"), _row(4, event="ev-1"), _row(5)])
    assert first[0] is not None
    assert again[0] is not None and again[3] is not None
    assert again[1] is None and again[2] is None  # twice in this commit; stored by an earlier one
    async with db.sessions() as session:
        stored = (await session.exec(select(InboxEntry.event_key, InboxEntry.payload))).all()
    by_key = dict(stored)
    assert sorted(by_key) == ["ev-1", "ev-2", "ev-5"]
    assert by_key["ev-2"] == _row(2).payload  # the first of the two got the row
