"""The ledger's newer figures and terse similar-case search, on hand-built cases with fixed dates.

HISTORY (tests/insight_cases.py), window 2026-08..2026-10, today 2026-11-20:
- change failures: August none (A: expired certificate, B: retry storm); September D (deploy
  area; C's refactor is not a deploy or config change); October E ("DNS zone misconfigured").
- misjudgment cost: August network 35 min (A: 15 + 20); September C's signal has no stated cost.
- before/after in network: pivot 2026-08-25, 1 incident before over 22 days, 2 after over 86:
  not enough data (5 incidents and 90 days a side are needed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.insights.ledger import Ledger, parse_window
from bot.insights.ledger_report import markdown
from bot.insights.reports import build_ledger, build_person_ledger
from bot.insights.similar import find_similar
from bot.messages import ReplyKind
from storage import repo
from storage.db import Database
from tests.conftest import NOW, Chat
from tests.insight_cases import TODAY, action, at, load_history, timeline


async def _ledger(db: Database, window: str = "2026-10 3") -> Ledger:
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="console", external_id="T1")
        assert tenant.id is not None
        return await build_ledger(
            session, tenant_id=tenant.id, window=parse_window(window, today=TODAY), today=TODAY
        )


async def test_change_failures_and_misjudgment_cost(db: Database) -> None:
    n = await load_history(db)
    aug, sep, oct_ = (await _ledger(db)).periods
    assert (aug.change_failures, sep.change_failures, oct_.change_failures) == ((), (n["D"],), (n["E"],))
    assert aug.misjudgment_minutes == {"network": 35.0} and aug.misjudgments_uncosted == 0
    assert sep.misjudgment_minutes == {} and sep.misjudgments_uncosted == 1
    text = markdown(await _ledger(db))
    assert "Change failures: 1 of 2 (50%) set off by a deploy or config change" in text
    assert "Misjudgment cost: 35 min (network 35 min)" in text
    assert "Misjudgment cost: none stated; 1 without a stated cost" in text


async def test_before_after_needs_enough_data_on_both_sides(db: Database) -> None:
    await load_history(db)
    ledger = await _ledger(db)
    (network,) = [b for b in ledger.before_after if b.area == "network"]
    assert (network.before_incidents, network.after_incidents) == (1, 2)
    assert network.before_days == pytest.approx(22.08, abs=0.01)
    assert not network.enough
    assert (
        "- **network** (first of 3 action(s) closed 2026-08-25): not enough data yet — before 1 incident(s) "
        "over 22 days, after 2 over 86 days" in markdown(ledger)
    )


def _storage_case(key: str, day: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": key,
        "title": f"Disk pressure {key}",
        "area": "storage",
        "services": [f"db-{key}"],
        "timeline": timeline(at(day), 10, 60, 120),
        "root_cause": f"Volume {key} filled up",
        **extra,
    }


async def test_before_after_with_enough_data(db: Database) -> None:
    before = [_storage_case(f"b{i}", f"2026-0{i}-05") for i in range(1, 6)]
    before[-1]["actions"] = [
        action(
            "Alert at 80% disk", created="2026-05-06", due="2026-06-15", status="done", closed="2026-06-01"
        )
    ]
    after = [_storage_case(f"a{i}", f"2026-{i:02d}-10") for i in range(6, 11)]
    await load_history(db, records=before + after)
    (storage,) = (await _ledger(db)).before_after
    # 2026-01-05 10:00 -> 2026-06-01 12:00 is 147.08 days; 2026-06-01 12:00 -> 2026-11-20 is 171.5.
    assert storage.enough
    assert (storage.before_incidents, storage.after_incidents) == (5, 5)
    assert storage.before_per_30_days == pytest.approx(5 / 147.0833 * 30, rel=1e-4)
    assert storage.after_per_30_days == pytest.approx(5 / 171.5 * 30, rel=1e-4)
    assert "incidents per 30 days 1.02 → 0.87 (5 → 5)" in markdown(await _ledger(db))


async def test_on_call_burden(db: Database) -> None:
    start = at("2026-10-01")
    records: list[dict[str, Any]] = [
        {  # 2 responders x (130 - 10) min = 4.0 responder-hours
            "id": "X",
            "title": "Queue backlog",
            "area": "capacity",
            "timeline": timeline(start, 10, 60, 130),
            "diagnostic_path": [
                {"text": "Checked queue depth", "by": "dana"},
                {"text": "Found it", "by": "lee"},
            ],
        },
        {  # 1 responder x 60 min = 1.0
            "id": "Y",
            "title": "Cron missed",
            "area": "code",
            "timeline": timeline(start + dt.timedelta(days=3), 0, 30, 60),
            "diagnostic_path": [{"text": "Read the cron logs", "by": "dana"}],
        },
        {"id": "Z", "title": "Unknown blip", "area": "code", "timeline": {"started": start.isoformat()}},
    ]
    await load_history(db, records=records)
    (october,) = (await _ledger(db, "2026-10 1")).periods
    burden = october.burden
    assert burden is not None
    assert (burden.mean_hours, burden.p90_hours, burden.total_hours) == (2.5, 4.0, 5.0)
    assert (burden.incidents, burden.unknown) == (2, 1)
    assert (
        "On-call burden: 2.5 responder-hours per incident (p90 4.0, total 5.0, n=2; 1 without responders "
        "or times)" in markdown(await _ledger(db, "2026-10 1"))
    )


TERSE_CASES: list[dict[str, Any]] = [
    {
        "id": "aad-tokyo",
        "title": "Sign-in failures for Azure AD users",
        "area": "security",
        "services": ["Azure Active Directory"],
        "timeline": timeline(at("2026-03-02"), 5, 40, 60),
        "symptoms": ["Users in Japan East could not sign in", "HTTP 401 from the token endpoint"],
        "root_cause": "Expired signing key on the token service",
    },
    {
        "id": "gke-lb",
        "title": "Google Kubernetes Engine workloads stuck",
        "area": "compute",
        "services": ["google kubernetes engine"],
        "timeline": timeline(at("2026-04-02"), 5, 40, 60),
        "symptoms": ["Pods pending for 20 minutes", "Could not create external load balancers"],
        "root_cause": "Quota exhausted on forwarding rules",
    },
    {
        "id": "tokyo-net",
        "title": "Packet loss in asia-northeast1",
        "area": "network",
        "timeline": timeline(at("2026-05-02"), 5, 40, 60),
        "symptoms": ["Packet loss between zones", "Elevated latency"],
        "root_cause": "Faulty line card on a core router",
    },
    {
        "id": "checkout",
        "title": "Checkout errors after a deploy",
        "area": "deploy",
        "timeline": timeline(at("2026-06-02"), 5, 40, 60),
        "symptoms": ["Checkout failing for users", "Errors in the payment service"],
        "root_cause": "Bad feature flag default",
    },
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("aad auth failing in asia", ["aad-tokyo"]),
        ("gke pods pending, no external lb", ["gke-lb"]),
        ("pkt loss tokyo", ["tokyo-net"]),
        ("printer out of toner", []),
        ("failing", ["checkout", "aad-tokyo"]),  # one generic idea: whatever says it, nothing else
    ],
)
async def test_terse_queries(db: Database, query: str, expected: list[str]) -> None:
    numbers = await load_history(db, records=TERSE_CASES)
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="console", external_id="T1")
        assert tenant.id is not None
        found = await find_similar(session, tenant_id=tenant.id, text=query)
    by_number = {v: k for k, v in numbers.items()}
    got = [by_number[f.number] for f in found]
    assert got == expected
    if query.startswith(("aad", "gke", "pkt")):
        assert len(got) == 1  # the floor: the other cases share at most one idea


async def test_a_persons_ledger(db: Database, chat: Chat) -> None:
    """U_OPS owns every HISTORY action: A.1 on time, A.2 late, B.1 overdue, C.1 cancelled,
    D.1 not due yet, E.1 on time; network's first closure (A.1, 08-25) has 1 incident before it."""
    await load_history(db)
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="console", external_id="T1")
        assert tenant.id is not None
        found = await build_person_ledger(session, tenant_id=tenant.id, who="u_ops", today=TODAY)
        nobody = await build_person_ledger(session, tenant_id=tenant.id, who="nobody", today=TODAY)
    assert nobody is None
    assert found is not None
    assert (found.actions, found.due, found.on_time, found.overdue) == (5, 4, 2, 1)
    assert found.cases_led == () and found.steps == 0
    (network,) = found.areas
    assert (network.area, network.pivot, network.before, network.after) == (
        "network",
        dt.date(2026, 8, 25),
        1,
        2,
    )
    assert not network.enough

    (reply,) = await chat.command("ledger <@U_OPS|ops>")
    assert reply.text.startswith("**u_ops's ledger** (as of ")
    assert "- Prevention actions: 5 owned, 4 due so far, 2 closed on time (50%), 1 overdue" in reply.text
    assert "**network** after their first closure (2026-08-25): not enough data yet" in reply.text
    (refused,) = await chat.command("ledger <@U_NOBODY|zed>")
    assert refused.kind == ReplyKind.ERROR and "@zed has no cases" in refused.text
