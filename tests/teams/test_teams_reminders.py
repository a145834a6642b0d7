"""The weekly digest delivered proactively through TeamsNotifier, and worked from the DM:
Done / Snooze / Reassign are card buttons that come back over /api/messages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import select

from bot.commands.actions import action_item
from bot.messages import Reply, ReplyKind
from storage import repo
from storage.models import ActionStatus, Case, CaseStatus, ConversationRef, Person, PreventionAction
from tests.teams.activities import ALICE, BOB, BOT_ID, CAROL, CHANNEL_ID, NOW, OTHER_TENANT, TENANT, submitted
from tests.teams.conftest import Bot
from tests.teams.standins import Sent

TODAY = NOW.date()


async def _install_and_seed(bot: Bot) -> None:
    """The app added to a team (a stored channel reference), and a published case whose
    two open actions Bob owns; Alice led it."""
    mark = len(bot.connector.sent)
    assert await bot.post(bot.teams.bot_added_to_team()) == 200
    welcome = bot.connector.since(mark)
    assert [s.conversation_id for s in welcome] == [CHANNEL_ID] and "postmortem <title>" in welcome[0].text
    async with bot.db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="teams", external_id=TENANT)
        assert tenant.id is not None
        alice = await repo.person(
            session, now=NOW, tenant_id=tenant.id, user_id=ALICE.id, display_name=ALICE.name
        )
        bob = await repo.person(session, now=NOW, tenant_id=tenant.id, user_id=BOB.id, display_name=BOB.name)
        case = Case(
            tenant_id=tenant.id,
            number=7,
            title="Checkout 502s",
            status=CaseStatus.PUBLISHED,
            lead_id=alice.id,
            published_at=NOW - dt.timedelta(days=10),
            created_at=NOW - dt.timedelta(days=10),
            updated_at=NOW - dt.timedelta(days=10),
        )
        session.add(case)
        await session.flush()
        assert case.id is not None
        for number, text, due in (
            (1, "Alert on pgbouncer cl_waiting", TODAY - dt.timedelta(days=2)),
            (2, "Pool-size check in CI", TODAY + dt.timedelta(days=9)),
        ):
            session.add(
                PreventionAction(
                    tenant_id=tenant.id,
                    case_id=case.id,
                    number=number,
                    description=text,
                    owner_id=bob.id,
                    due_date=due,
                    kind="detect",
                    status=ActionStatus.OPEN,
                    assigned_at=NOW - dt.timedelta(days=10),
                    created_at=NOW - dt.timedelta(days=10),
                    updated_at=NOW - dt.timedelta(days=10),
                )
            )


async def _digest(bot: Bot, user_id: str) -> list[Reply]:
    """The digest as the reminder sweep builds it: one ListItem per open action."""
    async with bot.db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="teams", external_id=TENANT)
        owner = await repo.person(session, now=NOW, tenant_id=tenant.id or 0, user_id=user_id)
        rows = await repo.open_actions(session, tenant_id=tenant.id or 0, owner_id=owner.id)
    items = tuple(action_item(case, action, today=TODAY) for case, action in rows)
    return [Reply(f"**Your open prevention actions** ({len(items)})", ReplyKind.LIST, items=items)]


def _item_action(card: dict[str, Any], ref: str, title: str) -> dict[str, Any]:
    for element in card["body"]:
        if element.get("type") == "Container" and f"“{ref}”" in element["items"][0]["text"]:
            actions = element["items"][-1]["actions"]
            return next(a for a in actions if a["title"] == title)
    raise AssertionError(f"no item {ref} in the card")


async def _press(bot: Bot, dm: Sent, ref: str, title: str, user: Any = BOB, **inputs: str) -> list[str]:
    assert dm.card is not None
    value = submitted(_item_action(dm.card, ref, title), **inputs)
    return await bot.say(bot.teams.submit(dm.conversation_id, dm.id, value, user=user))


async def _action(bot: Bot, number: int) -> PreventionAction:
    async with bot.db.transaction() as session:
        return (await session.exec(select(PreventionAction).where(PreventionAction.number == number))).one()


async def test_the_weekly_digest_reaches_the_owner_and_works_from_the_dm(bot: Bot) -> None:
    await _install_and_seed(bot)
    bot.connector.members[CAROL.aad] = CAROL.member()
    notifier = bot.runtime.notifier

    result = await notifier.send_direct(tenant=TENANT, user_id=BOB.id, replies=await _digest(bot, BOB.id))

    assert result.ok, result.error
    created = bot.connector.created()
    assert len(created) == 1
    assert created[0].body["members"] == [{"id": BOB.id}]
    assert created[0].body["bot"]["id"] == BOT_ID
    assert created[0].body["channelData"] == {"tenant": {"id": TENANT}}
    personal = f"a:personal-{BOB.id}"
    [dm] = bot.connector.to(personal)
    assert "Your open prevention actions** (2)" in dm.text and "overdue" in dm.text
    assert dm.card is not None
    for ref in ("7.1", "7.2"):
        assert {a["title"] for a in dm.card["body"][-1 if ref == "7.2" else -2]["items"][-1]["actions"]} == {
            "Done",
            "Snooze a week",
            "Reassign",
        }

    said = await _press(bot, dm, "7.1", "Snooze a week")
    assert any("snoozed until 2026-11-27" in t for t in said)
    assert (await _action(bot, 1)).snoozed_until == dt.date(2026, 11, 27)

    mark = len(bot.connector.sent)
    said = await _press(bot, dm, "7.2", "Done", evidence="https://ci.example/run/4812")
    assert any("is done" in t and "https://ci.example/run/4812" in t for t in said)
    done = await _action(bot, 2)
    assert (done.status, done.evidence) == (ActionStatus.DONE, "https://ci.example/run/4812")
    lead_dm = [s for s in bot.connector.sent[mark:] if s.conversation_id == f"a:personal-{ALICE.id}"]
    assert len(lead_dm) == 1 and "was closed by @Bob Smith" in lead_dm[0].text  # the case lead hears of it

    refused = await _press(bot, dm, "7.1", "Reassign", owner="00000000-0000-4000-8000-000000000000")
    assert any("couldn't find that person" in t for t in refused)
    said = await _press(bot, dm, "7.1", "Reassign", owner=CAROL.aad)
    assert any("now belongs to @Carol Diaz" in t for t in said)
    [carol_dm] = bot.connector.to(f"a:personal-{CAROL.id}")
    assert "handed you prevention action `7.1`" in carol_dm.text
    async with bot.db.transaction() as session:
        owner = (
            await session.exec(select(Person).where(Person.id == (await _action(bot, 1)).owner_id))
        ).one()
    assert (owner.platform_user_id, owner.display_name) == (CAROL.id, "Carol Diaz")

    # Next week: the stored 1:1 chat is continued, no new conversation is created.
    created_before = len(bot.connector.created())
    result = await notifier.send_direct(tenant=TENANT, user_id=CAROL.id, replies=await _digest(bot, CAROL.id))
    assert result.ok
    assert len(bot.connector.created()) == created_before
    assert "Your open prevention actions** (1)" in bot.connector.to(f"a:personal-{CAROL.id}")[-1].text


async def test_a_personal_chat_the_user_opened_is_used_for_the_digest(bot: Bot) -> None:
    await _install_and_seed(bot)
    personal = "a:1x7B0b-personal-chat"
    assert await bot.post(bot.teams.personal(personal, "hi", user=BOB)) == 200
    result = await bot.runtime.notifier.send_direct(
        tenant=TENANT, user_id=BOB.id, replies=await _digest(bot, BOB.id)
    )
    assert result.ok
    assert bot.connector.created() == []
    assert "Your open prevention actions" in bot.connector.to(personal)[-1].text


async def test_send_failures_are_reported_for_the_sweep_to_decide(bot: Bot) -> None:
    notifier = bot.runtime.notifier
    nothing_yet = await notifier.send_direct(tenant=TENANT, user_id=BOB.id, replies=[Reply("hello")])
    assert not nothing_yet.ok and not nothing_yet.retryable and "install" in (nothing_yet.error or "")

    await _install_and_seed(bot)
    bot.connector.fail_next("/v3/conversations", 503)
    outage = await notifier.send_direct(tenant=TENANT, user_id=BOB.id, replies=[Reply("hello")])
    assert not outage.ok and outage.retryable

    assert (await notifier.send_direct(tenant=TENANT, user_id=BOB.id, replies=[Reply("hello")])).ok
    personal = f"a:personal-{BOB.id}"
    attempts = len(bot.connector.to(personal))
    bot.connector.fail_next(personal, 429, {"Retry-After": "7"})
    throttled = await notifier.send_direct(tenant=TENANT, user_id=BOB.id, replies=[Reply("hello")])
    assert (throttled.ok, throttled.retryable, throttled.retry_after) == (False, True, 7.0)
    assert len(bot.connector.to(personal)) == attempts + 1, "the transport must not retry on its own"

    bot.connector.fail_next(personal, 403)
    blocked = await notifier.send_direct(tenant=TENANT, user_id=BOB.id, replies=[Reply("hello")])
    assert not blocked.ok and not blocked.retryable and "403" in (blocked.error or "")

    elsewhere = await notifier.send_direct(tenant=OTHER_TENANT, user_id=BOB.id, replies=[Reply("hello")])
    assert not elsewhere.ok and not elsewhere.retryable


async def test_the_install_is_remembered_per_channel_not_per_post(bot: Bot) -> None:
    await _install_and_seed(bot)
    assert await bot.post(bot.teams.channel_post("help")) == 200
    async with bot.db.transaction() as session:
        refs = (await session.exec(select(ConversationRef))).all()
    assert [(r.scope, r.conversation_id, r.team_id) for r in refs] == [
        ("channel", CHANNEL_ID, "19:Xq3bT2pmAwrrW7jWvJdqCgK9tJ0x8mLq@thread.tacv2")
    ]
    assert refs[0].reference["conversation"]["id"] == CHANNEL_ID
    assert refs[0].reference.get("activityId") is None


async def test_an_install_in_personal_scope_is_used_and_an_uninstall_forgotten(bot: Bot) -> None:
    personal = "a:1carol-personal-install"
    assert await bot.post(bot.teams.personal_install(personal, user=CAROL)) == 200
    notifier = bot.runtime.notifier
    assert (await notifier.send_direct(tenant=TENANT, user_id=CAROL.id, replies=[Reply("Weekly digest")])).ok
    assert [s.text for s in bot.connector.to(personal)] == ["Weekly digest"]

    assert await bot.post(bot.teams.personal_install(personal, user=CAROL, action="remove")) == 200
    gone = await notifier.send_direct(tenant=TENANT, user_id=CAROL.id, replies=[Reply("Weekly digest")])
    assert not gone.ok and "install" in (gone.error or "")
    assert len(bot.connector.to(personal)) == 1


async def test_the_clock_sweep_delivers_the_digest_through_teams(bot: Bot) -> None:
    """The real reminder sweep, with the Teams notifier as the platform's: one card a week."""
    from bot.reminders.sweep import sweep

    await _install_and_seed(bot)
    monday_nine = dt.datetime(2026, 11, 23, 9, 1, tzinfo=dt.UTC)
    notifiers = {"teams": bot.runtime.notifier}

    report = await sweep(bot.db, notifiers, clock=lambda: monday_nine)
    again = await sweep(bot.db, notifiers, clock=lambda: monday_nine + dt.timedelta(minutes=1))

    assert report.lines and not again.lines  # one digest for the week, not one per tick
    [dm] = bot.connector.to(f"a:personal-{BOB.id}")
    assert dm.card is not None and "Your prevention actions this week" in dm.text
    assert "7.1" in str(dm.card) and "7.2" in str(dm.card) and "overdue" in dm.text.lower()
