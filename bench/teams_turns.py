"""How long a Teams turn takes end to end, and how big the cards get.

    PYTHONPATH=. python bench/teams_turns.py [--interviews 5] [--database-url URL]

Runs whole interviews through POST /api/messages (development mode, SQLite by
default) against the local stand-in connector, and prints per-turn latency
(request in -> every reply posted to the connector -> HTTP answer), the largest
card sent, and the time TeamsNotifier takes to deliver a 20-item digest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import select

from adapters.teams import add_routes
from adapters.teams.config import TeamsSettings
from adapters.teams.routes import TEAMS
from bot.config import Settings
from bot.messages import Choice, ListItem, Reply, ReplyKind
from storage.db import connect, migrate
from storage.models import Case, CaseStatus
from tests.teams.activities import ALICE, BOB, TENANT, Teams
from tests.teams.standins import Connector

ANSWERS = (
    "SEV2", "deploy", "checkout-api, payments", "3 hours ago", "+9m", "+41m", "+1h12m",
    "- 502 rate rose to 14%\n- PagerDuty: CheckoutErrorBudgetBurn", "done",
    "Suspected the CDN — cost: 15 min", "done", "skip", "skip",
    "Checked the error dashboard: 502s only via payments", "pgbouncer SHOW POOLS: cl_waiting 400", "done",
    "A config change cut the payments pool from 200 to 20.", "No pool saturation alert", "done",
    "Alert when cl_waiting > 50 for 5 minutes", "<at>Bob Smith</at>", "in 2 weeks", "detect", "none",
    "done", "confirm", "yes",
)  # fmt: skip


async def run(interviews: int, database_url: str) -> None:
    connector = Connector()
    connector_server = TestServer(connector.app(), host="127.0.0.1", port=0)
    await connector_server.start_server()
    connector.url = str(connector_server.make_url("/"))
    db = connect(database_url)
    app = web.Application()
    teams_settings = TeamsSettings(dev_allow_unauthenticated=True, allowed_tenants=frozenset({TENANT}))
    add_routes(app, db=db, settings=Settings(), teams=teams_settings.validate())
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    url = str(server.make_url("/api/messages"))
    teams = Teams(connector.url)
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:

        async def post(activity: dict[str, object]) -> None:
            started = time.perf_counter()
            async with http.post(url, json=activity) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - started)

        for n in range(interviews):
            root = teams.channel_post(f"postmortem Bench incident {n}")
            await post(root)
            for index, text in enumerate(ANSWERS):
                lead_speaks = index % 3 == 0 or index >= len(ANSWERS) - 2  # only the lead may publish
                await post(teams.channel_reply(str(root["id"]), text, user=ALICE if lead_speaks else BOB))

        items = tuple(
            ListItem(
                f"`1.{i}` Prevention action number {i} (due 2026-12-01)", (Choice("Done", f"/done 1.{i}"),)
            )
            for i in range(1, 21)
        )
        digest = [Reply("**Your open prevention actions** (20)", ReplyKind.LIST, items=items)]
        notifier = app[TEAMS].notifier
        started = time.perf_counter()
        result = await notifier.send_direct(tenant=TENANT, user_id=BOB.id, replies=digest)
        digest_seconds = time.perf_counter() - started
        assert result.ok, result.error

    async with db.transaction() as session:
        published = len((await session.exec(select(Case).where(Case.status == CaseStatus.PUBLISHED))).all())
    assert published == interviews, f"only {published} of {interviews} interviews reached a published case"
    cards = [json.dumps(s.card).encode() for s in connector.sent if s.card]
    latencies.sort()
    print(
        f"turns: {len(latencies)} over {interviews} interview(s), each to a published case, on {db.dialect}"
    )
    print(f"  p50 {statistics.median(latencies) * 1000:.1f} ms")
    print(f"  p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.1f} ms")
    print(f"  max {latencies[-1] * 1000:.1f} ms")
    print(f"activities posted to the connector: {len(connector.sent)} ({len(cards)} cards)")
    print(f"  largest card {len(max(cards, key=len)):,} bytes (Teams refuses ~28,000)")
    print(f"digest of 20 items by TeamsNotifier (opens the 1:1 chat): {digest_seconds * 1000:.1f} ms")
    await server.close()
    await connector_server.close()
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--interviews", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        migrate(url)
        asyncio.run(run(args.interviews, url))


if __name__ == "__main__":
    main()
