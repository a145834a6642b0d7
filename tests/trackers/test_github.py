"""GitHub Issues both ways, on SQLite and PostgreSQL, with webhooks over real HTTP."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from adapters.trackers import install
from adapters.trackers.config import TrackerSettings
from bot.jobs import run_followup
from bot.messages import ReplyKind
from bot.trackers import registry
from bot.trackers.status import describe, tracker_status
from storage.db import Database
from storage.models import ActionStatus
from tests.conftest import NOW, Chat
from tests.trackers.conftest import SECRETS
from tests.trackers.standins import GitHub
from tests.trackers.support import Web, action, issue_rows, publish_with_tracker, run_pass

REPO = "acme/ops"


def closed_event(issue: dict[str, Any]) -> dict[str, Any]:
    return {"action": "closed", "issue": issue, "repository": {"full_name": REPO}}


async def test_publish_creates_one_issue_and_a_closed_issue_closes_the_action(
    chat: Chat, db: Database, github: GitHub, tracker_env: TrackerSettings
) -> None:
    picked = await publish_with_tracker(chat, "github", REPO)
    assert picked[0].followup == "trackers:pick" and "acme/ops" in picked[0].text
    install(tracker_env)
    # The nudge that rode on the publication reply creates the issue.
    a = await action(db)
    async with db.transaction() as session:
        from bot.trackers.nudge import nudge

        key = await nudge(session, tenant_id=a.tenant_id)
    assert key == "trackers:"
    await run_followup(db, key, now=NOW, platform="console", tenant="T1")
    created = github.calls("POST", r"/repos/acme/ops/issues$")
    assert len(created) == 1
    body = created[0].body
    assert body["labels"] == ["casebook"] and body["assignees"] == ["bob-gh"]
    assert f"casebook-action:{a.tenant_id}:1.1" in body["body"] and "Case #1" in body["body"]
    assert body["title"].startswith("[1.1] ")

    # Later passes (the clock) create nothing more.
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(minutes=1))
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(minutes=2))
    assert len(github.calls("POST", r"/repos/acme/ops/issues$")) == 1
    a = await action(db)
    assert a.issue_url == "https://github.example/acme/ops/issues/1"
    listing = await chat.command("actions 1", user="bob", key="dm-bob")
    assert "[issue](https://github.example/acme/ops/issues/1)" in listing[0].text
    exported = await chat.command("export 1", user="bob", key="dm-bob")
    assert exported[0].attachment is not None
    assert "issue https://github.example/acme/ops/issues/1" in exported[0].attachment.content

    async with Web(db) as web:
        issue = github.close_issue(f"{REPO}#1")
        # Forged: 401, nothing changed.
        forged = await web.webhook(
            "github", "wrong-secret", closed_event(issue), {"X-GitHub-Event": "issues"}
        )
        assert forged[0] == 401
        assert (await action(db)).status == ActionStatus.OPEN
        # Malformed but signed: 400, nothing changed.
        bad = await web.webhook(
            "github", SECRETS["github"], {"action": "closed"}, {"X-GitHub-Event": "issues"}
        )
        assert bad[0] == 400 and (await action(db)).status == ActionStatus.OPEN
        status, answer = await web.webhook(
            "github", SECRETS["github"], closed_event(issue), {"X-GitHub-Event": "issues"}
        )
        assert status == 200 and answer == {"closed": ["1.1"]}
        told = {s.user_id: s.replies[0].text for s in web.notifier.sent}
    a = await action(db)
    assert a.status == ActionStatus.DONE and a.evidence == issue["html_url"]
    assert set(told) == {"bob", "alice"} and "closed in GitHub" in told["bob"]
    # Nothing is pushed back to the issue that was closed there.
    before = len(github.requests)
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(hours=1), pull=False)
    assert github.calls("PATCH") == [] and len(github.requests) == before


async def test_done_in_chat_closes_the_issue_with_a_comment(
    chat: Chat, db: Database, github: GitHub, tracker_env: TrackerSettings
) -> None:
    await publish_with_tracker(chat, "github", REPO)
    await run_pass(db, tracker_env, now=chat.now)
    replies = await chat.command("done 1.1 https://git.example/pull/7", user="bob", key="dm-bob")
    assert replies[0].followup == "trackers:"  # the nudge
    report = await run_pass(db, tracker_env, now=chat.now + dt.timedelta(seconds=30))
    assert report.count("updated") == 1
    assert github.issues[f"{REPO}#1"]["state"] == "closed"
    assert github.issues[f"{REPO}#1"]["state_reason"] == "completed"
    assert "https://git.example/pull/7" in github.comments[f"{REPO}#1"][0]
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(minutes=5))
    assert len(github.calls("PATCH")) == 1  # pushed once


async def test_snooze_past_due_and_reassign_update_the_issue(
    chat: Chat, db: Database, github: GitHub, tracker_env: TrackerSettings
) -> None:
    await publish_with_tracker(chat, "github", REPO)
    await run_pass(db, tracker_env, now=chat.now)
    await chat.command("tracker email carol@example.com", user="carol", key="dm-carol")
    await chat.command("snooze 1.1 until 2027-02-01", user="bob", key="dm-bob")
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(seconds=10))
    assert "Due: 2027-02-01" in github.issues[f"{REPO}#1"]["body"]
    await chat.command("reassign 1.1 <@carol>", user="bob", key="dm-bob")
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(seconds=20))
    assert github.issues[f"{REPO}#1"]["assignees"] == ["carol-gh"]


async def test_rate_limit_then_success_creates_one_issue(
    chat: Chat, db: Database, github: GitHub, tracker_env: TrackerSettings
) -> None:
    await publish_with_tracker(chat, "github", REPO)
    github.fail_next(429, headers={"Retry-After": "120"}, method="POST")
    first = await run_pass(db, tracker_env, now=chat.now)
    assert first.count("failed") == 1 and github.issues == {}
    async with db.transaction() as session:
        text = describe(await tracker_status(session, available=["github"], now=chat.now))
    assert "rate limited" in text and "1.1" in text
    # Not before Retry-After.
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(seconds=60))
    assert github.issues == {}
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(seconds=121))
    assert len(github.issues) == 1
    assert len(github.calls("GET", "/search/issues")) == 1  # the retry looked for the marker first
    async with db.transaction() as session:
        text = describe(await tracker_status(session, available=["github"], now=chat.now))
    assert "everything in sync" in text


async def test_a_tracker_that_is_down_or_refuses_credentials_never_blocks_publishing(
    chat: Chat, db: Database, github: GitHub, tracker_env: TrackerSettings
) -> None:
    github.fail_next(503, times=50)
    await publish_with_tracker(chat, "github", REPO)
    install(tracker_env)
    replies = await chat.command("actions 1", user="bob", key="dm-bob")
    assert replies[0].kind == ReplyKind.LIST
    report = await run_pass(db, tracker_env, now=chat.now)
    assert report.failed and "down" in report.describe()
    github.failures.clear()
    github.fail_next(401, times=1)
    report = await run_pass(db, tracker_env, now=chat.now + dt.timedelta(hours=2))
    assert "credentials refused" in report.describe()
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(hours=4))
    assert len(github.issues) == 1


class Crash(BaseException):
    """The process dies."""


async def test_a_crash_between_the_claim_and_the_create_makes_one_issue(
    chat: Chat, db: Database, github: GitHub, tracker_env: TrackerSettings
) -> None:
    await publish_with_tracker(chat, "github", REPO)
    from adapters.trackers import open_trackers
    from bot.trackers.sync import sync_pass

    async with open_trackers(tracker_env) as trackers:
        real = trackers["github"]

        class DiesAfterCreating:
            kind = "github"

            async def create(self, target: str, issue: Any) -> Any:
                await real.create(target, issue)
                raise Crash()

        with contextlib.suppress(Crash):
            await sync_pass(db, {"github": DiesAfterCreating()}, now=chat.now)  # type: ignore[dict-item]
    rows = await issue_rows(db)
    assert [r.state for r in rows] == ["claimed"] and len(github.issues) == 1
    # Another clock while the claim is fresh does nothing; after its lease, the marker is found.
    await run_pass(db, tracker_env, now=chat.now + dt.timedelta(minutes=1))
    assert (await issue_rows(db))[0].state == "claimed"
    report = await run_pass(db, tracker_env, now=chat.now + dt.timedelta(minutes=11))
    assert report.count("linked") == 1 and report.count("created") == 0
    assert len(github.issues) == 1 and len(github.calls("POST", r"/issues$")) == 1
    assert (await action(db)).issue_url == "https://github.example/acme/ops/issues/1"


async def test_reconciliation_closes_actions_whose_webhook_was_missed(
    chat: Chat, db: Database, github: GitHub, tracker_env: TrackerSettings
) -> None:
    await publish_with_tracker(chat, "github", REPO)
    await run_pass(db, tracker_env, now=chat.now)
    github.close_issue(f"{REPO}#1")
    report = await run_pass(db, tracker_env, now=chat.now + dt.timedelta(minutes=20))
    assert report.count("closed in tracker") == 1
    assert (await action(db)).status == ActionStatus.DONE


async def test_only_admins_pick_the_tracker_and_bad_names_are_refused(chat: Chat, db: Database) -> None:
    refused = await chat.command("tracker github acme/ops", user="bob", key="dm-bob")
    assert refused[0].kind == ReplyKind.ERROR and "admin" in refused[0].text
    bad = await chat.command("tracker jira not a key", user="alice", admin=True, key="dm-a")
    assert bad[0].kind == ReplyKind.ERROR and "project key" in bad[0].text
    shown = await chat.command("tracker", user="bob", key="dm-bob")
    assert "no tracker" in shown[0].text
    assert registry.installed() is None
