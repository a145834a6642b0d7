"""/metrics after a real interview through Slack's HTTP path, parsed with prometheus_client's
own text parser; and who may read it (a bearer token, or a separate port)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from storage.db import Database
from tests.slack.conftest import Harness, serving
from tests.slack.support import SlackStandIn
from tests.slack.test_interview import run_interview

TOKEN = "metrics-token-for-tests"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def metered(
    db: Database, standin: SlackStandIn, slack_env: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    monkeypatch.setenv("CASEBOOK_METRICS_TOKEN", TOKEN)
    monkeypatch.delenv("METRICS_PORT", raising=False)
    async with serving(db, standin) as h:
        yield h


async def scrape(h: Harness, token: str | None = TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with h.sender.session.get(h.server.make_url("/metrics"), headers=headers) as response:
        return response.status, await response.text()


async def test_metrics_after_a_real_interview(metered: Harness) -> None:
    h = metered
    status, text = await scrape(h)
    assert status == 200
    before = parse(text)

    root = await run_interview(h)
    status, text = await scrape(h)
    after = parse(text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = grew("casebook_requests_total", platform="slack", status="2xx")
    assert requests >= 15  # the command, every answer and click
    assert grew("casebook_ack_seconds_count", platform="slack") == requests  # each one timed
    assert grew("casebook_ack_seconds_bucket", platform="slack", le="+Inf") == requests
    assert grew("casebook_interview_turns_total", platform="slack") >= 14
    assert value(after, "casebook_db_pool", state="checked_out") >= 0
    assert ("casebook_reminder_deliveries", ()) not in after  # labelled by status only when rows exist

    # A refused answer is counted as a refusal.
    refusals = value(after, "casebook_refusals_total", platform="slack")
    await h.say(root, "x" * 5000)  # over CASEBOOK_MAX_ANSWER_CHARS: refused, never cut
    _, text = await scrape(h)
    assert value(parse(text), "casebook_refusals_total", platform="slack") == refusals + 1


async def test_metrics_need_the_token(metered: Harness) -> None:
    assert (await scrape(metered, token=None))[0] == 401
    assert (await scrape(metered, token="guess"))[0] == 401


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_metrics_on_their_own_port(
    db: Database, standin: SlackStandIn, slack_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.delenv("CASEBOOK_METRICS_TOKEN", raising=False)
    monkeypatch.setenv("METRICS_PORT", str(port))
    monkeypatch.setenv("HOST", "127.0.0.1")
    async with serving(db, standin) as h:
        assert (await scrape(h, token=None))[0] == 404  # not on the public port
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics") as response,
        ):
            assert response.status == 200
            families = {f.name for f in text_string_to_metric_families(await response.text())}
    assert {"casebook_requests", "casebook_ack_seconds", "casebook_interview_turns"} <= families
