"""`casebook demo` with a model configured, and the provider variants of the client."""

from __future__ import annotations

import pytest

from adapters.console import demo
from bot.config import Settings
from storage.db import Database
from tests.conftest import Chat
from tests.drafting.support import MODEL, case_row, publish, run_job
from tests.fake_openai import FakeOpenAI


async def test_the_demo_shows_the_model_draft_beside_the_template(
    db: Database, fake_model: FakeOpenAI
) -> None:
    lines: list[str] = []
    assert await demo.run(db, Settings(), out=lines.append) == 0
    output = "\n".join(lines)

    published = output.index("Case #1 is published")
    drafted = output.index(f"as drafted by {MODEL}")
    assert published < drafted
    template, model = output[published:drafted], output[drafted:]
    assert "## Symptoms" in template and "## Narrative" not in template
    assert (
        "## Narrative" in model
        and "## Suggested actions" in model
        and "[Accept: /suggestion accept 1.S1]" in model
    )
    assert len(fake_model.requests) == 1


async def test_the_demo_without_a_model_is_the_template_alone(db: Database) -> None:
    lines: list[str] = []
    await demo.run(db, Settings(), out=lines.append)
    output = "\n".join(lines)
    assert "Case #1 is published" in output and "## Narrative" not in output and "draft:" not in output


async def test_azure_deployment_endpoint(
    sqlite_chat: Chat, fake_model: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_model.base_url.removesuffix("/v1"))
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    await publish(sqlite_chat)

    await run_job(sqlite_chat, "draft:1")

    [request] = fake_model.requests
    assert request.path == f"/openai/deployments/{MODEL}/chat/completions"
    assert request.query["api-version"] == "2024-10-21" and request.headers["api-key"] == "sk-test-key"
    assert (await case_row(sqlite_chat.db)).draft_method == "model"


async def test_a_local_server_needs_no_key(
    sqlite_chat: Chat, fake_model: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")  # Ollama, vLLM: the base URL alone turns drafting on
    published = await publish(sqlite_chat)
    assert published.followup == "draft:1"

    await run_job(sqlite_chat, "draft:1")

    assert (await case_row(sqlite_chat.db)).draft_method == "model"
    assert fake_model.requests[0].headers["Authorization"] == "Bearer not-needed"
