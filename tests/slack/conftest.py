"""The Slack test harness: the real `casebook serve` app on 127.0.0.1, signed requests in,
a recording stand-in for Slack's Web API out, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import col, select

from adapters.server import build_app
from adapters.slack.app import SLACK, SlackService
from bot.config import Settings
from storage.db import Database
from storage.models import Case
from tests.slack.support import BOT_TOKEN, SIGNING_SECRET, Call, SlackSender, SlackStandIn

CHANNEL = "C0INCIDENTS"


# Mid-afternoon on a Friday; times people type ("3 hours ago", "in 2 weeks") count from it.
SLACK_NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@dataclass
class Harness:
    standin: SlackStandIn
    sender: SlackSender
    service: SlackService
    db: Database
    server: TestServer

    async def settle(self) -> None:
        """Wait for every piece of after-ack work (which may start more work) to finish."""
        for _ in range(3):
            await asyncio.sleep(0.01)
            assert await self.service.runtime.work.drain(grace_seconds=20), "background work did not finish"

    async def until(self, condition: Callable[[], bool], *, within: float = 10) -> None:
        async with asyncio.timeout(within):
            while not condition():  # noqa: ASYNC110 (a condition on calls the stand-in records)
                await asyncio.sleep(0.005)

    def root(self) -> str:
        roots = [c for c in self.standin.called("chat.postMessage") if not c.params.get("thread_ts")]
        return str(roots[-1].result["ts"])

    def thread(self, root: str) -> list[Call]:
        return self.standin.posts(thread_ts=root)

    def last_question(self, root: str) -> Call:
        return next(
            c for c in reversed(self.thread(root)) if any(b["type"] == "actions" for b in c.params["blocks"])
        )

    async def say(self, root: str, *texts: str, user: str = "UALICE") -> None:
        for text in texts:
            response = await self.sender.say(text, thread_ts=root, user=user, channel=CHANNEL)
            assert response.status == 200
            await self.settle()

    async def click(self, call: Call, label: str, **kwargs: Any) -> None:
        response = await self.sender.click(call, label, **kwargs)
        assert response.status == 200
        await self.settle()

    async def cases(self) -> list[Case]:
        async with self.db.transaction() as session:
            return list((await session.exec(select(Case).order_by(col(Case.number)))).all())


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    stand_in = await SlackStandIn().start()
    yield stand_in
    await stand_in.stop()


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch, standin: SlackStandIn) -> None:
    for name in (
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_COMMAND",
        "SLACK_SCOPES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", standin.api_url.rstrip("/"))  # the slash is added for us


@asynccontextmanager
async def serving(db: Database, standin: SlackStandIn) -> AsyncIterator[Harness]:
    """`casebook serve`'s app on 127.0.0.1, configured from the environment, and a sender for it."""
    app = build_app(db=db, settings=Settings())
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            sender = SlackSender(session, str(server.make_url("/slack/events")), standin)
            service = app[SLACK]
            # The server's clock is the tests' chosen time: nothing here depends on the day it runs.
            service.runtime.clock = lambda: SLACK_NOW
            yield Harness(standin, sender, service, db, server)
    finally:
        await server.close()


@pytest.fixture
async def harness(db: Database, standin: SlackStandIn, slack_env: None) -> AsyncIterator[Harness]:
    async with serving(db, standin) as h:
        yield h
