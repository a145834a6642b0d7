"""`casebook tracker …` and `casebook trackers sync|status` as processes; the settings' checks."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from adapters.trackers.config import TrackerSettings
from bot.config import ConfigError
from tests.trackers.standins import GitHub

ROOT = Path(__file__).resolve().parents[2]


async def casebook(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "MICROSOFT_"))
    }
    environment.pop("DATABASE_URL", None)
    environment.update({"PYTHONPATH": str(ROOT), **env})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode()


async def test_pick_sync_and_status_from_the_command_line(tmp_path: Path, github: GitHub) -> None:
    env = {"GITHUB_TOKEN": "ghp-test", "GITHUB_API_URL": github.url}
    code, _ = await casebook("demo", "--database", "sqlite:///casebook.db", cwd=tmp_path, env=env)
    assert code == 0
    code, out = await casebook("tracker", "github", "not a repo", cwd=tmp_path, env=env)
    assert code == 2 and "owner/repo" in out
    code, out = await casebook("tracker", "github", "acme/ops", cwd=tmp_path, env=env)
    assert code == 0 and "acme/ops" in out
    code, out = await casebook("trackers", "status", cwd=tmp_path, env=env)
    assert code == 1 and "waiting for its issue" in out
    code, out = await casebook("trackers", "sync", cwd=tmp_path, env=env)
    created = len(github.calls("POST", r"/repos/acme/ops/issues$"))
    assert code == 0 and created >= 1 and f"{created} issue(s) created" in out
    code, out = await casebook("trackers", "status", cwd=tmp_path, env=env)
    assert code == 0 and "everything in sync" in out
    code, out = await casebook("trackers", "sync", cwd=tmp_path, env=env)
    assert "0 issue(s) created" in out and len(github.calls("POST", r"/repos/acme/ops/issues$")) == created


def test_half_a_jira_configuration_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIRA_URL", "https://acme.atlassian.net")
    monkeypatch.delenv("JIRA_EMAIL", raising=False)
    monkeypatch.delenv("JIRA_API_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="JIRA_EMAIL, JIRA_API_TOKEN"):
        TrackerSettings.from_env()


def test_bad_urls_and_numbers_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_API_URL", "ftp://nope")
    with pytest.raises(ConfigError, match="GITHUB_API_URL"):
        TrackerSettings.from_env()
    monkeypatch.delenv("GITHUB_API_URL")
    monkeypatch.setenv("TRACKER_SYNC_SECONDS", "0")
    with pytest.raises(ConfigError, match="TRACKER_SYNC_SECONDS"):
        TrackerSettings.from_env()
