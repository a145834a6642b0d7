"""What must never happen: forged requests applied, retries applied twice, a crowd pinged,
an acknowledgement kept waiting by Slack's Web API or by slow follow-up work."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import select

from bot.commands import CommandContext, command
from bot.config import Settings
from bot.jobs import job
from bot.messages import Reply
from storage.db import Database
from storage.models import RawAnswer, Tenant
from tests.slack.conftest import CHANNEL, Harness, serving
from tests.slack.support import BOT_USER, SIGNING_SECRET

GATES: dict[str, asyncio.Event] = {}  # made in each test: an Event belongs to one event loop


@job("test-slow-draft")
async def slow_draft(
    db: Database, tenant: str, argument: str, settings: Settings, *, now: dt.datetime
) -> list[Reply]:
    await GATES["draft"].wait()
    return [Reply(f"Redrafted case #{argument} with more care.")]


@command("slowdraft", usage="slowdraft", summary="(tests) a reply with slow follow-up work")
async def slowdraft_command(ctx: CommandContext, args: str) -> list[Reply]:
    return [Reply("Drafting in the background…", followup=f"test-slow-draft:{args or '1'}")]


async def _stored(db: Database) -> tuple[int, int]:
    async with db.transaction() as session:
        tenants = len((await session.exec(select(Tenant))).all())
        answers = len((await session.exec(select(RawAnswer))).all())
    return tenants, answers


async def test_forged_and_stale_signatures_get_401_and_store_nothing(harness: Harness) -> None:
    h = harness
    body = h.sender.command_body("Forged outage")
    forged = await h.sender.post(body, "application/x-www-form-urlencoded", secret="not-the-secret")
    stale = await h.sender.post(body, "application/x-www-form-urlencoded", age_seconds=60 * 10)
    event = h.sender.event_body(h.sender.reply_event("SEV1", thread_ts="1.0"))
    forged_event = await h.sender.post(event, "application/json", secret=SIGNING_SECRET + "x")
    await h.settle()

    assert (forged.status, stale.status, forged_event.status) == (401, 401, 401)
    assert await _stored(h.db) == (0, 0)
    assert [c.method for c in h.standin.calls] == ["auth.test"]  # the startup check, nothing else


async def at_symptoms(h: Harness, title: str, *, severity: str = "SEV3", area: str = "storage") -> str:
    """Start a postmortem and answer up to its symptoms question (which collects); the root's ts."""
    await h.sender.command(title)
    await h.settle()
    root = h.root()
    await h.click(h.last_question(root), severity)
    await h.click(h.last_question(root), area)
    await h.say(root, "skip", "skip", "skip", "skip", "skip")
    return root


async def test_a_retried_event_is_applied_once(harness: Harness) -> None:
    h = harness
    root = await at_symptoms(h, "Disk full on db-3")
    answer = h.sender.reply_event("Writes failing with ENOSPC", thread_ts=root)
    first = await h.sender.event(answer, event_id="EvRETRIED1")
    await h.settle()
    retried = await h.sender.event(answer, event_id="EvRETRIED1", retry=1)
    again = await h.sender.event(answer, event_id="EvRETRIED1", retry=2)
    await h.settle()

    assert (first.status, retried.status, again.status) == (200, 200, 200)
    [case] = await h.cases()
    assert case.symptoms == ["Writes failing with ENOSPC"]
    assert sum("_1 so far._" in c.text() for c in h.standin.called("chat.update")) == 1
    assert not any("_2 so far._" in c.text() for c in h.standin.called("chat.update"))


async def test_a_message_under_the_bots_own_user_is_never_taken_as_an_answer(harness: Harness) -> None:
    h = harness
    root = await at_symptoms(h, "Queue backlog on ingest")
    # (a post of ours that arrives without its bot_id, as bolt's self-event rule guards against)
    ours = await h.sender.say("- Symptoms so far: none", thread_ts=root, user=BOT_USER, channel=CHANNEL)
    await h.settle()

    assert ours.status == 200
    [case] = await h.cases()
    assert case.symptoms == []
    assert not any("so far._" in c.text() for c in h.standin.called("chat.update"))


