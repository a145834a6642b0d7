"""Tracker adapters: GitHub Issues, Jira Cloud and Linear behind the core's tracker port.

`open_trackers(settings)` opens the configured ones (one aiohttp session) for a unit of
work; `install(settings)` lets the core's nudge job open them too; `add_routes` mounts
the webhooks on `casebook serve`.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from adapters.trackers.config import TrackerSettings, revealed
from adapters.trackers.github import GitHubTracker
from adapters.trackers.http import JsonClient
from adapters.trackers.jira import JiraTracker
from adapters.trackers.linear import LinearTracker
from adapters.trackers.webhooks import add_routes
from bot.trackers import registry
from bot.trackers.port import Tracker, Trackers

USER_AGENT = "casebook-tracker-sync"


def build(session: aiohttp.ClientSession, settings: TrackerSettings) -> dict[str, Tracker]:
    trackers: dict[str, Tracker] = {}
    if settings.github_token:
        headers = {
            "Authorization": f"Bearer {revealed(settings.github_token)}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": USER_AGENT,
        }
        trackers["github"] = GitHubTracker(
            JsonClient(session, base_url=settings.github_api_url, headers=headers, name="GitHub")
        )
    if settings.jira_url and settings.jira_email and settings.jira_api_token:
        credentials = f"{settings.jira_email}:{revealed(settings.jira_api_token)}"
        basic = base64.b64encode(credentials.encode()).decode()
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, "Authorization": f"Basic {basic}"}
        client = JsonClient(session, base_url=settings.jira_url, headers=headers, name="Jira")
        trackers["jira"] = JiraTracker(client, site_url=settings.jira_url)
    if settings.linear_api_key:
        headers = {"Authorization": revealed(settings.linear_api_key) or "", "User-Agent": USER_AGENT}
        trackers["linear"] = LinearTracker(
            JsonClient(session, base_url=settings.linear_api_url, headers=headers, name="Linear")
        )
    return trackers


@asynccontextmanager
async def open_trackers(settings: TrackerSettings) -> AsyncIterator[Trackers]:
    timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield build(session, settings)


def install(settings: TrackerSettings) -> None:
    """Let the core's nudge job (bot.trackers.job) open the configured trackers."""
    if settings.kinds:
        registry.install(lambda: open_trackers(settings))


__all__ = ["TrackerSettings", "add_routes", "install", "open_trackers"]
