"""The web library's page times at 10,000 cases, on SQLite and PostgreSQL.

Seeds --cases published cases (3 actions each, bulk inserts: the full-text triggers fire as for
any write) in the local console tenant, serves the real `casebook serve` app on a local port in
local mode, and times each page on the server (a middleware around every handler), beside
/healthz measured in the same run as the baseline of the HTTP and database round trip.

    .venv/bin/python bench/web_pages.py                      # SQLite (temporary file)
    .venv/bin/python bench/web_pages.py --backend postgres   # a throwaway database on --pg-server
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.server import build_app
from bot.config import Settings
from storage import repo
from storage.db import Database, connect, migrate
from storage.models import ActionStatus, Case, CaseStatus, PreventionAction

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)

AREAS = ("network", "storage", "compute", "deploy", "dependency", "data", "capacity", "security", "code")
WORDS = [
    "checkout",
    "payments",
    "gateway",
    "timeout",
    "502",
    "pool",
    "exhausted",
    "dns",
    "resolver",
    "latency",
    "disk",
    "full",
    "queue",
    "backlog",
    "certificate",
    "expired",
    "tls",
    "handshake",
    "kafka",
    "lag",
    "consumer",
    "replica",
    "failover",
    "cache",
    "eviction",
    "memory",
    "leak",
    "deploy",
    "rollback",
    "config",
    "flag",
    "cpu",
    "throttling",
    "pod",
    "evicted",
    "node",
    "drain",
    "quota",
    "exceeded",
    "rate",
    "limit",
]


# Incident text mixes a few words every case shares with many that few cases use: half the
# words come from the common list, half from a vocabulary of 3,000 made-up rarer terms.
_MAKER = random.Random(3)
RARE = [
    "".join(_MAKER.choice("bcdfghklmnprstvz") + _MAKER.choice("aeiou") for _ in range(4)) for _ in range(3000)
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) if rng.random() < 0.5 else rng.choice(RARE) for _ in range(n))


async def seed(db: Database, total: int, rng: random.Random) -> None:
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="console", external_id="local")
        lead = await repo.person(
            session, now=NOW, tenant_id=tenant.id or 0, user_id="bench", display_name="bench"
        )
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for first in range(0, total, 1000):
        async with db.transaction() as session:
            cases = []
            for number in range(first + 1, min(total, first + 1000) + 1):
                began = start + dt.timedelta(hours=number * 2)
                cases.append(
                    Case(
                        tenant_id=tenant.id or 0,
                        number=number,
                        title=sentence(rng, 6),
                        severity=rng.choice(("SEV1", "SEV2", "SEV3", "SEV4")),
                        area=rng.choice(AREAS),
                        services=[rng.choice(WORDS), rng.choice(WORDS)],
                        started_at=began,
                        detected_at=began + dt.timedelta(minutes=9),
                        mitigated_at=began + dt.timedelta(minutes=40),
                        resolved_at=began + dt.timedelta(minutes=90),
                        symptoms=[sentence(rng, 8) for _ in range(3)],
                        misjudgments=[{"kind": "signal", "text": sentence(rng, 6), "cost": "10 min"}],
                        diagnostic_path=[{"text": sentence(rng, 7), "by": "bench"} for _ in range(3)],
                        root_cause=sentence(rng, 15),
                        lead_id=lead.id,
                        status=CaseStatus.PUBLISHED,
                        published_at=began + dt.timedelta(days=1),
                        created_at=began,
                        updated_at=began + dt.timedelta(days=1),
                    )
                )
            session.add_all(cases)
            await session.flush()
            session.add_all(
                PreventionAction(
                    tenant_id=tenant.id or 0,
                    case_id=case.id or 0,
                    number=n,
                    description=sentence(rng, 6),
                    kind="prevent",
                    owner_id=lead.id,
                    due_date=(case.started_at or start).date() + dt.timedelta(days=30),
                    status=ActionStatus.OPEN if n == 1 else ActionStatus.DONE,
                    created_at=case.created_at,
                    updated_at=case.updated_at,
                )
                for case in cases
                for n in (1, 2, 3)
            )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


SERVER_MS: list[float] = []


@web.middleware
async def timer(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        SERVER_MS.append((time.perf_counter() - started) * 1000)


async def measure(client: aiohttp.ClientSession, url: str, times: int) -> list[float]:
    for _ in range(5):  # warm up, as a running server would be
        async with client.get(url) as response:
            await response.read()
            assert response.status == 200, (url, response.status)
    SERVER_MS.clear()
    for _ in range(times):
        async with client.get(url) as response:
            await response.read()
    return list(SERVER_MS)


async def run(url: str, args: argparse.Namespace) -> None:
    os.environ.pop("SLACK_BOT_TOKEN", None)
    db = connect(url)
    rng = random.Random(7)
    try:
        started = time.perf_counter()
        await seed(db, args.cases, rng)
        print(f"seeded {args.cases} cases in {time.perf_counter() - started:.1f} s")
        if db.dialect == "postgresql":
            from sqlalchemy import text

            async with db.engine.connect() as connection:
                await connection.execute(text("ANALYZE"))
                await connection.commit()
        app = build_app(db=db, settings=Settings())
        app.middlewares.insert(0, timer)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        base = str(server.make_url("")).rstrip("/")
        pages = {
            "/healthz (baseline)": "/healthz",
            "case list, page 1": "/",
            "case list, page 200": "/?page=200",
            "case list, filtered": "/?severity=SEV2&area=network&period=2024",
            "case list, search": "/?q=kafka+consumer+lag+replica",
            "case page": f"/cases/{args.cases // 2}",
            "API /api/v1/cases": "/api/v1/cases",
        }
        try:
            async with aiohttp.ClientSession() as client:
                print(
                    f"server time per request, {args.requests} requests each "
                    f"({db.dialect}, {args.cases} cases):"
                )
                for name, path in pages.items():
                    timings = await measure(client, base + path, args.requests)
                    print(
                        f"  {name:<24} p50 {percentile(timings, 50):6.1f} ms  "
                        f"p95 {percentile(timings, 95):6.1f} ms  mean {statistics.mean(timings):6.1f} ms"
                    )
        finally:
            await server.close()
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--pg-server",
        default=os.environ.get("CASEBOOK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            migrate(url)
            asyncio.run(run(url, args))
        return 0
    import psycopg

    name = f"casebook_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conninfo = args.pg_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.pg_server.rsplit("/", 1)[0] + "/" + name
    try:
        migrate(url)
        asyncio.run(run(url, args))
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
