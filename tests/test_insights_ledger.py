"""The value ledger on the constructed history (tests/insight_cases.py), worked out by hand.

Window 2026-08..2026-10, today 2026-11-20. Minutes (detect, mitigate, resolve):
A 08-03 (10, 60, 120) SEV2 network · B 08-20 (20, 90, 240) SEV1 storage
C 09-05 (5, 30, 60) SEV2 network · D 09-25 (40, 100, 300) SEV3 deploy · E 10-10 (15, 45, 90) SEV2 network
F 05-01 (storage, before the window). Repeats: C after A (network, edge-lb, 33 days);
D after B (root causes share 5 of 6 words, 36 days); B is not one of F (111 days apart).
Actions: A.1 due 08-31 closed 08-25 (21 days) · A.2 due 09-15 closed 09-20 late (47 days) ·
B.1 due 09-30 open (overdue) · C.1 cancelled · D.1 due 12-01 open · E.1 due 10-31 closed 10-30 (19 days).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from bot.insights.ledger import REPEAT_WINDOW, Incident, Ledger, p90, parse_window, repeats_of
from bot.insights.ledger_report import to_csv
from bot.insights.reports import build_ledger
from bot.jobs import run_followup
from bot.parsing import ParseError
from storage import repo
from storage.db import Database
from tests.conftest import NOW, Chat
from tests.insight_cases import HISTORY, TODAY, at, cli_with_history, load_history


async def _ledger(db: Database, window: str = "2026-10 3") -> Ledger:
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="console", external_id="T1")
        assert tenant.id is not None
        return await build_ledger(
            session, tenant_id=tenant.id, window=parse_window(window, today=TODAY), today=TODAY
        )


async def test_incidents_times_and_trends(db: Database) -> None:
    n = await load_history(db)
    aug, sep, oct_ = (await _ledger(db)).periods
    assert [p.period.label for p in (aug, sep, oct_)] == ["2026-08", "2026-09", "2026-10"]
    assert aug.incidents == (n["A"], n["B"]) and oct_.incidents == (n["E"],)
    assert aug.by_severity == {"SEV1": 1, "SEV2": 1}
    assert sep.by_severity == {"SEV2": 1, "SEV3": 1}
    assert sep.by_area == {"deploy": 1, "network": 1}

    detect, mitigate, resolve = (aug.timings[m] for m in ("detect", "mitigate", "resolve"))
    assert (detect.median, detect.p90, detect.trend) == (15, 20, None)  # July had nothing to compare
    assert (mitigate.median, mitigate.p90, resolve.median, resolve.p90) == (75, 90, 180, 240)
    assert (sep.timings["detect"].median, sep.timings["detect"].p90, sep.timings["detect"].trend) == (
        22.5,
        40,
        50,
    )
    assert sep.timings["mitigate"].trend == pytest.approx(-13.333, abs=0.01)
    assert sep.timings["resolve"].trend == 0
    assert (oct_.timings["detect"].trend, oct_.timings["resolve"].trend) == (
        pytest.approx(-33.333, abs=0.01),
        -50,
    )


async def test_repeats(db: Database) -> None:
    n = await load_history(db)
    aug, sep, oct_ = (await _ledger(db)).periods
    assert aug.repeats == {}  # B and F: same area and service, but 111 days apart
    assert sep.repeats == {n["C"]: n["A"], n["D"]: n["B"]}
    assert oct_.repeats == {}  # E shares the area with C, not a service


async def test_follow_through_and_before_after(db: Database) -> None:
    await load_history(db)
    ledger = await _ledger(db)
    aug, sep, oct_ = (p.follow_through for p in ledger.periods)
    assert (aug.due, aug.on_time, aug.closed_in_period, aug.median_days_to_close, aug.overdue_now) == (
        1,
        1,
        1,
        21,
        0,
    )
    assert (sep.due, sep.on_time, sep.closed_in_period, sep.median_days_to_close, sep.overdue_now) == (
        2,
        0,
        1,
        47,
        1,
    )
    assert (oct_.due, oct_.on_time, oct_.on_time_share, oct_.median_days_to_close) == (1, 1, 100, 19)
    assert ledger.overdue_now == 1  # B.1; D.1 is not due yet

    (network,) = ledger.before_after  # the only area with a closed action
    assert (network.area, network.pivot, network.closed_actions) == ("network", dt.date(2026, 8, 25), 3)
    assert (network.before_incidents, network.after_incidents) == (1, 2)
    assert network.before_per_30_days == pytest.approx(
        1 / (22 + 2 / 24) * 30
    )  # A, 08-03 10:00 to 08-25 12:00
    assert network.after_per_30_days == pytest.approx(2 / 86.5 * 30)  # C, E; 08-25 12:00 to 11-20
    assert (network.before_repeats, network.after_repeats) == (0, 1)
    assert (network.before_median_resolve, network.after_median_resolve) == (120, 75)


def test_window_words() -> None:
    assert [p.label for p in parse_window("", today=TODAY).periods] == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    assert [p.label for p in parse_window("quarter", today=TODAY).periods] == [
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
        "2026-Q4",
    ]
    assert [p.label for p in parse_window("2026-q1 2", today=TODAY).periods] == ["2025-Q4", "2026-Q1"]
    assert [p.label for p in parse_window("quarterly 2026-05 2", today=TODAY).periods] == [
        "2026-Q1",
        "2026-Q2",
    ]
    assert [p.label for p in parse_window("month 2026-Q1 2", today=TODAY).periods] == ["2026-02", "2026-03"]
    window = parse_window("2025-12 2", today=TODAY)
    assert [(p.start, p.end) for p in window.periods] == [
        (dt.date(2025, 11, 1), dt.date(2025, 12, 1)),
        (dt.date(2025, 12, 1), dt.date(2026, 1, 1)),
    ]
    for wrong in ("2026-13", "fortnight", "99"):
        with pytest.raises(ParseError):
            parse_window(wrong, today=TODAY)


def test_nearest_rank_p90_and_repeat_window_edge() -> None:
    assert p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == 9
    assert p90([5]) == 5 and p90([]) is None
    assert repeats_of([]) == {}

    def incident(number: int, started: dt.datetime, *, area: str = "network", root: str = "") -> Incident:
        return Incident(number, started, "SEV2", area, frozenset({"edge-lb"}), frozenset(root.split()), {})

    first = at("2026-01-01")
    # Same area and service: exactly 90 days later is a repeat, a minute more is not.
    assert repeats_of([incident(1, first), incident(2, first + REPEAT_WINDOW)]) == {2: 1}
    late = first + REPEAT_WINDOW + dt.timedelta(minutes=1)
    assert repeats_of([incident(1, first), incident(2, late)]) == {}
    # Another area: only a similar root cause makes it a repeat.
    root = "connection pool exhausted by retries"
    elsewhere = dt.timedelta(days=10)
    moved = incident(2, first + elsewhere, area="storage", root=root)
    assert repeats_of([incident(1, first, root=root), moved]) == {2: 1}
    assert repeats_of([incident(1, first, root="expired certificate at the edge"), moved]) == {}


async def test_csv_export(db: Database) -> None:
    await load_history(db)
    rows = list(csv.DictReader(io.StringIO(to_csv(await _ledger(db)))))
    assert [r["period"] for r in rows] == ["2026-08", "2026-09", "2026-10"]
    september = rows[1]
    assert september["start"] == "2026-09-01" and september["end"] == "2026-09-30"
    assert (september["incidents"], september["severity_sev2"], september["area_network"]) == ("2", "1", "1")
    assert (september["ttd_median_min"], september["ttd_p90_min"], september["ttd_trend_pct"]) == (
        "22.5",
        "40.0",
        "50.0",
    )
    assert (september["repeats"], september["actions_due"], september["closed_on_time"]) == ("2", "2", "0")
    assert (september["on_time_pct"], september["median_days_to_close"], september["overdue_now"]) == (
        "0.0",
        "47.0",
        "1",
    )


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


async def test_ledger_in_chat_with_chart_followup(db: Database, chat: Chat) -> None:
    n = await load_history(db)
    replies = await chat.command("ledger 2026-10 3 csv")
    (reply,) = replies
    assert reply.text.startswith("**Value ledger** — monthly, 2026-08 to 2026-10")
    assert f"Repeats: 2 (#{n['C']} after #{n['A']}, #{n['D']} after #{n['B']})" in reply.text
    assert "Detect 22 min (p90 40 min, n=2, +50% vs previous)" in reply.text
    assert (
        "Actions due 2: 0 closed on time (0%), 1 overdue now · 1 closed, median 47.0 days to close"
        in reply.text
    )
    assert "- **network** (first of 3 action(s) closed 2026-08-25)" in reply.text
    assert reply.attachment is not None and reply.attachment.filename.endswith(".csv")
    assert reply.followup is not None and reply.followup.startswith("ledger-chart:")

    (chart,) = await run_followup(db, reply.followup, now=NOW, platform="console", tenant="T1")
    assert chart.attachment is not None and chart.attachment.mime == "image/png"
    assert chart.attachment.data is not None and chart.attachment.payload == chart.attachment.data
    assert _png_size(chart.attachment.data) == (1200, 800)

    wrong = await chat.command("ledger fortnight")
    assert wrong[0].text.startswith("I don't understand 'fortnight'")


async def test_an_empty_window_points_to_the_history(db: Database, chat: Chat) -> None:
    await load_history(db, records=[{**HISTORY[0], "id": "old"}])
    (reply,) = await chat.command("ledger")
    assert "_No incidents in this window; the latest started in 2026-05: try `ledger 2026-05`._" in reply.text


def test_cli_ledger_writes_csv_chart_and_json(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chart, table = tmp_path / "ledger.png", tmp_path / "ledger.csv"
    args = ["ledger", "quarter", "2026-Q3", "2", "--today", "2026-11-20", "--json"]
    cli_with_history([*args, "--csv", str(table), "--chart", str(chart)], db_url, monkeypatch, tmp_path)
    found = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [p["period"] for p in found["periods"]] == ["2026-Q2", "2026-Q3"]
    assert found["periods"][1]["incidents"] == 4 and found["periods"][1]["repeats"] == 2  # A B C D; E is Q4
    assert found["overdue_now"] == 1
    assert _png_size(chart.read_bytes()) == (1200, 800)
    assert table.read_text().startswith("period,start,end,incidents,")
