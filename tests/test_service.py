"""Whole conversations through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.config import Settings
from bot.messages import InboundKind, Reply, ReplyKind
from bot.service import handle
from storage.db import Database, connect
from storage.models import Case, Conversation, PreventionAction, RawAnswer
from tests.conftest import Chat
from tests.test_interview import FULL

TABLES = (
    "tenants",
    "people",
    "cases",
    "raw_answers",
    "conversations",
    "prevention_actions",
    "processed_events",
)


async def snapshot(db: Database) -> dict[str, Any]:
    """Every row of every table, minus the dedup log (a refused answer still was received)."""
    state = {}
    async with db.transaction() as session:
        for table in TABLES:
            if table == "processed_events":
                continue
            rows = (await session.connection()).execute(text(f"SELECT * FROM {table} ORDER BY id"))
            state[table] = [tuple(r) for r in await rows]
    return state


async def run_interview(
    chat: Chat, answers: tuple[str, ...] = FULL, *, users: tuple[str, ...] = ("alice", "bob")
) -> list[Reply]:
    replies = await chat.command("postmortem")
    for i, answer in enumerate(answers):
        replies = await chat.send(answer, user=users[i % len(users)])
    return replies


async def test_a_whole_interview_is_stored_and_published(chat: Chat, db: Database) -> None:
    replies = await run_interview(chat)
    assert replies[-1].step == "review"
    replies = await chat.send("confirm")
    replies = await chat.send("yes")
    case_reply = replies[0]
    assert case_reply.kind == ReplyKind.CASE and case_reply.attachment is not None
    assert "Case #1: Checkout 502s" in case_reply.text
    assert case_reply.publication and case_reply.case_title == "Checkout 502s"
    assert case_reply.intro is not None and case_reply.intro.startswith("Case #1 is published.")
    notices = [r for r in replies if r.to_user]
    assert [r.to_user for r in notices] == ["bob"] and "1.1" in notices[0].text

    async with db.transaction() as session:
        case = (await session.exec(select(Case))).one()
        assert case.status == "published" and case.draft_method == "template"
        assert case.draft_md and "## Diagnostic path" in case.draft_md
        assert case.detected_at == dt.datetime(2026, 11, 20, 10, 9, tzinfo=dt.UTC)
        action = (await session.exec(select(PreventionAction))).one()
        assert action.status == "open" and action.risk_coupling is True and action.risk_spof is False
        answers = (await session.exec(select(RawAnswer).order_by(RawAnswer.id))).all()  # type: ignore[arg-type]
        assert len(answers) >= 20
        responders = {a.responder_id for a in answers}
        assert len(responders) == 2  # alice and bob both answered, each recorded
        conversation = (await session.exec(select(Conversation))).one()
        assert conversation.active is False


async def test_a_restart_mid_interview_resumes_with_nothing_lost(db_url: str) -> None:
    first = connect(db_url)
    chat = Chat(first)
    await run_interview(chat, FULL[:9])
    await first.dispose()  # the process dies here

    second = connect(db_url)
    chat.db = second
    try:
        status = await chat.send("status")
        assert "symptoms" in status[0].text
        replies = await chat.send("done")
        assert replies[-1].step == "hypotheses"
        async with second.transaction() as session:
            case = (await session.exec(select(Case))).one()
            assert case.title == "Checkout 502s" and case.symptoms == ["502s on checkout"]
            assert case.resolved_at == dt.datetime(2026, 11, 20, 11, 30, tzinfo=dt.UTC)
    finally:
        await second.dispose()


async def test_bad_input_at_every_step_leaves_the_database_unchanged(chat: Chat, db: Database) -> None:
    await chat.command("postmortem")
    for answer in FULL:
        before = await snapshot(db)
        replies = await chat.send("x" * 5000)
        assert replies[0].kind == ReplyKind.ERROR
        assert await snapshot(db) == before
        await chat.send(answer)


async def test_a_retried_event_is_applied_once(chat: Chat, db: Database) -> None:
    await chat.command("postmortem Retry test")
    inbound = chat.inbound("SEV2", event_id="Ev-retry-1")
    first = await handle(db, inbound, settings=Settings())
    second = await handle(db, inbound, settings=Settings())
    assert first and second == []
    async with db.transaction() as session:
        conversation = (await session.exec(select(Conversation))).one()
        assert conversation.step == "area"
        assert len((await session.exec(select(RawAnswer))).all()) == 1


async def test_racing_answers_in_one_thread_are_both_applied(chat: Chat, db: Database) -> None:
    await run_interview(chat, FULL[:8])  # now at symptoms: a list step
    inbounds = [chat.inbound(f"symptom {i}", user=("alice", "bob")[i % 2]) for i in range(6)]
    results = await asyncio.gather(*(handle(db, i, settings=Settings()) for i in inbounds))
    assert all(r and r[0].kind != ReplyKind.ERROR for r in results)
    async with db.transaction() as session:
        case = (await session.exec(select(Case))).one()
        assert sorted(case.symptoms) == sorted(f"symptom {i}" for i in range(6))


async def test_postmortems_opened_at_once_in_one_workspace_each_get_their_own_number(
    chat: Chat, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.service")
    starts = [
        chat.inbound(f"postmortem Outage {i}", key=f"C{i}", kind=InboundKind.COMMAND) for i in range(40)
    ]
    results = await asyncio.gather(*(handle(db, i, settings=Settings()) for i in starts))
    assert all(r and r[0].kind != ReplyKind.ERROR for r in results)
    async with db.sessions() as session:
        numbers = sorted((await session.exec(select(Case.number))).all())
    assert numbers == list(range(1, 41))
    # They queued for the number rather than guessing it and retrying on the unique key (which
    # a burst can exhaust: "send it again").
    assert "a concurrent write won" not in caplog.text


async def test_chatter_outside_an_interview_is_ignored(chat: Chat) -> None:
    assert await chat.send("lunch anyone?", key="random-thread") == []
    direct = await chat.send("what can you do", key="dm", direct=True)
    assert "postmortem" in direct[0].text


async def test_one_interview_per_conversation(chat: Chat) -> None:
    await chat.command("postmortem First")
    again = await chat.command("postmortem Second")
    assert again[0].kind == ReplyKind.ERROR and "#1" in again[0].text
    elsewhere = await chat.command("postmortem Second", key="thread-2")
    assert elsewhere[0].case_number == 2


async def publish(chat: Chat) -> None:
    await run_interview(chat)
    await chat.send("confirm")
    await chat.send("yes")


async def test_action_commands_with_permissions(chat: Chat, db: Database) -> None:
    await publish(chat)
    mine = await chat.command("actions", user="bob", key="dm-bob")
    assert mine[0].items and mine[0].items[0].ref == "1.1"
    assert [c.value for c in mine[0].items[0].choices] == ["/done 1.1", "/snooze 1.1 1w", "/reassign 1.1"]

    refused = await chat.command("done 1.1", user="mallory", key="dm-m")
    assert refused[0].kind == ReplyKind.ERROR and "Only the owner" in refused[0].text

    snoozed = await chat.command("snooze 1.1 1w", user="bob", key="dm-bob")
    assert "snoozed until" in snoozed[0].text
    bad_snooze = await chat.command("snooze 1.1 whenever", user="bob", key="dm-bob")
    assert bad_snooze[0].kind == ReplyKind.ERROR

    moved = await chat.command("reassign 1.1 <@carol>", user="alice", key="dm-a")
    assert "carol" in moved[0].text.lower() and moved[1].to_user == "carol"

    done = await chat.command("done 1.1 https://github.com/acme/alerts/pull/12", user="carol", key="dm-c")
    assert "done" in done[0].text and done[1].to_user == "alice"  # the lead hears of it
    again = await chat.command("done 1.1", user="carol", key="dm-c")
    assert "already done" in again[0].text

    async with db.transaction() as session:
        action = (await session.exec(select(PreventionAction))).one()
        assert action.status == "done" and action.evidence.endswith("/pull/12")  # type: ignore[union-attr]
    nothing = await chat.command("actions", user="carol", key="dm-c")
    assert "no open" in nothing[0].text


async def test_buttons_work_like_typed_commands(chat: Chat, db: Database) -> None:
    await publish(chat)
    replies = await chat.send("/snooze 1.1 1w", user="bob", kind=InboundKind.ACTION, key="dm-bob")
    assert "snoozed" in replies[0].text
    form = await chat.send(
        "/done 1.1", user="bob", kind=InboundKind.FORM, key="dm-bob", form={"evidence": "PR 9"}
    )
    assert "Evidence: PR 9" in form[0].text


async def test_list_show_export_and_cancel(chat: Chat) -> None:
    await publish(chat)
    listing = await chat.command("list", user="bob", key="dm-bob")
    assert "#1 Checkout 502s" in listing[0].text and listing[0].items
    shown = await chat.command("show #1")
    assert shown[0].kind == ReplyKind.CASE and "Root cause" in shown[0].text
    assert not shown[0].publication and shown[0].case_title == "Checkout 502s"
    exported = await chat.command("export 1 json")
    assert exported[0].attachment and '"ref": "1.1"' in exported[0].attachment.content
    missing = await chat.command("show 99")
    assert missing[0].kind == ReplyKind.ERROR

    await chat.command("postmortem Abandoned", key="thread-2")
    not_lead = await chat.command("cancel #2", user="bob", key="dm-bob")
    assert not_lead[0].kind == ReplyKind.ERROR
    cancelled = await chat.command("cancel #2", key="dm-a")
    assert "cancelled" in cancelled[0].text
    after = await chat.send("SEV1", key="thread-2")
    assert after == []  # the interview is over; the thread is quiet again

    action_cancel = await chat.command("cancel 1.1", user="bob", key="dm-bob")
    assert "why" in action_cancel[0].text.lower()
    ok = await chat.command("cancel 1.1 superseded by the platform migration", user="bob", key="dm-bob")
    assert "cancelled" in ok[0].text


async def test_unknown_commands_get_help(chat: Chat) -> None:
    replies = await chat.command("frobnicate")
    assert "I don't know" in replies[0].text and "postmortem" in replies[0].text


async def test_tenants_never_see_each_other(db: Database) -> None:
    one, two = Chat(db, tenant="T-one"), Chat(db, tenant="T-two")
    await publish(one)
    assert (await two.command("show 1"))[0].kind == ReplyKind.ERROR
    assert "no open" in (await two.command("actions", user="bob"))[0].text
    assert (await two.command("done 1.1", user="bob"))[0].kind == ReplyKind.ERROR


async def test_admin_rights_follow_the_platform_both_ways(chat: Chat, db: Database) -> None:
    await publish(chat)
    assert "snoozed" in (await chat.command("snooze 1.1 1w", user="root", admin=True, key="dm-r"))[0].text
    demoted = await chat.command("snooze 1.1 2w", user="root", admin=False, key="dm-r")
    assert demoted[0].kind == ReplyKind.ERROR and "Only the owner" in demoted[0].text
