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
from tests.conftest import NOW, Chat
from tests.insight_cases import HISTORY, cli_with_history, load_history


async def _map(db: Database, area: str | None = None):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="console", external_id="T1")
        assert tenant.id is not None
        return await build_map(session, tenant_id=tenant.id, area=area)


async def test_network_area_in_detail(db: Database) -> None:
    n = await load_history(db)
    (network,) = (await _map(db, "network")).areas
    a, c, e = n["A"], n["C"], n["E"]
    assert network.cases == (a, c, e)
    assert network.latest == "2026-10-10"
    # "502s from checkout" (A, C) is one meaning: 5xx; NXDOMAIN is DNS; TLS handshake *errors* is
    # the error-rate concept. C's "Latency alerts" is latency, a symptom also seen in deploy (D).
    assert network.symptoms[0] == Entry("HTTP 5xx responses", (a, c))
    assert {x.text for x in network.symptoms} == {
        "HTTP 5xx responses",
        "DNS resolution failures",
        "elevated error rate",
    }
    assert network.detection == (Entry("alert", (c,)), Entry("not recorded", (a, e)))
    assert network.first_checks == (
        Entry("checked dashboards and metrics", (a, c), led_to_cause=2, median_mitigate=45.0),
        Entry("checked DNS", (e,), led_to_cause=1, median_mitigate=45.0),
    )
    assert [x.text for x in network.revealing_steps] == [
        "checked DNS",
        "read the logs",
        "checked certificates",
    ]
    # The CPU alarm misled twice, and cost 15 min once (C stated no cost).
    assert network.misleading_signals == (Entry("high CPU, memory or resource use", (a, c), minutes=15.0),)
    assert network.wrong_leads == (Entry("Suspected the CDN", (a,), minutes=20.0),)
    assert [(r.text, r.cases) for r in network.root_causes] == [
        ("configuration change", (e,)),
        ("Health check path removed from the origin during a refactor", (c,)),
        ("expired or wrong certificate", (a,)),
    ]
    assert network.gaps == ()


async def test_overview_counts_every_area(db: Database) -> None:
    await load_history(db)
    overview = await _map(db)
    assert [(a.area, len(a.cases)) for a in overview.areas] == [("network", 3), ("storage", 2), ("deploy", 1)]
    assert overview.total == len(HISTORY)


def test_grouping_ignores_case_spacing_and_trailing_punctuation() -> None:
    pairs = [(1, "Pool  exhausted."), (2, "pool exhausted"), (2, "POOL EXHAUSTED!"), (3, "  ")]
    assert grouped(pairs) == (Entry("Pool exhausted.", (1, 2)),)


def test_grouping_by_meaning() -> None:
    pairs = [
        (1, "high latency"),
        (2, "increased latency"),
        (3, "Elevated latencies"),
        (4, "HTTP 500-level response codes"),
        (5, "502s from checkout"),
        (6, "http 5xx error code"),
        (7, "packet loss"),
        (8, "network drop"),
    ]
    assert grouped(pairs) == (
        Entry("HTTP 5xx responses", (4, 5, 6)),
        Entry("high latency", (1, 2, 3)),
        Entry("packet loss or dropped traffic", (7, 8)),
        Entry("elevated error rate", (6,)),
    )


async def test_map_in_chat(db: Database, chat: Chat) -> None:
    n = await load_history(db)
    overview = await chat.command("map")
    assert overview[0].text.startswith("**Capability map** — 6 published case(s).")
    assert "- **network**: 3 case(s), latest 2026-10-10; symptoms: HTTP 5xx responses (2)" in overview[0].text
    assert "- **deploy/config**: 1 case(s)" in overview[0].text
    assert "gaps: 0 found by customers, 1 slow to detect" in overview[0].text  # D: 40 min to detect
    detail = await chat.command("map net")  # aliases work
    assert (
        f"- high CPU, memory or resource use — 15 min lost, 2 case(s): #{n['C']}, #{n['A']}" in detail[0].text
    )
    assert "**Wrong leads (by time lost):**\n- Suspected the CDN — 20 min lost" in detail[0].text
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
    # "Checked pool metrics" and "Checked replication lag graphs" mean the same: metrics.
    assert storage["first_checks"] == [
        {
            "text": "checked dashboards and metrics",
            "count": 2,
            "cases": [1, 3],
            "led_to_cause": 2,
            "median_mitigate_min": 75.0,
        }
    ]
