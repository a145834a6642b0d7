"""Tracker sync: N actions published at once -> N issues, time and API calls.

Seeds N open actions of published cases in a workspace that picked GitHub, then runs
the real sync pass (claims, creates, links) against the local GitHub stand-in
(tests/trackers/standins.py) over real HTTP. Beside it, in the same run, the baseline:
the same N issue creates sent straight to the stand-in with aiohttp at the same
concurrency, no database. Then two passes at once on a fresh database (two clocks):
still one create per action.

    .venv/bin/python bench/trackers.py [--actions 1000] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.trackers import open_trackers
from adapters.trackers.config import TrackerSettings
from bot.trackers.sync import SyncSettings, sync_pass
from storage import repo
from storage.db import Database, connect, migrate
from storage.models import ActionStatus, Case, CaseStatus, PreventionAction, TrackerConfig
from tests.trackers.standins import GitHub

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
PER_CASE = 100


async def seed(db: Database, actions: int) -> None:
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="console", external_id="bench")
        lead = await repo.person(session, now=NOW, tenant_id=tenant.id or 0, user_id="lead")
        session.add(TrackerConfig(tenant_id=tenant.id or 0, kind="github", target="acme/ops", set_at=NOW))
        for c in range(0, actions, PER_CASE):
            case = Case(
                tenant_id=tenant.id or 0,
                number=c // PER_CASE + 1,
                title=f"Incident {c // PER_CASE + 1}",
                lead_id=lead.id,
                status=CaseStatus.PUBLISHED,
                published_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(case)
            await session.flush()
            for n in range(1, min(PER_CASE, actions - c) + 1):
                session.add(
                    PreventionAction(
                        tenant_id=tenant.id or 0,
                        case_id=case.id or 0,
                        number=n,
                        description=f"Prevention action {n} of incident {case.number}",
                        owner_id=lead.id,
                        due_date=dt.date(2026, 12, 15),
                        status=ActionStatus.OPEN,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )


async def baseline(stand_in: GitHub, actions: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> None:
            async with (
                gate,
                session.post(
                    f"{stand_in.url}/repos/acme/base/issues",
                    json={"title": f"t{i}", "body": "b", "labels": []},
                ) as response,
            ):
                await response.read()

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(actions)))
        return time.perf_counter() - start


async def fresh_db(url: str | None, tmp: Path, name: str) -> Database:
    if url:
        migrate(url)
        return connect(url)
    path = tmp / f"{name}.db"
    migrate(f"sqlite:///{path}")
    return connect(f"sqlite+aiosqlite:///{path}")


async def run(actions: int, url: str | None) -> None:
    settings = SyncSettings()
    with tempfile.TemporaryDirectory() as tmp:
        stand_in = await GitHub().start()
        tracker_settings = TrackerSettings(github_token="bench", github_api_url=stand_in.url)
        try:
            base = await baseline(stand_in, actions, settings.concurrency)
            stand_in.requests.clear()
            stand_in.issues.clear()

            db = await fresh_db(url, Path(tmp), "one")
            await seed(db, actions)
            async with open_trackers(tracker_settings) as trackers:
                start = time.perf_counter()
                report = await sync_pass(db, trackers, now=NOW, settings=settings, pull=False)
                elapsed = time.perf_counter() - start
                again = await sync_pass(
                    db, trackers, now=NOW + dt.timedelta(minutes=1), settings=settings, pull=False
                )
            await db.dispose()
            creates = len(stand_in.calls("POST", r"/repos/acme/ops/issues$"))
            calls = len(stand_in.requests)
            print(
                f"baseline: {actions} creates straight to the stand-in: {base:.2f} s ({actions / base:.0f}/s)"
            )
            print(
                f"sync pass: {report.count('created')} issues created in {elapsed:.2f} s "
                f"({actions / elapsed:.0f}/s, {elapsed / base:.1f}x the baseline); "
                f"{calls} API calls, {creates} creates ({creates / actions:.2f} per action); "
                f"a second pass created {again.count('created')}"
            )

            if url is None:  # two clocks at once need two databases only on SQLite's file per run
                stand_in.requests.clear()
                stand_in.issues.clear()
                db = await fresh_db(None, Path(tmp), "two")
                await seed(db, actions)
                async with open_trackers(tracker_settings) as a, open_trackers(tracker_settings) as b:
                    start = time.perf_counter()
                    reports = await asyncio.gather(
                        sync_pass(db, a, now=NOW, settings=settings, pull=False, worker="clock-a"),
                        sync_pass(db, b, now=NOW, settings=settings, pull=False, worker="clock-b"),
                    )
                    both = time.perf_counter() - start
                await db.dispose()
                creates = len(stand_in.calls("POST", r"/repos/acme/ops/issues$"))
                made = sum(r.count("created") for r in reports)
                print(
                    f"two passes at once: {made} created, {creates} creates "
                    f"for {actions} actions in {both:.2f} s"
                )
        finally:
            await stand_in.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument(
        "--database", default=None, help="a migrated-or-empty PostgreSQL URL (default: SQLite)"
    )
    args = parser.parse_args()
    asyncio.run(run(args.actions, args.database))


if __name__ == "__main__":
    main()
