"""Digest DMs on Slack through the real paths: a sweep through SlackNotifier into the stand-in
Web API, buttons pressed as signed requests against the real app, and what Slack is asked
to change afterwards (chat.update on the digest, views.publish of App Home)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from adapters.slack.auth import StaticToken
from adapters.slack.notifier import SlackNotifier
from bot.reminders.sweep import sweep
from storage.db import Database
from tests.reminder_fixtures import FakeClock, seed_case
from tests.slack.conftest import SLACK_NOW, Harness, serving
from tests.slack.support import BOT_TOKEN, TEAM, Call, SlackStandIn

PUBLIC_URL = "https://casebook.example"
SEEDED = dt.datetime(2026, 11, 14, 12, 0, tzinfo=dt.UTC)  # the Saturday before the Monday slot
SWEPT = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)  # Monday's digest, before SLACK_NOW


@pytest.fixture
async def linked(
    db: Database, standin: SlackStandIn, slack_env: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    monkeypatch.setenv("CASEBOOK_PUBLIC_URL", PUBLIC_URL)
    async with serving(db, standin) as h:
        yield h


async def send_digests(h: Harness) -> list[Call]:
    notifier = SlackNotifier(StaticToken(BOT_TOKEN).token_for, base_url=h.standin.api_url, timeout=2)
    try:
        await sweep(h.db, {"slack": notifier}, clock=FakeClock(SWEPT), public_url=PUBLIC_URL)
    finally:
        await notifier.aclose()
    return [c for c in h.standin.posts() if c.params.get("channel", "").startswith("D")]


async def test_a_digest_links_each_case_to_its_page(linked: Harness) -> None:
    await seed_case(
        linked.db,
        platform="slack",
        tenant=TEAM,
        number=4,
        owners=[("UBOB", dt.date(2026, 11, 30))],
        lead="UALICE",
        since=SEEDED,
    )
    [dm] = await send_digests(linked)
    assert f"<{PUBLIC_URL}/cases/4|case #4>" in dm.text()
    assert SLACK_NOW > SWEPT
