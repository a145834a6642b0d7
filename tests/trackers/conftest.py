"""Fixtures for tracker tests: the three stand-ins, and settings pointing at them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.trackers.config import TrackerSettings
from bot.trackers import registry
from tests.trackers.standins import GitHub, Jira, Linear

SECRETS = {"github": "gh-secret", "jira": "jira-secret", "linear": "linear-secret"}


@pytest.fixture
async def github() -> AsyncIterator[GitHub]:
    stand_in = GitHub()
    await stand_in.start()
    yield stand_in
    await stand_in.close()


@pytest.fixture
async def jira() -> AsyncIterator[Jira]:
    stand_in = Jira()
    await stand_in.start()
    yield stand_in
    await stand_in.close()


@pytest.fixture
async def linear() -> AsyncIterator[Linear]:
    stand_in = Linear()
    await stand_in.start()
    yield stand_in
    await stand_in.close()


@pytest.fixture
def tracker_env(
    monkeypatch: pytest.MonkeyPatch, github: GitHub, jira: Jira, linear: Linear
) -> Iterator[TrackerSettings]:
    """Every tracker configured against its stand-in, as `casebook serve` would read it."""
    env = {
        "GITHUB_TOKEN": "ghp-test",
        "GITHUB_API_URL": github.url,
        "JIRA_URL": jira.url,
        "JIRA_EMAIL": "bot@example.com",
        "JIRA_API_TOKEN": "jira-token",
        "LINEAR_API_KEY": "lin_api_test",
        "LINEAR_API_URL": linear.url + "/graphql",
        "GITHUB_WEBHOOK_SECRET": SECRETS["github"],
        "JIRA_WEBHOOK_SECRET": SECRETS["jira"],
        "LINEAR_WEBHOOK_SECRET": SECRETS["linear"],
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield TrackerSettings.from_env()
    registry.uninstall()
