"""Benchmark: one reminder sweep over 100k open actions and 10k owners, SQLite and PostgreSQL.

    PYTHONPATH=. /tmp/venv/bin/python bench/reminders.py [--owners N] [--per-owner N] [--backend B]

For each backend it seeds a throwaway database (a temporary SQLite file; a new
PostgreSQL database on CASEBOOK_BENCH_PG, dropped afterwards), then prints for
the sweep that sends every digest: its wall time, the SQL statements it issued
(counted with SQLAlchemy's before_cursor_execute) and its peak Python memory
(tracemalloc, in a second identical run so that tracing does not slow the timed
one). It also prints the same figures at a tenth of the owners, to show the
statement count does not grow with them, and for an idle tick (nothing due).
Goals: <= 5 s, a statement count independent of the number of owners, <= 300 MB.
The notifier is a no-op counter: the per-owner sends are the platform's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, text

from bot.messages import Reply
from bot.notify import SendResult
from bot.reminders.config import ReminderSettings
from bot.reminders.sweep import SweepReport, sweep
from storage.db import Database, connect, migrate, sync_url
from storage.models import Case, Person, PreventionAction, Tenant

PG_SERVER = os.environ.get("CASEBOOK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# A Monday evening: the 09:00 slot has passed in every seeded zone, so every owner is due.
NOW = dt.datetime(2026, 11, 23, 18, 30, tzinfo=dt.UTC)
BEFORE = NOW - dt.timedelta(days=5)
ZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", None)


class CountingNotifier:
    platform = "console"

    def __init__(self) -> None:
        self.sent = 0

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        self.sent += 1
        return SendResult(ok=True)

    async def post_in_conversation(
        self, *, tenant: str, conversation_key: str, replies: Sequence[Reply]
    ) -> SendResult:
        self.sent += 1
        return SendResult(ok=True)


def seed(url: str, *, owners: int, per_owner: int) -> None:
    """Bulk rows with the sync driver: one tenant, `owners` people, 10 actions per case."""
    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        tenant_id = conn.execute(
            insert(Tenant)
            .values(platform="console", external_id="bench", created_at=BEFORE)
            .returning(Tenant.id)  # type: ignore[arg-type]
        ).scalar_one()
        conn.execute(
            insert(Person),
            [
                {
                    "tenant_id": tenant_id,
                    "platform_user_id": f"U{n:06d}",
                    "display_name": f"Owner {n}",
                    "timezone": ZONES[n % len(ZONES)],
                    "is_admin": False,
                    "created_at": BEFORE,
                    "updated_at": BEFORE,
                }
                for n in range(owners)
            ],
        )
        person_ids = [row[0] for row in conn.execute(text("SELECT id FROM people ORDER BY id"))]
        total = owners * per_owner
        cases = (total + 9) // 10
        conn.execute(
            insert(Case),
            [
                {
                    "tenant_id": tenant_id,
                    "number": n + 1,
                    "title": f"Incident {n + 1}: checkout latency",
                    "lead_id": person_ids[n % owners],
                    "status": "published",
                    "require_evidence": False,
                    "services": [],
                    "symptoms": [],
                    "misjudgments": [],
                    "diagnostic_path": [],
                    "contributing_factors": [],
                    "draft_meta": {},
                    "extra": {},
                    "source": "interview",
                    "created_at": BEFORE,
                    "updated_at": BEFORE,
                    "published_at": BEFORE,
                }
                for n in range(cases)
            ],
        )
        case_ids = [row[0] for row in conn.execute(text("SELECT id FROM cases ORDER BY id"))]
        batch: list[dict[str, Any]] = []
        for n in range(total):
            due = NOW.date() + dt.timedelta(days=(n % 60) - 25)  # some 2+ weeks overdue
            batch.append(
                {
                    "tenant_id": tenant_id,
                    "case_id": case_ids[n // 10],
                    "number": n % 10 + 1,
                    "description": f"Prevention action {n}: add an alert on pool saturation",
                    "kind": "detect",
                    "owner_id": person_ids[n % owners],
                    "due_date": due,
                    "status": "open",
                    "snoozed_until": NOW.date() + dt.timedelta(days=3) if n % 7 == 3 else None,
                    "suggested": False,
                    "created_at": BEFORE,
                    "updated_at": BEFORE,
                }
            )
            if len(batch) == 20_000:
                conn.execute(insert(PreventionAction), batch)
                batch = []
        if batch:
            conn.execute(insert(PreventionAction), batch)
    engine.dispose()


def prepare(url: str, owners: int, per_owner: int) -> None:
    migrate(url)
    seed(url, owners=owners, per_owner=per_owner)


@dataclass
class Figures:
    seconds: float
    statements: int
    digests: int
    escalations: int
    sent: int
    peak_mb: float | None = None


async def measure(db: Database, *, trace: bool) -> Figures:
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    notifier = CountingNotifier()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    report: SweepReport = await sweep(
        db, {"console": notifier}, settings=ReminderSettings(), clock=lambda: NOW, default_timezone="UTC"
    )
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    if trace:
        tracemalloc.stop()
    event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return Figures(
        seconds,
        statements,
        report.count("digest", "sent"),
        report.count("escalation", "sent"),
        notifier.sent,
        peak,
    )


async def forget_deliveries(db: Database) -> None:
    async with db.transaction() as session:
        await session.exec(text("DELETE FROM reminder_deliveries"))  # type: ignore[call-overload]
        await session.exec(text("DELETE FROM reminder_escalations"))  # type: ignore[call-overload]


async def bench_database(url: str, label: str, *, owners: int, per_owner: int) -> None:
    started = time.perf_counter()
    # Seeded in a child process, so that this process's peak RSS is the sweeps' own.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply(prepare, (url, owners, per_owner))
    took = time.perf_counter() - started
    print(f"  seeded {owners:,} owners, {owners * per_owner:,} open actions in {took:.1f} s", flush=True)
    db = connect(url)
    try:
        first = await measure(db, trace=False)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before tracemalloc's own overhead
        idle = await measure(db, trace=False)
        await forget_deliveries(db)
        traced = await measure(db, trace=True)
    finally:
        await db.dispose()
    print(
        f"  {label:<9} sweep: {first.seconds:6.2f} s, {first.statements:3d} statements, "
        f"{first.digests:,} digests + {first.escalations:,} escalations sent, "
        f"peak Python memory {traced.peak_mb:.0f} MB (traced run: {traced.seconds:.2f} s), "
        f"process peak RSS {rss:.0f} MB"
    )
    print(f"  {label:<9} idle tick (all sent): {idle.seconds:6.2f} s, {idle.statements:3d} statements")


def sqlite_url(folder: str, name: str) -> str:
    return f"sqlite:///{Path(folder) / name}"


def pg_database(name: str, *, create: bool) -> str:
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name


async def run_scale(backend: str, owners: int, per_owner: int) -> None:
    print(f"{backend}, {owners:,} owners x {per_owner} actions:", flush=True)
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            await bench_database(sqlite_url(folder, "bench.db"), backend, owners=owners, per_owner=per_owner)
        return
    name = f"casebook_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = pg_database(name, create=True)
    try:
        await bench_database(url, backend, owners=owners, per_owner=per_owner)
    finally:
        pg_database(name, create=False)


def run_in_fresh_process(backend: str, owners: int, per_owner: int) -> None:
    """Each run in its own process, so that its peak RSS is its own."""
    asyncio.run(run_scale(backend, owners, per_owner))
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--owners", type=int, default=10_000)
    parser.add_argument("--per-owner", type=int, default=10)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    spawn = multiprocessing.get_context("spawn")
    for backend in backends:
        for owners in (args.owners // 10, args.owners):
            process = spawn.Process(target=run_in_fresh_process, args=(backend, owners, args.per_owner))
            process.start()
            process.join()
            if process.exitcode:
                raise SystemExit(f"the {backend} run failed (exit code {process.exitcode})")


if __name__ == "__main__":
    main()
