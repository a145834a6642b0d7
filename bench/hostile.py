"""Acknowledgements of normal Slack traffic while a second client sends hostile payloads.

`casebook serve`'s app runs in a child process on a throwaway SQLite file (or --database); Slack's
Web API is the tests' stand-in, in this process. Two phases of the same length, in one run:

  normal only     signed `/postmortem list` commands at --rate per second
  normal + hostile  the same, while a second client sends signed hostile payloads (the
                    property-based suite's generator, tests/slack/hostile.py) at the same rate

and normal only again after. Printed: the normal traffic's ack p50/p99 in each phase, and the
ratio of the p99 beside hostile traffic to the better baseline (goal: p99 within 1.5x).

    .venv/bin/python bench/hostile.py [--rate 30] [--seconds 10] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from slack_http import Child, _serve_casebook

from storage.db import migrate
from tests.slack.hostile import garbage
from tests.slack.support import SlackSender, SlackStandIn

Body = tuple[bytes, str]


async def paced(sender: SlackSender, make: Callable[[int], Body], rate: float, seconds: float) -> list[float]:
    """Send make(i) at `rate` per second for `seconds` (open loop); the latencies, in seconds."""
    latencies: list[float] = []
    statuses: list[int] = []

    async def one(i: int) -> None:
        body, content_type = make(i)
        started = time.perf_counter()
        response = await sender.post(body, content_type)
        latencies.append(time.perf_counter() - started)
        statuses.append(response.status)

    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    server_errors = sum(s >= 500 for s in statuses)
    if server_errors:
        print(f"  !! {server_errors} answers were 5xx")
    return latencies


def row(name: str, latencies: list[float]) -> tuple[str, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return f"{name:<22}{len(latencies):>9}{cuts[49] * 1000:>10.1f}{cuts[98] * 1000:>10.1f}", cuts[98]


async def main(args: argparse.Namespace) -> None:
    standin = await SlackStandIn(record=False).start()
    database = args.database
    if database is None:
        path = Path(tempfile.mkdtemp()) / "bench.db"
        migrate(f"sqlite:///{path}")
        database = f"sqlite+aiosqlite:///{path}"
    try:
        async with Child(_serve_casebook, standin.api_url, database) as url, aiohttp.ClientSession() as http:
            normal = SlackSender(http, url, standin)
            hostile = SlackSender(http, url, standin)
            bodies = list(garbage(hostile))
            cycle = itertools.cycle(bodies)

            def command(i: int) -> Body:
                return normal.command_body("list", user="UBOB"), "application/x-www-form-urlencoded"

            await paced(normal, command, args.rate, 2)  # warm-up
            alone = await paced(normal, command, args.rate, args.seconds)
            beside, _ = await asyncio.gather(
                paced(normal, command, args.rate, args.seconds),
                paced(hostile, lambda i: next(cycle), args.rate, args.seconds),
            )
            again = await paced(normal, command, args.rate, args.seconds)
    finally:
        await standin.stop()
    print(f"{len(bodies)} distinct hostile payloads, {args.rate:.0f} req/s each client, {args.seconds:.0f} s")
    print(f"{'normal traffic':<22}{'requests':>9}{'p50 ms':>10}{'p99 ms':>10}")
    line, p99_before = row("alone (before)", alone)
    print(line)
    line, p99_beside = row("beside hostile", beside)
    print(line)
    line, p99_after = row("alone (after)", again)
    print(line)
    # against the better of the two baselines, so a noisy baseline cannot flatter the ratio
    print(f"p99 ratio: {p99_beside / min(p99_before, p99_after):.2f}x (goal: within 1.5x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--database", default=None)
    asyncio.run(main(parser.parse_args()))
