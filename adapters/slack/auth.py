"""Which token speaks for a workspace.

One workspace: `SLACK_BOT_TOKEN`, checked with `auth.test` once at start (so no request
ever waits for it) and cached. Several workspaces: slack_sdk's SQLAlchemy installation
and OAuth-state stores on Casebook's own database (tables from migration 0003_slack),
bolt's OAuth flow at /slack/install and /slack/oauth_redirect, and revocation
listeners that delete an uninstalled workspace's tokens.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any, Protocol

import sqlalchemy
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize, AsyncInstallationStoreAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import INSTALL_PATH, REDIRECT_PATH, SlackSettings
from bot.config import ConfigError, Settings
from storage.db import Database
from storage.secrets import Sealer

log = logging.getLogger(__name__)
STATE_SECONDS = 600


class SingleWorkspace(AsyncAuthorize):
    """The bot token's identity from one cached `auth.test` (bolt's own would run it on the
    first request, before that request's acknowledgement)."""

    def __init__(self, *, token: str, client: AsyncWebClient) -> None:
        super().__init__()
        self.token = token
        self.client = client
        self._result: AuthorizeResult | None = None
        self._lock = asyncio.Lock()

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_: Any,
    ) -> AuthorizeResult | None:
        return await self.result()

    async def result(self) -> AuthorizeResult:
        if self._result is None:
            async with self._lock:
                if self._result is None:
                    response = await self.client.auth_test(token=self.token)
                    self._result = AuthorizeResult.from_auth_test_response(
                        bot_token=self.token, auth_test_response=response
                    )
                    log.info(
                        "Slack bot token works for team %s (%s)",
                        response.get("team_id"),
                        response.get("team"),
                    )
        return self._result


class SealedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's store, with every token sealed (storage.secrets) before it reaches a row and
    opened when read back; rows written before sealing was turned on are still read."""

    def __init__(self, *, sealer: Sealer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sealer = sealer

    async def async_save(self, installation: Installation) -> None:
        sealed = copy.copy(installation)
        for name in INSTALLATION_SECRETS:
            setattr(sealed, name, self.sealer.seal(getattr(installation, name)))
        await super().async_save(sealed)  # saves its bot through async_save_bot (sealed already)

    async def async_save_bot(self, bot: Bot) -> None:
        sealed = copy.copy(bot)
        for name in BOT_SECRETS:
            setattr(sealed, name, self.sealer.seal(getattr(bot, name)))
        await super().async_save_bot(sealed)

    async def async_find_bot(self, **kwargs: Any) -> Bot | None:
        bot = await super().async_find_bot(**kwargs)
        if bot is not None:
            for name in BOT_SECRETS:
                setattr(bot, name, self.sealer.open(getattr(bot, name)))
        return bot

    async def async_find_installation(self, **kwargs: Any) -> Installation | None:
        installation = await super().async_find_installation(**kwargs)
        if installation is not None:
            for name in INSTALLATION_SECRETS:
                setattr(installation, name, self.sealer.open(getattr(installation, name)))
        return installation


BOT_SECRETS = ("bot_token", "bot_refresh_token")
INSTALLATION_SECRETS = (*BOT_SECRETS, "user_token", "user_refresh_token")


def installation_store(db: Database, settings: SlackSettings) -> SealedInstallationStore:
    assert settings.client_id is not None
    return SealedInstallationStore(
        sealer=sealer(), client_id=settings.client_id, engine=db.engine, logger=log
    )


def sealer() -> Sealer:
    keys = Settings.from_env().secret_keys
    if keys is None:
        raise ConfigError(
            "Slack OAuth stores each workspace's bot token: set CASEBOOK_SECRET_KEY (make one with "
            "`casebook secret-key`) so that they are stored encrypted."
        )
    return Sealer.from_keys(keys.get_secret_value())


def oauth_settings(
    db: Database, settings: SlackSettings, store: SealedInstallationStore
) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scopes=list(settings.scopes),
        redirect_uri=settings.redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=store,
        state_store=AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_SECONDS, engine=db.engine, logger=log
        ),
        state_expiration_seconds=STATE_SECONDS,
    )


def installation_authorize(
    settings: SlackSettings, store: SealedInstallationStore, client: AsyncWebClient
) -> AsyncInstallationStoreAuthorize:
    # The store is read on every request, so a revoked token stops working at once; only
    # the auth.test result behind a still-installed token is cached.
    return AsyncInstallationStoreAuthorize(
        installation_store=store,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        logger=log,
        bot_only=True,
        cache_enabled=True,
        client=client,
    )


class TokenSource(Protocol):
    async def token_for(self, tenant: str) -> str | None: ...


class StaticToken:
    def __init__(self, token: str) -> None:
        self.token = token

    async def token_for(self, tenant: str) -> str | None:
        return self.token


class InstalledTokens:
    """The newest bot token installed for a tenant: a team, or an org-wide enterprise."""

    def __init__(self, store: SealedInstallationStore) -> None:
        self.store = store

    async def token_for(self, tenant: str) -> str | None:
        bots = self.store.bots.c
        query = (
            sqlalchemy.select(bots.bot_token)
            .where(
                bots.client_id == self.store.client_id,
                bots.bot_token.is_not(None),
                sqlalchemy.or_(
                    bots.team_id == tenant,
                    sqlalchemy.and_(bots.enterprise_id == tenant, bots.is_enterprise_install.is_(True)),
                ),
            )
            .order_by(bots.installed_at.desc())
            .limit(1)
        )
        async with self.store.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return self.store.sealer.open(str(row[0])) if row else None
