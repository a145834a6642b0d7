"""A platform's retry of the same event is applied once, on both databases."""

from __future__ import annotations

from sqlmodel import select

from storage.db import Database
from storage.models import Case
from tests.conftest import Chat


async def test_the_same_event_id_is_applied_once(chat: Chat, db: Database) -> None:
    await chat.command("postmortem Disk full", user="alice")
    for text in ("SEV3", "storage", "skip", "skip", "skip", "skip", "skip"):
        await chat.send(text, user="alice")

    first = await chat.send("Writes failing", user="alice", event_id="Ev-same")
    retried = await chat.send("Writes failing", user="alice", event_id="Ev-same")

    assert first and retried == []
    async with db.transaction() as session:
        case = (await session.exec(select(Case))).one()
    assert case.symptoms == ["Writes failing"]
