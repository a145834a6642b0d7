"""One interview answer is one read of the turn, one of the case's actions, and one save.

Counted at the driver (every statement the database receives), so a change that sends an
answer back and forth between the layers again shows up here. bench/turn_statements.py
prints the same figure over a whole interview.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from storage.db import Database
from tests.conftest import Chat

# turn read, event id, actions with owners, case update, raw answer, conversation CAS
STATEMENTS_PER_ANSWER = 6


async def test_a_plain_answer_costs_one_load_and_one_save(db: Database, chat: Chat) -> None:
    await chat.command("postmortem Checkout 502s")
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        replies = await chat.send("SEV2")
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert replies and replies[-1].step == "area", [r.text for r in replies]
    statements = [s for s in seen if s not in {"SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"}]
    assert statements.count("SELECT") == 2, seen  # the turn, the case's actions
    assert len(statements) <= STATEMENTS_PER_ANSWER, seen
