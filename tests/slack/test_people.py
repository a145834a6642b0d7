"""People beyond the thread: invited responders in their DMs, App Home, actions from buttons,
commands by mention and in a DM."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlmodel import col, select

from storage.models import Case, Person, PreventionAction
from tests.conftest import Chat
from tests.slack.conftest import CHANNEL, SLACK_NOW, Harness
from tests.slack.support import BOT_USER, TEAM, Call


def dm_posts(h: Harness, user: str) -> list[Call]:
    return h.standin.posts(channel="D" + user.lstrip("U"))


async def test_invited_responders_answer_in_their_dm(harness: Harness) -> None:
    h = harness
    await h.sender.command("Checkout 502s")
    await h.settle()
    await h.sender.command("invite <@UBOB|bob> <@UCAROL|carol>")
    await h.settle()

    assert "Invited @Bob, @Carol" in h.standin.responses[-1]["text"]
    assert h.standin.responses[-1]["response_type"] == "ephemeral"
    [bob_question] = dm_posts(h, "UBOB")
    assert "asked for *your view* of postmortem *#1*" in bob_question.text()
    assert len(dm_posts(h, "UCAROL")) == 1

    await h.sender.dm("- 502s on checkout-api\n- a page at 14:02", user="UBOB")
    await h.settle()
    await h.click(dm_posts(h, "UBOB")[-1], "Skip", user="UBOB")
    await h.sender.dm("The DB CPU alarm — cost: 10 min", user="UBOB")
    await h.settle()

    [case] = await h.cases()
    assert case.symptoms == ["@Bob: 502s on checkout-api", "@Bob: a page at 14:02"]
    assert case.misjudgments == [{"kind": "signal", "text": "@Bob: The DB CPU alarm", "cost": "10 min"}]
    assert "That's all for case #1" in dm_posts(h, "UBOB")[-1].text()
    assert "@Bob added their view to case #1" in dm_posts(h, "UALICE")[-1].text()
    # Bob's DM is plain commands again once he is done.
    await h.sender.dm("help", user="UBOB")
    await h.settle()
    assert "turns an incident into a clinical case" in dm_posts(h, "UBOB")[-1].text()


async def published_case(h: Harness, title: str = "Queue backlog") -> None:
    """Case #1, led by Alice, with actions 1.1 and 1.2 owned by Bob (written through the core)."""
    chat = Chat(h.db, platform="slack", tenant=TEAM, key=f"{CHANNEL}:1690000000.000100")
    chat.now = SLACK_NOW - dt.timedelta(minutes=30)
    await chat.command(f"postmortem {title}", user="UALICE")
    script = [
        "SEV3",
        "capacity",
        "skip",
        "skip",
        "skip",
        "skip",
        "skip",
        "Lag grew",
        "done",
        "skip",
        "skip",
        "skip",
    ]
    script += ["Checked consumer lag", "done", "Too few consumers", "skip"]
    for n in (1, 2):
        script += [f"Action {n}", "<@UBOB>", "in 2 weeks", "detect", "none"]
    script += ["done", "confirm", "yes"]
    for text in script:
        await chat.send(text, user="UALICE")
    async with h.db.transaction() as session:
        assert (await session.exec(select(Case))).one().status == "published"


def home_of(h: Harness, user: str) -> Call:
    return h.standin.called("views.publish", user_id=user)[-1]


async def test_app_home_and_done_snooze_reassign_from_its_buttons(harness: Harness) -> None:
    h = harness
    await published_case(h)
    await h.sender.event({"type": "app_home_opened", "user": "UBOB", "channel": "DBOB", "tab": "home"})
    await h.settle()
    home = home_of(h, "UBOB")
    assert "*Your open prevention actions* (2)" in home.text()
    assert "*#1* Queue backlog · SEV3 · published, 2 open action(s)" in home.text()

    await h.click(home, "Snooze a week", user="UBOB")  # the first item's: action 1.1
    assert "`1.1` snoozed until" in home_of(h, "UBOB").text()

    await h.click(home_of(h, "UBOB"), "Done", user="UBOB")  # the first item still is 1.1
    closing = h.standin.called("views.open")[-1]
    assert closing.params["view"]["title"]["text"] == "Close the action"
    await h.sender.submit(
        closing, {"evidence": {"type": "plain_text_input", "value": "https://grafana/d/lag"}}, user="UBOB"
    )
    await h.settle()
    assert "✅ `1.1` is done" in home_of(h, "UBOB").text()
    assert "closed by @Bob" in dm_posts(h, "UALICE")[-1].text()

    await h.click(home_of(h, "UBOB"), "Reassign", user="UBOB")  # now 1.2
    handing = h.standin.called("views.open")[-1]
    await h.sender.submit(
        handing, {"owner": {"type": "users_select", "selected_user": "UCAROL"}}, user="UBOB"
    )
    await h.settle()

    async with h.db.transaction() as session:
        actions = (await session.exec(select(PreventionAction).order_by(col(PreventionAction.number)))).all()
        people = {p.id: p.platform_user_id for p in (await session.exec(select(Person))).all()}
    assert (actions[0].status, actions[0].evidence) == ("done", "https://grafana/d/lag")
    assert actions[0].snoozed_until is None
    assert people[actions[1].owner_id or 0] == "UCAROL"
    assert "handed you prevention action `1.2`" in dm_posts(h, "UCAROL")[-1].text()
    assert "*Your open prevention actions*\nNone." in home_of(h, "UBOB").text()


