"""A running Casebook web server with the Teams routes, and the stand-in connector."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botframework.connector.auth import ChannelValidation

from adapters.teams import add_routes
from adapters.teams.config import TeamsSettings
from adapters.teams.routes import TEAMS, TeamsRuntime
from bot.config import Settings
from storage.db import Database
from tests.teams.activities import APP_ID, TENANT, Teams
from tests.teams.standins import Connector, SigningKeys


@dataclass
class Bot:
    """The Casebook server under test, as Teams sees it."""

    url: str
    http: aiohttp.ClientSession
    app: web.Application
    connector: Connector
    teams: Teams
    db: Database

    @property
    def runtime(self) -> TeamsRuntime:
        return self.app[TEAMS]

    async def post(self, activity: dict[str, Any], *, token: str | None = None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.post(self.url, json=activity, headers=headers) as response:
            await response.read()
            return response.status

    async def say(self, activity: dict[str, Any]) -> list[str]:
        """Post and return what the bot sent back (texts), failing on a non-2xx answer."""
        mark = len(self.connector.sent)
        status = await self.post(activity)
        assert status in (200, 201), f"/api/messages answered {status}"
        return [s.text for s in self.connector.since(mark)]


async def _serve(app: web.Application) -> TestServer:
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    return server


@pytest.fixture
async def connector() -> AsyncIterator[Connector]:
    standin = Connector()
    server = await _serve(standin.app())
    standin.url = str(server.make_url("/"))
    try:
        yield standin
    finally:
        await server.close()


async def serve_bot(db: Database, connector: Connector, teams: TeamsSettings) -> AsyncIterator[Bot]:
    app = web.Application()
    add_routes(app, db=db, settings=Settings(), teams=teams)
    server = await _serve(app)
    async with aiohttp.ClientSession() as http:
        try:
            yield Bot(str(server.make_url("/api/messages")), http, app, connector, Teams(connector.url), db)
        finally:
            await server.close()  # runs the app's cleanup: waits for background follow-ups


@pytest.fixture
async def bot(db: Database, connector: Connector) -> AsyncIterator[Bot]:
    """Development mode: no tokens (the Bot Framework cannot mint real ones here)."""
    teams = TeamsSettings(dev_allow_unauthenticated=True, allowed_tenants=frozenset({TENANT})).validate()
    async for running in serve_bot(db, connector, teams):
        yield running


@pytest.fixture(scope="session")
def signing_keys() -> Iterator[SigningKeys]:
    keys = SigningKeys()
    keys.start()
    try:
        yield keys
    finally:
        keys.stop()


@pytest.fixture
async def secured_bot(db: Database, connector: Connector, signing_keys: SigningKeys) -> AsyncIterator[Bot]:
    """Production mode: a single-tenant app id, tokens checked against the stand-in keys."""
    teams = TeamsSettings(
        app_id=APP_ID,
        app_password="not-a-real-secret",
        app_tenant_id=TENANT,
        openid_metadata_url=signing_keys.metadata_url,
    ).validate()
    try:
        async for running in serve_bot(db, connector, teams):
            yield running
    finally:
        ChannelValidation.open_id_metadata_endpoint = None  # build_adapter set it
