"""The conntrack-502 incident through the Teams path (Bot Framework activities over real HTTP),
measured like the Slack thread: posts per question asked, acknowledgement posts, and live
buttons left on answered questions once the case is published. Run with `-s` for the figures."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from storage.models import Case
from tests.teams.activities import BOB
from tests.teams.conftest import Bot
from tests.teams.standins import Sent
from tests.teams.test_teams_interview import Chain

CONNTRACK_502: tuple[tuple[str, str], ...] = (
    ("press", "SEV2"),
    ("pick", "network"),
    ("say", "edge-proxy, checkout-api"),
    ("say", "21:40 yesterday"),
    ("say", "+6m"),
    ("say", "about an hour later"),
    ("say", "+20m"),
    ("lines", "502s from edge-proxy at 8%|nf_conntrack: table full, dropping packet in dmesg"),
    ("lines", "Blamed the cost-saving change to the LB pool — cost: 25 min"),
    ("lines", "CPU on the proxies looked normal, which cost us 15 minutes"),
    ("lines", "It hit at 21:40 on a Sunday, when checkout traffic is lowest"),
    ("lines", "Checked the LB health checks: all green|dmesg on edge-proxy-3: conntrack table full"),
    ("say", "nf_conntrack_max stayed at the kernel default after the node image upgrade"),
    ("press", "Skip"),
    ("say", "Alert on conntrack usage <at>Bob Smith</at> by in 2 weeks detect"),
    ("press", "None of these"),
    ("press", "No more actions"),
    ("press", "Confirm"),
    ("press", "Yes, publish"),
)


def _live(card: dict[str, Any]) -> bool:
    return '"Action.Submit"' in json.dumps(card)


async def test_the_conntrack_interview_in_a_reply_chain_counts_its_posts(bot: Bot) -> None:
    chain, _ = await Chain.start(bot, "postmortem Checkout 502s at the edge: conntrack table full")
    for how, text in CONNTRACK_502:
        if how == "press":
            await chain.press(text)
        elif how == "pick":
            await chain.press("Answer", choice=text)
        elif how == "say":
            await chain.say(text)
        else:
            for line in text.split("|"):
                await chain.say(line)
            await chain.say("done")
    async with bot.db.transaction() as session:
        [case] = (await session.exec(select(Case))).all()
    assert case.status == "published"
    assert [(m["text"], m["cost"]) for m in case.misjudgments] == [
        ("Blamed the cost-saving change to the LB pool", "25 min"),
        ("CPU on the proxies looked normal, which cost us 15 minutes", None),
    ]
    posts = bot.connector.to(chain.id)
    latest: dict[str, Sent] = {u.id: u for u in bot.connector.updates()}
    final = [latest.get(p.id, p) for p in posts]
    case_card = next(s for s in final if s.card and "Prevention plan" in s.text)
    assert f"<at>{BOB.name}</at>" in case_card.text
    assert case.lucky == ["It hit at 21:40 on a Sunday, when checkout traffic is lowest"]
    assert "Where we got lucky" in case_card.text and "when checkout traffic is lowest" in case_card.text
    stale = [s for s in final if s is not case_card and s.card is not None and _live(s.card)]
    questions = len(CONNTRACK_502) + 1
    acknowledgements = sum("Noted (" in s.text for s in final)
    print(
        f"\nconntrack-502 on Teams: {len(posts)} bot posts for {questions} questions, "
        f"{acknowledgements} acknowledgement posts, {len(stale)} live stale buttons"
    )
    assert acknowledgements == 0 and not stale
    assert len(posts) <= questions
    # the list steps kept one question card, updated with the running count
    assert any("2 so far" in u.text for u in bot.connector.updates())
