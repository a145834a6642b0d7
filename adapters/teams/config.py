"""Teams settings from the environment, with friendly errors.

Single-tenant bots only (the only kind Azure still creates): an app id, its client
secret and the Entra tenant it lives in. Without an app id the adapter stays off,
unless the explicit development flag allows unauthenticated traffic.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from bot.config import ConfigError

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TRUE_WORDS = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str | None = None
    app_password: str | None = None
    app_tenant_id: str | None = None
    allowed_tenants: frozenset[str] = field(default_factory=frozenset)
    dev_allow_unauthenticated: bool = False
    # Entra object ids of Casebook admins (may publish, cancel, reassign any case's actions).
    admins: frozenset[str] = field(default_factory=frozenset)
    # Where the Bot Framework publishes its token signing keys. None: the public cloud's.
    # Not read from the environment; the tests point it at a local stand-in.
    openid_metadata_url: str | None = None

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

    def validate(self) -> TeamsSettings:
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
    def from_env(cls) -> TeamsSettings:
        return cls(
            app_id=(os.environ.get("MICROSOFT_APP_ID") or "").strip() or None,
            app_password=os.environ.get("MICROSOFT_APP_PASSWORD") or None,
            app_tenant_id=(os.environ.get("MICROSOFT_APP_TENANT_ID") or "").strip() or None,
            allowed_tenants=_guids("TEAMS_ALLOWED_TENANTS"),
            admins=_guids("TEAMS_ADMINS"),
            dev_allow_unauthenticated=(os.environ.get("TEAMS_DEV_ALLOW_UNAUTHENTICATED") or "")
            .strip()
            .lower()
            in TRUE_WORDS,
        ).validate()


def _guids(name: str) -> frozenset[str]:
    raw = os.environ.get(name) or ""
    return frozenset(part.strip().lower() for part in raw.split(",") if part.strip())


def _require_guid(name: str, value: str) -> None:
    if not GUID.match(value):
        raise ConfigError(f"{name} must be a GUID like 00000000-0000-0000-0000-000000000000, not {value!r}")
