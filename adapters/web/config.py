"""Settings of the web case library, from the environment (every variable is in the README)."""

from __future__ import annotations

import getpass
import secrets
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import BeforeValidator, Field, SecretStr

from bot.config import ConfigError, EnvSettings, whole

SLACK_ISSUER = "https://slack.com"
MICROSOFT_ISSUER = "https://login.microsoftonline.com/organizations/v2.0"


@dataclass(frozen=True)
class Provider:
    """An OpenID Connect provider people sign in with; `platform` is the tenant rows' platform."""

    name: str  # "slack" | "microsoft": the path segment of /auth/<name>/...
    label: str
    platform: str
    issuer: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class WebConfig:
    session_secret: bytes
    providers: dict[str, Provider] = field(default_factory=dict)
    public_url: str | None = None
    session_hours: int = 12
    local: bool = False  # embedded local mode: the console tenant, no sign-in, 127.0.0.1 only
    local_user: str = "me"

    @property
    def secure_cookies(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))


class WebSettings(EnvSettings):
    """The variables of the web library, as read; `load` checks how they go together."""

    session_secret: SecretStr | None = Field(None, validation_alias="CASEBOOK_SESSION_SECRET")
    session_hours: Annotated[int, BeforeValidator(whole(1, 24 * 30))] = Field(
        12, validation_alias="CASEBOOK_SESSION_HOURS"
    )
    web_user: str | None = Field(None, validation_alias="CASEBOOK_WEB_USER")
    slack_oidc_client_id: str | None = Field(None, validation_alias="SLACK_OIDC_CLIENT_ID")
    slack_oidc_client_secret: SecretStr | None = Field(None, validation_alias="SLACK_OIDC_CLIENT_SECRET")
    slack_oidc_issuer: str | None = Field(None, validation_alias="SLACK_OIDC_ISSUER")
    microsoft_oidc_client_id: str | None = Field(None, validation_alias="MICROSOFT_OIDC_CLIENT_ID")
    microsoft_oidc_client_secret: SecretStr | None = Field(
        None, validation_alias="MICROSOFT_OIDC_CLIENT_SECRET"
    )
    microsoft_oidc_issuer: str | None = Field(None, validation_alias="MICROSOFT_OIDC_ISSUER")

    def oidc(self, prefix: str) -> tuple[str, str, str]:
        """(client id, client secret, issuer) of the provider named by `prefix`, blank when unset."""
        key = prefix.lower()
        secret: SecretStr | None = getattr(self, f"{key}_oidc_client_secret")
        return (
            getattr(self, f"{key}_oidc_client_id") or "",
            secret.get_secret_value() if secret else "",
            getattr(self, f"{key}_oidc_issuer") or "",
        )


def _provider(
    env: WebSettings, name: str, label: str, platform: str, prefix: str, default_issuer: str
) -> Provider | None:
    client_id, secret, issuer = env.oidc(prefix)
    if not client_id and not secret:
        return None
    if not client_id or not secret:
        raise ConfigError(
            f"{prefix}_OIDC_CLIENT_ID and {prefix}_OIDC_CLIENT_SECRET go together; one is missing"
        )
    issuer = (issuer or default_issuer).rstrip("/")
    if not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ConfigError(f"{prefix}_OIDC_ISSUER must be an https:// URL, not {issuer!r}")
    return Provider(name, label, platform, issuer, client_id, secret)


def load(*, platforms_mounted: bool, public_url: str | None = None) -> WebConfig:
    env = WebSettings.from_env()
    providers = {
        p.name: p
        for p in (
            _provider(env, "slack", "Sign in with Slack", "slack", "SLACK", SLACK_ISSUER),
            _provider(env, "microsoft", "Sign in with Microsoft", "teams", "MICROSOFT", MICROSOFT_ISSUER),
        )
        if p is not None
    }
    local = not platforms_mounted and not providers
    raw_secret = env.session_secret.get_secret_value() if env.session_secret else ""
    if providers and len(raw_secret) < 32:
        raise ConfigError(
            "CASEBOOK_SESSION_SECRET must be set to at least 32 random characters when people sign in "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    if public_url and not public_url.startswith(("https://", "http://")):
        raise ConfigError(f"CASEBOOK_PUBLIC_URL must start with https:// or http://, not {public_url!r}")
    return WebConfig(
        # Without sign-in (local mode, or no provider yet) a per-process secret is all sessions need.
        session_secret=(raw_secret or secrets.token_urlsafe(48)).encode(),
        providers=providers,
        public_url=public_url,
        session_hours=env.session_hours,
        local=local,
        local_user=env.web_user or _login() or "me",
    )


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
