"""kill -9 during interviews: is an acknowledged answer ever lost, or applied twice?

Starts the real `casebook serve` (a child process, `python -m bot serve`) against a local stand-in
for Slack's Web API that records every post (in this process, so it outlives the server). Opens a
few interviews, brings each to its symptoms list, then sends list items as signed Slack events and
kills the server with SIGKILL at random moments: right after a 200, mid-processing (a few ms after
the requests went out), or between answers. After each kill the server is started again, and the
answers that got no 200 are sent again with the same event id and X-Slack-Retry-Num, as Slack does.

At the end (once the server has finished its inbox and outbox) it counts, per database:
  acknowledged   answers that got a 200
  stored         of those, the symptoms in the database
  lost           acknowledged but not stored
  duplicated     stored more than once
  replies lost   stored answers without the reaction that acknowledges a list item
  doubled        thread posts made twice
  reactions again  reactions added again after a crash (Slack shows them once: already_reacted)

    PYTHONPATH=. .venv/bin/python bench/kill9.py [--kills 100] [--database sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.slack.support import BOT_TOKEN, SIGNING_SECRET, SlackSender, SlackStandIn

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
INTERVIEWS = 4
TO_SYMPTOMS = ("SEV3", "network", "skip", "skip", "skip", "skip", "skip")


class Server:
    """`casebook serve` as a child process on a fixed port."""

    def __init__(self, database_url: str, api_url: str, log_path: Path) -> None:
        self.port = _free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "OPENAI"))},
            "DATABASE_URL": database_url,
            "PORT": str(self.port),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url.rstrip("/"),
            "PYTHONPATH": str(ROOT),
        }
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.process = subprocess.Popen(  # noqa: ASYNC220 (a quick fork; the wait below is async)
            [sys.executable, "-m", "bot", "serve"], env=self.env, stdout=self.log, stderr=self.log, cwd=ROOT
        )
        self.starts += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                async with session.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        raise RuntimeError("casebook serve did not start: see the bench log")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.log.flush()
                tail = self.log_path.read_text(errors="replace").splitlines()[-40:]
                print(
                    "casebook serve did not stop in 30 s; the end of its log:",
                    *tail,
                    sep="\n",
                    file=sys.stderr,
                )
                self.process.kill()
                raise


@dataclass
class Answer:
    channel: str
    root: str
    text: str
    event_id: str
    ts: str = ""  # the answer's own message, where its reaction goes
    body: bytes = b""
    tries: int = 0
    acknowledged: bool = False


@dataclass
class Tally:
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    replies_lost: int = 0
    replies_doubled: int = 0  # thread posts made twice
    reactions_again: int = 0  # reactions added again after a crash (shown once: already_reacted)
    kills: Counter[str] = field(default_factory=Counter)


async def send(sender: SlackSender, answer: Answer) -> bool:
    try:
        retry = answer.tries or None
        answer.tries += 1
        response = await sender.post(answer.body, "application/json", retry=retry)
    except (TimeoutError, aiohttp.ClientError):
        return False
    answer.acknowledged = answer.acknowledged or response.status == 200
    return response.status == 200


async def open_interviews(
    server: Server, sender: SlackSender, standin: SlackStandIn
) -> list[tuple[str, str]]:
    threads = []
    for i in range(INTERVIEWS):
        channel = f"CKILL{i:03d}"
        await sender.command(f"Kill bench {i}", channel=channel)
        threads.append((channel, await _root_in(standin, channel)))
    for text in TO_SYMPTOMS:
        for channel, root in threads:
            before = len(standin.posts(thread_ts=root))
            await sender.say(text, thread_ts=root, channel=channel)
            await _until(lambda r=root, b=before: len(standin.posts(thread_ts=r)) > b)
    return threads


async def _root_in(standin: SlackStandIn, channel: str) -> str:
    await _until(lambda: any(not c.params.get("thread_ts") for c in standin.posts(channel=channel)))
    return str(next(c for c in standin.posts(channel=channel) if not c.params.get("thread_ts")).result["ts"])


async def _until(condition: object, within: float = 60) -> None:
    assert callable(condition)
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the server did not answer in time")
        await asyncio.sleep(0.01)


async def kill_round(
    server: Server, sender: SlackSender, answers: list[Answer], tally: Tally, rng: random.Random
) -> None:
    """Send a few answers and kill the server at one of three kinds of moment."""
    mode = rng.choice(("after a 200", "mid-processing", "between answers"))
    tally.kills[mode] += 1
    sends = [asyncio.create_task(send(sender, a)) for a in answers]
    if mode == "after a 200":
        for finished in asyncio.as_completed(sends):
            if await finished:
                break
    elif mode == "mid-processing":
        await asyncio.sleep(rng.uniform(0.0, 0.04))
    else:
        await asyncio.gather(*sends)
        await asyncio.sleep(rng.uniform(0.0, 0.03))
    server.kill()
    await asyncio.gather(*sends, return_exceptions=True)


async def run(database_url: str, args: argparse.Namespace) -> Tally:
    rng = random.Random(args.seed)
    standin = await SlackStandIn().start()
    tally = Tally()
    with tempfile.TemporaryDirectory() as workdir:
        server = Server(database_url, standin.api_url, Path(workdir) / "serve.log")
        async with aiohttp.ClientSession() as session:
            sender = SlackSender(session, server.url, standin)
            await server.start(session)
            threads = await open_interviews(server, sender, standin)
            first_post = len(standin.calls)
            answers: list[Answer] = []
            for k in range(args.kills):
                batch = []
                for _ in range(rng.randint(1, 5)):
                    channel, root = rng.choice(threads)
                    n = len(answers) + len(batch)
                    event_id = f"EvKILL{n:06d}"
                    answer = Answer(channel, root, f"symptom {n}", event_id)
                    event = sender.reply_event(f"- {answer.text}", thread_ts=root, channel=channel)
                    event["ts"] = answer.ts = f"1800000000.{n:06d}"
                    answer.body = sender.event_body(event, event_id=event_id)
                    batch.append(answer)
                answers += batch
                await kill_round(server, sender, batch, tally, rng)
                await server.start(session)
                for answer in answers:  # Slack retries what got no 200 (up to three times)
                    if not answer.acknowledged and answer.tries < 4:
                        await send(sender, answer)
                print(f"  kill {k + 1}/{args.kills}", end="\r", file=sys.stderr, flush=True)
            left = await finished(database_url)  # the last process finishes its inbox and outbox
            if left:
                print(
                    f"\n  {left} inbox/outbox row(s) still pending after {SETTLE_SECONDS} s", file=sys.stderr
                )
            server.stop()
        await standin.stop()
        await count(database_url, threads, answers, standin, first_post, tally)
    return tally


SETTLE_SECONDS = 60


async def finished(database_url: str) -> int:
    """Wait until no inbox row is unapplied and no outbox row unsettled; how many are left."""
    from sqlalchemy import text

    from storage.db import connect

    db = connect(database_url)
    query = text(
        "SELECT (SELECT count(*) FROM inbox WHERE applied_at IS NULL)"
        " + (SELECT count(*) FROM outbox WHERE settled_at IS NULL)"
    )
    deadline = time.monotonic() + SETTLE_SECONDS
    try:
        while True:
            async with db.engine.connect() as connection:
                left = int((await connection.execute(query)).scalar_one())
            if left == 0 or time.monotonic() > deadline:
                return left
            await asyncio.sleep(0.2)
    finally:
        await db.dispose()


async def count(
    database_url: str,
    threads: list[tuple[str, str]],
    answers: list[Answer],
    standin: SlackStandIn,
    first_post: int,
    tally: Tally,
) -> None:
    from sqlmodel import select

    from storage.db import connect
    from storage.models import Case

    db = connect(database_url)
    async with db.sessions() as session:
        symptoms = Counter(
            s.removeprefix("- ") for case in (await session.exec(select(Case))).all() for s in case.symptoms
        )
    await db.dispose()
    acked = [a for a in answers if a.acknowledged]
    tally.acknowledged = len(acked)
    tally.stored = sum(1 for a in acked if symptoms[a.text])
    tally.lost = tally.acknowledged - tally.stored
    tally.duplicated = sum(1 for n in symptoms.values() if n > 1)
    # A list item is answered quietly: a reaction on its line (and the question's count edited).
    # The stand-in, like Slack, shows a reaction once and answers a repeat with already_reacted.
    calls = standin.calls[first_post:]
    added = Counter(str(c.params.get("timestamp")) for c in calls if c.method == "reactions.add")
    stored = [a for a in answers if symptoms[a.text]]
    tally.replies_lost = sum(1 for a in stored if not added[a.ts])
    tally.reactions_again = sum(added[a.ts] - 1 for a in stored if added[a.ts] > 1)
    posts = Counter(
        (str(c.params.get("thread_ts")), c.text())
        for c in calls
        if c.method == "chat.postMessage" and c.params.get("thread_ts")
    )
    tally.replies_doubled = sum(n - 1 for n in posts.values() if n > 1)


def databases(args: argparse.Namespace, workdir: str) -> list[tuple[str, str]]:
    found = []
    if args.database in ("sqlite", "both"):
        found.append(("SQLite", f"sqlite+aiosqlite:///{workdir}/kill9.db"))
    if args.database in ("postgresql", "both"):
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_ADMIN.replace("+psycopg", "+psycopg"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS casebook_kill9"))
            conn.execute(text("CREATE DATABASE casebook_kill9"))
        engine.dispose()
        found.append(("PostgreSQL", "postgresql+psycopg://postgres@127.0.0.1:5432/casebook_kill9"))
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main(args: argparse.Namespace) -> None:
    from storage.db import migrate

    with tempfile.TemporaryDirectory() as workdir:
        rows = []
        for name, url in databases(args, workdir):
            await asyncio.to_thread(migrate, url)
            started = time.monotonic()
            tally = await run(url, args)
            rows.append((name, tally, time.monotonic() - started))
    print(f"\n{args.kills} kill -9s per database (seed {args.seed})\n")
    heads = (
        f"{'acked':>7}{'stored':>8}{'lost':>6}{'dup':>5}{'replies lost':>14}{'doubled':>9}"
        f"{'reactions again':>17}"
    )
    print(f"{'database':<12}{heads}  kills")
    for name, t, seconds in rows:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(t.kills.items()))
        print(
            f"{name:<12}{t.acknowledged:>7}{t.stored:>8}{t.lost:>6}{t.duplicated:>5}"
            f"{t.replies_lost:>14}{t.replies_doubled:>9}{t.reactions_again:>17}  {kinds} ({seconds:.0f} s)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
