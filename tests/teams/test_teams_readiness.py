"""/readyz with Teams on: ready only when the app's credentials buy a Bot Framework token at the
token endpoint (here a stand-in for Entra's); the token is trusted for its lifetime, and a 503
says what to fix when the endpoint refuses or does not answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.ops import health
from adapters.teams import add_routes
from adapters.teams.config import TeamsSettings
from bot.config import Settings
from storage.db import Database
from tests.teams.activities import APP_ID, TENANT
from tests.teams.conftest import _serve
from tests.teams.standins import TokenService

SECRET = "the-right-secret"


@pytest.fixture
async def token_service() -> AsyncIterator[TokenService]:
    service = TokenService(client_id=APP_ID, client_secret=SECRET)
    server = await _serve(service.app())
    service.url = str(server.make_url(f"/{TENANT}/oauth2/v2.0/token"))
    try:
        yield service
    finally:
        await server.close()


async def _readyz(db: Database, teams: TeamsSettings, probes: int = 1) -> list[tuple[int, dict[str, Any]]]:
    app = web.Application()
    assert add_routes(app, db=db, settings=Settings(), teams=teams) is not None
    health.mount(app, db=db, mounted=["teams"])
    server = await _serve(app)
    answers = []
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(probes):
                async with http.get(server.make_url("/readyz")) as response:
                    answers.append((response.status, await response.json()))
    finally:
        await server.close()
    return answers


def _teams(*, secret: str, token_url: str) -> TeamsSettings:
    return TeamsSettings(
        app_id=APP_ID, app_password=secret, app_tenant_id=TENANT, token_url=token_url
    ).validate()


async def test_ready_when_the_credentials_buy_a_token_asked_for_once_per_lifetime(
    db: Database, token_service: TokenService
) -> None:
    answers = await _readyz(db, _teams(secret=SECRET, token_url=token_service.url), probes=3)
    assert answers == [(200, {"status": "ok", "database": db.dialect, "platforms": ["teams"]})] * 3
    assert token_service.requests == [
        {
            "tenant": TENANT,
            "grant_type": "client_credentials",
            "client_id": APP_ID,
            "client_secret": SECRET,
            "scope": "https://api.botframework.com/.default",
        }
    ]


async def test_a_short_lived_token_is_asked_for_again(
    db: Database, token_service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_service.lifetime_seconds = 0  # expired at once: nothing to trust on the next probe
    monkeypatch.setattr(health, "PLATFORM_CACHE_SECONDS", 0)
    answers = await _readyz(db, _teams(secret=SECRET, token_url=token_service.url), probes=2)
    assert [status for status, _ in answers] == [200, 200]
    assert len(token_service.requests) == 2


async def test_not_ready_when_the_secret_is_refused(db: Database, token_service: TokenService) -> None:
    answers = await _readyz(db, _teams(secret="an-expired-secret", token_url=token_service.url), probes=2)
    status, body = answers[0]
    assert status == 503 and body["status"] == "unavailable"
    assert body["missing"] == [
        "teams: the token endpoint refused the bot's credentials (invalid_client, AADSTS7000215): "
        "check MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (a client secret may have expired)"
    ]
    assert answers[1] == answers[0] and len(token_service.requests) == 2  # a refusal is not remembered


async def test_not_ready_when_the_token_endpoint_does_not_answer(db: Database) -> None:
    unanswered = "http://127.0.0.1:9/common/oauth2/v2.0/token"  # the discard port: nobody listens
    [(status, body)] = await _readyz(db, _teams(secret=SECRET, token_url=unanswered))
    assert status == 503
    assert body["missing"] == ["teams: the token endpoint did not answer (ClientConnectorError)"]


async def test_development_mode_has_nothing_to_prove(db: Database) -> None:
    teams = TeamsSettings(dev_allow_unauthenticated=True, allowed_tenants=frozenset({TENANT})).validate()
    [(status, body)] = await _readyz(db, teams)
    assert status == 200 and body["platforms"] == ["teams"]
