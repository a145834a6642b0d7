"""Teams settings from the environment, with friendly errors.

Single-tenant bots only (the only kind Azure still creates): an app id, its client
secret and the Entra tenant it lives in. Without an app id the adapter stays off,
unless the explicit development flag allows unauthenticated traffic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field
from pydantic_settings import NoDecode

from bot.config import ConfigError, EnvSettings

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TRUE_WORDS = {"1", "true", "yes", "on"}


def _guids(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def _flag(value: Any) -> Any:
    return value if isinstance(value, bool) else str(value).strip().lower() in TRUE_WORDS


Guids = Annotated[frozenset[str], NoDecode, BeforeValidator(_guids)]


class TeamsSettings(EnvSettings):
    app_id: str | None = Field(None, validation_alias="MICROSOFT_APP_ID")
    app_password: str | None = Field(None, validation_alias="MICROSOFT_APP_PASSWORD")
    app_tenant_id: str | None = Field(None, validation_alias="MICROSOFT_APP_TENANT_ID")
    allowed_tenants: Guids = Field(frozenset(), validation_alias="TEAMS_ALLOWED_TENANTS")
    dev_allow_unauthenticated: Annotated[bool, BeforeValidator(_flag)] = Field(
        False, validation_alias="TEAMS_DEV_ALLOW_UNAUTHENTICATED"
    )
    # Entra object ids of Casebook admins (may publish, cancel, reassign any case's actions).
    admins: Guids = Field(frozenset(), validation_alias="TEAMS_ADMINS")
    # Optional default for `casebook teams-package --website-url`.
    app_website_url: str | None = Field(None, validation_alias="TEAMS_APP_WEBSITE_URL")
    # Where the Bot Framework publishes its token signing keys. None: the public cloud's.
    # Not read from the environment; the tests point it at a local stand-in.
    openid_metadata_url: str | None = Field(None, exclude=True)
    # Where the app's credentials are exchanged for a token (readiness asks it). None: Entra's
    # endpoint for the app's tenant. Not read from the environment either.
    token_url: str | None = Field(None, exclude=True)

    @property
    def token_endpoint(self) -> str:
        tenant = self.app_tenant_id or "botframework.com"
        return self.token_url or f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"

    @property
    def enabled(self) -> bool:
        return bool(self.app_id) or self.dev_allow_unauthenticated

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)

    @property
    def tenants(self) -> frozenset[str]:
        """Every tenant whose activities are accepted (ids compared lower-case)."""
        configured = {self.app_tenant_id} if self.app_tenant_id else set()
        return frozenset(t.lower() for t in configured | set(self.allowed_tenants))

    # Named before these settings were a pydantic model (whose deprecated classmethod it shadows).
    def validate(self) -> Self:  # type: ignore[override]
        if self.app_id:
            missing = [
                name
                for name, value in (
                    ("MICROSOFT_APP_PASSWORD", self.app_password),
                    ("MICROSOFT_APP_TENANT_ID", self.app_tenant_id),
                )
                if not value
            ]
            if missing:
                raise ConfigError(
                    "MICROSOFT_APP_ID is set, so Teams needs " + " and ".join(missing) + " too "
                    "(a single-tenant bot: the client secret and the Entra tenant id of its app "
                    "registration)."
                )
            _require_guid("MICROSOFT_APP_ID", self.app_id)
        if self.app_tenant_id:
            _require_guid("MICROSOFT_APP_TENANT_ID", self.app_tenant_id)
        for tenant in self.allowed_tenants:
            _require_guid("TEAMS_ALLOWED_TENANTS", tenant)
        for admin in self.admins:
            _require_guid("TEAMS_ADMINS", admin)
        if self.enabled and not self.tenants:
            raise ConfigError(
                "Teams needs at least one tenant to accept: set MICROSOFT_APP_TENANT_ID "
                "(or TEAMS_ALLOWED_TENANTS in development)."
            )
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        return cls.unchecked_from_env(env).validate()

    @classmethod
    def unchecked_from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """The values alone, for tools that need one of them (the app package needs the app id)."""
        return super().from_env(env)


def _require_guid(name: str, value: str) -> None:
    if not GUID.match(value):
        raise ConfigError(f"{name} must be a GUID like 00000000-0000-0000-0000-000000000000, not {value!r}")
