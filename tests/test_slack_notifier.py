"""The Slack notifier against a local stand-in of the Slack Web API (slack_sdk runs for real)."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import AsyncIterator

import pytest

from adapters.slack.auth import StaticToken
from adapters.slack.mrkdwn import to_mrkdwn
from adapters.slack.notifier import SlackNotifier, slack_notifier
from bot.messages import Reply
from bot.reminders.config import ReminderSettings
from bot.reminders.digest import digest_reply
from bot.reminders.sweep import sweep
from storage.db import Database
from storage.deliveries.workload import ActionRow
from tests.reminder_fixtures import MONDAY, FakeClock, delivery_rows, seed_case
from tests.slack_standin import SlackStandIn

SENT_AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

TOKEN = "xoxb-test-token"


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    server = SlackStandIn(now=SENT_AT.timestamp)  # messages stamped at a chosen time
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def notifier(slack: SlackStandIn) -> AsyncIterator[SlackNotifier]:
    client = SlackNotifier(StaticToken(TOKEN).token_for, base_url=slack.url, timeout=0.5)
    try:
        yield client
    finally:
        await client.aclose()


def digest(key: str = "digest:1:2:2026-W48") -> Reply:
    action = ActionRow(
        1, 2, 7, 3, 12, "Checkout 502s", 3, "Alert on **pool** saturation", dt.date(2026, 11, 1), None
    )
    return digest_reply([action], today=dt.date(2026, 11, 23), delivery_key=key)


async def test_a_digest_is_a_dm_with_buttons_and_its_delivery_key(
    slack: SlackStandIn, notifier: SlackNotifier
) -> None:
    result = await notifier.send_direct(tenant="T1", user_id="U0BOB", replies=[digest()])
    assert result.ok
    await notifier.send_direct(tenant="T1", user_id="U0BOB", replies=[digest("digest:1:2:2026-W49")])
    methods = [c.method for c in slack.calls]
    assert methods == [
        "auth.test",
        "conversations.open",
        "chat.postMessage",
        "conversations.open",
        "chat.postMessage",
    ]
    assert {c.token for c in slack.calls} == {TOKEN}
    post = slack.called("chat.postMessage")[0].params
    assert post["channel"] == "DU0BOB"
    assert post["metadata"] == {
        "event_type": "casebook_delivery",
        "event_payload": {"delivery_key": "digest:1:2:2026-W48"},
    }
    buttons = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [
        ("Done", "/done 12.3"),
        ("Snooze a week", "/snooze 12.3 1w"),
        ("Reassign", "/reassign 12.3"),
    ]
    # Done opens the evidence form first (the adapter's listener reads `form:<name>:` action ids).
    assert buttons[0]["action_id"].startswith("form:done:") and buttons[0]["style"] == "primary"
    assert "*pool*" in post["blocks"][1]["text"]["text"]  # Markdown bold became mrkdwn


async def test_a_rate_limit_is_reported_with_retry_after_and_not_retried(
    slack: SlackStandIn, notifier: SlackNotifier
) -> None:
    slack.script["chat.postMessage"] = ["ratelimit"]
    result = await notifier.send_direct(tenant="T1", user_id="U0BOB", replies=[digest()])
    assert (result.ok, result.retryable, result.uncertain, result.retry_after) == (False, True, False, 7.0)
    assert len(slack.called("chat.postMessage")) == 1


@pytest.mark.parametrize("behaviour", ["drop", "slow", "500", "error:fatal_error"])
async def test_a_post_that_may_have_landed_is_uncertain_and_can_be_checked(
    slack: SlackStandIn, notifier: SlackNotifier, behaviour: str
) -> None:
    slack.script["chat.postMessage"] = [behaviour]
    since = SENT_AT - dt.timedelta(minutes=1)
    result = await notifier.send_direct(tenant="T1", user_id="U0BOB", replies=[digest()])
    assert (result.ok, result.uncertain) == (False, True), result
    assert len(slack.called("chat.postMessage")) == 1  # no retry by the SDK: it could double-post
    landed = await notifier.was_delivered(
        tenant="T1", user_id="U0BOB", delivery_key="digest:1:2:2026-W48", since=since
    )
    assert landed is (behaviour in {"drop", "slow"})  # the stand-in stored those before failing


async def test_a_request_that_never_left_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = SlackNotifier(StaticToken(TOKEN).token_for, base_url=f"http://127.0.0.1:{closed_port}/api/")
    try:
        result = await client.send_direct(tenant="T1", user_id="U0BOB", replies=[digest()])
    finally:
        await client.aclose()
    assert (result.ok, result.retryable, result.uncertain) == (False, True, False)


async def test_permanent_errors_and_the_wrong_workspace_are_not_retried(
    slack: SlackStandIn, notifier: SlackNotifier
) -> None:
    slack.script["conversations.open"] = ["error:user_not_found"]
    result = await notifier.send_direct(tenant="T1", user_id="U0GONE", replies=[digest()])
    assert (result.ok, result.retryable, result.uncertain, result.error) == (
        False,
        False,
        False,
        "Slack: user_not_found",
    )
    other = await notifier.send_direct(tenant="T9", user_id="U0BOB", replies=[digest()])
    assert not other.ok and not other.retryable and "not T9" in (other.error or "")
    assert slack.called("chat.postMessage") == []


async def test_posting_in_a_case_thread(slack: SlackStandIn, notifier: SlackNotifier) -> None:
    result = await notifier.post_in_conversation(
        tenant="T1", conversation_key="slack:T1:C0INCIDENT:1700000123.000200", replies=[digest()]
    )
    assert result.ok
    post = slack.called("chat.postMessage")[0].params
    assert (post["channel"], post["thread_ts"]) == ("C0INCIDENT", "1700000123.000200")
    odd = await notifier.post_in_conversation(tenant="T1", conversation_key="console:me", replies=[digest()])
    assert not odd.ok and len(slack.called("chat.postMessage")) == 1


async def test_the_configured_notifier_reads_the_token_and_the_api_url(
    db: Database, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert slack_notifier(db=db) is None
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    client = slack_notifier(db=db)
    assert client is not None
    try:
        assert (await client.send_direct(tenant="T1", user_id="U0BOB", replies=[digest()])).ok
    finally:
        await client.aclose()
    assert {c.token for c in slack.calls} == {"xoxb-from-env"}


def test_markdown_becomes_mrkdwn() -> None:
    assert to_mrkdwn("**Case #3** see [the PR](https://git.example/pr/1) <@U1> a<b & c") == (
        "*Case #3* see <https://git.example/pr/1|the PR> <@U1> a&lt;b &amp; c"
    )


async def test_sweeps_through_slack_never_post_a_digest_twice(db: Database, slack: SlackStandIn) -> None:
    """A dropped answer and a rate limit on the way: each owner still gets exactly one DM."""
    await seed_case(db, platform="slack", tenant="T1", owners=[("U0BOB", None), ("U0CAROL", None)])
    clock = FakeClock(MONDAY + dt.timedelta(hours=9))
    slack.now = lambda: clock.now().timestamp()
    slack.script["chat.postMessage"] = ["drop", "ratelimit"]
    slack.retry_after = 20
    client = SlackNotifier(StaticToken(TOKEN).token_for, base_url=slack.url, timeout=0.5)
    settings = ReminderSettings(send_concurrency=1)
    try:
        for seconds in (0, 30, 180, 600, 3600):
            clock.current = MONDAY + dt.timedelta(hours=9, seconds=seconds)
            await sweep(db, {"slack": client}, clock=clock, settings=settings)
    finally:
        await client.aclose()
    assert {channel: len(messages) for channel, messages in slack.messages.items()} == {
        "DU0BOB": 1,
        "DU0CAROL": 1,
    }
    assert (
        len(slack.called("chat.postMessage")) == 3
    )  # bob once (dropped answer), carol twice (429, then sent)
    assert len(slack.called("conversations.history")) == 1  # bob's was looked for before any resend
    assert [r["status"] for r in await delivery_rows(db)] == ["sent", "sent"]