async def test_a_retry_that_reaches_another_server_is_applied_once(harness: Harness) -> None:
    """Applied events are recorded in the database, not in a process: Slack's retry reaching a
    second replica (or this one after a restart) is not applied again."""
    h = harness
    root = await at_symptoms(h, "Disk full on db-4")
    answer = h.sender.reply_event("Writes failing with ENOSPC", thread_ts=root)
    await h.sender.event(answer, event_id="EvREPLICA1")
    await h.settle()

    async with serving(h.db, h.standin) as replica:
        retried = await replica.sender.event(answer, event_id="EvREPLICA1", retry=1)
        fresh = await replica.sender.say("Replica lag alerts", thread_ts=root)  # new ones are applied
        await replica.settle()

    assert (retried.status, fresh.status) == (200, 200)
    [case] = await h.cases()
    assert case.symptoms == ["Writes failing with ENOSPC", "Replica lag alerts"]
    assert not any("_3 so far._" in c.text() for c in h.standin.called("chat.update"))


async def test_a_redelivered_slash_command_opens_one_case(harness: Harness) -> None:
    h = harness
    body = h.sender.command_body("Delivered twice")
    await h.sender.post(body, "application/x-www-form-urlencoded")
    await h.settle()
    await h.sender.post(body, "application/x-www-form-urlencoded")
    await h.settle()

    assert len(await h.cases()) == 1
    roots = [c for c in h.standin.called("chat.postMessage") if not c.params.get("thread_ts")]
    # The second delivery is recognised in the inbox before anything is posted: one root.
    assert len(roots) == 1 and not h.standin.called("chat.delete")


async def test_a_broadcast_in_an_answer_is_never_echoed_as_one(harness: Harness) -> None:
    h = harness
    root = await at_symptoms(h, "Checkout down <!here>", severity="SEV1", area="network")
    # Slack escapes what people type: `&`, `<` and `>` arrive as entities.
    await h.say(
        root, "<!channel> saw 502s &amp; timeouts &lt;script&gt;, told @everyone and <!subteam^S1|@oncall>"
    )
    await h.say(root, "status")

    said = h.standin.everything_said()
    for crowd in ("<!channel>", "<!here>", "<!everyone>", "<!subteam"):
        assert crowd not in said
    for word in ("@channel", "@here", "@everyone"):
        assert word not in said.replace("@\u2060", "@*")
    assert "&lt;script&gt;" in said and "&amp; timeouts" in said and "<script>" not in said
    [case] = await h.cases()
    assert case.symptoms == ["@channel saw 502s & timeouts <script>, told @everyone and @oncall"]
    assert case.title == "Checkout down @here"


async def test_a_slow_web_api_never_delays_the_ack(harness: Harness) -> None:
    h = harness
    held = h.standin.hold("chat.postMessage")
    response = await asyncio.wait_for(h.sender.command("Slow Slack"), timeout=5)
    assert response.status == 200
    await h.until(lambda: bool(h.standin.called("chat.postMessage")))
    assert not h.standin.called("chat.update")
    held.set()
    await h.settle()
    assert h.standin.called("chat.update")


async def test_slow_follow_up_work_never_delays_the_ack(harness: Harness) -> None:
    h = harness
    GATES["draft"] = release = asyncio.Event()
    response = await asyncio.wait_for(h.sender.command("slowdraft 7"), timeout=5)
    assert response.status == 200
    await h.until(lambda: bool(h.standin.responses))
    assert [r["text"] for r in h.standin.responses] == ["Drafting in the background…"]
    release.set()
    await h.settle()
    assert h.standin.responses[-1]["text"] == "Redrafted case #7 with more care."


async def test_a_channel_the_bot_cannot_post_in(harness: Harness) -> None:
    h = harness
    h.standin.fail("chat.postMessage", "not_in_channel")
    await h.sender.command("Joined automatically")
    await h.settle()
    assert h.standin.called("conversations.join", channel=CHANNEL)
    assert len(await h.cases()) == 1

    h.standin.fail("chat.postMessage", "channel_not_found", when=lambda p: p.get("channel") == "G0PRIVATE")
    await h.sender.command("In a private channel", channel="G0PRIVATE")
    await h.settle()
    assert "Add me to it" in h.standin.responses[-1]["text"]
    assert h.standin.responses[-1]["response_type"] == "ephemeral"
    assert len(await h.cases()) == 1
