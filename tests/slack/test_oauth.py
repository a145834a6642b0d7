"""Several workspaces: OAuth install into Casebook's own database, tokens per team, revocation;
the migrated store tables; the Notifier port over Slack DMs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlmodel import select

from adapters.slack.config import SlackSettings
from adapters.slack.notifier import slack_notifier
from bot.messages import Reply
from storage.db import Database, sync_url
from storage.models import InboxEntry, RawAnswer, Tenant
from storage.secrets import SEALED_COLUMNS, Sealer, SecretKeyError, new_key, reseal_all
from tests.slack.conftest import CHANNEL, Harness, serving
from tests.slack.support import SIGNING_SECRET, SlackStandIn

SECOND_TEAM = "T0SECOND"
KEY, NEWER_KEY = new_key(), new_key()


def test_migrated_tables_are_the_stores_tables(db_url: str) -> None:
    store_tables = sa.MetaData()
    SQLAlchemyInstallationStore.build_installations_table(store_tables, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(store_tables, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(store_tables, "slack_oauth_states")
    for table, columns in SEALED_COLUMNS.items():  # widened by 0014_sealed: a sealed token is longer
        for column in columns:
            store_tables.tables[table].c[column].type = sa.Text()
    engine = sa.create_engine(sync_url(db_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _: kind != "table" or name.startswith("slack_"),
                },
            )
            assert compare_metadata(context, store_tables) == []
    finally:
        engine.dispose()


@pytest.fixture
def oauth_env(monkeypatch: pytest.MonkeyPatch, standin: SlackStandIn) -> SlackSettings:
    for name in ("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_COMMAND", "SLACK_SCOPES", "SLACK_REDIRECT_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_CLIENT_ID", "1111.2222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret")
    monkeypatch.setenv("SLACK_API_URL", standin.api_url)
    monkeypatch.setenv("CASEBOOK_SECRET_KEY", KEY)
    return SlackSettings.from_env()


@pytest.fixture
async def oauth(db: Database, standin: SlackStandIn, oauth_env: SlackSettings) -> AsyncIterator[Harness]:
    standin.team = SECOND_TEAM
    async with serving(db, standin) as h:
        yield h


async def install(h: Harness, code: str = "c0de") -> None:
    """The browser's part: open the install page, come back from Slack with a code."""
    async with h.sender.session.get(h.server.make_url("/slack/install")) as page:
        assert page.status == 200
        state = re.search(r"state=([\w-]+)", await page.text())
        # The state cookie is Secure (Slack requires https); a browser would send it back.
        cookie = "; ".join(f"{m.key}={m.value}" for m in page.cookies.values())
    assert state is not None and cookie
    redirect = h.server.make_url("/slack/oauth_redirect").with_query(code=code, state=state.group(1))
    async with h.sender.session.get(redirect, headers={"Cookie": cookie}) as done:
        assert done.status == 200, await done.text()


async def stored_tokens(db: Database) -> list[tuple[str, str]]:
    """The rows as they are in the database (sealed)."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT team_id, bot_token FROM slack_bots"))
        return [(row[0], row[1]) for row in rows]


async def installed_bots(db: Database, keys: str = KEY) -> list[tuple[str, str]]:
    sealer = Sealer.from_keys(keys)
    return [(team, str(sealer.open(token))) for team, token in await stored_tokens(db)]


async def test_install_then_every_call_speaks_with_that_workspace_token(oauth: Harness) -> None:
    h = oauth
    await install(h)
    assert await installed_bots(h.db) == [(SECOND_TEAM, "xoxb-installed-c0de")]
    assert h.standin.called("oauth.v2.access")[0].params["code"] == "c0de"

    await h.sender.command("Second team's outage")
    await h.settle()

    posts = h.standin.called("chat.postMessage")
    assert posts and {c.token for c in posts} == {"xoxb-installed-c0de"}
    async with h.db.transaction() as session:
        assert [t.external_id for t in (await session.exec(select(Tenant))).all()] == [SECOND_TEAM]


async def interview_in_second_team(h: Harness) -> str:
    """Installed, with an interview running: its thread's root ts."""
    await install(h)
    await h.sender.command("Second team's outage")
    await h.settle()
    return h.root()


async def test_an_answer_in_an_installed_workspace_is_stored_and_answered_with_its_token(
    oauth: Harness,
) -> None:
    h = oauth
    root = await interview_in_second_team(h)

    answered = await h.sender.say("SEV2", thread_ts=root, channel=CHANNEL)
    await h.settle()

    assert answered.status == 200
    async with h.db.transaction() as session:
        assert [a.text for a in (await session.exec(select(RawAnswer))).all()] == ["SEV2"]
    [question] = [c for c in h.thread(root) if "area" in c.text().lower()][-1:]
    assert question.token == "xoxb-installed-c0de"


