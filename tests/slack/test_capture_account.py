"""A pasted account through the real Slack path (signed events, bolt, the conveyor, the Web API
stand-in)."""

from __future__ import annotations

from tests.capture.accounts import ACCOUNT
from tests.slack.conftest import Harness


async def test_slack_an_account_in_the_thread_fills_the_case_and_the_lead_is_told_once(
    harness: Harness,
) -> None:
    assert (await harness.sender.command("Checkout 502s")).status == 200
    await harness.settle()
    root = harness.root()
    await harness.say(root, ACCOUNT)
    sent = [c.text() for c in harness.standin.calls if c.method in {"chat.postMessage", "chat.update"}]
    told = [text for text in sent if "✓ Account from" in text]
    assert len(told) == 1  # one message: the first question's, edited into what was taken
    assert "took symptoms (2), root cause, diagnostic path (2)" in told[0]
    [case] = await harness.cases()
    assert case.symptoms == ["502s on checkout", "p99 at 4s"]
    assert case.root_cause == "conntrack table full on the LB nodes"
    assert [step["by"] for step in case.diagnostic_path] == ["Alice", "Alice"]
    assert "How severe" in harness.last_question(root).text()  # the first question still missing
