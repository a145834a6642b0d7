"""Socket Mode: the same app over a WebSocket (no public URL), against a local stand-in."""

from __future__ import annotations

import asyncio
import urllib.parse

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from adapters.server import build_app
from adapters.slack.app import SLACK
from bot.config import Settings
from storage.db import Database
from tests.slack.support import BOT_TOKEN, SlackSender, SlackStandIn


@pytest.fixture
def socket_env(monkeypatch: pytest.MonkeyPatch, standin: SlackStandIn) -> None:
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET", "SLACK_COMMAND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-test")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", standin.api_url)


async def test_a_slash_command_and_a_thread_answer_over_socket_mode(
    db: Database, standin: SlackStandIn, socket_env: None
) -> None:
    app = build_app(db=db, settings=Settings())
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        assert standin.called("apps.connections.open")[0].token == "xapp-1-test"
        async with aiohttp.ClientSession() as session:
            body = SlackSender(session, "", standin).command_body("Socket outage")
            async with session.post(server.make_url("/slack/events"), data=body) as http:
                assert http.status in {404, 405}  # no public endpoint in Socket Mode
        command = dict(urllib.parse.parse_qsl(body.decode()))
        envelope = {"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True}
        await standin.push({**envelope, "payload": command})

        async with asyncio.timeout(10):
            while not standin.called("chat.update"):
                await app[SLACK].runtime.work.drain(grace_seconds=5)
                await asyncio.sleep(0.01)
        assert standin.socket_acks[0]["envelope_id"] == "env-1"
        root = next(c for c in standin.called("chat.postMessage") if not c.params.get("thread_ts"))
        assert "*Postmortem #1*: Socket outage" in standin.called("chat.update")[-1].text()
        thread = str(root.result["ts"])
        assert any("How severe" in c.text() for c in standin.posts(thread_ts=thread))

        # Messages reach bolt's listener here (over HTTP they skip bolt's dispatch): the same answer.
        answer = SlackSender(session, "", standin).reply_event("SEV2", thread_ts=thread)
        event = {"type": "event_callback", "team_id": standin.team, "event": answer, "event_id": "EvSOCKET1"}
        await standin.push({"envelope_id": "env-2", "type": "events_api", "payload": event})
        async with asyncio.timeout(10):
            while not any("area" in c.text().lower() for c in standin.posts(thread_ts=thread)):
                await app[SLACK].runtime.work.drain(grace_seconds=5)
                await asyncio.sleep(0.01)
        assert [a["envelope_id"] for a in standin.socket_acks] == ["env-1", "env-2"]
    finally:
        await server.close()
