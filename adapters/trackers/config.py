"""Tracker settings from the environment (listed in the README's Trackers section).

Credentials decide which trackers this process can reach; webhook secrets decide which
webhook routes `casebook serve` mounts. A half configuration stops the process with the
variable's name. Credentials are SecretStr: a repr or a log line shows `**********`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Self
from urllib.parse import urlparse

from pydantic import BeforeValidator, Field, SecretStr, model_validator

from bot.config import ConfigError, EnvSettings, Invalid, whole
from bot.trackers.sync import SyncSettings

GITHUB_API = "https://api.github.com"
LINEAR_API = "https://api.linear.app/graphql"


def _http_url(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    parsed = urlparse(value.strip())
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise Invalid(f"{{name}} must be an http(s) URL, not {value!r}")
    return value.strip().rstrip("/")


HttpUrl = Annotated[str, BeforeValidator(_http_url)]


def revealed(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class TrackerSettings(EnvSettings):
    github_token: SecretStr | None = Field(None, validation_alias="GITHUB_TOKEN")
    github_api_url: HttpUrl = Field(GITHUB_API, validation_alias="GITHUB_API_URL")
    jira_url: HttpUrl | None = Field(None, validation_alias="JIRA_URL")
    jira_email: str | None = Field(None, validation_alias="JIRA_EMAIL")
    jira_api_token: SecretStr | None = Field(None, validation_alias="JIRA_API_TOKEN")
    linear_api_key: SecretStr | None = Field(None, validation_alias="LINEAR_API_KEY")
    linear_api_url: HttpUrl = Field(LINEAR_API, validation_alias="LINEAR_API_URL")
    github_webhook_secret: SecretStr | None = Field(None, validation_alias="GITHUB_WEBHOOK_SECRET")
    jira_webhook_secret: SecretStr | None = Field(None, validation_alias="JIRA_WEBHOOK_SECRET")
    linear_webhook_secret: SecretStr | None = Field(None, validation_alias="LINEAR_WEBHOOK_SECRET")
    sync_seconds: Annotated[int, BeforeValidator(whole(5, 3600))] = Field(
        60, validation_alias="TRACKER_SYNC_SECONDS"
    )
    timeout_seconds: Annotated[int, BeforeValidator(whole(1, 120))] = Field(
        15, validation_alias="TRACKER_TIMEOUT_SECONDS"
    )
    # Where issues link back to (the web library's address).
    public_url: HttpUrl | None = Field(None, validation_alias="CASEBOOK_PUBLIC_URL")

    @model_validator(mode="after")
    def _jira_whole(self) -> Self:
        jira = {
            "JIRA_URL": self.jira_url,
            "JIRA_EMAIL": self.jira_email,
            "JIRA_API_TOKEN": self.jira_api_token,
        }
        missing = [name for name, value in jira.items() if not value]
        if missing and len(missing) < len(jira):
            raise ConfigError(
                f"Jira needs JIRA_URL, JIRA_EMAIL and JIRA_API_TOKEN together; missing {', '.join(missing)}"
            )
        return self

    @property
    def kinds(self) -> tuple[str, ...]:
        """The trackers this process can call."""
        have = {
            "github": bool(self.github_token),
            "jira": bool(self.jira_url),
            "linear": bool(self.linear_api_key),
        }
        return tuple(kind for kind, ok in have.items() if ok)

    def sync(self) -> SyncSettings:
        return SyncSettings(link_base=self.public_url)

    @property
    def timeout(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.timeout_seconds)
