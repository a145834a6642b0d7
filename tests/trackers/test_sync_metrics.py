"""Tracker sync lag on /metrics, after real passes against the GitHub stand-in, parsed with
prometheus_client's own parser: the age of the oldest change the tracker does not show yet
(a gauge per tracker) and the delay from each change to the pass that showed it (a histogram)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from adapters.ops import metrics
from adapters.trackers.config import TrackerSettings
from storage.db import Database
from storage.models import Case
from tests.conftest import Chat
from tests.trackers.standins import GitHub
from tests.trackers.support import action, publish_with_tracker, run_pass

REPO = "acme/ops"
LAG = "casebook_tracker_oldest_unsynced_seconds"
DELAY = "casebook_tracker_sync_delay_seconds"


class Scraper:
    """/metrics served by the real handler, its clock chosen by the test."""

    def __init__(self, db: Database) -> None:
        self.now = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        app = web.Application()
        app.router.add_get("/metrics", metrics.metrics_handler(db, None, clock=lambda: self.now))
        self.server = TestServer(app, host="127.0.0.1", port=0)

    async def at(self, now: dt.datetime) -> dict[tuple[str, str], float]:
        """Samples by (name, the `tracker` and `le` labels) as scraped at `now`."""
        self.now = now
        async with aiohttp.ClientSession() as http, http.get(self.server.make_url("/metrics")) as response:
            assert response.status == 200
            text = await response.text()
        return {
            (sample.name, f"{sample.labels.get('tracker', '')}{sample.labels.get('le', '')}"): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


@pytest.fixture
async def scraper(db: Database) -> AsyncIterator[Scraper]:
    metrics.install()  # the core's measures go to Prometheus, as in `casebook serve`
    scraping = Scraper(db)
    await scraping.server.start_server()
    yield scraping
    await scraping.server.close()


async def test_lag_and_delay_after_real_syncs(
    chat: Chat, db: Database, github: GitHub, tracker_env: TrackerSettings, scraper: Scraper
) -> None:
    await publish_with_tracker(chat, "github", REPO)
    async with db.transaction() as session:
        published = (await session.exec(select(Case))).one().published_at
    assert published is not None
    before = await scraper.at(published)
    count, total = before.get((f"{DELAY}_count", "github"), 0.0), before.get((f"{DELAY}_sum", "github"), 0.0)

    # Published, no issue yet: the tracker lags by the time since publication.
    assert (await scraper.at(published + dt.timedelta(seconds=40)))[(LAG, "github")] == 40.0
    await run_pass(db, tracker_env, now=published + dt.timedelta(seconds=90), pull=False)
    assert len(github.calls("POST", r"/repos/acme/ops/issues$")) == 1
    synced = await scraper.at(published + dt.timedelta(seconds=100))
    assert synced[(LAG, "github")] == 0.0
    assert synced[(f"{DELAY}_count", "github")] == count + 1
    assert synced[(f"{DELAY}_sum", "github")] == total + 90.0

    # Closed in Casebook: the issue lags until the next pass closes it too.
    await chat.command("done 1.1 https://git.example/pull/7", user="bob", key="dm-bob")
    closed = await action(db)
    assert closed.closed_at is not None
    assert (await scraper.at(closed.updated_at + dt.timedelta(seconds=30)))[(LAG, "github")] == 30.0
    await run_pass(db, tracker_env, now=closed.updated_at + dt.timedelta(seconds=120), pull=False)
    assert github.calls("PATCH", r"/repos/acme/ops/issues/1$")
    after = await scraper.at(closed.updated_at + dt.timedelta(seconds=130))
    assert after[(LAG, "github")] == 0.0
    assert after[(f"{DELAY}_count", "github")] == count + 2
    assert after[(f"{DELAY}_sum", "github")] == total + 90.0 + 120.0
    # The buckets place them: neither within 60 s, both within 120 s.
    assert after[(f"{DELAY}_bucket", "github60.0")] == before.get((f"{DELAY}_bucket", "github60.0"), 0.0)
    assert after[(f"{DELAY}_bucket", "github120.0")] >= before.get((f"{DELAY}_bucket", "github120.0"), 0) + 2
