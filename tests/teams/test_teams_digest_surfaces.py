"""Teams digests through the real paths: the reminder sweep through TeamsNotifier into the
stand-in connector, card buttons pressed over /api/messages, and the digest card updated."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.reminders.sweep import sweep
from tests.reminder_fixtures import FakeClock
from tests.teams.activities import BOB
from tests.teams.conftest import Bot
from tests.teams.standins import Sent
from tests.teams.test_teams_reminders import _install_and_seed, _press

PUBLIC_URL = "https://casebook.example"
SWEPT = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)  # Monday's digest, before the bot's NOW


async def send_digest(bot: Bot) -> Sent:
    notifier = bot.runtime.notifier
    report = await sweep(bot.db, {"teams": notifier}, clock=FakeClock(SWEPT), public_url=PUBLIC_URL)
    assert [line.status for line in report.lines] == ["sent"], report.describe()
    [dm] = bot.connector.to(f"a:personal-{BOB.id}")
    return dm


async def test_a_teams_digest_links_each_case_to_its_page(bot: Bot) -> None:
    await _install_and_seed(bot)
    dm = await send_digest(bot)
    assert f"[case #7]({PUBLIC_URL}/cases/7)" in dm.text


def test_an_escalation_links_its_case_once() -> None:
    from bot.reminders.digest import escalation_reply
    from storage.deliveries.workload import ActionRow, OverdueRow

    action = ActionRow(
        1, 2, 3, 4, 9, "Checkout 502s", 1, "Alert on pool saturation", dt.date(2026, 10, 1), None
    )
    reply = escalation_reply(
        [OverdueRow(action, "U1", "Bob", "U2", None)],
        today=dt.date(2026, 11, 16),
        delivery_key="k",
        public_url=PUBLIC_URL,
    )
    assert reply.text.splitlines()[0].endswith(f"· [open the case]({PUBLIC_URL}/cases/9)")
    assert "](" not in reply.items[0].text


def _live_buttons(card: dict[str, Any]) -> dict[str, list[str]]:
    """Each action ref ("7.1") -> the titles of the buttons its item still has."""
    found: dict[str, list[str]] = {}
    for element in card["body"]:
        if element.get("type") != "Container":
            continue
        text = element["items"][0].get("text", "")
        ref = next((r for r in ("7.1", "7.2") if f"“{r}”" in text or f"{r}" in text), None)
        actions = [i for i in element["items"] if i.get("type") == "ActionSet"]
        if ref and actions:
            found[ref] = [a["title"] for a in actions[-1]["actions"]]
    return found


async def test_done_on_a_teams_digest_updates_its_card_closed(bot: Bot) -> None:
    await _install_and_seed(bot)
    dm = await send_digest(bot)
    assert dm.card is not None
    assert _live_buttons(dm.card) == {
        "7.1": ["Done", "Snooze a week", "Reassign"],
        "7.2": ["Done", "Snooze a week", "Reassign"],
    }

    said = await _press(bot, dm, "7.1", "Done", evidence="https://ci.example/run/4812")
    assert any("is done" in t for t in said)

    [update] = [u for u in bot.connector.updates() if u.id == dm.id]
    assert update.conversation_id == dm.conversation_id and update.card is not None
    assert _live_buttons(update.card) == {"7.2": ["Done", "Snooze a week", "Reassign"]}
    assert "✓ “7.1” Alert on pgbouncer cl_waiting — **done** · case #7 Checkout 502s" in update.text
    assert "(1 still open)" in update.text


async def test_the_monthly_report_is_posted_into_a_teams_channel_once(bot: Bot) -> None:
    from bot.insights import monthly
    from storage import repo, reports
    from tests.teams.activities import CHANNEL_ID, TENANT

    await _install_and_seed(bot)
    async with bot.db.transaction() as session:
        tenant = await repo.tenant(session, platform="teams", external_id=TENANT, now=SWEPT)
        assert tenant.id is not None
        await reports.choose_channel(
            session,
            tenant_id=tenant.id,
            conversation_key=f"channel:{CHANNEL_ID}",
            person_id=None,
            now=SWEPT,
        )
    december = dt.datetime(2026, 12, 1, 0, 5, tzinfo=dt.UTC)
    sent = await monthly.sweep(bot.db, {"teams": bot.runtime.notifier}, now=december)
    again = await monthly.sweep(bot.db, {"teams": bot.runtime.notifier}, now=december)
    assert [o.status for o in sent] == ["sent"] and again == []
    [opened] = [c for c in bot.connector.created() if c.body.get("channelData", {}).get("channel")]
    assert opened.body["channelData"]["channel"] == {"id": CHANNEL_ID} and opened.body["isGroup"] is True
    assert "Casebook monthly report — 2026-11" in str(opened.body["activity"])  # the new post itself
    chain = [s for s in bot.connector.sent if s.conversation_id.startswith(f"{CHANNEL_ID};messageid=")]
    assert chain and "Value ledger chart to 2026-11" in chain[0].text  # the chart's note, in its chain
