"""The web process: `casebook serve`, its health check, the app manifest, tenants."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_bolt.context.async_context import AsyncBoltContext

from adapters.server import build_app
from adapters.slack.config import BOT_SCOPES, DEFAULT_COMMAND, EVENTS_PATH, REDIRECT_PATH
from adapters.slack.runtime import Workspace
from bot.config import Settings
from storage.db import Database, connect
from tests.slack.support import BOT_TOKEN, SIGNING_SECRET, SlackStandIn

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "adapters" / "slack" / "manifest.json"


def test_the_manifest_asks_for_what_the_code_uses() -> None:
    manifest = json.loads(MANIFEST.read_text())
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == DEFAULT_COMMAND and command["should_escape"] is True
    settings = manifest["settings"]
    urls = [
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    assert all(url.endswith(EVENTS_PATH) for url in urls)
    assert manifest["oauth_config"]["redirect_urls"][0].endswith(REDIRECT_PATH)
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups", "message.im", "app_mention", "app_home_opened"} <= events
    assert {"tokens_revoked", "app_uninstalled"} <= events
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_the_tenant_is_the_team_or_the_enterprise_of_an_org_wide_install() -> None:
    team = AsyncBoltContext({"team_id": "T1", "enterprise_id": "E1", "is_enterprise_install": False})
    org = AsyncBoltContext({"team_id": "T1", "enterprise_id": "E1", "is_enterprise_install": True})
    assert Workspace.of(team, {"team_domain": "acme"}) == Workspace("T1", "acme", None)
    assert Workspace.of(org, {}).tenant == "E1"


async def test_health_without_slack(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    server = TestServer(build_app(db=db, settings=Settings()), host="127.0.0.1", port=0)
    await server.start_server()
    broken = connect("postgresql+psycopg://nobody@127.0.0.1:1/none")
    down = TestServer(build_app(db=broken, settings=Settings()), host="127.0.0.1", port=0)
    await down.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.make_url("/healthz")) as health:
                assert health.status == 200 and await health.json() == {"status": "ok"}
            async with session.get(server.make_url("/readyz")) as ready:
                assert ready.status == 200
                assert await ready.json() == {"status": "ok", "database": db.dialect, "platforms": ["web"]}
            async with session.post(server.make_url(EVENTS_PATH), data=b"{}") as events:
                assert events.status == 404
            async with session.get(down.make_url("/healthz")) as alive:
                assert alive.status == 200  # restarting would not bring the database back
            async with session.get(down.make_url("/readyz")) as unready:
                assert unready.status == 503
                assert (await unready.json())["missing"] == [
                    "the database does not answer (OperationalError)"
                ]
    finally:
        await server.close()
        await down.close()
        await broken.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_casebook_serve_runs_and_stops_cleanly(tmp_path: Path, standin: SlackStandIn) -> None:
    port = _free_port()
    env: dict[str, Any] = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.api_url,
    }
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    try:
        health: dict[str, Any] = {}
        async with aiohttp.ClientSession() as session, asyncio.timeout(30):
            while not health:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                        health = await response.json()
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        assert health == {"status": "ok", "database": "sqlite", "platforms": ["slack", "web"]}
        assert standin.called("auth.test")  # the token is checked at start, not on a first request
        probe = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "healthcheck", "--path", "/readyz", env=env, cwd=ROOT
        )
        assert await asyncio.wait_for(probe.wait(), timeout=30) == 0  # the container's HEALTHCHECK
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert b"Slack is on (single-workspace, http)" in stderr
