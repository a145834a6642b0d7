"""The web library served for real (aiohttp on a local port) over the `db` fixture's database."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from adapters.console import demo
from adapters.server import build_app
from bot.config import Settings
from bot.messages import Inbound, InboundKind
from bot.service import handle
from storage.db import Database
from tests.conftest import NOW

PLATFORM_ENV = re.compile(
    r"^(SLACK_|MICROSOFT_|TEAMS_|CASEBOOK_PUBLIC_URL|CASEBOOK_SESSION|CASEBOOK_WEB_USER)"
)


@pytest.fixture(autouse=True)
def no_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test chooses its own configuration: nothing leaks in from the environment."""
    import os

    for name in list(os.environ):
        if PLATFORM_ENV.match(name):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CASEBOOK_WEB_USER", "alice")


@asynccontextmanager
async def serving(db: Database) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    """The whole `casebook serve` app on a free port, and a browser-like client (cookies kept)."""
    server = TestServer(build_app(db=db, settings=Settings()), host="127.0.0.1")
    await server.start_server()
    try:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1, as a browser keeps them
        async with aiohttp.ClientSession(cookie_jar=jar) as client:
            yield str(server.make_url("")).rstrip("/"), client
    finally:
        await server.close()


async def seed_demo(db: Database) -> None:
    """The demo's case #1 in the local console tenant, through the real service."""
    await demo.run(db, Settings(), out=lambda _: None)


async def say(db: Database, text: str, *, platform: str, tenant: str, user: str, admin: bool = False) -> str:
    replies = await handle(
        db,
        Inbound(
            platform=platform,
            tenant=tenant,
            conversation_key=f"{platform}:{tenant}:{user}",
            user_id=user,
            user_name=user,
            user_is_admin=admin,
            text=text,
            kind=InboundKind.COMMAND,
            direct=True,
            at=NOW,
        ),
        settings=Settings(),
    )
    return "\n".join(r.text for r in replies)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


Check = Callable[[str], None]


async def seed_script(db: Database, *, platform: str, tenant: str, title: str | None = None) -> None:
    """The demo's interview, in another workspace (a Slack team, a Teams tenant)."""
    from dataclasses import replace

    from adapters.console.session import inbound_for

    key = f"{platform}:{tenant}:thread-{title or 'demo'}"
    for index, (who, text) in enumerate(demo.SCRIPT):
        if index == 0 and title:
            text = f"postmortem {title}"
        inbound = inbound_for(text, user=who, timezone="UTC", conversation_key=key)
        await handle(
            db, replace(inbound, platform=platform, tenant=tenant, user_is_admin=False), settings=Settings()
        )
