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
async def linked(db: Database, standin: SlackStandIn, slack_env: None) -> AsyncIterator[Harness]:
    async with serving(db, standin) as h:
        runtime = h.service.runtime
        runtime.core = runtime.core.model_copy(update={"public_url": PUBLIC_URL})
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


def buttons_of(call_params: dict[str, object]) -> dict[str, list[str]]:
    """Each action ref -> the values of the live buttons that name it."""
    found: dict[str, list[str]] = {}
    for block in call_params.get("blocks") or []:  # type: ignore[attr-defined]
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            value = str(element.get("value", ""))
            if value.startswith("/"):
                found.setdefault(value.split()[1], []).append(value.split()[0])
    return found


async def seed_two(h: Harness) -> None:
    await seed_case(
        h.db,
        platform="slack",
        tenant=TEAM,
        number=4,
        owners=[("UBOB", dt.date(2026, 11, 18)), ("UBOB", dt.date(2026, 12, 4))],
        lead="UALICE",
        since=SEEDED,
    )


async def test_done_on_a_digest_redraws_it_closed_and_refuses_a_second_press(linked: Harness) -> None:
    h = linked
    await seed_two(h)
    [dm] = await send_digests(h)
    channel, ts = dm.params["channel"], str(dm.result["ts"])
    assert buttons_of(dm.params) == {
        "4.1": ["/done", "/snooze", "/reassign"],
        "4.2": ["/done", "/snooze", "/reassign"],
    }

    await h.click(dm, "Done", user="UBOB")  # the first item's: 4.1, the one overdue
    closing = h.standin.called("views.open")[-1]
    await h.sender.submit(
        closing, {"evidence": {"type": "plain_text_input", "value": "PR #881"}}, user="UBOB"
    )
    await h.settle()

    [edit] = h.standin.called("chat.update", channel=channel, ts=ts)
    assert buttons_of(edit.params) == {"4.2": ["/done", "/snooze", "/reassign"]}  # none left for 4.1
    assert "✓ `4.1` Action 4.1 for UBOB — *done*" in edit.text()
    assert f"<{PUBLIC_URL}/cases/4|case #4>" in edit.text()
    assert "(1 still open)" in edit.text()
    homes = h.standin.called("views.publish", user_id="UBOB")
    assert homes and "4.1" not in homes[-1].text() and "4.2" in homes[-1].text()

    # The old message, pressed again (a second device that had not refreshed): said so, no form.
    forms = len(h.standin.called("views.open"))
    await h.click(dm, "Done", user="UBOB")
    assert len(h.standin.called("views.open")) == forms
    assert "`4.1` is already done" in h.standin.everything_said()


async def test_snooze_and_reassign_typed_in_chat_redraw_the_digest(linked: Harness) -> None:
    h = linked
    await seed_two(h)
    [dm] = await send_digests(h)
    channel, ts = dm.params["channel"], str(dm.result["ts"])

    assert (await h.sender.dm("snooze 4.2 2w", user="UBOB")).status == 200
    await h.settle()
    [snoozed] = h.standin.called("chat.update", channel=channel, ts=ts)
    assert buttons_of(snoozed.params)["4.2"] == ["/done", "/reassign"]  # no second snooze
    assert "snoozed until 2026-12-04" in snoozed.text()

    assert (await h.sender.dm("reassign 4.1 <@UCAROL>", user="UBOB")).status == 200
    await h.settle()

    moved = h.standin.called("chat.update", channel=channel, ts=ts)[-1]
    assert "4.1" not in buttons_of(moved.params)
    assert "→ `4.1` Action 4.1 for UBOB — now with <@UCAROL>" in moved.text()
    assert h.standin.called("views.publish", user_id="UCAROL")  # the new owner's App Home too

    # Nothing changed since: a clock tick's pass finds nothing to redraw.
    from adapters.slack.home import SlackSurfaces
    from bot.reminders.refresh import refresh_digests

    surfaces = SlackSurfaces(h.service.runtime.client_for, None)
    assert await refresh_digests(h.db, {"slack": surfaces}, now=SLACK_NOW) == 0


async def test_the_monthly_report_is_posted_into_the_chosen_channel_once(linked: Harness) -> None:
    from bot.insights import monthly

    h = linked
    response = await h.sender.command("report <#C0REPORTS|sre-reports> monthly", user="UDANA")  # an admin
    assert response.status == 200
    await h.settle()
    assert "The monthly report will be posted #sre-reports" in h.standin.everything_said()

    first, second = (
        SlackNotifier(StaticToken(BOT_TOKEN).token_for, base_url=h.standin.api_url, timeout=2) for _ in "ab"
    )
    try:
        december = dt.datetime(2026, 12, 1, 0, 5, tzinfo=dt.UTC)
        sent = await monthly.sweep(h.db, {"slack": first}, now=december)
        again = await monthly.sweep(h.db, {"slack": second}, now=december + dt.timedelta(minutes=1))
    finally:
        for notifier in (first, second):
            await notifier.aclose()
    assert [o.status for o in sent] == ["sent"] and again == []  # two clocks: posted once

    report, chart = h.standin.posts(channel="C0REPORTS")  # the channel's id, found from its name
    assert report.params.get("thread_ts") is None and chart.params.get("thread_ts") is None  # new posts
    assert report.text().startswith("Casebook monthly report — 2026-11")
    uploads = h.standin.called("files.completeUploadExternal")
    assert [u.params.get("channel_id") for u in uploads] == ["C0REPORTS"]
