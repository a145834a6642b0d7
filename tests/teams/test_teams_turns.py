"""What happens around a turn: follow-up jobs after the response, and the error boundary."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest
from botbuilder.schema import Activity
from sqlmodel import select

from adapters.teams.config import TeamsSettings
from adapters.teams.inbound import PLATFORM
from bot import commands
from bot.commands import CommandContext, command
from bot.config import Settings
from bot.jobs import job
from bot.messages import Reply, ReplyKind
from bot.outbox import reply_payload
from storage import outbox
from storage.db import Database
from storage.models import Case, OutboxEntry
from tests.teams.activities import BOB, CHANNEL_ID, TENANT
from tests.teams.conftest import Bot, serve_bot


@job("teams-test-draft")
async def _draft_job(
    db: Database, tenant: str, argument: str, settings: Settings, *, now: dt.datetime
) -> list[Reply]:
    if argument == "explode":
        raise RuntimeError("the model endpoint fell over")
    return [
        Reply(f"The drafted write-up of case #{argument} is ready.", ReplyKind.INFO),
        Reply(f"Case #{argument} needs your review.", ReplyKind.NOTICE, to_user=BOB.id),
    ]


NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
GATE: dict[str, asyncio.Event] = {}  # a fresh event per test: each test has its own loop


@job("teams-test-slow")
async def _slow_job(
    db: Database, tenant: str, argument: str, settings: Settings, *, now: dt.datetime
) -> list[Reply]:
    await GATE["responded"].wait()  # goes on only once the test has the HTTP answer in hand
    return [Reply(f"Slow work {argument} finished.", ReplyKind.INFO)]


@pytest.fixture
def slow_command() -> Iterator[str]:
    """A command whose reply names a follow-up job, registered through the grammar's own
    decorator for this test only."""

    async def handler(ctx: CommandContext, args: str) -> list[Reply]:
        return [Reply("On it; this takes a while.", ReplyKind.INFO, followup="teams-test-slow:42")]

    command("teams-test-slow", usage="teams-test-slow", summary="test only")(handler)
    GATE["responded"] = asyncio.Event()
    try:
        yield "teams-test-slow"
    finally:
        commands.COMMANDS.pop("teams-test-slow", None)
        commands._LOOKUP.pop("teams-test-slow", None)


async def test_a_reply_s_follow_up_runs_after_the_http_answer(bot: Bot, slow_command: str) -> None:
    post = bot.teams.channel_post(slow_command)
    chain = f"{CHANNEL_ID};messageid={post['id']}"
    assert await bot.post(post) == 200
    assert [s.text for s in bot.connector.to(chain)] == ["On it; this takes a while."]
    GATE["responded"].set()
    await bot.runtime.background.drain()
    assert [s.text for s in bot.connector.to(chain)] == [
        "On it; this takes a while.",
        "Slow work 42 finished.",
    ]


async def test_follow_up_jobs_post_into_the_same_reply_chain_after_the_turn(bot: Bot) -> None:
    post = bot.teams.channel_post("postmortem Slow search")
    assert await bot.post(post) == 200
    assert await bot.post(bot.teams.bot_added_to_team()) == 200  # lets the bot open a 1:1 with Bob
    activity = Activity().deserialize(bot.teams.channel_reply(post["id"], "SEV3"))
    mark = len(bot.connector.sent)

    jobs = ("teams-test-draft:1", "teams-test-draft:explode", "no-such-job:1")
    async with bot.db.transaction() as session:  # job rows, as a turn writes them
        await outbox.add(
            session,
            platform=PLATFORM,
            tenant=TENANT,
            conversation_key="chain",
            kind=outbox.JOB,
            payloads=[{"job": key, "place": {"activity": activity.serialize()}} for key in jobs],
            at=activity.timestamp or NOW,
        )
    bot.runtime.conveyor.kick(TENANT, "chain")
    await bot.runtime.background.drain()

    sent = bot.connector.sent[mark:]
    chain = f"{CHANNEL_ID};messageid={post['id']}"
    in_chain = [s.text for s in sent if s.conversation_id == chain]
    assert sorted(in_chain) == [  # independent jobs: each one's replies in order, not one after another
        "The drafted write-up of case #1 is ready.",
        "⚠️ A background step failed; the case itself is saved.",
    ]
    assert [s.text for s in sent if s.conversation_id == f"a:personal-{BOB.id}"] == [
        "Case #1 needs your review."
    ]
    async with bot.db.sessions() as session:
        rows = (await session.exec(select(OutboxEntry).where(OutboxEntry.kind == outbox.JOB))).all()
    assert sorted(r.outcome or "" for r in rows) == ["done", "done", "done"]


async def test_a_failed_turn_answers_500_keeps_the_answer_and_says_sorry(bot: Bot) -> None:
    post = bot.teams.channel_post("postmortem Cache stampede")
    assert await bot.post(post) == 200
    chain = f"{CHANNEL_ID};messageid={post['id']}"
    answer = bot.teams.channel_reply(post["id"], "SEV2")
    # The connector fails while the bot sends its reply: the question card's update (its record
    # line, which the connector client tries three times), then the post that stands in for it.
    for _ in range(4):
        bot.connector.fail_next(chain, 500)

    assert await bot.post(answer) == 500

    apology = bot.connector.sent[-1]
    assert apology.conversation_id == chain and "Something went wrong on my side" in apology.text
    async with bot.db.transaction() as session:
        assert (await session.exec(select(Case))).one().severity == "SEV2"  # applied before the send failed
    mark = len(bot.connector.sent)
    assert await bot.post(answer) == 200  # the Bot Framework's redelivery is not applied twice
    assert bot.connector.sent[mark:] == []


async def test_replies_left_in_the_outbox_are_sent_once_on_the_next_start(bot: Bot) -> None:
    """A crash after the answer's commit and before (or during) its send: the next process sends
    what was never tried, and leaves alone what may have landed."""
    post = bot.teams.channel_post("postmortem Disk full")
    assert await bot.post(post) == 200
    activity = Activity().deserialize(bot.teams.channel_reply(post["id"], "SEV3"))
    place = {"activity": activity.serialize()}
    async with bot.db.transaction() as session:
        unsent, cut_off = await outbox.add(
            session,
            platform=PLATFORM,
            tenant=TENANT,
            conversation_key="chain",
            kind=outbox.REPLY,
            payloads=[
                {"reply": reply_payload(Reply("Left in the outbox")), "place": place},
                {"reply": reply_payload(Reply("Was being sent")), "place": place},
            ],
            at=NOW,
        )
        await session.flush()
        assert cut_off.id is not None
        assert await outbox.claim(session, entry_id=cut_off.id, at=NOW)
    teams = TeamsSettings(dev_allow_unauthenticated=True, allowed_tenants=frozenset({TENANT})).validate()
    for _ in range(2):  # the second start finds nothing left
        async for again in serve_bot(bot.db, bot.connector, teams):
            await again.runtime.background.drain()
    texts = [s.text for s in bot.connector.sent]
    assert texts.count("Left in the outbox") == 1 and "Was being sent" not in texts
    async with bot.db.sessions() as session:
        outcomes = {r.id: r.outcome for r in (await session.exec(select(OutboxEntry))).all()}
    assert (outcomes[unsent.id], outcomes[cut_off.id]) == ("sent", "unknown")
