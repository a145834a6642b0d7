"""The case lead accepts a suggested action (a person sets owner and due date) or drops it."""

from __future__ import annotations

import datetime as dt

from bot.messages import InboundKind, ReplyKind
from storage import repo
from storage import suggestions as suggestion_rows
from storage.models import ActionStatus, SuggestionStatus
from tests.conftest import NOW, Chat
from tests.drafting.support import case_row, publish, run_job
from tests.fake_openai import FakeOpenAI


async def _drafted(chat: Chat) -> None:
    await publish(chat)
    await run_job(chat, "draft:1")


async def _state(chat: Chat) -> tuple[list[tuple[int, str]], list[tuple[int, str, str | None, bool]]]:
    case = await case_row(chat.db)
    assert case.id is not None
    async with chat.db.transaction() as session:
        suggestions = await suggestion_rows.of_case(session, tenant_id=case.tenant_id, case_id=case.id)
        actions = await repo.actions_of_case(session, tenant_id=case.tenant_id, case_id=case.id)
        owners = await repo.people_by_ids(
            session, tenant_id=case.tenant_id, ids=[a.owner_id for a in actions if a.owner_id]
        )
    return (
        [(s.number, s.status) for s in suggestions],
        [
            (a.number, a.status, owners[a.owner_id].platform_user_id if a.owner_id else None, a.suggested)
            for a in actions
        ],
    )


async def test_accepting_makes_an_open_action_with_the_owner_and_date_a_person_gave(
    chat: Chat, fake_model: FakeOpenAI
) -> None:
    await _drafted(chat)

    replies = await chat.command("suggestion accept 1.S1 <@carol> 2026-12-15")

    done, dm = replies
    assert "1.S1 is now action `1.2`" in done.text and "due 2026-12-15" in done.text
    assert dm.kind == ReplyKind.NOTICE and dm.to_user == "carol" and "`1.2`" in dm.text
    suggestions, actions = await _state(chat)
    assert suggestions == [(1, SuggestionStatus.ACCEPTED)]
    assert actions == [(1, ActionStatus.OPEN, "bob", False), (2, ActionStatus.OPEN, "carol", True)]
    async with chat.db.transaction() as session:
        case = await case_row(chat.db)
        [(_, action)] = await repo.open_actions(
            session,
            tenant_id=case.tenant_id,
            owner_id=(await repo.person(session, now=NOW, tenant_id=case.tenant_id, user_id="carol")).id,
        )
        assert action.due_date == dt.date(2026, 12, 15) and action.kind == "mitigate"
    case = await case_row(chat.db)
    assert case.draft_md and "2. Write and rehearse a rollback procedure" in case.draft_md
    assert "## Suggested actions" not in case.draft_md  # nothing left to decide


async def test_accepting_needs_an_owner_and_a_due_date(chat: Chat, fake_model: FakeOpenAI) -> None:
    await _drafted(chat)

    [no_owner] = await chat.command("suggestion accept 1.S1")
    [no_date] = await chat.command("suggestion accept 1.S1 <@carol>")
    [past] = await chat.command("suggestion accept 1.S1 <@carol> 2020-01-01")

    assert no_owner.kind == ReplyKind.ERROR and "needs an owner and a due date" in no_owner.text
    assert no_owner.choices[0].form == "accept_suggestion"
    assert no_date.kind == ReplyKind.ERROR
    assert past.kind == ReplyKind.ERROR and "in the past" in past.text
    assert await _state(chat) == ([(1, SuggestionStatus.PENDING)], [(1, ActionStatus.OPEN, "bob", False)])


async def test_the_accept_form_works_like_typing(sqlite_chat: Chat, fake_model: FakeOpenAI) -> None:
    await _drafted(sqlite_chat)

    replies = await sqlite_chat.send(
        "/suggestion accept 1.S1", kind=InboundKind.FORM, form={"owner": "dana", "due": "2026-12-20"}
    )

    assert "is now action `1.2`" in replies[0].text
    assert (await _state(sqlite_chat))[1][1] == (2, ActionStatus.OPEN, "dana", True)


async def test_only_the_lead_or_an_admin_decides_and_only_once(chat: Chat, fake_model: FakeOpenAI) -> None:
    await _drafted(chat)

    [refused] = await chat.command("suggestion accept 1.S1 <@bob> 2026-12-15", user="bob")
    assert refused.kind == ReplyKind.ERROR and "Only the lead of case #1" in refused.text
    assert (await _state(chat))[0] == [(1, SuggestionStatus.PENDING)]

    [dropped] = await chat.command("suggestion drop 1.S1 covered by the runbook", user="dana", admin=True)
    [again] = await chat.command("suggestion accept 1.S1 <@carol> 2026-12-15")

    assert "1.S1 dropped (covered by the runbook)" in dropped.text
    assert again.kind == ReplyKind.ERROR and "already dropped" in again.text
    assert await _state(chat) == ([(1, SuggestionStatus.DROPPED)], [(1, ActionStatus.OPEN, "bob", False)])
    [listing] = await chat.command("suggestions #1")
    assert "1.S1" in listing.text and "dropped" in listing.text and listing.items == ()


async def test_bad_references_are_explained(sqlite_chat: Chat, fake_model: FakeOpenAI) -> None:
    await _drafted(sqlite_chat)

    [bad] = await sqlite_chat.command("suggestion accept 1.X1 <@bob> 2026-12-15")
    [missing] = await sqlite_chat.command("suggestion drop 1.S9")
    [verb] = await sqlite_chat.command("suggestion keep 1.S1")

    assert bad.kind == ReplyKind.ERROR and "12.S1" in bad.text
    assert missing.kind == ReplyKind.ERROR and "no suggestion 1.S9" in missing.text
    assert verb.kind == ReplyKind.ERROR and "suggestion accept" in verb.text
    assert (await _state(sqlite_chat))[0] == [(1, SuggestionStatus.PENDING)]


async def test_suggestions_lists_the_pending_ones_with_buttons(
    sqlite_chat: Chat, fake_model: FakeOpenAI
) -> None:
    await _drafted(sqlite_chat)

    [listing] = await sqlite_chat.command("suggestions 1")

    [item] = listing.items
    assert item.ref == "1.S1" and [c.label for c in item.choices] == ["Accept", "Drop"]
