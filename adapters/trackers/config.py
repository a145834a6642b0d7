"""Tracker settings from the environment (listed in the README's Trackers section).

Credentials decide which trackers this process can reach; webhook secrets decide which
webhook routes `casebook serve` mounts. A half configuration stops the process with the
variable's name.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from urllib.parse import urlparse

from bot.config import ConfigError, env_int
from bot.trackers.sync import SyncSettings

GITHUB_API = "https://api.github.com"
LINEAR_API = "https://api.linear.app/graphql"


def _get(name: str) -> str | None:
    value = (os.environ.get(name) or "").strip()
    return value or None


def _url(name: str, default: str | None = None) -> str | None:
    value = _get(name) or default
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, not {value!r}")
    return value.rstrip("/")


@dataclass(frozen=True)
class TrackerSettings:
    github_token: str | None = None
    github_api_url: str = GITHUB_API
    jira_url: str | None = None
    jira_email: str | None = None
    jira_api_token: str | None = None
    linear_api_key: str | None = None
    linear_api_url: str = LINEAR_API
    github_webhook_secret: str | None = None
    jira_webhook_secret: str | None = None
    linear_webhook_secret: str | None = None
    sync_seconds: int = 60
    timeout_seconds: int = 15
    public_url: str | None = None  # where issues link back to (the web library, once there)

    @classmethod
    def from_env(cls) -> TrackerSettings:
        jira = (_url("JIRA_URL"), _get("JIRA_EMAIL"), _get("JIRA_API_TOKEN"))
        if any(jira) and not all(jira):
            missing = [
                n for n, v in zip(("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN"), jira, strict=True) if not v
            ]
            raise ConfigError(
                f"Jira needs JIRA_URL, JIRA_EMAIL and JIRA_API_TOKEN together; missing {', '.join(missing)}"
            )
        return cls(
            github_token=_get("GITHUB_TOKEN"),
            github_api_url=_url("GITHUB_API_URL", GITHUB_API) or GITHUB_API,
            jira_url=jira[0],
            jira_email=jira[1],
            jira_api_token=jira[2],
            linear_api_key=_get("LINEAR_API_KEY"),
            linear_api_url=_url("LINEAR_API_URL", LINEAR_API) or LINEAR_API,
            github_webhook_secret=_get("GITHUB_WEBHOOK_SECRET"),
            jira_webhook_secret=_get("JIRA_WEBHOOK_SECRET"),
            linear_webhook_secret=_get("LINEAR_WEBHOOK_SECRET"),
            sync_seconds=env_int("TRACKER_SYNC_SECONDS", 60, low=5, high=3600),
            timeout_seconds=env_int("TRACKER_TIMEOUT_SECONDS", 15, low=1, high=120),
            public_url=_url("CASEBOOK_PUBLIC_URL"),
        )

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
