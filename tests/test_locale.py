"""A person's locale: read from the platform, kept on the person row, and the reading echoed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.messages import Inbound
from bot.parsing import date_order, locale_tag, month_first, parse_when, reading
from bot.turn import begin_turn, interview_context
from storage.db import Database

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("given", "tag"),
    [
        ("en-US", "en-US"),
        ("en_us", "en-US"),
        ("EN-gb", "en-GB"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("fr", "fr"),
        (" de-DE ", "de-DE"),
    ],
)
def test_a_locale_is_written_one_way(given: str, tag: str) -> None:
    assert locale_tag(given) == tag


@pytest.mark.parametrize("given", ["", "e", "english", "en US", "en-US;DROP", "x" * 40, None, 12, "en--US"])
def test_anything_that_is_not_a_locale_is_none(given: object) -> None:
    assert locale_tag(given) is None


def test_the_region_decides_the_order_of_a_numeric_day() -> None:
    assert [month_first(x) for x in ("en-US", "en_us", "es-US", "fil-PH", "zh-Hant-US")] == [True] * 5
    assert [month_first(x) for x in ("en-GB", "fr-FR", "en", "es-419", "ja-JP", None, "junk")] == [False] * 7
    assert (date_order("en-US"), date_order("en-GB"), date_order(None)) == ("MDY", "DMY", "DMY")


def test_a_numeric_day_is_echoed_with_its_weekday_and_order() -> None:
    gb = parse_when("30/11 21:40", now=NOW, tz=PARIS)
    us = parse_when("11/30 21:40", now=NOW, tz=PARIS, month_first=True)
    assert gb == us == dt.datetime(2026, 11, 30, 20, 40, tzinfo=dt.UTC)
    assert reading("30/11 21:40", gb, now=NOW, tz=PARIS, month_first=False) == (
        "read as Mon 30 Nov 21:40 (UTC+01:00), day first"
    )
    assert reading("11/30 21:40", us, now=NOW, tz=PARIS, month_first=True) == (
        "read as Mon 30 Nov 21:40 (UTC+01:00), month first"
    )
    last_year = parse_when("30.12.2025 08:00", now=NOW, tz=PARIS)
    assert reading("30.12.2025 08:00", last_year, now=NOW, tz=PARIS, month_first=False) == (
        "read as Tue 30 Dec 2025 08:00 (UTC+01:00), day first"
    )


@pytest.mark.parametrize(
    "text", ["21:40 yesterday", "2026-11-30 21:40", "Nov 30 21:40", "+12m", "9.40pm yesterday", "9.40 PM"]
)
def test_a_form_that_leaves_no_choice_is_not_echoed_as_a_reading(text: str) -> None:
    assert reading(text, NOW, now=NOW, tz=PARIS, month_first=False) is None


def _inbound(locale: str | None, *, minutes: int = 0) -> Inbound:
    return Inbound(
        platform="teams",
        tenant="T1",
        conversation_key="chain-1",
        user_id="bob",
        user_name="Bob",
        user_timezone="America/New_York",
        user_locale=locale,
        at=NOW + dt.timedelta(minutes=minutes),
    )


async def test_the_person_row_keeps_the_locale_for_turns_that_do_not_say_it(db: Database) -> None:
    async with db.transaction() as session:
        turn = await begin_turn(session, _inbound("en_us"), Settings())
        assert turn.person.locale == "en-US" and interview_context(turn).month_first
    async with db.transaction() as session:  # a card press whose activity carries no locale
        turn = await begin_turn(session, _inbound(None, minutes=1), Settings())
        assert turn.person.locale == "en-US" and interview_context(turn).month_first
    async with db.transaction() as session:  # the person changed their Slack/Teams language
        turn = await begin_turn(session, _inbound("en-GB", minutes=2), Settings())
        assert turn.person.locale == "en-GB" and not interview_context(turn).month_first
    async with db.transaction() as session:
        turn = await begin_turn(session, _inbound("not a locale!", minutes=3), Settings())
        assert turn.person.locale == "en-GB"
