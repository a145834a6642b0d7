"""Done, cancel, snooze, reassign and require-evidence, with their permission checks.

Everything goes through bot.service.handle, as a chat platform would send it.
A refused change answers with an ERROR and leaves the action exactly as it was.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import select

from bot.messages import Reply, ReplyKind
from storage.db import Database, connect
from storage.models import Case, PreventionAction
from tests.reminder_fixtures import Seeded, press, seed_case

DUE = dt.date(2031, 1, 15)
# When the commands are typed: a chosen moment before every due date, on any day the suite runs.
TYPED_AT = dt.datetime(2030, 6, 3, 10, 0, tzinfo=dt.UTC)


async def say(db: Database, text: str, *, user: str, admin: bool = False, **kwargs: object) -> list[Reply]:
    return await press(db, text, user=user, admin=admin, at=TYPED_AT, **kwargs)  # type: ignore[arg-type]


async def action(db: Database, number: int) -> PreventionAction:
    async with db.transaction() as session:
        return (await session.exec(select(PreventionAction).where(PreventionAction.number == number))).one()


async def case_row(db: Database) -> Case:
    async with db.transaction() as session:
        return (await session.exec(select(Case))).one()


async def seeded(db: Database) -> Seeded:
    return await seed_case(db, owners=[("bob", DUE), ("carol", DUE), ("bob", None)])


def refused(replies: list[Reply], needle: str) -> bool:
    return len(replies) == 1 and replies[0].kind == ReplyKind.ERROR and needle in replies[0].text


async def unchanged(db: Database, number: int, before: PreventionAction) -> bool:
    after = await action(db, number)
    fields = ("status", "owner_id", "snoozed_until", "evidence", "closed_by_id", "updated_at")
    return all(getattr(after, f) == getattr(before, f) for f in fields)


async def test_the_owner_closes_with_evidence_and_the_lead_is_told(db: Database) -> None:
    s = await seeded(db)
    replies = await say(db, "/done 1.1 https://git.example/pr/42", user="bob")
    done = await action(db, 1)
    assert (done.status, done.evidence, done.closed_by_id) == (
        "done",
        "https://git.example/pr/42",
        s.people["bob"].id,
    )
    assert replies[0].kind == ReplyKind.INFO and "is done" in replies[0].text
    assert [(r.kind, r.to_user) for r in replies[1:]] == [(ReplyKind.NOTICE, "alice")]
    again = await say(db, "/done 1.1", user="bob")
    assert refused(again, "already done")


async def test_the_lead_and_an_admin_may_close_anyone_else_may_not(db: Database) -> None:
    await seeded(db)
    before = await action(db, 1)
    assert refused(
        await say(db, "/done 1.1", user="mallory"), "Only the owner of 1.1, the case lead or an admin"
    )
    assert await unchanged(db, 1, before)
    assert (await say(db, "/done 1.1 shipped", user="alice"))[0].kind == ReplyKind.INFO
    assert (await say(db, "/done 1.2 shipped", user="root", admin=True))[0].kind == ReplyKind.INFO
    assert [(await action(db, n)).status for n in (1, 2, 3)] == ["done", "done", "open"]


async def test_a_case_lead_can_require_evidence(db: Database) -> None:
    await seeded(db)
    assert refused(await say(db, "/require-evidence #1 on", user="bob"), "Only the lead of case #1")
    assert not (await case_row(db)).require_evidence
    replies = await say(db, "/require-evidence #1 on", user="alice")
    assert replies[0].kind == ReplyKind.INFO and (await case_row(db)).require_evidence
    before = await action(db, 1)
    assert refused(await say(db, "/done 1.1", user="bob"), "asks for evidence")
    assert await unchanged(db, 1, before)
    # The DM's Done button collects the evidence in a form.
    replies = await say(db, "/done 1.1", user="bob", form={"evidence": "runbook updated: https://wiki/x"})
    assert replies[0].kind == ReplyKind.INFO
    assert (await action(db, 1)).evidence == "runbook updated: https://wiki/x"
    assert refused(await say(db, "/require-evidence #1 maybe", user="alice"), "Say `on` or `off`")
    await say(db, "/require-evidence 1 off", user="root", admin=True)
    assert not (await case_row(db)).require_evidence
    assert "does not ask" in (await say(db, "/require-evidence #1", user="bob"))[0].text


async def test_cancel_needs_a_reason(db: Database) -> None:
    await seeded(db)
    before = await action(db, 2)
    assert refused(await say(db, "/cancel 1.2", user="carol"), "Say why")
    assert refused(await say(db, "/cancel 1.2 not needed", user="bob"), "Only the owner")
    assert await unchanged(db, 2, before)
    replies = await say(db, "/cancel 1.2 the service was decommissioned", user="carol")
    cancelled = await action(db, 2)
    assert (cancelled.status, cancelled.evidence) == ("cancelled", "the service was decommissioned")
    assert [r.to_user for r in replies if r.kind == ReplyKind.NOTICE] == ["alice"]


async def test_snooze_takes_a_date_ahead_and_only_from_those_allowed(db: Database) -> None:
    await seeded(db)
    before = await action(db, 1)
    assert refused(await say(db, "/snooze 1.1 yesterday", user="bob"), "")
    assert refused(await say(db, "/snooze 1.1 1w", user="carol"), "Only the owner")
    assert refused(await say(db, "/snooze 1.1 6 months", user="bob"), "at most three months")
    assert await unchanged(db, 1, before)
    await say(db, "/snooze 1.1 1w", user="bob")
    assert (await action(db, 1)).snoozed_until == TYPED_AT.date() + dt.timedelta(days=7)


async def test_reassign_tells_the_new_owner_and_the_previous_one(db: Database) -> None:
    s = await seeded(db)
    await say(db, "/snooze 1.1 2w", user="bob")
    before = await action(db, 1)
    assert refused(await say(db, "/reassign 1.1", user="alice", form={"owner": "bob"}), "already theirs")
    assert refused(await say(db, "/reassign 1.1 <@carol>", user="mallory"), "Only the owner")
    assert refused(await say(db, "/reassign 1.1", user="alice"), "to whom?")
    assert await unchanged(db, 1, before)
    # The lead presses Reassign in the escalation and picks carol in the form.
    replies = await say(db, "/reassign 1.1", user="alice", form={"owner": "carol"})
    moved = await action(db, 1)
    assert (moved.owner_id, moved.snoozed_until) == (s.people["carol"].id, None)
    notices = {r.to_user: r.text for r in replies if r.kind == ReplyKind.NOTICE}
    assert set(notices) == {"carol", "bob"}
    assert "handed you prevention action `1.1`" in notices["carol"]
    assert "leaves your weekly reminder" in notices["bob"]


async def test_an_unknown_action_is_a_friendly_error(db: Database) -> None:
    await seeded(db)
    assert refused(await say(db, "/done 9.9", user="bob"), "There is no action 9.9")
    assert refused(await say(db, "/done twelve", user="bob"), "Name an action as case.number")


async def test_done_and_cancel_at_the_same_moment_one_wins(db_url: str) -> None:
    first, second = connect(db_url), connect(db_url)
    try:
        await seeded(first)
        results = await asyncio.gather(
            say(first, "/done 1.1 fixed", user="bob"),
            say(second, "/cancel 1.1 obsolete", user="alice"),
        )
        kinds = sorted(replies[0].kind for replies in results)
        assert kinds == [ReplyKind.ERROR, ReplyKind.INFO]
        assert (await action(first, 1)).status in {"done", "cancelled"}
    finally:
        await first.dispose()
        await second.dispose()


async def test_evidence_is_added_to_a_done_action_and_refused_elsewhere(db: Database) -> None:
    await seeded(db)
    open_before = await action(db, 1)
    assert refused(await say(db, "/evidence 1.1 https://grafana.example/d/ct", user="bob"), "still open")
    assert await unchanged(db, 1, open_before)
    await say(db, "/done 1.1 https://git.example/pr/42", user="bob")
    replies = await say(db, "/evidence 1.1 https://grafana.example/d/ct", user="bob")
    assert replies[0].kind == ReplyKind.INFO and "Evidence added to `1.1`" in replies[0].text
    done = await action(db, 1)
    assert done.evidence == "https://git.example/pr/42\nhttps://grafana.example/d/ct"
    done_before = await action(db, 1)
    assert refused(await say(db, "/evidence 1.1 more", user="dave"), "Only the owner")
    assert refused(await say(db, "/evidence 1.1", user="bob"), "Give the evidence")
    assert await unchanged(db, 1, done_before)


async def test_a_form_button_on_a_closed_action_is_refused_before_the_form(db: Database) -> None:
    from bot.lifecycle import closed_before_form

    await seeded(db)
    assert await closed_before_form(db, platform="console", tenant="T1", value="/done 1.1") is None
    await say(db, "/done 1.1 https://git.example/pr/42", user="bob")
    refusal = await closed_before_form(db, platform="console", tenant="T1", value="/done 1.1")
    assert refusal is not None and refusal.ephemeral and refusal.kind == ReplyKind.ERROR
    assert refusal.text == "`1.1` is already done: there is nothing left to do."
    snooze = await closed_before_form(db, platform="console", tenant="T1", value="/snooze 1.1")
    assert snooze is not None and "nothing left to snooze" in snooze.text
    for other in ("/done 9.9", "/show 1", "/done", "/done x.y", "hello"):
        assert await closed_before_form(db, platform="console", tenant="T1", value=other) is None
    assert await closed_before_form(db, platform="console", tenant="T2", value="/done 1.1") is None
