"""A pasted account through the real Teams path (Bot Framework activities, botbuilder's adapter)."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Case
from tests.capture.accounts import ACCOUNT
from tests.teams.conftest import Bot
from tests.teams.test_teams_interview import Chain


async def test_teams_an_account_in_the_reply_chain_fills_the_case(bot: Bot) -> None:
    chain, _ = await Chain.start(bot, "postmortem Checkout 502s")
    sent = await chain.say(ACCOUNT)
    shown = "\n".join(s.text for s in [*sent, *bot.connector.updates()])
    assert "symptoms (2)" in shown and "root cause" in shown
    async with bot.db.transaction() as session:
        [case] = (await session.exec(select(Case))).all()
    assert case.symptoms == ["502s on checkout", "p99 at 4s"]
    assert case.root_cause == "conntrack table full on the LB nodes"
