"""How long publishing takes with and without a (slow) model, and how long the model draft follows.

The goal: the answer to the message that publishes a case (what a chat adapter
acknowledges) costs the same with a model configured as without one, however
slow the model is; the model's draft arrives later, from the follow-up job.

    PYTHONPATH=. /tmp/venv/bin/python bench/drafting_ack.py [--runs 5] [--latency 2.0]

Uses a throwaway SQLite database and the stand-in model server (tests.fake_openai).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

from adapters.console.demo import SCRIPT
from adapters.console.session import PLATFORM, TENANT, inbound_for
from bot.config import Settings
from bot.jobs import run_followup
from bot.service import handle
from storage.db import Database, connect, migrate
from tests.fake_openai import FakeOpenAI, slow

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


async def one_case(db: Database, key: str) -> tuple[float, str | None]:
    """Run the demo interview; return the seconds handle() took on the publishing message."""
    elapsed, followup = 0.0, None
    for who, text in SCRIPT:
        inbound = inbound_for(text, user=who, timezone="Europe/Paris", conversation_key=key)
        started = time.perf_counter()
        replies = await handle(db, inbound, settings=Settings())
        elapsed = time.perf_counter() - started
        followup = next((r.followup for r in replies if r.followup), None)
    return elapsed, followup


async def series(db: Database, label: str, runs: int) -> None:
    acks, drafts = [], []
    for run in range(runs):
        ack, followup = await one_case(db, f"bench:{label}:{run}:{time.time_ns()}")
        acks.append(ack * 1000)
        if followup:
            started = time.perf_counter()
            await run_followup(db, followup, now=NOW, platform=PLATFORM, tenant=TENANT, settings=Settings())
            drafts.append(time.perf_counter() - started)
    line = f"{label:<28} publish ack: median {statistics.median(acks):6.1f} ms, max {max(acks):6.1f} ms"
    if drafts:
        line += f" | model draft after: median {statistics.median(drafts):5.2f} s, max {max(drafts):5.2f} s"
    print(line, flush=True)


async def main(runs: int, latency: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate(url)
        db = connect(url)
        try:
            for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
                os.environ.pop(name, None)
            await series(db, "no model", runs)
            async with FakeOpenAI(default=slow(latency)) as server:
                os.environ["OPENAI_BASE_URL"] = server.base_url
                os.environ["OPENAI_TIMEOUT"] = str(latency + 5)
                await series(db, f"model answering in {latency:g} s", runs)
                print(f"model requests: {len(server.requests)}")
        finally:
            await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="publish acknowledgement vs. model drafting")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds the stand-in model takes")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.latency))
