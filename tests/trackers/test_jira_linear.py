"""Jira Cloud and Linear both ways, on SQLite and PostgreSQL, with webhooks over real HTTP."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest

from adapters.trackers.config import TrackerSettings
from storage.db import Database
from storage.models import ActionStatus
from tests.conftest import Chat
from tests.trackers.conftest import SECRETS
from tests.trackers.standins import Jira, Linear
from tests.trackers.support import Web, action, publish_with_tracker, run_pass, signature


async def test_jira_round_trip(chat: Chat, db: Database, jira: Jira, tracker_env: TrackerSettings) -> None:
    await publish_with_tracker(chat, "jira", "ops")
    report = await run_pass(db, tracker_env, now=chat.now)
    assert report.count("created") == 1 and list(jira.issues) == ["OPS-1"]
    fields = jira.issues["OPS-1"]["fields"]
    assert fields["project"] == {"key": "OPS"} and "casebook" in fields["labels"]
    assert fields["assignee"] == {"accountId": "acc-bob"} and fields["duedate"]
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(minutes=1))
    assert len(jira.calls("POST", r"/rest/api/3/issue$")) == 1
    assert (await action(db)).issue_url == f"{jira.url}/browse/OPS-1"

    async with Web(db) as web:
        issue = jira.close_issue("OPS-1")
        payload = {"webhookEvent": "jira:issue_updated", "issue": issue}
        assert (await web.webhook("jira", "forged", payload))[0] == 401
        assert (await action(db)).status == ActionStatus.OPEN
        status, answer = await web.webhook("jira", SECRETS["jira"], payload)
    assert status == 200 and answer == {"closed": ["1.1"]}
    assert (await action(db)).status == ActionStatus.DONE


async def test_jira_done_in_chat_transitions_the_issue(
    chat: Chat, db: Database, jira: Jira, tracker_env: TrackerSettings
) -> None:
    await publish_with_tracker(chat, "jira", "OPS")
    await run_pass(db, tracker_env, now=chat.now)
    await chat.command("cancel 1.1 replaced by a platform fix", user="bob", key="dm-bob")
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(seconds=5))
    assert jira.issues["OPS-1"]["fields"]["status"]["statusCategory"]["key"] == "done"
    assert "replaced by a platform fix" in str(jira.comments["OPS-1"][0])


async def test_linear_round_trip(
    chat: Chat, db: Database, linear: Linear, tracker_env: TrackerSettings
) -> None:
    await publish_with_tracker(chat, "linear", "eng")
    await run_pass(db, tracker_env, now=chat.now)
    assert len(linear.issues) == 1
    issue_id, issue = next(iter(linear.issues.items()))
    assert issue["teamId"] == "team-eng" and issue["assigneeId"] == "user-bob" and issue["labelIds"]
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(minutes=1))
    assert len(linear.issues) == 1

    async with Web(db) as web:
        closed = linear.close_issue(issue_id)
        payload = {
            "type": "Issue",
            "action": "update",
            "data": closed,
            "webhookTimestamp": int(time.time() * 1000),
        }
        assert (await web.webhook("linear", "forged", payload))[0] == 401
        stale = {**payload, "webhookTimestamp": int(time.time() * 1000) - 3_600_000}
        assert (await web.webhook("linear", SECRETS["linear"], stale))[0] == 401
        assert (await action(db)).status == ActionStatus.OPEN
        status, answer = await web.webhook("linear", SECRETS["linear"], payload)
    assert status == 200 and answer == {"closed": ["1.1"]}
    assert (await action(db)).status == ActionStatus.DONE


async def test_linear_done_in_chat_completes_the_issue(
    chat: Chat, db: Database, linear: Linear, tracker_env: TrackerSettings
) -> None:
    await publish_with_tracker(chat, "linear", "ENG")
    await run_pass(db, tracker_env, now=chat.now)
    await chat.command("done 1.1 shipped", user="bob", key="dm-bob")
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(seconds=5))
    issue_id, issue = next(iter(linear.issues.items()))
    assert issue["state"] == {"type": "completed"} and "shipped" in linear.comments[issue_id][0]


async def test_a_malformed_webhook_is_a_400_with_one_warning(
    db: Database, tracker_env: TrackerSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with Web(db) as web:
        body = b"{not json"
        status, _ = await web.post("/trackers/jira", body, signature("jira", SECRETS["jira"], body))
    assert status == 400
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "malformed jira webhook" in warnings[0].getMessage()
