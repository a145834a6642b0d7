"""/readyz: ready only when the database answers, the schema is at head and Slack accepts the
bot token (auth.test against SLACK_API_URL); a 503 says what is missing. /healthz stays 200."""

from __future__ import annotations

from typing import Any

from tests.slack.conftest import Harness


async def get(h: Harness, path: str) -> tuple[int, dict[str, Any]]:
    async with h.sender.session.get(h.server.make_url(path)) as response:
        return response.status, await response.json()


async def test_ready_when_everything_answers(harness: Harness) -> None:
    checks_before = len(harness.standin.called("auth.test"))
    status, body = await get(harness, "/readyz")
    assert (status, body) == (
        200,
        {"status": "ok", "database": harness.db.dialect, "platforms": ["slack", "web"]},
    )
    assert len(harness.standin.called("auth.test")) == checks_before + 1  # Slack really asked
    await get(harness, "/readyz")
    assert len(harness.standin.called("auth.test")) == checks_before + 1  # then remembered a while


async def test_not_ready_when_slack_refuses_the_token(harness: Harness) -> None:
    harness.standin.fail("auth.test", "token_revoked", times=5)
    status, body = await get(harness, "/readyz")
    assert status == 503 and body["status"] == "unavailable"
    assert body["missing"] == ["slack: auth.test refused SLACK_BOT_TOKEN (token_revoked)"]
    assert (await get(harness, "/healthz")) == (200, {"status": "ok"})  # alive: no restart helps


async def test_not_ready_when_slack_does_not_answer(harness: Harness) -> None:
    await harness.standin.stop()
    status, body = await get(harness, "/readyz")
    assert status == 503 and body["missing"][0].startswith("slack: the Web API did not answer auth.test")
