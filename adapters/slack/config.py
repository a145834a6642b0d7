"""Slack settings from the environment, checked once at start with messages a person can act on.

Modes: one workspace (`SLACK_BOT_TOKEN`), or several through OAuth (`SLACK_CLIENT_ID` and
`SLACK_CLIENT_SECRET`). Either runs over HTTP (`SLACK_SIGNING_SECRET` verifies requests) or
over Socket Mode when `SLACK_APP_TOKEN` is set. With none of these, Slack is off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Self
from urllib.parse import urlparse

from pydantic import BeforeValidator, Field
from pydantic_settings import NoDecode

from bot.config import ConfigError, EnvSettings

# What the manifest asks for; OAuth installs request the same.
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:join",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "reactions:write",
    "users:read",
)
DEFAULT_COMMAND = "/postmortem"
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def _api_url(value: Any) -> Any:
    if value is None:
        return None
    raw = str(value).strip()
    parsed = urlparse(raw)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ConfigError(
            f"SLACK_API_URL must be an http(s) URL such as https://slack.com/api/, not {raw!r}."
        )
    # slack_sdk joins method names onto the base URL: without the slash, "api" + "chat.postMessage".
    return raw if raw.endswith("/") else raw + "/"


def _scopes(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    raw = value
    scopes = tuple(s.strip() for s in raw.replace(" ", ",").split(",") if s.strip())
    missing = [s for s in ("commands", "chat:write") if s not in scopes]
    if missing:
        raise ConfigError(f"SLACK_SCOPES must include {', '.join(missing)}.")
    return scopes


class SlackSettings(EnvSettings):
    signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    client_secret: str | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    # The Web API base URL, ending with "/".
    api_url: Annotated[str | None, BeforeValidator(_api_url)] = Field(None, validation_alias="SLACK_API_URL")
    redirect_uri: str | None = Field(None, validation_alias="SLACK_REDIRECT_URI")
    command: str = Field(DEFAULT_COMMAND, validation_alias="SLACK_COMMAND")
    scopes: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_scopes)] = Field(
        BOT_SCOPES, validation_alias="SLACK_SCOPES"
    )
    # Channels whose history is read when an interview starts in them (a regex on the name);
    # empty: only `postmortem from #channel` reads one.
    incident_channels: str = Field(r"^(inc|incident|sev)[-_]", validation_alias="SLACK_INCIDENT_CHANNELS")
    profile_ttl_seconds: int = 900

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token or self.client_id)

    @property
    def oauth(self) -> bool:
        return bool(self.client_id)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def mode(self) -> str:
        if not self.enabled:
            return "off"
        workspaces = "oauth" if self.oauth else "single-workspace"
        return f"{workspaces}, {'socket mode' if self.socket_mode else 'http'}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        settings = super().from_env(env)
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ConfigError naming the variable to fix; an all-empty config is simply 'off'."""
        if not self.enabled:
            if self.signing_secret or self.app_token:
                raise ConfigError(
                    "Slack: set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                    "SLACK_CLIENT_SECRET (OAuth, several workspaces)."
                )
            return
        if self.bot_token and self.client_id:
            raise ConfigError(
                "Slack: set either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET "
                "(OAuth), not both."
            )
        if self.client_id and not self.client_secret:
            raise ConfigError("Slack: SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET is missing.")
        if self.bot_token and not self.bot_token.startswith("xoxb-"):
            raise ConfigError("Slack: SLACK_BOT_TOKEN must be a bot token (it starts with xoxb-).")
        if self.app_token and not self.app_token.startswith("xapp-"):
            raise ConfigError("Slack: SLACK_APP_TOKEN must be an app-level token (it starts with xapp-).")
        if not self.socket_mode and not self.signing_secret:
            raise ConfigError(
                "Slack: SLACK_SIGNING_SECRET is required to verify requests over HTTP "
                "(Basic Information > App Credentials), or set SLACK_APP_TOKEN for Socket Mode."
            )
        try:
            re.compile(self.incident_channels)
        except re.error as error:
            raise ConfigError(
                f"Slack: SLACK_INCIDENT_CHANNELS is not a regular expression ({error})."
            ) from error
        if self.oauth and not self.signing_secret and not self.socket_mode:
            raise ConfigError("Slack: OAuth over HTTP needs SLACK_SIGNING_SECRET too.")
        if not self.command.startswith("/") or " " in self.command:
            raise ConfigError(f"SLACK_COMMAND must look like /postmortem, not {self.command!r}.")
