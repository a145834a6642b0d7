"""Tracker credentials never reach a log line or a repr: a sync pass (a refused one too) and the
webhook install, captured at DEBUG, contain none of them."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from adapters.trackers import install
from adapters.trackers.config import TrackerSettings
from bot.trackers import registry
from storage.db import Database
from tests.conftest import Chat
from tests.trackers.conftest import SECRETS
from tests.trackers.standins import GitHub, Jira, Linear
from tests.trackers.support import Web, publish_with_tracker, run_pass

CREDENTIALS = ("ghp-test", "jira-token", "lin_api_test", *SECRETS.values())


async def test_no_credential_in_logs_or_reprs(
    chat: Chat,
    db: Database,
    github: GitHub,
    jira: Jira,
    linear: Linear,
    tracker_env: TrackerSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await publish_with_tracker(chat, "github", "acme/ops")
    install(tracker_env)
    github.fail_next(401, times=1)  # refused credentials are reported, the token is not
    refused = await run_pass(db, tracker_env, now=chat.now + dt.timedelta(minutes=1))
    assert refused.failed
    synced = await run_pass(db, tracker_env, now=chat.now + dt.timedelta(hours=2))
    assert synced.count("created") == 1
    async with Web(db):  # mounts the webhooks: reads every secret
        pass
    registry.uninstall()
    said = caplog.text + repr(tracker_env) + str(tracker_env.model_dump())
    assert "credentials refused" in caplog.text or "401" in caplog.text
    assert [c for c in CREDENTIALS if c in said] == []
