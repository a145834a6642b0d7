"""Slack over HTTP: Casebook's acknowledgements and interview answers beside a bare bolt app.

Every request is a real signed HTTP request on loopback to a real aiohttp server in a child
process; Slack's Web API is the tests' stand-in, in this process. Scenarios, each a fixed
number of requests at a fixed concurrency:

  bare app        slash commands / events to a bolt AsyncApp whose listeners only ack
  casebook        `/postmortem <title>` (each opens a case), and interview answers in the
                  threads of running interviews; also answers while every Web API call takes
                  250 ms (acks must not notice)

  1 row + 1 reply a bolt app that per answer commits one row and posts one reply
                  (the least durable work an answer needs)

For each: requests/s and ack latency (p50, p99) as the sender sees them; for Casebook also
end-to-end: requests/s counted until every answer is stored and Slack shows its replies (each
line's reaction, each question's newest count: lines applied together edit it once).
The three servers run side by side for the whole bench and take turns, round after round:
on a shared machine, a ratio of two runs seconds apart moves far less than one of runs
minutes apart, and the rounds show how much it still moves.

    .venv/bin/python bench/slack_http.py [--requests 1000] [--concurrency 50] [--rounds 3]
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/casebook_bench]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.slack.support import (
    BOT_TOKEN,
    SIGNING_SECRET,
    SlackSender,
    SlackStandIn,
)

THREADS = 50  # running interviews the answers are spread over


# --- the servers under test (child processes) ------------------------------------------------


def _serve_bare(api_url: str, ports: Any) -> None:
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async def main() -> None:
        app = AsyncApp(
            client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
            signing_secret=SIGNING_SECRET,
            name="bare",
        )

        @app.command("/postmortem")
        async def command(ack: Any) -> None:
            await ack()

        @app.event("message")
        async def message() -> None:
            return None

        await _listen(app.web_app(path="/slack/events"), ports)

    _run(main)


def _serve_minimal(api_url: str, database_url: str, ports: Any) -> None:
    """The least durable work an answer needs: commit one row, post one reply (after the ack)."""
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy import text

    from storage.db import connect

    async def main() -> None:
        db = connect(database_url)
        async with db.engine.begin() as conn:
            await conn.execute(
                text("CREATE TABLE IF NOT EXISTS bench_answers (id TEXT PRIMARY KEY, body TEXT)")
            )
        app = AsyncApp(
            client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
            signing_secret=SIGNING_SECRET,
            name="minimal",
        )

        @app.event("message")
        async def message(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
            async with db.engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO bench_answers VALUES (:id, :body)"),
                    {"id": body["event_id"], "body": event.get("text")},
                )
            await client.chat_postMessage(
                channel=event["channel"], thread_ts=event.get("thread_ts"), text="Noted."
            )

        await _listen(app.web_app(path="/slack/events"), ports)

    _run(main)


def _serve_casebook(api_url: str, database_url: str, ports: Any) -> None:
    os.environ.update(
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": api_url}
    )

    async def main() -> None:
        from adapters.server import build_app
        from bot.config import Settings
        from storage.db import connect

        await _listen(build_app(db=connect(database_url), settings=Settings()), ports)

    _run(main)


def _run(main: Callable[[], Any]) -> None:
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main())


async def _listen(app: Any, ports: Any) -> None:
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    ports.put(site._server.sockets[0].getsockname()[1])
    await asyncio.Event().wait()  # until the parent terminates us


class Child:
    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self.ports = context.Queue()
        self.process = context.Process(target=target, args=(*args, self.ports), daemon=True)

    async def __aenter__(self) -> str:
        self.process.start()
        # In a thread: this loop also serves the stand-in the child calls while starting.
        port = await asyncio.to_thread(self.ports.get, True, 60)
        return f"http://127.0.0.1:{port}/slack/events"

    async def __aexit__(self, *exc: object) -> None:
        self.process.terminate()
        await asyncio.to_thread(self.process.join, 10)


# --- load ---------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    failures: int
    end_to_end_seconds: float | None = None

    def rate(self) -> float:
        return self.requests / self.seconds

    def end_to_end_rate(self) -> float:
        return self.requests / (self.end_to_end_seconds or float("inf"))

    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98] if len(self.latencies) > 1 else 0.0

    def row(self) -> str:
        cuts = statistics.quantiles(self.latencies, n=100) if len(self.latencies) > 1 else [0.0] * 99
        e2e = f"{self.requests / self.end_to_end_seconds:9.0f}" if self.end_to_end_seconds else f"{'-':>9}"
        return (
            f"{self.name:<44}{self.requests / self.seconds:9.0f}{e2e}"
            f"{cuts[49] * 1000:9.1f}{cuts[98] * 1000:9.1f}{self.failures:7d}"
        )


HEADER = f"{'scenario':<44}{'ack r/s':>9}{'e2e r/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'fails':>7}"

Body = tuple[bytes, str]


async def load(
    sender: SlackSender, bodies: list[Callable[[], Body]], concurrency: int
) -> tuple[float, list[float], int]:
    """Send every body once, `concurrency` at a time; (seconds, latencies, failures)."""
    latencies: list[float] = []
    failures = 0
    pending = iter(bodies)

    async def worker() -> None:
        nonlocal failures
        for make in pending:
            body, content_type = make()
            started = time.perf_counter()
            response = await sender.post(body, content_type)
            latencies.append(time.perf_counter() - started)
            failures += response.status != 200

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, failures


async def until_count(standin: SlackStandIn, key: str, target: int, *, within: float = 600) -> float:
    started = time.perf_counter()
    while standin.counts[key] < target:
        if time.perf_counter() - started > within:
            raise TimeoutError(f"only {standin.counts[key]} of {target} {key} after {within:.0f} s")
        await asyncio.sleep(0.005)
    return time.perf_counter()


def commands(sender: SlackSender, n: int, prefix: str) -> list[Callable[[], Body]]:
    return [
        (
            lambda i=i: (
                sender.command_body(f"{prefix} {i}", channel=f"C{i % 20:04d}"),
                "application/x-www-form-urlencoded",
            )
        )
        for i in range(n)
    ]


def answers(sender: SlackSender, roots: list[tuple[str, str]], n: int, text: str) -> list[Callable[[], Body]]:
    def make(i: int) -> Body:
        channel, root = roots[i % len(roots)]
        event = sender.reply_event(f"- {text} {i}", thread_ts=root, channel=channel, user="UBOB")
        return sender.event_body(event), "application/json"

    return [lambda i=i: make(i) for i in range(n)]


# --- scenarios --------------------------------------------------------------------------------


ROOTS = [(f"C{i:04d}", f"1690000000.{i:06d}") for i in range(THREADS)]


async def bare_round(sender: SlackSender, args: argparse.Namespace, round_: int) -> list[Result]:
    seconds, latencies, failures = await load(
        sender, commands(sender, args.requests, f"bare {round_}"), args.concurrency
    )
    command = Result("bare bolt app: slash command (ack only)", args.requests, seconds, latencies, failures)
    seconds, latencies, failures = await load(
        sender, answers(sender, ROOTS, args.requests, f"x{round_}"), args.concurrency
    )
    event = Result("bare bolt app: message event (ack only)", args.requests, seconds, latencies, failures)
    return [command, event]


async def minimal_round(
    standin: SlackStandIn, sender: SlackSender, args: argparse.Namespace, round_: int
) -> Result:
    posted = standin.counts["thread posts"]
    started = time.perf_counter()
    seconds, latencies, failures = await load(
        sender, answers(sender, ROOTS, args.requests, f"m{round_}"), args.concurrency
    )
    done = await until_count(standin, "thread posts", posted + args.requests)
    name = "bolt app: 1 row + 1 reply per answer"
    return Result(name, args.requests, seconds, latencies, failures, done - started)


async def casebook_commands(standin: SlackStandIn, sender: SlackSender, args: argparse.Namespace) -> Result:
    n = args.requests // 2
    updates = standin.counts["chat.update"]
    started = time.perf_counter()
    seconds, latencies, failures = await load(sender, commands(sender, n, "Outage"), args.concurrency)
    done = await until_count(standin, "chat.update", updates + n)
    return Result(
        "casebook: /postmortem <title> (opens a case)", n, seconds, latencies, failures, done - started
    )


async def until_shown(standin: SlackStandIn, counts: Counter[str], *, within: float = 600) -> float:
    """Until each channel's symptoms question shows its count: Casebook edits a question once
    for the lines a pass applies together, so the newest count is what arrives."""
    started = time.perf_counter()
    while True:
        shown = {(channel, text) for (channel, _ts), text in standin.edited.items()}
        if all(
            any(c == channel and f"_{n} so far._" in t for c, t in shown) for channel, n in counts.items()
        ):
            return time.perf_counter()
        if time.perf_counter() - started > within:
            raise TimeoutError(f"question counts not shown after {within:.0f} s")
        await asyncio.sleep(0.005)


async def casebook_answers(
    standin: SlackStandIn,
    sender: SlackSender,
    args: argparse.Namespace,
    roots: list[tuple[str, str]],
    counts: Counter[str],
) -> list[Result]:
    results = []
    for name, delay in (
        ("casebook: interview answer", 0.0),
        ("casebook: answer, Web API 250 ms a call", 0.25),
    ):
        standin.delays = (
            {m: delay for m in ("chat.postMessage", "users.info", "chat.update", "reactions.add")}
            if delay
            else {}
        )
        count = args.requests if not delay else args.requests // 2
        # A list item is answered quietly: a reaction on the line, then the question's count
        # edited in place; no thread post.
        reacted = standin.counts["reactions.add"]
        counts.update(roots[i % len(roots)][0] for i in range(count))
        started = time.perf_counter()
        seconds, latencies, failures = await load(
            sender, answers(sender, roots, count, name), args.concurrency
        )
        await until_count(standin, "reactions.add", reacted + count)
        done = await until_shown(standin, counts)
        results.append(Result(name, count, seconds, latencies, failures, done - started))
    standin.delays = {}
    return results


async def _interviews_at_symptoms(standin: SlackStandIn, sender: SlackSender) -> list[tuple[str, str]]:
    """Open THREADS interviews and answer each up to the symptoms question (not timed)."""
    standin.record = True
    first = len(standin.calls)
    updates = standin.counts["chat.update"]
    for i in range(THREADS):
        await sender.command(f"Bench interview {i}", channel=f"CBENCH{i:03d}")
    await until_count(standin, "chat.update", updates + THREADS)
    roots = [
        (str(c.params["channel"]), str(c.result["ts"]))
        for c in standin.calls[first:]
        if c.method == "chat.postMessage"
        and not c.params.get("thread_ts")
        and str(c.params["channel"]).startswith("CBENCH")
    ]
    for text in ("SEV3", "network", "skip", "skip", "skip", "skip", "skip"):
        posted = standin.counts["thread posts"]
        for channel, root in roots:
            await sender.say(text, thread_ts=root, channel=channel)
        await until_count(standin, "thread posts", posted + len(roots))
    standin.record = False
    standin.calls.clear()
    return roots


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


def _database(args: argparse.Namespace, workdir: str) -> str:
    from storage.db import migrate

    url = args.database or f"sqlite+aiosqlite:///{workdir}/bench.db"
    migrate(url)
    return url


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        database_url = _database(args, workdir)
        standin = await SlackStandIn(record=False).start()
        try:
            rounds = await _rounds(standin, args, database_url)
        finally:
            await standin.stop()
    backend = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print(
        f"\n{args.requests} requests per scenario, {args.concurrency} concurrent, loopback, {backend}, "
        f"{os.cpu_count()} CPU(s), {args.rounds} round(s): the three servers take turns, so each "
        "ratio compares runs seconds apart\n"
    )
    print(HEADER)
    for number, results in enumerate(rounds, 1):
        print(f"round {number}")
        for result in results:
            print(result.row())
    _summary(rounds, args)


async def _rounds(standin: SlackStandIn, args: argparse.Namespace, database_url: str) -> list[list[Result]]:
    """Every server runs for the whole bench; each round loads them one after the other."""
    async with (
        Child(_serve_bare, standin.api_url) as bare_url,
        Child(_serve_casebook, standin.api_url, database_url) as casebook_url,
        Child(_serve_minimal, standin.api_url, database_url) as minimal_url,
        _session() as session,
    ):
        bare = SlackSender(session, bare_url, standin)
        casebook = SlackSender(session, casebook_url, standin)
        minimal = SlackSender(session, minimal_url, standin)
        await load(bare, commands(bare, 50, "warm up"), args.concurrency)
        opening = await casebook_commands(standin, casebook, args)
        roots = await _interviews_at_symptoms(standin, casebook)
        counts: Counter[str] = Counter()  # symptoms answered per interview channel
        rounds = []
        for number in range(1, args.rounds + 1):
            results = await bare_round(bare, args, number)
            if number == 1:
                results.append(opening)
            results += await casebook_answers(standin, casebook, args, roots, counts)
            results.append(await minimal_round(standin, minimal, args, number))
            rounds.append(results)
        return rounds


def _summary(rounds: list[list[Result]], args: argparse.Namespace) -> None:
    def named(results: list[Result], prefix: str) -> Result:
        return next(r for r in results if r.name.startswith(prefix))

    ack_ratios, e2e_ratios, p99s = [], [], []
    for results in rounds:
        bare_events = named(results, "bare bolt app: message").rate()
        answer = named(results, "casebook: interview answer")
        least = named(results, "bolt app: 1 row")
        ack_ratios.append(answer.rate() / bare_events)
        e2e_ratios.append(answer.end_to_end_rate() / least.end_to_end_rate())
        p99s.append(max(r.p99() for r in results if r.name.startswith("casebook")))
    print(
        "\nper round, interview answers acknowledged / the bare app's message events: "
        + ", ".join(f"{r:.2f}x" for r in ack_ratios)
        + f"; median {statistics.median(ack_ratios):.2f}x (goal >= 0.5x)"
    )
    print(
        "per round, answers stored and replied to end to end / the 1 row + 1 reply app's: "
        + ", ".join(f"{r:.2f}x" for r in e2e_ratios)
        + f"; median {statistics.median(e2e_ratios):.2f}x (goal >= 0.5x)"
    )
    print(
        f"ack p99 at {args.concurrency} concurrent, worst Casebook scenario, per round: "
        + ", ".join(f"{p * 1000:.0f} ms" for p in p99s)
        + f"; median {statistics.median(p99s) * 1000:.0f} ms (goal <= 100 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per scenario (bounded)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="turns each server takes (ratios per round)")
    parser.add_argument("--database", default=None, help="a database URL (default: a fresh SQLite file)")
    asyncio.run(main(parser.parse_args()))