async def test_a_listing_only_for_the_caller_and_its_buttons(harness: Harness) -> None:
    h = harness
    await published_case(h)
    await h.sender.command("actions", user="UBOB")
    await h.settle()
    listing = h.standin.responses[-1]
    assert listing["response_type"] == "ephemeral" and "Your open actions" in listing["text"]

    shown = Call(
        "chat.postEphemeral", {**listing, "channel": CHANNEL}, None, {"message_ts": f"{time.time():.6f}"}
    )
    await h.click(shown, "Snooze a week", user="UBOB", ephemeral=True)

    assert "snoozed until" in h.standin.responses[-1]["text"]
    assert h.standin.responses[-1]["response_type"] == "ephemeral"
    async with h.db.transaction() as session:
        snoozed = (await session.exec(select(PreventionAction).where(PreventionAction.number == 1))).one()
    assert snoozed.snoozed_until == SLACK_NOW.date() + dt.timedelta(weeks=1)


def mention(text: str, *, ts: str, thread_ts: str | None = None, user: str = "UALICE") -> dict[str, Any]:
    event = {"type": "app_mention", "channel": CHANNEL, "user": user, "text": text, "ts": ts, "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


async def test_a_mention_starts_an_interview_under_itself_and_answers_in_it(harness: Harness) -> None:
    h = harness
    await h.sender.event(mention(f"<@{BOT_USER}> postmortem Kafka lag", ts="1700000500.000100"))
    await h.settle()
    thread = "1700000500.000100"
    assert "How severe was it?" in h.thread(thread)[-1].text()

    # Slack sends both a message event and an app_mention for "@Casebook SEV2" in the thread.
    said = h.sender.reply_event(f"<@{BOT_USER}> SEV2", thread_ts=thread)
    await h.sender.event(said)
    await h.sender.event(mention(f"<@{BOT_USER}> SEV2", ts=said["ts"], thread_ts=thread))
    await h.settle()

    [case] = await h.cases()
    assert case.severity == "SEV2"
    assert sum("capability area" in c.text() for c in h.thread(thread)) == 1
    await h.sender.event(mention(f"<@{BOT_USER}> list", ts="1700000600.000100"))
    await h.settle()
    listing = h.standin.called("chat.postEphemeral")[-1]  # only for the one who asked
    assert "*Open cases*" in listing.text() and listing.params["thread_ts"] == "1700000600.000100"


async def test_a_case_shown_under_a_message_leaves_that_message_alone(harness: Harness) -> None:
    """Only a publication marks a thread's root as published, not a case that merely says so."""
    h = harness
    await published_case(h, title="Status page is published with stale assets")
    await h.sender.event(mention(f"<@{BOT_USER}> show #1", ts="1700000700.000100"))
    await h.settle()

    [shown] = h.thread("1700000700.000100")
    assert "Status page is published" in shown.text()
    assert not h.standin.called("chat.update")


async def test_names_and_zones_come_from_users_info_once_per_person(harness: Harness) -> None:
    h = harness
    await h.sender.command("Cache check")
    await h.settle()
    root = h.root()
    await h.say(root, "SEV2", "network")
    await h.say(root, "api, edge", "yesterday 10:00", user="UBOB")

    assert sorted(c.params["user"] for c in h.standin.called("users.info")) == ["UALICE", "UBOB"]
    async with h.db.transaction() as session:
        people = {p.platform_user_id: p for p in (await session.exec(select(Person))).all()}
    assert (people["UBOB"].display_name, people["UBOB"].timezone) == ("Bob", "America/New_York")


async def test_chatter_outside_interviews_costs_no_rows(harness: Harness) -> None:
    h = harness
    await h.sender.event(h.sender.reply_event("lunch?", thread_ts="1690000000.000900"))
    await h.sender.event({**h.sender.reply_event("top-level chatter", thread_ts=""), "thread_ts": None})
    await h.settle()
    async with h.db.transaction() as session:
        assert (await session.exec(select(Person))).all() == []
    assert [c.method for c in h.standin.calls] == ["auth.test"]
