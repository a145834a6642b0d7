"""What `casebook serve` leaves at a crash, the next process finishes: inbox rows written before
the acknowledgement are applied, outbox rows are sent once, jobs run again, and a send that was
under way is never repeated. A crash is simulated in-process: the after-ack work is cancelled
where it stands (as a kill would stop it), then a new app starts on the same database."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlmodel import col, select

from adapters.slack.delivery import Target
from adapters.slack.places import thread_key
from adapters.slack.runtime import PLATFORM
from bot.messages import Inbound, Reply
from bot.outbox import write_replies
from storage import outbox
from storage.db import Database
from storage.models import InboxEntry, OutboxEntry
from tests.slack.conftest import CHANNEL, Harness, serving
from tests.slack.support import TEAM, SlackStandIn
from tests.slack.test_safety import at_symptoms

NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def crash(h: Harness) -> None:
    """Stop every piece of after-ack work where it is, as SIGKILL would."""
    for task in list(h.service.runtime.work._tasks):
        task.cancel()


def noted(h: Harness, root: str, count: int) -> int:
    """How many times the symptoms question was updated to show `count` lines noted."""
    return sum(f"_{count} so far._" in c.text() for c in h.standin.called("chat.update"))


async def crash_while_waiting(
    h: Harness, method: str, event: dict[str, Any], sent: Callable[[], bool]
) -> None:
    """Send `event`, and crash once the `method` call it causes is out but not yet answered."""
    release = h.standin.hold(method)
    assert (await h.sender.event(event)).status == 200
    await h.until(sent)
    crash(h)
    release.set()
    await asyncio.sleep(0.05)
    h.standin.holds.clear()


async def rows(db: Database, model: type[InboxEntry] | type[OutboxEntry]) -> list[Any]:
    async with db.sessions() as session:
        return list((await session.exec(select(model).order_by(col(model.id)))).all())


def place(root: str) -> dict[str, object]:
    workspace = {"tenant": TEAM, "name": None, "bot_user_id": None}
    return {"workspace": workspace, "target": asdict(Target(user="UALICE", channel=CHANNEL, thread_ts=root))}


async def test_an_answer_acknowledged_before_a_crash_is_applied_on_restart(
    db: Database, standin: SlackStandIn, slack_env: None
) -> None:
    async with serving(db, standin) as h:
        root = await at_symptoms(h, "Disk full on db-7")
        release = standin.hold("users.info")  # Bob is new: the applier asks who he is first
        response = await h.sender.say("Writes failing with ENOSPC", thread_ts=root, user="UBOB")
        assert response.status == 200
        await h.until(lambda: bool(standin.called("users.info", user="UBOB")))
        crash(h)
        release.set()
        [pending] = [r for r in await rows(db, InboxEntry) if r.applied_at is None]
        assert pending.payload["text"] == "Writes failing with ENOSPC"
        [case] = await h.cases()
        assert case.symptoms == []

    async with serving(db, standin) as again:
        await again.settle()
        [case] = await again.cases()
        assert case.symptoms == ["Writes failing with ENOSPC"]
        assert noted(again, root, 1) == 1
        assert all(r.applied_at is not None for r in await rows(db, InboxEntry))


async def test_answers_left_in_the_inbox_are_applied_in_arrival_order(
    db: Database, standin: SlackStandIn, slack_env: None
) -> None:
    async with serving(db, standin) as h:
        root = await at_symptoms(h, "Queue backlog")
        release = standin.hold("users.info")
        for text in ("first symptom", "second symptom", "third symptom"):
            assert (await h.sender.say(text, thread_ts=root, user="UCAROL")).status == 200
        await h.until(lambda: bool(standin.called("users.info", user="UCAROL")))
        crash(h)
        release.set()

    async with serving(db, standin) as again:
        await again.settle()
        [case] = await again.cases()
        assert case.symptoms == ["first symptom", "second symptom", "third symptom"]
        # applied in one pass: the question's count is edited once, to its newest figure
        assert [noted(again, root, n) for n in (1, 2, 3)] == [0, 0, 1]


async def test_a_reply_left_unsent_is_sent_once_after_a_restart(
    db: Database, standin: SlackStandIn, slack_env: None
) -> None:
    async with serving(db, standin) as h:
        root = await at_symptoms(h, "Cache stampede")
    key = thread_key(CHANNEL, root)
    inbound = Inbound(platform=PLATFORM, tenant=TEAM, conversation_key=key, user_id="UALICE", at=NOW)
    async with db.transaction() as session:  # decided, committed, and then the process died
        await write_replies(
            session, inbound=inbound, replies=[Reply("Left in the outbox")], place=place(root)
        )

    for _ in range(2):  # the second start finds nothing left to send
        async with serving(db, standin) as again:
            await again.settle()
    assert sum("Left in the outbox" in c.text() for c in standin.posts(thread_ts=root)) == 1
    [row] = [
        r
        for r in await rows(db, OutboxEntry)
        if r.payload.get("reply", {}).get("text") == "Left in the outbox"
    ]
    assert row.outcome == "sent"


async def test_a_post_cut_off_by_a_crash_is_settled_at_most_once(
    db: Database, standin: SlackStandIn, slack_env: None
) -> None:
    async with serving(db, standin) as h:
        root = await at_symptoms(h, "TLS expiry")
        await h.say(root, "Handshakes failing")
        before = len(standin.posts(thread_ts=root))
        done = h.sender.reply_event("done", thread_ts=root, channel=CHANNEL)
        # the next question's post went out, its answer never came
        await crash_while_waiting(
            h, "chat.postMessage", done, lambda: len(standin.posts(thread_ts=root)) > before
        )

    async with serving(db, standin) as again:
        await again.settle()
        assert again.service.applier.conveyor.tally.at_most_once == 1
        assert len(standin.posts(thread_ts=root)) == before + 1  # not posted a second time
        [case] = await again.cases()
        assert case.symptoms == ["Handshakes failing"]
    outcomes = [r.outcome for r in await rows(db, OutboxEntry) if r.kind == outbox.REPLY]
    assert outcomes.count("unknown") == 1


async def test_a_question_edit_cut_off_by_a_crash_is_made_again(
    db: Database, standin: SlackStandIn, slack_env: None
) -> None:
    """The count edit's message was found when the answer was applied: editing it again into
    the same text shows nothing twice, so it is repeated, not settled at-most-once."""
    async with serving(db, standin) as h:
        root = await at_symptoms(h, "TLS expiry")
        sent = h.sender.reply_event("Handshakes failing", thread_ts=root, channel=CHANNEL)
        await crash_while_waiting(h, "chat.update", sent, lambda: noted(h, root, 1) == 1)

    async with serving(db, standin) as again:
        await again.settle()
        assert again.service.applier.conveyor.tally.at_most_once == 0
        assert noted(again, root, 1) == 2  # the cut-off edit and the same edit again
        [case] = await again.cases()
        assert case.symptoms == ["Handshakes failing"]
    outcomes = [r.outcome for r in await rows(db, OutboxEntry) if r.kind == outbox.REPLY]
    assert "unknown" not in outcomes


async def test_a_reaction_cut_off_by_a_crash_is_added_again(
    db: Database, standin: SlackStandIn, slack_env: None
) -> None:
    """A reaction is the one reply Slack takes twice without showing it twice (the second
    reactions.add answers already_reacted): resent, not settled at-most-once."""
    async with serving(db, standin) as h:
        root = await at_symptoms(h, "Conntrack table full")
        event = h.sender.reply_event("- SYN retries climbing", thread_ts=root, channel=CHANNEL)
        await crash_while_waiting(h, "reactions.add", event, lambda: bool(standin.called("reactions.add")))

    async with serving(db, standin) as again:
        await again.settle()
        assert again.service.applier.conveyor.tally.at_most_once == 0
        assert noted(again, root, 1) == 1  # the count edit was never sent before: sent once now
    on_the_line = [c for c in standin.called("reactions.add") if c.params.get("timestamp") == event["ts"]]
    assert len(on_the_line) == 2  # the cut-off call and the one after the restart
    outcomes = [r.outcome for r in await rows(db, OutboxEntry) if r.kind == outbox.REPLY]
    assert "unknown" not in outcomes


async def test_a_follow_up_job_cut_off_by_a_crash_runs_again(
    db: Database, standin: SlackStandIn, slack_env: None
) -> None:
    async with serving(db, standin) as h:
        root = await at_symptoms(h, "Stale cache")
    key = thread_key(CHANNEL, root)
    async with db.transaction() as session:  # claimed by a process that then died mid-job
        await outbox.add(
            session,
            platform=PLATFORM,
            tenant=TEAM,
            conversation_key=key,
            kind=outbox.JOB,
            payloads=[{"job": "ledger-chart:2026-12-01", "place": place(root)}],
            at=NOW,
        )
        await session.flush()
        [job] = [
            r
            for r in (await session.exec(select(OutboxEntry))).all()
            if r.kind == outbox.JOB and r.payload["job"].startswith("ledger-chart")
        ]
        assert job.id is not None
        assert await outbox.claim(session, entry_id=job.id, at=NOW)

    async with serving(db, standin) as again:
        await again.settle()
        await again.settle()
    [job] = [r for r in await rows(db, OutboxEntry) if r.kind == outbox.JOB and "ledger" in r.payload["job"]]
    assert job.outcome == "done"
    assert len(standin.called("files.completeUploadExternal")) == 1  # the chart, once


async def test_a_burst_of_list_lines_edits_its_question_once_a_pass(
    db: Database, standin: SlackStandIn, slack_env: None
) -> None:
    """Lines that wait together are applied in one pass, each with its reaction; the question's
    count is edited once, to its newest figure (Slack limits chat.update per channel)."""
    async with serving(db, standin) as h:
        root = await at_symptoms(h, "Queue backlog")
        release = standin.hold("users.info")  # the first line waits, the next ones queue behind it
        lines = ("first symptom", "second symptom", "third symptom", "fourth symptom")
        assert (await h.sender.say(lines[0], thread_ts=root, user="UCAROL")).status == 200
        await h.until(lambda: bool(standin.called("users.info", user="UCAROL")))
        for text in lines[1:]:
            assert (await h.sender.say(text, thread_ts=root, user="UCAROL")).status == 200
        release.set()
        await h.settle()

        [case] = await h.cases()
        assert case.symptoms == list(lines)
        assert [noted(h, root, n) for n in (1, 2, 3, 4)] == [1, 0, 0, 1]
        on_lines = {c.params.get("timestamp") for c in standin.called("reactions.add")}
        assert len(on_lines) >= 4  # every line has its reaction
    outcomes = [r.outcome for r in await rows(db, OutboxEntry) if r.kind == outbox.REPLY]
    assert outcomes.count("superseded") == 2
    assert outcomes.count(None) == 0
