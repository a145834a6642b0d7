"""The capability map on the constructed history (tests/insight_cases.py), worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.insights.capability_map import Entry, grouped
from bot.insights.reports import build_map
from bot.messages import ReplyKind
from storage import repo
from storage.db import Database
from tests.conftest import Chat
from tests.insight_cases import HISTORY, cli_with_history, load_history


async def _map(db: Database, area: str | None = None):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        tenant = await repo.tenant(session, platform="console", external_id="T1")
        assert tenant.id is not None
        return await build_map(session, tenant_id=tenant.id, area=area)


async def test_network_area_in_detail(db: Database) -> None:
    n = await load_history(db)
    (network,) = (await _map(db, "network")).areas
    a, c, e = n["A"], n["C"], n["E"]
    assert network.cases == (a, c, e)
    assert network.latest == "2026-10-10"
    assert network.symptoms == (
        Entry("502s from checkout", (a, c)),
        Entry("NXDOMAIN for api.example.com", (e,)),  # one-offs: most recent case first
        Entry("Latency alerts on the CDN", (c,)),
        Entry("TLS handshake errors at the edge", (a,)),
    )
    assert network.first_checks == (
        Entry("Checked the edge error dashboard", (a, c)),
        Entry("dig against the authoritative servers", (e,)),
    )
    assert network.revealing_steps == (
        Entry("dig against the authoritative servers", (e,)),
        Entry("LB logs showed the origin pool empty", (c,)),
        Entry("openssl s_client showed the expired certificate", (a,)),
    )
    assert network.misleading_signals == (Entry("CPU alarm on the LB", (a, c)),)
    assert network.wrong_leads == (Entry("Suspected the CDN", (a,)),)
    assert [r.cases for r in network.root_causes] == [(e,), (c,), (a,)]


async def test_overview_counts_every_area(db: Database) -> None:
    await load_history(db)
    overview = await _map(db)
    assert [(a.area, len(a.cases)) for a in overview.areas] == [("network", 3), ("storage", 2), ("deploy", 1)]
    assert overview.total == len(HISTORY)


def test_grouping_ignores_case_spacing_and_trailing_punctuation() -> None:
    pairs = [(1, "Pool  exhausted."), (2, "pool exhausted"), (2, "POOL EXHAUSTED!"), (3, "  ")]
    assert grouped(pairs) == (Entry("Pool exhausted.", (1, 2)),)


async def test_map_in_chat(db: Database, chat: Chat) -> None:
    n = await load_history(db)
    overview = await chat.command("map")
    assert overview[0].text.startswith("**Capability map** — 6 published case(s).")
    assert "- **network**: 3 case(s), latest 2026-10-10; symptoms: 502s from checkout (2)" in overview[0].text
    detail = await chat.command("map net")  # aliases work
    assert f"- CPU alarm on the LB — 2 case(s): #{n['C']}, #{n['A']}" in detail[0].text
    assert "**Wrong leads:**\n- Suspected the CDN" in detail[0].text
    empty = await chat.command("map security")
    assert empty[0].text == "**security**: no published cases yet."
    wrong = await chat.command("map plumbing")
    assert wrong[0].kind == ReplyKind.ERROR and "Pick one capability area" in wrong[0].text


def test_cli_map_json(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cli_with_history(["map", "storage", "--json"], db_url, monkeypatch, tmp_path)
    found = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    (storage,) = found["areas"]
    assert storage["area"] == "storage" and storage["cases"] == [1, 3]
    assert storage["first_checks"] == [
        {"text": "Checked pool metrics", "count": 1, "cases": [3]},
        {"text": "Checked replication lag graphs", "count": 1, "cases": [1]},
    ]
