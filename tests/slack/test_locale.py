"""Typed days through Slack's real HTTP path: each person's locale comes from `users.info`
(asked with `include_locale`), so an en-US `11/19 21:40` and an en-GB `19/11 21:40` are the
same instant, each echoed with its reading."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from storage.models import Person
from tests.slack.conftest import Harness


async def _to_the_start_question(h: Harness, title: str) -> str:
    await h.sender.command(title)
    await h.settle()
    root = h.root()
    await h.click(h.last_question(root), "SEV2")
    await h.click(h.last_question(root), "deploy/config")
    await h.say(root, "checkout-api", user="UBOB")
    assert "start" in h.last_question(root).text().lower()
    return root


def _record_of(h: Harness, root: str) -> str:
    """The text the started-question's message was edited into."""
    updates = [c for c in h.standin.called("chat.update") if "Started:" in c.text()]
    assert updates, "the answered question was not edited into its record"
    return updates[-1].text()


async def test_month_first_and_day_first_people_give_the_same_instant(harness: Harness) -> None:
    h = harness
    us_root = await _to_the_start_question(h, "Checkout 502s")
    await h.say(us_root, "11/19 21:40", user="UBOB")  # Bob's Slack is en-US
    us_record = _record_of(h, us_root)

    gb_root = await _to_the_start_question(h, "Search timeouts")
    await h.say(gb_root, "19/11 21:40", user="UALICE")  # Alice's Slack is en-GB
    gb_record = _record_of(h, gb_root)

    first, second = await h.cases()
    # Both cases are led by Alice (Europe/Paris): 21:40 there on Thursday 19 November.
    assert first.started_at == second.started_at == dt.datetime(2026, 11, 19, 20, 40, tzinfo=dt.UTC)
    assert "Started: read as Thu 19 Nov 21:40 (UTC+01:00), month first" in us_record
    assert "Started: read as Thu 19 Nov 21:40 (UTC+01:00), day first" in gb_record

    asked = h.standin.called("users.info")
    assert asked and all(str(c.params.get("include_locale")).lower() in {"1", "true"} for c in asked)
    async with h.db.transaction() as session:
        people = {p.platform_user_id: p.locale for p in (await session.exec(select(Person))).all()}
    assert people["UBOB"] == "en-US" and people["UALICE"] == "en-GB"


async def test_a_day_first_person_is_told_how_a_month_first_day_was_read(harness: Harness) -> None:
    h = harness
    root = await _to_the_start_question(h, "Checkout 502s")
    await h.say(root, "11/19 21:40", user="UALICE")  # en-GB: no month 19
    [case] = await h.cases()
    assert case.started_at is None
    refusal = h.standin.called("chat.postEphemeral")[-1].text()
    assert "no month 19" in refusal and "day/month" in refusal


async def test_a_person_without_a_locale_reads_day_first(harness: Harness) -> None:
    h = harness
    root = await _to_the_start_question(h, "Checkout 502s")
    await h.say(root, "5/11 21:40", user="UCAROL")  # users.info gives Carol no locale
    [case] = await h.cases()
    assert case.started_at == dt.datetime(2026, 11, 5, 20, 40, tzinfo=dt.UTC)
    assert "read as Thu 5 Nov 21:40 (UTC+01:00), day first" in _record_of(h, root)
