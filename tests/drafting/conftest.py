"""Fixtures of the drafting tests: no model by default, or a stand-in model configured by environment."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import connect
from tests.conftest import Chat
from tests.drafting.support import MODEL
from tests.fake_openai import FakeOpenAI


@pytest.fixture(autouse=True)
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """No model unless a test configures one, whatever the developer's shell exports."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_MODEL",
        "OPENAI_TIMEOUT",
        "OPENAI_MAX_RETRIES",
        "OPENAI_STRUCTURED_OUTPUT",
        "OPENAI_API_VERSION",
        "OPENAI_MAX_OUTPUT_TOKENS",
        "CASEBOOK_DRAFTING",
        "CASEBOOK_PROMPT_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake_model(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    """A stand-in model server, configured the way an operator would: through the environment."""
    async with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
        monkeypatch.setenv("OPENAI_MODEL", MODEL)
        monkeypatch.setenv("OPENAI_TIMEOUT", "5")
        monkeypatch.setenv("OPENAI_MAX_RETRIES", "1")
        yield server


@pytest.fixture
async def sqlite_chat(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Chat]:
    """A chat on SQLite only, for tests of the exchange with the model, where the backend is not the point."""
    path = tmp_path / "casebook.db"
    shutil.copy(sqlite_template, path)
    database = connect(f"sqlite+aiosqlite:///{path}")
    try:
        yield Chat(database)
    finally:
        await database.dispose()
