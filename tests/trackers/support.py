"""Helpers: publish a case with a tracker picked, run a pass, send a signed webhook."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from sqlmodel import select

from adapters.server import build_app
from adapters.trackers import open_trackers
from adapters.trackers.config import TrackerSettings
from adapters.trackers.webhooks import NOTIFIERS
from bot.config import Settings
from bot.trackers.sync import SyncReport, SyncSettings, sync_pass
from storage.db import Database
from storage.models import PreventionAction, TrackerIssue
from tests.conftest import Chat
from tests.reminder_fixtures import RecordingNotifier
from tests.test_service import publish


async def publish_with_tracker(chat: Chat, kind: str, target: str) -> list[Any]:
    """alice (admin, lead) picks the tracker; bob gives his email; the case is published."""
    picked = await chat.command(f"tracker {kind} {target}", user="alice", admin=True, key="dm-alice")
    await chat.command("tracker email bob@example.com", user="bob", key="dm-bob")
    await publish(chat)
    return picked


async def run_pass(
    db: Database, settings: TrackerSettings, *, now: dt.datetime, notifiers: Any = None, pull: bool = True
) -> SyncReport:
    async with open_trackers(settings) as trackers:
        return await sync_pass(
            db, trackers, now=now, settings=SyncSettings(), notifiers=notifiers or {}, pull=pull
        )


async def action(db: Database, number: int = 1) -> PreventionAction:
    async with db.transaction() as session:
        return (await session.exec(select(PreventionAction).where(PreventionAction.number == number))).one()


async def issue_rows(db: Database) -> list[TrackerIssue]:
    async with db.transaction() as session:
        return list(await session.exec(select(TrackerIssue)))


def signature(kind: str, secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    header = {"github": "X-Hub-Signature-256", "jira": "X-Hub-Signature", "linear": "Linear-Signature"}[kind]
    return {header: digest if kind == "linear" else f"sha256={digest}"}


class Web:
    """The real `casebook serve` app on 127.0.0.1, with a recording notifier."""

    def __init__(self, db: Database) -> None:
        self.app = build_app(db=db, settings=Settings())
        self.notifier = RecordingNotifier()
        self.app[NOTIFIERS] = {"console": self.notifier}
        self.server = TestServer(self.app)

    async def __aenter__(self) -> Web:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.server.make_url(path), data=body, headers={"Content-Type": "application/json", **headers}
            ) as response,
        ):
            return response.status, await response.json(content_type=None)

    async def webhook(
        self, kind: str, secret: str, payload: Any, extra: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        body = json.dumps(payload).encode()
        return await self.post(f"/trackers/{kind}", body, {**signature(kind, secret, body), **(extra or {})})
