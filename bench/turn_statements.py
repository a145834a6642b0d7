"""SQL statements per interview answer, and the time of one: how many round trips one turn
makes to the database, and what it costs beside the least a stored answer needs.

Plays the demo's whole interview (three responders, 40 messages) through `bot.service.handle`
on a fresh SQLite file (or the URL given: a throwaway database, it is migrated and written),
counts what the driver executes per message with a `before_cursor_execute` listener, and
prints the figures per answer, and per line for 15 list lines applied as one run. Then it
times list answers (20 interviews, 15 symptoms each) beside a baseline in the same run: one
row inserted and committed through the same engine.

    .venv/bin/python -m bench.turn_statements [--database-url postgresql://...] [--show 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from adapters.console.demo import SCRIPT, TYPING
from adapters.console.session import inbound_for
from bot.config import Settings
from bot.service import handle, handle_run
from storage.db import Database, connect, migrate

START = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


class Counting:
    """Every statement the driver runs, by message."""

    def __init__(self) -> None:
        self.current: list[str] = []

    def listen(self, db: Database) -> None:
        def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            self.current.append(" ".join(statement.split())[:110])

        event.listen(db.engine.sync_engine, "before_cursor_execute", before)

    def take(self) -> list[str]:
        taken, self.current = self.current, []
        return taken


async def play(url: str, show: int) -> None:
    migrate(url)
    db = connect(url)
    counting = Counting()
    counting.listen(db)
    settings = Settings()
    per_answer: list[int] = []
    kinds: Counter[str] = Counter()
    key = "console:bench-turns"
    try:
        for index, (who, text) in enumerate(SCRIPT):
            typed = inbound_for(
                text, user=who, timezone="Europe/Paris", conversation_key=key, at=START + index * TYPING
            )
            inbound = replace(typed, event_id=f"bench-{index}")  # as Slack and Teams send one
            await handle(db, inbound, settings=settings)
            statements = counting.take()
            if index == 0:
                continue  # `postmortem <title>` opens the case: a command, not an answer
            per_answer.append(len(statements))
            kinds.update(s.split(" ", 1)[0].upper() for s in statements)
            if index <= show:
                print(f"--- answer {index} ({text[:30]!r}): {len(statements)} statements")
                for statement in statements:
                    print("   ", statement)
        run_statements = await burst_as_run(db, settings, counting)
        answer_ms, baseline_ms = await timed_answers(db, settings), await timed_baseline(db)
    finally:
        await db.dispose()
    print(f"database: {db.dialect}; answers: {len(per_answer)}")
    print(
        f"a list answer through handle: median {statistics.median(answer_ms):.2f} ms, p90 "
        f"{_p90(answer_ms):.2f} ms; one row + commit (baseline): median "
        f"{statistics.median(baseline_ms):.2f} ms, p90 {_p90(baseline_ms):.2f} ms"
    )
    print(
        f"statements per answer: mean {statistics.mean(per_answer):.1f}, median "
        f"{statistics.median(per_answer):.0f}, min {min(per_answer)}, max {max(per_answer)}, "
        f"total {sum(per_answer)}"
    )
    print("by kind: " + ", ".join(f"{kind} {count}" for kind, count in kinds.most_common()))
    print(
        f"15 list lines waiting together, applied as one run (bot.service.handle_run): "
        f"{len(run_statements)} statements, {len(run_statements) / 15:.1f} a line ("
        + ", ".join(f"{kind} {count}" for kind, count in Counter(run_statements).most_common())
        + ")"
    )


OPENING = ["postmortem Timed", "SEV3", "network", "skip", "skip", "skip", "skip", "skip"]


async def burst_as_run(db: Database, settings: Settings, counting: Counting) -> list[str]:
    """The statements of 15 list lines applied together, by kind."""
    key = "console:bench-run"
    for index, said in enumerate(OPENING):
        at = START + dt.timedelta(hours=1, seconds=index)
        typed = inbound_for(said, user="alice", timezone="Europe/Paris", conversation_key=key, at=at)
        await handle(db, typed, settings=settings)
    counting.take()
    lines = [
        inbound_for(
            f"- symptom {n}",
            user="alice",
            timezone="Europe/Paris",
            conversation_key=key,
            at=START + dt.timedelta(hours=1, minutes=1, seconds=n),
        )
        for n in range(15)
    ]
    applied = 0
    while applied < len(lines):
        applied += len(await handle_run(db, lines[applied:], settings=settings))
    return [statement.split(" ", 1)[0].upper() for statement in counting.take()]


async def timed_answers(db: Database, settings: Settings) -> list[float]:
    times = []
    for interview in range(20):
        key = f"console:bench-timed-{interview}"
        for index, said in enumerate(OPENING + [f"- symptom {n}" for n in range(15)]):
            at = START + dt.timedelta(minutes=interview, seconds=index)
            typed = inbound_for(said, user="alice", timezone="Europe/Paris", conversation_key=key, at=at)
            started = time.perf_counter()
            await handle(db, replace(typed, event_id=f"timed-{interview}-{index}"), settings=settings)
            if index >= len(OPENING):
                times.append((time.perf_counter() - started) * 1000)
    return times


async def timed_baseline(db: Database) -> list[float]:
    async with db.transaction() as session:
        await session.exec(text("CREATE TABLE IF NOT EXISTS bench_rows (id TEXT PRIMARY KEY, body TEXT)"))
    times = []
    for n in range(300):
        started = time.perf_counter()
        async with db.transaction() as session:
            await session.exec(
                text("INSERT INTO bench_rows VALUES (:id, :body)").bindparams(id=f"r{n}", body="x")
            )
        times.append((time.perf_counter() - started) * 1000)
    return times


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[8]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a throwaway database (default: a fresh SQLite file)")
    parser.add_argument("--show", type=int, default=0, help="print the statements of the first N answers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'turns.db'}"
        asyncio.run(play(url, args.show))


if __name__ == "__main__":
    main()
