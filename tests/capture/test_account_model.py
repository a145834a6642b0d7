"""The model path of a pasted account: the `account:<case>:<answer>` follow-up job against a
local OpenAI-compatible server (tests/fake_openai.py), through the real openai client. What the
model invents (an owner, a date, a time the account never gave) is dropped by grounding."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.jobs import run_followup
from storage.models import Case, RawAnswer
from tests.conftest import Chat
from tests.fake_openai import FakeOpenAI, answer

FREE = (
    "account\n"
    "We saw 502s on checkout for EU users. I checked the LB: all targets equally bad. "
    "In the end the conntrack table was full on the LB nodes."
)
MAPPED = {
    "symptoms": ["502s on checkout for EU users", "Bob will fix the LB by 2026-12-01"],
    "hypotheses": [],
    "signals": [],
    "diagnostic_path": ["Checked the LB: all targets equally bad", "At 14:05 we restarted the database"],
    "root_cause": "the conntrack table was full on the LB nodes",
    "contributing_factors": [],
}


@pytest.fixture
async def model(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    for name in ("CASEBOOK_DRAFTING", "OPENAI_STRUCTURED_OUTPUT", "OPENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    async with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
        monkeypatch.setenv("OPENAI_MODEL", "fake-model")
        monkeypatch.setenv("OPENAI_TIMEOUT", "5")
        monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")
        yield server


async def _case(chat: Chat) -> Case:
    async with chat.db.transaction() as session:
        return (await session.exec(select(Case))).one()


async def test_the_model_maps_the_free_text_and_grounding_drops_what_it_invented(
    chat: Chat, model: FakeOpenAI
) -> None:
    model.then(answer(json.dumps(MAPPED)))
    await chat.command("postmortem Checkout 502s")
    replies = await chat.send(FREE, user="alice")
    [key] = [r.followup for r in replies if r.followup]
    async with chat.db.transaction() as session:
        [raw] = (await session.exec(select(RawAnswer))).all()
    assert key == f"account:1:{raw.id}"  # the job names the very answer it maps
    # Someone pastes a second, labelled account before the job runs: the job still maps the first.
    await chat.send("account\nSeverity: sev2\nServices: checkout-api", user="bob")

    [said] = await run_followup(chat.db, key, now=chat.now, platform=chat.platform, tenant=chat.tenant)
    assert "We saw 502s on checkout" in model.requests[0].message("user")
    case = await _case(chat)
    assert case.symptoms == ["502s on checkout for EU users"]  # the owner and date: dropped
    assert case.diagnostic_path == [{"text": "Checked the LB: all targets equally bad", "by": "Alice"}]
    assert case.root_cause == "the conntrack table was full on the LB nodes"
    assert "2 item(s) dropped" in said.text and "symptoms (1)" in said.text


async def test_a_model_failure_keeps_the_account_as_written(chat: Chat, model: FakeOpenAI) -> None:
    model.then(answer("not json at all"))
    await chat.command("postmortem Checkout 502s")
    [key] = [r.followup for r in await chat.send(FREE) if r.followup]
    [said] = await run_followup(chat.db, key, now=chat.now, platform=chat.platform, tenant=chat.tenant)
    assert "kept as written" in said.text
    case = await _case(chat)
    assert case.symptoms == [] and case.root_cause is None
