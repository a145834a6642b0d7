"""Invited responders answer in their DM; their view is merged into the case under their name."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

from sqlmodel import col, select

from bot.config import Settings
from bot.home import Viewer, load_home
from bot.invite import dm_key
from bot.messages import InboundKind, Reply, ReplyKind
from bot.service import handle, has_active_conversation
from storage import repo
from storage.db import Database
from storage.models import Case, Conversation, RawAnswer, Tenant
from tests.conftest import NOW, Chat


async def _case(db: Database, number: int = 1) -> Case:
    async with db.transaction() as session:
        case = (await session.exec(select(Case).where(Case.number == number))).one()
        return case


async def _start(chat: Chat) -> None:
    await chat.command("postmortem Checkout 502s", user="alice")


def _dm_to(replies: list[Reply], user: str) -> Reply:
    return next(r for r in replies if r.to_user == user)


async def test_invitees_get_a_dm_and_their_answers_merge_with_their_name(chat: Chat, db: Database) -> None:
    await _start(chat)
    replies = await chat.command("invite <@bob> <@carol>", user="alice")

    summary = replies[0]
    assert summary.ephemeral and "Invited @Bob, @Carol" in summary.text
    bob_dm = _dm_to(replies, "bob")
    assert bob_dm.step == "saw" and "your view" in bob_dm.text and "#1" in bob_dm.text
    assert {r.to_user for r in replies[1:]} == {"bob", "carol"}

    saw = await chat.send("- 502s on checkout\n- PagerDuty burn alert", user="bob", key=dm_key("bob"))
    assert any("Added 2 observations" in r.text for r in saw)
    assert saw[-1].step == "checked"
    await chat.send("Checked pgbouncer pools: 400 clients waiting", user="bob", key=dm_key("bob"))
    done = await chat.send("The DB CPU alarm — cost: 10 min", user="bob", key=dm_key("bob"))

    assert any("That's all for case #1" in r.text for r in done)
    notice = _dm_to(done, "alice")
    assert notice.kind == ReplyKind.NOTICE and "@Bob added their view" in notice.text
    case = await _case(db)
    assert case.symptoms == ["@Bob: 502s on checkout", "@Bob: PagerDuty burn alert"]
    assert case.diagnostic_path == [{"text": "Checked pgbouncer pools: 400 clients waiting", "by": "Bob"}]
    assert case.misjudgments == [
        {"kind": "signal", "text": "@Bob: The DB CPU alarm", "cost": "10 min"},
    ]
    async with db.transaction() as session:
        keys = [a.question_key for a in (await session.exec(select(RawAnswer))).all()]
    assert keys.count("responder:saw") == 1 and "responder:misled" in keys
    assert not await has_active_conversation(db, platform="console", tenant="T1", key=dm_key("bob"))
    assert await has_active_conversation(db, platform="console", tenant="T1", key=dm_key("carol"))


async def test_skip_back_help_and_stop_in_the_dm(chat: Chat, db: Database) -> None:
    await _start(chat)
    await chat.command("invite #1 <@bob>", user="alice")
    key = dm_key("bob")

    first_back = await chat.send("back", user="bob", key=key)
    assert first_back[0].kind == ReplyKind.ERROR and first_back[-1].step == "saw"
    skipped = await chat.send("skip", user="bob", key=key)
    assert skipped[-1].step == "checked"
    helped = await chat.send("help", user="bob", key=key)
    assert helped[-1].step == "checked" and "`stop`" in helped[0].text
    back = await chat.send("back", user="bob", key=key)
    assert back[-1].step == "saw"
    stopped = await chat.send("stop", user="bob", key=key)

    assert [r.to_user for r in stopped] == [None]  # nothing answered: no notice for the lead
    assert (await _case(db)).symptoms == []


async def test_refusals_change_nothing(chat: Chat, db: Database) -> None:
    nobody = await chat.command("invite <@bob>", user="alice")
    assert nobody[0].kind == ReplyKind.ERROR and "Which case?" in nobody[0].text

    await _start(chat)
    no_mention = await chat.command("invite #1", user="alice")
    assert "Mention who to invite" in no_mention[0].text
    missing = await chat.command("invite #9 <@bob>", user="alice")
    assert "no case #9" in missing[0].text

    await chat.command("invite <@dave>", user="alice")
    again = await chat.command("invite <@dave>", user="alice")
    assert again[0].kind == ReplyKind.ERROR and "already invited" in again[0].text
    assert [r.to_user for r in again] == [None]

    empty = await chat.send("   ", user="dave", key=dm_key("dave"))
    assert empty[0].kind == ReplyKind.ERROR and empty[-1].step == "saw"
    async with db.transaction() as session:
        assert (await session.exec(select(RawAnswer))).all() == []


async def test_a_stale_button_is_refused(chat: Chat, db: Database) -> None:
    await _start(chat)  # the title was given: the interview asks the severity
    await chat.send("SEV2", user="alice")

    stale = replace(chat.inbound("SEV3", user="alice", kind=InboundKind.ACTION), step="severity")
    replies = await handle(db, stale, settings=Settings())
    assert replies[0].kind == ReplyKind.ERROR and "already been answered" in replies[0].text
    assert (await _case(db)).severity == "SEV2"

    current = replace(chat.inbound("deploy/config", user="alice", kind=InboundKind.ACTION), step="area")
    await handle(db, current, settings=Settings())
    assert (await _case(db)).area == "deploy"


async def test_a_late_answer_is_kept_but_not_merged(chat: Chat, db: Database) -> None:
    await _start(chat)
    await chat.command("invite <@carol>", user="alice")
    await chat.command("cancel #1", user="alice")
    await chat.send("yes", user="alice")

    late = await chat.send("Saw the 502s too", user="carol", key=dm_key("carol"))

    assert "already cancelled" in late[0].text
    assert _dm_to(late, "alice").kind == ReplyKind.NOTICE
    assert (await _case(db)).symptoms == []
    async with db.transaction() as session:
        raw = (await session.exec(select(RawAnswer))).all()
        assert [a.text for a in raw if a.question_key.startswith("responder:")] == ["Saw the 502s too"]
        assert not (
            await session.exec(
                select(Conversation).where(Conversation.flow == "responder", col(Conversation.active))
            )
        ).first()


async def test_home_lists_my_actions_and_recent_cases(chat: Chat, db: Database) -> None:
    await _start(chat)
    for text in ("SEV2", "deploy", "checkout-api", "2 hours ago", "+10m", "+30m", "+1h"):
        await chat.send(text, user="alice")
    for text in ("502s", "done", "skip", "skip", "skip", "Checked pools", "done", "Pool cut to 20", "skip"):
        await chat.send(text, user="alice")
    for text in ("Alert on pool saturation", "<@bob>", "in 2 weeks", "detect", "none", "done"):
        await chat.send(text, user="alice")
    published = await chat.send("confirm", user="alice") + await chat.send("yes", user="alice")
    assert any(r.kind == ReplyKind.CASE for r in published)

    bob = await load_home(db, Viewer("console", "T1", "bob", "Bob"), now=chat.now)
    alice = await load_home(db, Viewer("console", "T1", "alice", "Alice"), now=chat.now)

    assert bob.open_count == 1 and bob.overdue_count == 0
    assert bob.actions[0].ref == "1.1"
    assert [c.value for c in bob.actions[0].choices] == ["/done 1.1", "/snooze 1.1 1w", "/reassign 1.1"]
    assert re.match(r"\*\*#1\*\* Checkout 502s · SEV2 · published, 1 open action", bob.recent_cases[0])
    assert alice.actions == () and len(alice.recent_cases) == 1
    nobody = await load_home(db, Viewer("console", "T1", "zoe"), now=chat.now)
    assert nobody.recent_cases == () and nobody.actions == ()
    async with db.transaction() as session:  # the homes were read in the chat's tenant, not a new one
        assert [t.external_id for t in (await session.exec(select(Tenant))).all()] == ["T1"]


async def test_home_follows_the_platform_on_admin_rights_both_ways(db: Database) -> None:
    now = NOW
    await load_home(db, Viewer("console", "T1", "dana", "Dana", is_admin=True), now=now)
    await load_home(db, Viewer("console", "T1", "dana", "Dana", is_admin=False), now=now)

    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="console", external_id="T1")
        assert tenant.id is not None
        dana = await repo.person(session, now=NOW, tenant_id=tenant.id, user_id="dana")
    assert dana.is_admin is False


async def test_postmortems_started_at_once_get_distinct_numbers(db: Database) -> None:
    chats = [Chat(db, key=f"thread-{n}") for n in range(8)]
    replies = await asyncio.gather(
        *(c.command(f"postmortem Outage {n}", user="alice") for n, c in enumerate(chats))
    )

    assert all(r[0].kind != ReplyKind.ERROR for r in replies)
    async with db.transaction() as session:
        numbers = sorted(c.number for c in (await session.exec(select(Case))).all())
    assert numbers == list(range(1, 9))
