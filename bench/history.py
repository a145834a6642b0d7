"""A channel's history of 10,000 messages (1 in 20 opening a thread of 3 replies), served by the
local Slack stand-in over HTTP, read and proposed through the real adapter code
(adapters/slack/history.py, bot/capture/history.py). Prints elapsed time, Web API calls and
peak memory (tracemalloc), beside a baseline measured in the same run: the same pages of
conversations.history fetched with the same client and thrown away (no threads, no
conversion, no proposal).

    PYTHONPATH=. .venv/bin/python bench/history.py [--messages 10000] [--limit 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.slack.auth import StaticToken
from adapters.slack.client import web_client
from adapters.slack.config import SlackSettings
from adapters.slack.history import PAGE, SlackHistory
from adapters.slack.runtime import Runtime
from bot.capture.history import propose
from bot.config import Settings
from storage.db import connect
from tests.slack.history_support import ChannelData, HistoryStandIn
from tests.slack.support import BOT_TOKEN, TEAM

START = dt.datetime(2026, 11, 19, 21, 40, tzinfo=dt.UTC)
CHANNEL = "C0BENCH"
WORDS = (
    "seeing 502s on checkout",
    "checked the LB: all targets equally bad",
    "ok",
    "on it",
    "p99 latency is up again",
    "rolled back 4.12, no change",
    "thanks",
)


def channel(size: int) -> ChannelData:
    messages: list[dict[str, Any]] = []
    n = 0
    while len(messages) < size:
        ts = f"{START.timestamp() + n * 2:.0f}.000000"
        n += 1
        message: dict[str, Any] = {"user": "UALICE", "ts": ts, "text": WORDS[n % len(WORDS)]}
        messages.append(message)
        if n % 20 == 0 and len(messages) + 3 <= size:
            message.update(thread_ts=ts, reply_count=3)
            for r in range(1, 4):
                reply_ts = f"{START.timestamp() + n * 2:.0f}.{r:06d}"
                messages.append({"user": "UBOB", "ts": reply_ts, "thread_ts": ts, "text": WORDS[r]})
    return ChannelData(id=CHANNEL, name="inc-bench", created=int(START.timestamp()), messages=messages)


async def measured(label: str, work: Callable[[], Awaitable[str]], standin: HistoryStandIn) -> None:
    standin.counts.clear()
    tracemalloc.start()
    started = time.perf_counter()
    said = await work()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    calls = sum(standin.counts.values())
    print(
        f"{label:<34} {elapsed * 1000:8.0f} ms  {calls:5d} Web API calls  peak {peak / 1e6:6.1f} MB  {said}"
    )


async def main(size: int, limit: int) -> None:
    standin = HistoryStandIn(record=False)
    standin.add_channel(channel(size))
    await standin.start()
    slack = SlackSettings(bot_token=BOT_TOKEN, signing_secret="bench", api_url=standin.api_url)
    db = connect("sqlite+aiosqlite:///:memory:")
    rt = Runtime.create(db=db, core=Settings(), slack=slack)
    rt.base_client, rt.tokens = web_client(slack), StaticToken(BOT_TOKEN)
    reader = SlackHistory(rt)
    try:

        async def baseline() -> str:
            client = await rt.client_for(TEAM)
            cursor, pages = "", 0
            while True:
                params: dict[str, Any] = {
                    "channel": CHANNEL,
                    "oldest": f"{START.timestamp():.6f}",
                    "limit": PAGE,
                }
                if cursor:
                    params["cursor"] = cursor
                data = (await client.api_call("conversations.history", http_verb="GET", params=params)).data
                assert isinstance(data, dict)
                pages += 1
                cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
                if not cursor:
                    return f"({pages} pages, nothing kept)"

        async def reading() -> str:
            found = await reader.channel(tenant=TEAM, ref=CHANNEL, user="UALICE")
            history = await reader.read(tenant=TEAM, channel=found, since=START, limit=limit)
            proposed = len(propose(history.messages).candidates)
            return f"(read {len(history.messages)}, {history.not_read} not read, {proposed} proposed)"

        print(f"{size:,} messages, limit {limit:,}, pages of {PAGE}")
        await measured("baseline: page the raw history", baseline, standin)
        await measured("read (limit) + propose", reading, standin)
        await measured(f"read all {size:,} + propose", _all(reader, size, propose), standin)
    finally:
        await standin.stop()
        await db.engine.dispose()


def _all(reader: SlackHistory, size: int, sort: Callable[..., Any]) -> Callable[[], Awaitable[str]]:
    async def run() -> str:
        found = await reader.channel(tenant=TEAM, ref=CHANNEL, user="UALICE")
        history = await reader.read(tenant=TEAM, channel=found, since=START, limit=size)
        return f"(read {len(history.messages)}, {len(sort(history.messages).candidates)} proposed)"

    return run


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=2_000)
    options = parser.parse_args()
    asyncio.run(main(options.messages, options.limit))
