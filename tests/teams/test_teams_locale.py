"""Typed days through the Teams path: the activity's locale (or its clientInfo entity's) decides
whether `11/19` is month first, so an en-US and an en-GB responder give the same instant."""

from __future__ import annotations

import dataclasses
import datetime as dt

from botbuilder.schema import Activity, Entity
from sqlmodel import select

from adapters.teams.inbound import user_locale
from storage.models import Case, Person
from tests.teams.activities import ALICE, BOB, User
from tests.teams.conftest import Bot
from tests.teams.test_teams_interview import Chain

ALICE_GB = dataclasses.replace(ALICE, locale="en-GB")  # the same person, her client set to en-GB


async def _started_by(bot: Bot, title: str, who: User, typed: str) -> tuple[str, dt.datetime | None]:
    chain, _ = await Chain.start(bot, f"postmortem {title}", user=ALICE_GB)
    await chain.press("SEV2", ALICE_GB)
    await chain.press("Answer", ALICE_GB, choice="deploy")
    await chain.say("checkout-api", ALICE_GB)
    await chain.say(typed, who)
    record = next(u.text for u in reversed(bot.connector.updates()) if "Started" in u.text)
    async with bot.db.transaction() as session:
        case = (await session.exec(select(Case).where(Case.title == title))).one()
    return record, case.started_at


async def test_en_us_and_en_gb_responders_give_the_same_instant(bot: Bot) -> None:
    us_record, us_at = await _started_by(bot, "Checkout 502s", BOB, "11/19 21:40")
    gb_record, gb_at = await _started_by(bot, "Search timeouts", ALICE_GB, "19/11 21:40")
    # Both led by Alice (Europe/Paris): 21:40 there on Thursday 19 November.
    assert us_at == gb_at == dt.datetime(2026, 11, 19, 20, 40, tzinfo=dt.UTC)
    assert "read as Thu 19 Nov 21:40 (UTC+01:00), month first" in us_record
    assert "read as Thu 19 Nov 21:40 (UTC+01:00), day first" in gb_record
    async with bot.db.transaction() as session:
        people = {p.platform_user_id: p.locale for p in (await session.exec(select(Person))).all()}
    assert people[BOB.id] == "en-US" and people[ALICE.id] == "en-GB"


def test_the_client_info_locale_stands_in_when_the_activity_has_none() -> None:
    info = Entity(type="clientInfo")
    info.additional_properties = {"locale": "en-gb", "timezone": "Europe/London"}
    assert user_locale(Activity(type="message", entities=[info])) == "en-GB"
    assert user_locale(Activity(type="message", locale="en-US", entities=[info])) == "en-US"
    assert user_locale(Activity(type="message", locale="<script>")) is None
