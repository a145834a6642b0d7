"""Similar past cases: in the interview, as a chat command, and on the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.case import FIELDS, CaseField
from bot.messages import ReplyKind
from storage import repo
from storage.db import Database
from storage.search import similar_cases
from tests.conftest import NOW, Chat
from tests.insight_cases import HISTORY, cli_with_history, load_history


async def _reach_symptoms(
    chat: Chat, title: str = "Checkout failing at the edge", services: str = "edge-lb, checkout"
) -> None:
    await chat.command(f"postmortem {title}")
    for answer in ["SEV2", "network", services, "skip", "skip", "skip", "skip"]:
        replies = await chat.send(answer)
    assert replies[-1].step == "symptoms"


async def test_leaving_symptoms_suggests_similar_past_cases(db: Database, chat: Chat) -> None:
    numbers = await load_history(db)
    await load_history(
        db, tenant="OTHER", records=[{**HISTORY[1], "id": "elsewhere", "title": "Other team's 502s"}]
    )
    await _reach_symptoms(chat)
    ack = await chat.send("502s from checkout, TLS handshake errors")
    assert all(r.kind != ReplyKind.LIST for r in ack)  # nothing while symptoms are still coming

    replies = await chat.send("done")
    suggestion, question = replies[-2], replies[-1]
    assert question.step == "hypotheses"
    assert suggestion.kind == ReplyKind.LIST and "similar symptoms" in suggestion.text
    shown = [item.ref for item in suggestion.items]
    assert shown[0] == f"#{numbers['A']}" and f"#{numbers['C']}" in shown
    assert len(shown) <= 3
    first = suggestion.items[0]
    assert (
        "First steps: Checked the edge error dashboard → openssl s_client showed the expired certificate"
        in (first.text)
    )
    assert "Root cause: Expired TLS certificate on the edge load balancer" in first.text
    assert first.choices[0].value == f"/show {numbers['A']}"
    assert all("Other team" not in item.text for item in suggestion.items)  # same tenant only


async def test_no_suggestion_without_a_match_or_when_going_back(db: Database, chat: Chat) -> None:
    await load_history(db)
    await _reach_symptoms(chat, title="Zebra stampede", services="okapi")
    await chat.send("zebra quagga")
    replies = await chat.send("done")
    assert [r.kind for r in replies if r.kind == ReplyKind.LIST] == []
    assert replies[-1].step == "hypotheses"
    back = await chat.send("back")
    assert back[-1].step == "symptoms" and all(r.kind != ReplyKind.LIST for r in back)


async def test_a_failing_lookup_never_costs_the_answer(db: Database, chat: Chat) -> None:
    if db.dialect != "sqlite":
        pytest.skip("drops the SQLite index to make the lookup fail")
    await load_history(db)
    await _reach_symptoms(chat)
    async with db.engine.begin() as connection:
        for name in ("case_search_after_insert", "case_search_after_update", "case_search_after_delete"):
            await connection.execute(text(f"DROP TRIGGER {name}"))
        await connection.execute(text("DROP TABLE case_search"))
    await chat.send("502s from checkout")
    replies = await chat.send("done")
    assert replies[-1].step == "hypotheses"
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="console", external_id="T1")
        assert tenant.id is not None
        case = await repo.case_by_number(session, tenant_id=tenant.id, number=7)
        assert case is not None and case.symptoms == ["502s from checkout"]


async def test_similar_command_by_text_and_by_case(db: Database, chat: Chat) -> None:
    numbers = await load_history(db)
    by_text = await chat.command("similar connection pool exhausted, timeouts on orders")
    assert by_text[0].items[0].ref == f"#{numbers['B']}"
    by_case = await chat.command(f"similar #{numbers['A']}")
    refs = [item.ref for item in by_case[0].items]
    assert f"#{numbers['A']}" not in refs and refs[0] == f"#{numbers['C']}"
    assert "Past cases like case #" in by_case[0].text

    none = await chat.command("similar zebra quagga")
    assert none[0].text.startswith("No past case resembles")
    empty = await chat.command("similar")
    missing = await chat.command("similar #99")
    assert (empty[0].kind, missing[0].kind) == (ReplyKind.ERROR, ReplyKind.ERROR)
    assert missing[0].text == "There is no case #99."


def test_cli_similar_json(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cli_with_history(
        ["similar", "TLS handshake errors, 502s from checkout", "--json"], db_url, monkeypatch, tmp_path
    )
    found = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [f["title"] for f in found][:1] == ["Checkout 502s: expired certificate at the edge"]
    assert found[0]["first_steps"][0] == "Checked the edge error dashboard"
    assert found[0]["root_cause"] == "Expired TLS certificate on the edge load balancer"


@pytest.mark.parametrize("field", [f for f in FIELDS if f.search], ids=lambda f: f.key)
async def test_every_searchable_written_section_is_found(db: Database, field: CaseField) -> None:
    """The index (its migrations) covers each section the case shape marks as searched,
    on SQLite and PostgreSQL: a word only that section holds finds the case."""
    value: Any = ["Quokkaflux spotted in the relay"] if field.kind == "list" else "Quokkaflux in the relay"
    numbers = await load_history(
        db, records=[{"id": "only-here", "title": "Relay trouble", field.key: value}]
    )
    async with db.transaction() as session:
        tenant = await repo.tenant(session, platform="console", external_id="T1", now=NOW)
        assert tenant.id is not None
        found = await similar_cases(session, tenant_id=tenant.id, query="quokkaflux")
    assert [m.case.number for m in found] == [numbers["only-here"]]