async def test_an_answer_from_a_workspace_that_uninstalled_is_acknowledged_and_ignored(
    oauth: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = oauth
    root = await interview_in_second_team(h)
    await h.sender.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}, "event_ts": "1.0"})
    await h.settle()
    async with h.db.transaction() as session:
        rows_before = len((await session.exec(select(InboxEntry))).all())

    answered = await h.sender.say("SEV2", thread_ts=root, channel=CHANNEL)
    await h.settle()

    assert answered.status == 200  # (Slack would retry anything else, to no avail)
    async with h.db.transaction() as session:
        assert len((await session.exec(select(InboxEntry))).all()) == rows_before
        assert (await session.exec(select(RawAnswer))).all() == []
    assert any("no installation" in r.getMessage() and SECOND_TEAM in r.getMessage() for r in caplog.records)


async def test_a_forged_install_state_is_refused(oauth: Harness) -> None:
    h = oauth
    forged = h.server.make_url("/slack/oauth_redirect").with_query(code="x", state="not-issued")
    async with h.sender.session.get(forged) as page:
        assert page.status == 400
    assert await installed_bots(h.db) == []
    assert not h.standin.called("oauth.v2.access")


async def test_revoked_tokens_are_forgotten_and_stop_working(oauth: Harness) -> None:
    h = oauth
    await install(h)
    revoked = await h.sender.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}, "event_ts": "1.0"})
    await h.settle()
    assert revoked.status == 200
    assert await installed_bots(h.db) == []

    posts_before = len(h.standin.called("chat.postMessage"))
    refused = await h.sender.command("After the uninstall")
    await h.settle()
    assert refused.status == 200 and "not installed" in await refused.text()
    assert len(h.standin.called("chat.postMessage")) == posts_before
    async with h.db.transaction() as session:
        assert (await session.exec(select(Tenant))).all() == []


async def test_the_notifier_sends_dms_with_each_workspace_token(
    oauth: Harness, oauth_env: SlackSettings
) -> None:
    h = oauth
    await install(h)
    notifier = slack_notifier(db=h.db, slack=oauth_env)
    assert notifier is not None

    sent = await notifier.send_direct(
        tenant=SECOND_TEAM, user_id="UBOB", replies=[Reply("**2 open actions** due")]
    )
    assert sent.ok
    [dm] = h.standin.called("chat.postMessage")
    assert (dm.params["channel"], dm.token) == ("DBOB", "xoxb-installed-c0de")
    assert "*2 open actions* due" in dm.text()

    unknown = await notifier.send_direct(tenant="T0NOWHERE", user_id="UBOB", replies=[Reply("hi")])
    assert (unknown.ok, unknown.retryable) == (False, False)
    h.standin.fail("chat.postMessage", "ratelimited")
    limited = await notifier.send_direct(tenant=SECOND_TEAM, user_id="UBOB", replies=[Reply("hi")])
    assert (limited.ok, limited.retryable) == (False, True)
    assert limited.error is not None and "rate limited" in limited.error
    h.standin.fail("conversations.open", "user_not_found")
    gone = await notifier.send_direct(tenant=SECOND_TEAM, user_id="UGONE", replies=[Reply("hi")])
    assert (gone.ok, gone.retryable) == (False, False)


async def test_tokens_are_sealed_at_rest_and_survive_a_key_rotation(
    oauth: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = oauth
    await install(h)
    async with h.db.engine.connect() as connection:
        rows = [tuple(r) for r in await connection.execute(sa.text("SELECT * FROM slack_bots"))]
        rows += [tuple(r) for r in await connection.execute(sa.text("SELECT * FROM slack_installations"))]
    assert rows and not any("xoxb-installed-c0de" in str(value) for row in rows for value in row)

    rotated = f"{NEWER_KEY},{KEY}"  # the new key first; the old one still opens what it sealed
    assert await reseal_all(h.db, rotated) == 2  # the bot row and the installation row
    with pytest.raises(SecretKeyError):
        await installed_bots(h.db, keys=KEY)  # no longer sealed with the old key
    assert await installed_bots(h.db, keys=NEWER_KEY) == [(SECOND_TEAM, "xoxb-installed-c0de")]

    monkeypatch.setenv("CASEBOOK_SECRET_KEY", NEWER_KEY)  # the old key dropped
    async with serving(h.db, h.standin) as again:
        await again.sender.command("After the rotation")
        await again.settle()
    assert {c.token for c in h.standin.called("chat.postMessage")} == {"xoxb-installed-c0de"}
