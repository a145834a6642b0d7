"""A constructed history whose map and ledger figures are worked out by hand (see the tests).

All times UTC. Today is 2026-11-20 (tests.conftest.NOW). Minutes from start to detection,
mitigation and resolution are given per case; actions carry their creation and closure.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.cli import main
from bot.insights.importer import Candidate, ImportReport, import_cases
from storage.db import Database

TODAY = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)  # when these imports run


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def timeline(start: dt.datetime, detect: int, mitigate: int, resolve: int) -> dict[str, str]:
    return {
        "started": start.isoformat(),
        "detected": (start + dt.timedelta(minutes=detect)).isoformat(),
        "mitigated": (start + dt.timedelta(minutes=mitigate)).isoformat(),
        "resolved": (start + dt.timedelta(minutes=resolve)).isoformat(),
    }


def action(
    description: str,
    *,
    created: str,
    due: str,
    status: str = "open",
    closed: str | None = None,
    owner: str = "U_OPS",
) -> dict[str, Any]:
    return {
        "description": description,
        "owner": {"user_id": owner, "name": owner.lower()},
        "due": due,
        "kind": "prevent",
        "status": status,
        "created": at(created, 12).isoformat(),
        "closed_at": at(closed, 12).isoformat() if closed else None,
    }


HISTORY: list[dict[str, Any]] = [
    {
        "id": "F",
        "title": "Replica lag on postgres-main",
        "severity": "SEV3",
        "area": "storage",
        "services": ["postgres-main"],
        "timeline": timeline(at("2026-05-01"), 30, 60, 90),
        "symptoms": ["Stale reads on the orders page"],
        "diagnostic_path": ["Checked replication lag graphs"],
        "root_cause": "Long analytics transaction held back vacuum on the primary",
    },
    {
        "id": "A",
        "title": "Checkout 502s: expired certificate at the edge",
        "severity": "SEV2",
        "area": "network",
        "services": ["edge-lb"],
        "timeline": timeline(at("2026-08-03"), 10, 60, 120),
        "symptoms": ["TLS handshake errors at the edge", "502s from checkout"],
        "misjudgments": [
            {"kind": "signal", "text": "CPU alarm on the LB", "cost": "15 min"},
            {"kind": "hypothesis", "text": "Suspected the CDN", "cost": "20 min"},
        ],
        "diagnostic_path": [
            "Checked the edge error dashboard",
            "openssl s_client showed the expired certificate",
        ],
        "root_cause": "Expired TLS certificate on the edge load balancer",
        "actions": [
            action(
                "Alert 14 days before certificate expiry",
                created="2026-08-04",
                due="2026-08-31",
                status="done",
                closed="2026-08-25",
            ),
            action(
                "Automate certificate renewal",
                created="2026-08-04",
                due="2026-09-15",
                status="done",
                closed="2026-09-20",
            ),
        ],
    },
    {
        "id": "B",
        "title": "Orders API down: connection pool exhausted",
        "severity": "SEV1",
        "area": "storage",
        "services": ["postgres-main"],
        "timeline": timeline(at("2026-08-20"), 20, 90, 240),
        "symptoms": ["Orders API timeouts", "Pool wait time alerts"],
        "diagnostic_path": ["Checked pool metrics", "Found retries multiplying connections"],
        "root_cause": "Connection pool exhausted by a retry storm",
        "actions": [action("Cap client retries with jitter", created="2026-08-21", due="2026-09-30")],
    },
    {
        "id": "C",
        "title": "Checkout 502s again: origin pool empty",
        "severity": "SEV2",
        "area": "network",
        "services": ["edge-lb", "cdn"],
        "timeline": timeline(at("2026-09-05"), 5, 30, 60),
        "symptoms": ["502s from checkout", "Latency alerts on the CDN"],
        "misjudgments": [{"kind": "signal", "text": "CPU alarm on the LB"}],
        "diagnostic_path": [
            "Checked the edge error dashboard",
            "Traced a request through the CDN",
            "LB logs showed the origin pool empty",
        ],
        "root_cause": "Health check path removed from the origin during a refactor",
        "actions": [
            action(
                "Contract test for the health check path",
                created="2026-09-06",
                due="2026-10-15",
                status="cancelled",
                closed="2026-09-10",
            ),
        ],
    },
    {
        "id": "D",
        "title": "Checkout slow after deploy",
        "severity": "SEV3",
        "area": "deploy",
        "services": ["checkout"],
        "timeline": timeline(at("2026-09-25"), 40, 100, 300),
        "symptoms": ["Checkout p99 latency over 4 s"],
        "diagnostic_path": ["Compared deploy markers with latency"],
        "root_cause": "Connection pool exhausted by a retry storm after a deploy",
        "actions": [action("Canary stage for checkout deploys", created="2026-09-26", due="2026-12-01")],
    },
    {
        "id": "E",
        "title": "API unreachable: DNS",
        "severity": "SEV2",
        "area": "network",
        "services": ["dns"],
        "timeline": timeline(at("2026-10-10"), 15, 45, 90),
        "symptoms": ["NXDOMAIN for api.example.com"],
        "diagnostic_path": ["dig against the authoritative servers"],
        "root_cause": "DNS zone misconfigured",
        "actions": [
            action(
                "Lint DNS zone changes in CI",
                created="2026-10-11",
                due="2026-10-31",
                status="done",
                closed="2026-10-30",
            ),
        ],
    },
]


async def load_history(
    db: Database,
    *,
    platform: str = "console",
    tenant: str = "T1",
    records: list[dict[str, Any]] | None = None,
) -> dict[str, int]:
    """Import the history; returns {record id: case number}."""
    report = await import_records(
        db, records if records is not None else HISTORY, platform=platform, tenant=tenant
    )
    assert not report.problems, report.summary()
    return dict(report.created)


async def import_records(
    db: Database, records: list[Any], *, platform: str = "console", tenant: str = "T1", **options: Any
) -> ImportReport:
    candidates = [Candidate(f"record {i}", r) for i, r in enumerate(records, start=1)]
    return await import_cases(db, candidates, platform=platform, tenant=tenant, now=NOW, **options)


def run_cli(args: list[str], db_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """`casebook ARGS` against the test database; its exit status."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    with pytest.raises(SystemExit) as stopped:
        main(args)
    return int(stopped.value.code or 0)


def cli_with_history(args: list[str], db_url: str, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Import HISTORY with `casebook import` (one line of output), then run `casebook ARGS`."""
    history = folder / "history.json"
    history.write_text(json.dumps(HISTORY))
    assert run_cli(["import", str(history)], db_url, monkeypatch) == 0
    assert run_cli(args, db_url, monkeypatch) == 0
