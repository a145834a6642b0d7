"""A run: several answers of one conversation applied in one transaction from one read.

Each test applies the same messages twice, in two interviews: one at a time through `handle`,
and as a run through `handle_run`. The run must leave exactly the rows the single answers
leave (case, conversation, raw answers, in order), and read the turn once for the answers
that stay on one question.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select

from bot.config import Settings
from bot.messages import Inbound, Reply
from bot.outbox import Applying, apply_run
from bot.service import handle, handle_run
from bot.store import draft_from_rows
from storage import inbox
from storage.db import Database
from storage.models import Case, Conversation, Person, RawAnswer
from tests.conftest import Chat

OPENING = ["SEV3", "network", "skip", "skip", "skip", "skip", "skip"]  # up to the symptoms list


async def _at_symptoms(chat: Chat) -> None:
    await chat.command("postmortem Checkout 502s")
    for text in OPENING:
        await chat.send(text)


async def _state(db: Database, key: str) -> dict[str, Any]:
    """What an interview left in the database, without ids, times or the conversation's
    version (a run moves it once: it is a compare-and-set token, not a count)."""
    async with db.sessions() as session:
        conversation = (
            await session.exec(select(Conversation).where(Conversation.conversation_key == key))
        ).one()
        case = (await session.exec(select(Case).where(Case.id == conversation.case_id))).one()
        answers = (
            await session.exec(
                select(RawAnswer.question_key, Person.platform_user_id, RawAnswer.text)
                .join(Person, col(Person.id) == RawAnswer.responder_id)
                .where(RawAnswer.case_id == case.id)
                .order_by(col(RawAnswer.id))
            )
        ).all()
        draft = draft_from_rows(case, [], {})
        return {
            "step": conversation.step,
            "history": conversation.history,
            "active": conversation.active,
            "symptoms": draft.symptoms,
            "hypotheses": draft.hypotheses,
            "answers": list(answers),
        }


def _texts(replies: list[Reply]) -> list[str]:
    return [r.text for r in replies]


async def _both_ways(db: Database, said: list[tuple[str, str]]) -> tuple[list[list[Reply]], Chat, Chat]:
    """`said` ((user, text) pairs) one at a time in one interview, as runs in another; returns
    the replies of the first run, and both chats."""
    single, batched = Chat(db, key="thread-single"), Chat(db, key="thread-run")
    await _at_symptoms(single)
    await _at_symptoms(batched)
    one_by_one = [await single.send(text, user=user) for user, text in said]
    inbounds = [batched.inbound(text, user=user) for user, text in said]
    first = await handle_run(db, inbounds, settings=Settings())
    done = len(first)
    while done < len(inbounds):  # what the run left, as the conveyor applies it
        done += len(await handle_run(db, inbounds[done:], settings=Settings()))
    assert [_texts(r) for r in first] == [_texts(r) for r in one_by_one[: len(first)]]
    return [list(r) for r in first], single, batched


async def test_a_burst_of_list_lines_reads_its_turn_once_and_leaves_what_single_answers_leave(
    db: Database,
) -> None:
    said = [("alice", f"- symptom {n}") for n in range(6)]
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    batched = Chat(db, key="thread-run")
    await _at_symptoms(batched)
    inbounds = [batched.inbound(text, user=user) for user, text in said]
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        replies = await handle_run(db, inbounds, settings=Settings())
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert [r[0].text for r in replies] == [f"Got it ({n} so far)." for n in range(1, 7)]
    assert seen.count("SELECT") == 2, seen  # the turn and the case's actions, once for six answers
    # One write of the case and one compare-and-set of the conversation for the six answers.
    updates = [s for s in seen if s == "UPDATE"]
    assert len(updates) == 2, seen

    single = Chat(db, key="thread-single")
    await _at_symptoms(single)
    for user, text in said:
        await single.send(text, user=user)
    run_state, single_state = await _state(db, "thread-run"), await _state(db, "thread-single")
    assert run_state == single_state
    assert run_state["symptoms"] == tuple(text for _, text in said)


async def test_a_run_stops_after_the_answer_that_moves_to_the_next_question(db: Database) -> None:
    said = [("alice", "- a"), ("alice", "- b"), ("alice", "done"), ("alice", "- x"), ("alice", "- y")]
    first, _, _ = await _both_ways(db, said)
    assert len(first) == 3  # the lines, and `done`: the next question's answers wait for its post
    run_state, single_state = await _state(db, "thread-run"), await _state(db, "thread-single")
    assert run_state == single_state
    assert run_state["step"] == "hypotheses" and [m.text for m in run_state["hypotheses"]] == ["- x", "- y"]


async def test_answers_of_several_responders_in_one_run_keep_who_said_what(db: Database) -> None:
    said = [("alice", "- a"), ("bob", "- b"), ("alice", "- c"), ("carol", "- d")]
    first, _, _ = await _both_ways(db, said)
    assert len(first) == 4
    run_state, single_state = await _state(db, "thread-run"), await _state(db, "thread-single")
    assert run_state == single_state
    assert [who for _, who, _ in run_state["answers"][-4:]] == ["alice", "bob", "alice", "carol"]


async def test_a_refused_line_in_a_run_changes_nothing_and_the_run_goes_on(db: Database) -> None:
    said = [("alice", "- a"), ("alice", "help"), ("alice", "- b")]
    first, _, _ = await _both_ways(db, said)
    assert len(first) == 3
    assert await _state(db, "thread-run") == await _state(db, "thread-single")


async def test_a_row_another_process_applied_mid_run_is_skipped_and_the_others_applied_once(
    db: Database,
) -> None:
    chat = Chat(db, key="thread-run")
    await _at_symptoms(chat)
    inbounds = [chat.inbound(f"- line {n}") for n in range(3)]
    ids = await _inbox_rows(db, inbounds)
    async with db.transaction() as session:  # the second row, applied elsewhere meanwhile
        await inbox.mark_applied(session, entry_id=ids[1], at=inbounds[1].at)
    items = [Applying(i, entry_id, {}) for i, entry_id in zip(inbounds, ids, strict=True)]

    written = await apply_run(db, items, settings=Settings())
    assert len(written) == 1 and written[0].replies[0].text == "Got it (1 so far)."
    skipped = await apply_run(db, items[1:], settings=Settings())
    assert skipped[0].replies == [] and skipped[0].rows == []
    last = await apply_run(db, items[2:], settings=Settings())
    assert last[0].replies[0].text == "Got it (2 so far)."
    assert (await _state(db, "thread-run"))["symptoms"] == ("- line 0", "- line 2")


async def test_a_run_that_fails_midway_writes_nothing(db: Database) -> None:
    chat = Chat(db, key="thread-run")
    await _at_symptoms(chat)
    before = await _state(db, "thread-run")
    inbounds = [chat.inbound(f"- line {n}") for n in range(3)]

    async def fine(_session: Any, _replies: list[Reply]) -> None:
        return None

    async def broken(_session: Any, _replies: list[Reply]) -> None:
        raise RuntimeError("the third row's outbox write failed")

    try:
        await handle_run(db, inbounds, settings=Settings(), records=[fine, fine, broken])
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failure was swallowed")
    assert await _state(db, "thread-run") == before
    # Applied again one at a time, every line counts once.
    for inbound in inbounds:
        await handle(db, inbound, settings=Settings())
    assert (await _state(db, "thread-run"))["symptoms"] == ("- line 0", "- line 1", "- line 2")


async def _inbox_rows(db: Database, inbounds: list[Inbound]) -> list[int]:
    rows = [
        inbox.Received(
            tenant=i.tenant, event_key=f"ev-{n}", conversation_key=i.conversation_key, payload={}, at=i.at
        )
        for n, i in enumerate(inbounds)
    ]
    async with db.transaction() as session:
        ids = await inbox.receive_all(session, platform="console", rows=rows)
    assert all(entry_id is not None for entry_id in ids)
    return [entry_id for entry_id in ids if entry_id is not None]


async def test_two_runs_at_once_in_one_interview_apply_every_line_once(db: Database) -> None:
    """Two processes applying the same interview: the compare-and-set at a run's end makes
    the loser apply its whole run again from fresh rows."""
    chat = Chat(db, key="thread-run")
    await _at_symptoms(chat)
    groups = [[chat.inbound(f"- {name}{n}", user=name) for n in range(4)] for name in ("ann", "ben")]

    async def apply_all(inbounds: list[Inbound]) -> None:
        done = 0
        while done < len(inbounds):
            done += len(await handle_run(db, inbounds[done:], settings=Settings()))

    await asyncio.gather(*(apply_all(group) for group in groups))
    symptoms = (await _state(db, "thread-run"))["symptoms"]
    assert sorted(symptoms) == sorted(i.text for group in groups for i in group)
    for group in groups:
        assert [s for s in symptoms if s in {i.text for i in group}] == [i.text for i in group]


async def test_a_run_stops_when_told_a_request_waits_and_the_rest_apply_after(db: Database) -> None:
    """The conveyor's `more` says whether a Slack request waits for its 200: the run ends at
    the next answer, and what it left is applied in order afterwards."""
    chat = Chat(db, key="thread-run")
    await _at_symptoms(chat)
    inbounds = [chat.inbound(f"- line {n}") for n in range(5)]
    asked: list[int] = []

    def more() -> bool:
        asked.append(len(asked))
        return len(asked) < 2  # a request arrives while the second line is applied

    first = await handle_run(db, inbounds, settings=Settings(), more=more)
    assert len(first) == 2 and len(asked) == 2
    assert (await _state(db, "thread-run"))["symptoms"] == ("- line 0", "- line 1")
    rest = await handle_run(db, inbounds[2:], settings=Settings())
    assert [r[0].text for r in rest] == [f"Got it ({n} so far)." for n in (3, 4, 5)]
    assert (await _state(db, "thread-run"))["symptoms"] == tuple(f"- line {n}" for n in range(5))
