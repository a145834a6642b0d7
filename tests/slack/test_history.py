"""A channel's history through the real Slack path: an interview started in an incident channel
queues the reading (after Slack's 200), the reader pages conversations.history and .replies
(waiting out a 429), and one review message proposes the timeline, symptoms and steps; Accept
all / Accept selected / Drop decide what enters the case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from adapters.slack.history import SlackHistory
from bot.capture import reading
from storage.models import RawAnswer
from tests.slack import history_channel as fixture
from tests.slack.conftest import Harness
from tests.slack.history_support import HistoryStandIn
from tests.slack.support import Call, SlackStandIn

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    stand_in = HistoryStandIn()
    stand_in.add_channel(fixture.channel())
    stand_in.rate_limited["conversations.history"] = 1  # the first page is refused once
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


def review_of(harness: Harness) -> Call:
    found = [c for c in harness.standin.called("chat.postMessage") if "From #inc-checkout-502" in c.text()]
    assert found, "no review message was posted"
    return found[-1]


async def started(harness: Harness) -> Call:
    assert (await harness.sender.command("Checkout 502s")).status == 200
    await harness.settle()
    await harness.until(
        lambda: any("From #inc" in c.text() for c in harness.standin.called("chat.postMessage"))
    )
    await harness.settle()
    return review_of(harness)


def ticked(payload: dict[str, Any], values: list[str]) -> dict[str, Any]:
    options = [{"value": v} for v in values]
    payload["state"] = {
        "values": {"picks:0": {"pick:0": {"type": "checkboxes", "selected_options": options}}}
    }
    return payload


async def history_answers(harness: Harness) -> list[RawAnswer]:
    async with harness.db.transaction() as session:
        query = (
            select(RawAnswer)
            .where(col(RawAnswer.question_key).startswith("history:"))
            .order_by(col(RawAnswer.at))
        )
        return list((await session.exec(query)).all())


async def test_the_review_proposes_the_hand_made_timeline_and_says_what_was_read(harness: Harness) -> None:
    review = await started(harness)
    history = harness.standin.called("conversations.history")
    assert (
        history[0].params.get("cursor") is None and history[1].params.get("cursor") is None
    )  # 429, then again
    assert len(harness.standin.called("conversations.replies")) == 1  # the one thread
    text = review.text().replace("&amp;", "&")  # (mrkdwn escapes the & of a link)
    assert (
        f"read {fixture.READ} message(s) since 2026-11-19 22:40 CET" in text
    )  # the lead (Alice) is in Paris
    assert f"left out {fixture.SKIPPED} bot message(s), joins and other channel events" in text
    for label, point, when, author, said, link in fixture.TIMELINE:
        shown = f"{label}" + (f" → {point}" if point else "") + f" · {when.astimezone(PARIS):%H:%M}"
        assert shown in text and f"{author}: {said}" in text and link in text, (label, text)
    for symptom in fixture.SYMPTOMS:
        assert symptom.replace("@channel", "@\u2060channel") in text or symptom in text, symptom
    assert "<!channel>" not in str(review.params["blocks"])  # the broadcast is defused
    for step, author, link in fixture.STEPS:
        assert f"{author}: {step}" in text and link in text
    assert "should we fail over" not in text and "deployed" not in text and "alert me" not in text
    [case] = await harness.cases()
    assert case.symptoms == [] and case.detected_at is None  # nothing enters without the lead


async def test_accept_all_adds_every_line_with_its_author_and_link(harness: Harness) -> None:
    review = await started(harness)
    await harness.click(review, "Accept all")
    [case] = await harness.cases()
    points = {point: when for _, point, when, *_ in fixture.TIMELINE if point}
    assert (case.detected_at, case.mitigated_at, case.resolved_at) == (
        points["detected"],
        points["mitigated"],
        points["resolved"],
    )
    assert case.symptoms == fixture.SYMPTOMS
    assert case.diagnostic_path == [{"text": step, "by": author} for step, author, _ in fixture.STEPS]
    answers = await history_answers(harness)
    assert len(answers) == len(fixture.TIMELINE) + len(fixture.SYMPTOMS) + len(fixture.STEPS)
    step = next(a for a in answers if a.question_key == "history:diagnostic" and "the LB" in a.text)
    assert fixture.STEPS[0][2] in step.text
    assert "Added to #1 from #inc-checkout-502" in harness.standin.everything_said()
    await harness.click(review, "Accept all")  # a second press changes nothing
    assert len(await history_answers(harness)) == len(answers)
    assert "was already accepted" in harness.standin.everything_said()


async def test_accept_selected_takes_only_the_ticked_lines(harness: Harness) -> None:
    review = await started(harness)
    payload = ticked(harness.sender.click_payload(review, "Accept selected"), ["3", "5"])
    assert (await harness.sender.interaction(payload)).status == 200
    await harness.settle()
    [case] = await harness.cases()
    assert case.mitigated_at == fixture.TIMELINE[2][2] and case.resolved_at is None
    assert case.symptoms == fixture.SYMPTOMS[:1]  # line 5: the first candidate symptom
    assert len(await history_answers(harness)) == 2


async def test_drop_adds_nothing(harness: Harness) -> None:
    review = await started(harness)
    await harness.click(review, "Drop")
    [case] = await harness.cases()
    assert case.symptoms == [] and case.diagnostic_path == [] and case.detected_at is None
    assert await history_answers(harness) == []
    assert "nothing was added to #1" in harness.standin.everything_said()


async def test_postmortem_from_a_channel_reads_it_and_a_cut_is_said(harness: Harness) -> None:
    harness.standin.rate_limited.clear()
    port = reading.PORTS["slack"]
    assert isinstance(port, SlackHistory)
    port.pattern = None  # no incident channels: only when asked
    assert (await harness.sender.command("Checkout 502s")).status == 200
    await harness.settle()
    assert not harness.standin.called("conversations.history")
    reading.LIMIT, limit = 100, reading.LIMIT
    try:
        assert (await harness.sender.command("from #inc-checkout-502 since 2026-11-19 21:40")).status == 200
        await harness.settle()
    finally:
        reading.LIMIT = limit
    # typed in Alice's zone (Paris); the review comes back where the command was typed
    text = harness.standin.everything_said()
    assert "read the first 100 messages since 2026-11-19 21:40 CET" in text and "(the limit is 100)" in text
    assert f"; {fixture.READ - 100} more not read" in text
