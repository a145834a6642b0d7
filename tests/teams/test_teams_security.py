"""Who may talk to /api/messages: Bot Framework tokens (checked by botbuilder against the
stand-in signing keys), tenants, and what a malformed request gets back."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from aiohttp import web
from botframework.connector.auth import ChannelValidation
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import select

from adapters.teams import add_routes, notifier_from_env
from adapters.teams.config import TeamsSettings
from bot.config import ConfigError, Settings
from storage.db import Database
from storage.models import Case, ConversationRef, Tenant, UserAlias
from tests.teams.activities import APP_ID, BOB, OTHER_TENANT, TENANT
from tests.teams.conftest import Bot, serve_bot
from tests.teams.standins import Connector, SigningKeys


async def _stored(bot: Bot, model: Any) -> list[Any]:
    async with bot.db.transaction() as session:
        return list((await session.exec(select(model))).all())


async def test_a_valid_token_is_accepted_and_the_install_remembered(
    secured_bot: Bot, signing_keys: SigningKeys
) -> None:
    activity = secured_bot.teams.member_added_to_team(BOB)
    token = signing_keys.token(audience=APP_ID, service_url=activity["serviceUrl"])
    assert await secured_bot.post(activity, token=token) == 200
    refs = await _stored(secured_bot, ConversationRef)
    assert [(r.scope, r.service_url) for r in refs] == [("channel", activity["serviceUrl"])]
    aliases = await _stored(secured_bot, UserAlias)
    assert {(a.alias, a.user_id) for a in aliases} >= {(BOB.aad, BOB.id)}


@pytest.mark.parametrize(
    "header",
    [
        None,  # no Authorization header at all
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIn0.",
    ],
)
async def test_a_missing_or_malformed_authorization_header_gets_401(
    secured_bot: Bot, header: str | None
) -> None:
    activity = secured_bot.teams.channel_post("postmortem Sneaky")
    headers = {} if header is None else {"Authorization": header}
    async with secured_bot.http.post(secured_bot.url, json=activity, headers=headers) as response:
        assert response.status == 401
    assert secured_bot.connector.sent == []
    assert await _stored(secured_bot, Case) == []


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "11111111-2222-3333-4444-555555555555"},  # a token for another bot
        {"iss": "https://sts.example.com/"},  # not issued by the Bot Framework
        {"exp": dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)},  # expired
        {"serviceurl": "https://smba.trafficmanager.net/evil/"},  # minted for another service URL
        {"signing_key": rsa.generate_private_key(public_exponent=65537, key_size=2048)},  # forged
        {"kid": "unknown-key"},  # signed with a key the Bot Framework never published
    ],
    ids=["audience", "issuer", "expired", "service-url", "forged", "unknown-key"],
)
async def test_a_token_botbuilder_does_not_accept_gets_401(
    secured_bot: Bot, signing_keys: SigningKeys, claims: dict[str, Any]
) -> None:
    activity = secured_bot.teams.channel_post("postmortem Sneaky")
    token = signing_keys.token(audience=APP_ID, service_url=activity["serviceUrl"], **claims)
    assert await secured_bot.post(activity, token=token) == 401
    assert secured_bot.connector.sent == []


async def test_an_authenticated_activity_from_another_tenant_is_refused(
    secured_bot: Bot, signing_keys: SigningKeys
) -> None:
    activity = secured_bot.teams.channel_post("postmortem From elsewhere", tenant=OTHER_TENANT)
    token = signing_keys.token(audience=APP_ID, service_url=activity["serviceUrl"])
    assert await secured_bot.post(activity, token=token) == 403
    assert secured_bot.connector.sent == []
    assert await _stored(secured_bot, Tenant) == []


async def test_another_bot_framework_channel_is_refused(
    secured_bot: Bot, bot: Bot, signing_keys: SigningKeys
) -> None:
    activity = secured_bot.teams.channel_post("postmortem Via Web Chat")
    activity["channelId"] = "webchat"  # its clients can write channelData, tenant included
    token = signing_keys.token(audience=APP_ID, service_url=activity["serviceUrl"])
    # The signing key is endorsed for msteams only: botbuilder refuses the token.
    assert await secured_bot.post(activity, token=token) == 401
    # Without tokens (development), the adapter itself refuses anything but Teams.
    assert await bot.post(activity) == 403
    assert secured_bot.connector.sent == []


async def test_another_tenant_is_refused_in_development_mode_too(bot: Bot) -> None:
    assert await bot.post(bot.teams.channel_post("postmortem From elsewhere", tenant=OTHER_TENANT)) == 403
    no_tenant = bot.teams.channel_post("postmortem No tenant")
    del no_tenant["channelData"]["tenant"], no_tenant["conversation"]["tenantId"]
    assert await bot.post(no_tenant) == 403
    mismatch = bot.teams.channel_post("postmortem Mixed")
    mismatch["conversation"]["tenantId"] = OTHER_TENANT
    assert await bot.post(mismatch) == 403
    assert bot.connector.sent == []
    assert await _stored(bot, Tenant) == []


async def test_a_malformed_header_gets_401_in_development_mode(bot: Bot) -> None:
    assert await bot.post(bot.teams.channel_post("postmortem X"), token="garbage") == 401


async def test_a_body_that_is_not_an_activity_gets_4xx_not_500(bot: Bot) -> None:
    cases: list[tuple[dict[str, Any], int]] = [
        ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ({"data": b"[1, 2]", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": {"text": "no type"}}, 400),
        ({"data": b"type=message", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415),
    ]
    for kwargs, status in cases:
        async with bot.http.post(bot.url, **kwargs) as response:
            assert response.status == status


def test_settings_refuse_half_a_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID", "TEAMS_ALLOWED_TENANTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    with pytest.raises(ConfigError, match="MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID"):
        TeamsSettings.from_env()
    monkeypatch.setenv("MICROSOFT_APP_PASSWORD", "secret")
    monkeypatch.setenv("MICROSOFT_APP_TENANT_ID", "contoso")
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TENANT_ID must be a GUID"):
        TeamsSettings.from_env()
    monkeypatch.setenv("MICROSOFT_APP_TENANT_ID", TENANT.upper())
    settings = TeamsSettings.from_env()
    assert settings.authenticated and settings.tenants == {TENANT}


def test_development_mode_needs_the_flag_and_a_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "MICROSOFT_APP_ID",
        "MICROSOFT_APP_PASSWORD",
        "MICROSOFT_APP_TENANT_ID",
        "TEAMS_ALLOWED_TENANTS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TEAMS_DEV_ALLOW_UNAUTHENTICATED", raising=False)
    assert not TeamsSettings.from_env().enabled  # nothing set: Teams stays off
    monkeypatch.setenv("TEAMS_DEV_ALLOW_UNAUTHENTICATED", "1")
    with pytest.raises(ConfigError, match="at least one tenant"):
        TeamsSettings.from_env()
    monkeypatch.setenv("TEAMS_ALLOWED_TENANTS", f"{TENANT}, {OTHER_TENANT}")
    settings = TeamsSettings.from_env()
    assert settings.enabled and not settings.authenticated and settings.tenants == {TENANT, OTHER_TENANT}


async def test_the_clock_gets_a_notifier_only_when_teams_is_configured(
    monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    for name in (
        "MICROSOFT_APP_ID",
        "MICROSOFT_APP_PASSWORD",
        "MICROSOFT_APP_TENANT_ID",
        "TEAMS_DEV_ALLOW_UNAUTHENTICATED",
    ):
        monkeypatch.delenv(name, raising=False)
    assert notifier_from_env(db=db) is None
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    monkeypatch.setenv("MICROSOFT_APP_PASSWORD", "secret")
    monkeypatch.setenv("MICROSOFT_APP_TENANT_ID", TENANT)
    notifier = notifier_from_env(db=db)
    assert notifier is not None and notifier.platform == "teams" and notifier.bot_app_id == APP_ID


async def test_with_an_app_id_the_development_flag_does_not_turn_tokens_off(
    db: Database, connector: Connector, signing_keys: SigningKeys, caplog: pytest.LogCaptureFixture
) -> None:
    teams = TeamsSettings(
        app_id=APP_ID,
        app_password="not-a-real-secret",
        app_tenant_id=TENANT,
        dev_allow_unauthenticated=True,
        openid_metadata_url=signing_keys.metadata_url,
    ).validate()
    try:
        async for running in serve_bot(db, connector, teams):
            assert await running.post(running.teams.channel_post("postmortem Sneaky")) == 401
            assert await _stored(running, Case) == []
    finally:
        ChannelValidation.open_id_metadata_endpoint = None
    assert "TEAMS_DEV_ALLOW_UNAUTHENTICATED is ignored" in caplog.text


async def test_development_mode_says_so_loudly_in_the_log(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    teams = TeamsSettings(dev_allow_unauthenticated=True, allowed_tenants=frozenset({TENANT})).validate()
    with caplog.at_level(logging.INFO, logger="adapters.teams"):
        assert add_routes(web.Application(), db=db, settings=Settings(), teams=teams) is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("WITHOUT checking who sent them" in w for w in warnings)
    assert any("UNAUTHENTICATED development mode" in r.getMessage() for r in caplog.records)
