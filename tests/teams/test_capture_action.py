"""The Teams message action "Add to postmortem" (composeExtension/submitAction) through the real
botbuilder adapter: the message goes into the channel's running case with its author and link."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from storage.models import Case, RawAnswer
from tests.teams.activities import BOB, CAROL, CHANNEL_ID
from tests.teams.conftest import Bot
from tests.teams.test_teams_interview import Chain

LINK = "https://teams.microsoft.com/l/message/19:abc/1763650800000"


def submit_action(bot: Bot, chain: Chain, text: str, section: str, case: str = "") -> dict[str, Any]:
    activity = bot.teams.channel_reply(chain.root, "", user=BOB)
    activity.update(
        type="invoke",
        name="composeExtension/submitAction",
        value={
            "commandId": "addToPostmortem",
            "commandContext": "message",
            "data": {"case": case, "section": section},
            "messagePayload": {
                "id": "1763650800000",
                "body": {"contentType": "html", "content": f"<p>{text}</p>"},
                "from": {"user": {"id": CAROL.id, "displayName": CAROL.name}},
                "createdDateTime": "2026-11-20T13:58:00.000Z",
                "linkToMessage": LINK,
            },
        },
    )
    activity.pop("entities", None)
    activity["text"] = ""
    return activity


async def test_a_message_action_adds_a_symptom_to_the_running_case(bot: Bot) -> None:
    chain, _ = await Chain.start(bot, "postmortem Checkout 502s")
    assert await bot.post(submit_action(bot, chain, "502s &amp; timeouts for EU users", "symptom")) == 200
    async with bot.db.transaction() as session:
        [case] = (await session.exec(select(Case))).all()
        [raw] = (await session.exec(select(RawAnswer).where(RawAnswer.question_key == "clip:symptom"))).all()
    assert case.symptoms == ["502s & timeouts for EU users"]
    assert LINK in raw.text
    assert CHANNEL_ID.startswith("19:")
