"""Drafting in the conversation: acknowledgement first, the model after; redraft; show."""

from __future__ import annotations

import asyncio

from bot.messages import ReplyKind
from storage import suggestions as suggestion_rows
from storage.models import SuggestionStatus
from tests.conftest import Chat
from tests.drafting.support import case_row, publish, run_job
from tests.fake_openai import FakeOpenAI, gated, status


async def test_publishing_answers_at_once_while_the_model_is_slow(chat: Chat, fake_model: FakeOpenAI) -> None:
    gate = asyncio.Event()
    fake_model.then(gated(gate))  # the model answers only when the test says so

    # handle() must not wait for the model: were it to, this would hang until the bound.
    published = await asyncio.wait_for(publish(chat), timeout=30)

    assert published.followup == "draft:1"
    assert fake_model.requests == []  # the acknowledgement path never called the model
    case = await case_row(chat.db)
    assert case.status == "published" and case.draft_method == "template" and case.draft_md

    job = asyncio.create_task(run_job(chat, published.followup))
    await asyncio.wait_for(fake_model.waiting.wait(), timeout=10)
    assert (await case_row(chat.db)).draft_method == "template"  # the template stands meanwhile
    assert await chat.command("list")  # and the bot keeps answering while the model thinks

    gate.set()
    replies = await asyncio.wait_for(job, timeout=10)

    assert replies[0].kind == ReplyKind.CASE and "## Narrative" in replies[0].text
    assert (await case_row(chat.db)).draft_method == "model"


async def test_without_a_model_the_template_is_the_draft(chat: Chat) -> None:
    published = await publish(chat)
    assert published.followup is None
    assert (await case_row(chat.db)).draft_method == "template"

    [reply] = await chat.command("redraft #1")

    assert "No model is configured" in reply.text
    assert reply.kind == ReplyKind.CASE and "## Symptoms" in reply.text and "## Narrative" not in reply.text


async def test_redraft_is_for_the_case_lead_and_admins(chat: Chat, fake_model: FakeOpenAI) -> None:
    await publish(chat)

    [refused] = await chat.command("redraft #1", user="bob")
    [admin] = await chat.command("redraft #1", user="dana", admin=True)
    [lead] = await chat.command("redraft 1")
    [missing] = await chat.command("redraft #7")
    [vague] = await chat.command("redraft")

    assert refused.kind == ReplyKind.ERROR and "Only the lead of case #1" in refused.text
    assert refused.followup is None
    assert admin.followup == "draft:1" and lead.followup == "draft:1"
    assert "casebook-test-model" in lead.text
    assert missing.kind == ReplyKind.ERROR and "no case #7" in missing.text
    assert vague.kind == ReplyKind.ERROR
    assert fake_model.requests == []  # the command itself never waits for the model


async def test_redraft_of_an_interview_in_progress_is_refused(
    sqlite_chat: Chat, fake_model: FakeOpenAI
) -> None:
    await sqlite_chat.command("postmortem Half written")
    [reply] = await sqlite_chat.command("redraft #1")
    assert reply.kind == ReplyKind.ERROR and "interviewing" in reply.text


async def test_a_redraft_replaces_undecided_suggestions_and_respects_decisions(
    chat: Chat, fake_model: FakeOpenAI
) -> None:
    await publish(chat)
    await run_job(chat, "draft:1")  # suggests 1.S1
    await run_job(chat, "draft:1")  # 1.S1 undecided: superseded by 1.S2
    await chat.command("suggestion drop 1.S2 we already have a rollback runbook")

    replies = await run_job(chat, "draft:1")  # the same idea again: dropped before, not offered again

    case = await case_row(chat.db)
    assert case.id is not None
    async with chat.db.transaction() as session:
        rows = await suggestion_rows.of_case(session, tenant_id=case.tenant_id, case_id=case.id)
    assert [(s.number, s.status) for s in rows] == [
        (1, SuggestionStatus.SUPERSEDED),
        (2, SuggestionStatus.DROPPED),
    ]
    assert [r.kind for r in replies] == [ReplyKind.CASE]  # no suggestion list this time
    assert any(d["reason"].startswith("repeats") for d in case.draft_meta["dropped"])


async def test_a_failed_redraft_keeps_the_previous_model_draft(chat: Chat, fake_model: FakeOpenAI) -> None:
    await publish(chat)
    await run_job(chat, "draft:1")
    before = await case_row(chat.db)
    fake_model.then(status(503), status(503))

    [note] = await run_job(chat, "draft:1")

    after = await case_row(chat.db)
    assert "The previous model draft stands" in note.text
    assert after.draft_method == "model" and after.draft_md == before.draft_md
    assert after.draft_meta["last_attempt"]["error"] == "server_error"
    assert after.draft_meta["prompt"] == "case-draft.v1"  # the provenance of the draft that stands


async def test_show_displays_the_model_draft(sqlite_chat: Chat, fake_model: FakeOpenAI) -> None:
    await publish(sqlite_chat)
    [before] = await sqlite_chat.command("show #1")
    await run_job(sqlite_chat, "draft:1")
    [after] = await sqlite_chat.command("show #1")

    assert "## Narrative" not in before.text
    assert "## Narrative" in after.text and "## Suggested actions" in after.text


async def test_two_drafts_of_one_case_at_once_both_land(chat: Chat, fake_model: FakeOpenAI) -> None:
    await publish(chat)

    first, second = await asyncio.gather(run_job(chat, "draft:1"), run_job(chat, "draft:1"))

    assert first[0].kind == ReplyKind.CASE and second[0].kind == ReplyKind.CASE
    case = await case_row(chat.db)
    assert case.id is not None
    async with chat.db.transaction() as session:
        rows = await suggestion_rows.of_case(session, tenant_id=case.tenant_id, case_id=case.id)
    assert sorted(s.number for s in rows) == [1, 2]
    assert [s.status for s in rows].count(SuggestionStatus.PENDING) == 1
