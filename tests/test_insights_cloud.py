"""The cloud post-mortem converter: on hand-written records, and on the corpus when present."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from adapters.console.insights import candidates_from, read_documents
from bot.insights import cloud
from bot.insights.importer import import_cases, validate
from bot.insights.meaning import detection_method, is_detection_text
from bot.insights.records import CaseRecord
from storage import repo
from storage.db import Database
from storage.history import published_cases
from storage.search import similar_cases
from tests.conftest import NOW

RECORD: dict[str, Any] = {
    "title": "RCA - Azure CDN - Connectivity Issues",
    "link": ["https://example.org/rca.pdf"],
    "time": "08/08/2019",
    "summary": "Summary of impact: Between 14:05 and 19:00 UTC on 08 Aug 2019, customers using Akamai CDN "
    "may have experienced HTTP 504 (Gateway Timeout) errors.",
    "details": "Root cause: a network update ...",
    "service name": ["Azure CDN", "Azure CDN"],
    "impact symptom": ["availability"],
    "duration": 295,
    "detection": {"method": "automate", "tool": ["monitoring"]},
    "manifestation": [{"service unavailable": ["HTTP 504 (Gateway Timeout) errors"]}, "connectivity"],
    "root cause": {
        "label": [{"layer-1": "internal causes", "layer-2": "software bugs", "layer-3": "config"}],
        "details": "A network filtering policy on a redundant peering device was improperly configured.",
    },
    "operation": ["network update"],
    "human error": False,
    "reproduction": {"label": False, "details": ""},
    "mitigation": {
        "label": ["rolled back the updates"],
        "details": "Engineers rolled back the updates.",
        "troubleshooting": {"2": "identify root cause", "1": "roll back the updates", "10": "update policy"},
    },
    "propagation pass": {"1": "peering device", "2": "Azure CDN"},
    "refined path": {"1": "router"},
    "detection time": 12,
    "fix time": None,
    "identification time": None,
    "verificatio": "lixy",
}


def test_a_record_maps_onto_the_clinical_case() -> None:
    converted = cloud.convert("azure-20190808-1", RECORD, provider="azure")
    record = CaseRecord.model_validate(converted)
    assert record.key == "cloud:azure-20190808-1"
    assert record.title == "RCA - Azure CDN - Connectivity Issues"
    assert record.services == ["Azure CDN"]
    assert record.area == "deploy"  # a config fault
    started = record.timeline.utc("started")
    assert started is not None and started.isoformat() == "2019-08-08T14:05:00+00:00"
    assert record.timeline.utc("detected").isoformat() == "2019-08-08T14:17:00+00:00"  # type: ignore[union-attr]
    assert record.timeline.utc("mitigated").isoformat() == "2019-08-08T19:00:00+00:00"  # type: ignore[union-attr]
    assert record.symptoms == [
        "Between 14:05 and 19:00 UTC on 08 Aug 2019, customers using Akamai CDN may have experienced "
        "HTTP 504 (Gateway Timeout) errors.",
        "HTTP 504 (Gateway Timeout) errors",
        "connectivity",
    ]  # how it was noticed is the detection dimension, not a symptom
    assert record.extra["detection"] == {
        "method": "automate",
        "tool": ["monitoring"],
    }  # as the source spells it
    assert [s.text for s in record.diagnostic_path] == [
        "roll back the updates",
        "identify root cause",
        "update policy",
    ]
    assert (
        record.root_cause
        == "A network filtering policy on a redundant peering device was improperly configured."
    )
    assert record.contributing_factors == ["Triggering operation: network update"]
    extra = record.extra
    assert extra["root_cause_labels"] == ["internal causes / software bugs / config"]
    assert extra["verification"] == "lixy"  # the `verificatio` typo, normalised
    assert extra["propagation_pass"] == {"1": "peering device", "2": "Azure CDN"}
    assert extra["minutes"] == {"duration": 295, "detection": 12, "identification": None, "fix": None}
    assert extra["link"] == ["https://example.org/rca.pdf"]


def test_zones_dates_and_missing_parts() -> None:
    google = {
        **RECORD,
        "time": "10/31/2019",  # the report's date; the summary's own date wins
        "summary": "On Saturday 31 October 2015, GCE operations saw high latency.",
        "details": "The issue began at 6:04 PM PDT and lasted 181 minutes.",
        "duration": 181,
        "fix time": 200,
        "detection time": None,
    }
    record = CaseRecord.model_validate(cloud.convert("g-1", google, provider="google"))
    assert record.timeline.utc("started").isoformat() == "2015-11-01T01:04:00+00:00"  # type: ignore[union-attr]
    assert record.timeline.utc("resolved").isoformat() == "2015-11-01T04:24:00+00:00"  # type: ignore[union-attr]
    assert record.timeline.detected is None

    bare: dict[str, Any] = {
        "title": "Unknown",
        "time": "1/2/2020",
        "summary": "",
        "root cause": {"layer-1": "unknown"},
        "mitigation": None,
        "manifestation": [],
        "detection": {"method": None, "tool": None},
    }
    record = CaseRecord.model_validate(cloud.convert("u-1", bare, provider="aws"))
    assert record.timeline.utc("started").isoformat() == "2020-01-02T00:00:00+00:00"  # type: ignore[union-attr]
    assert (record.root_cause, record.area, record.symptoms, record.diagnostic_path) == (
        None,
        "other",
        [],
        [],
    )
    assert record.extra["timeline_basis"] == "date only (00:00 UTC)"


def test_a_later_report_supersedes_an_earlier_one() -> None:
    found, notes = cloud.candidates(
        [("a.json", {"inc-1": RECORD}), ("b.json", {"inc-1": {**RECORD, "title": "Final"}})]
    )
    assert [c.data["title"] for c in found] == ["Final"]
    assert notes == ["inc-1: the report in b.json supersedes the one in a.json"]


@pytest.mark.corpus
def test_the_whole_corpus_converts(corpus_dir: Path) -> None:
    documents = read_documents(corpus_dir / "cloud-postmortems")
    found, notes = candidates_from(documents, "auto")
    valid, problems = validate(found)
    assert problems == []
    assert len(valid) == 355 and len(documents) == 35
    assert any("supersedes" in n for n in notes)
    areas = {record.area for _, record in valid}
    assert {"network", "deploy", "capacity", "code", "dependency"} <= areas
    assert sum(bool(r.timeline.started) for _, r in valid) == 355
    assert all(r.symptoms for _, r in valid)


@pytest.mark.corpus
async def test_corpus_import_is_idempotent_and_searchable(db: Database, corpus_dir: Path) -> None:
    found, _ = candidates_from(read_documents(corpus_dir / "cloud-postmortems"), "auto")
    first = await import_cases(db, found, platform="console", tenant="corpus", now=NOW)
    assert len(first.created) == 355 and not first.problems
    second = await import_cases(db, found, platform="console", tenant="corpus", now=NOW)
    assert len(second.unchanged) == 355 and not second.created and not second.updated
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="console", external_id="corpus")
        assert tenant.id is not None
        cases = await published_cases(session, tenant_id=tenant.id)
        matches = await similar_cases(
            session, tenant_id=tenant.id, query="gateway timeouts 504 from the Akamai CDN to storage origins"
        )
    assert len(cases) == 355 and {c.source for c in cases} == {"import"}
    # How each incident was noticed is its own dimension: no imported case holds it as a symptom.
    assert not [
        s for c in cases for s in c.symptoms or () if is_detection_text(s) or "detected by" in s.lower()
    ]
    # 137 records said how they were noticed; the methods read from extra["detection"] alone are
    # those the sentences gave when they were still symptoms.
    methods = Counter(detection_method(c) for c in cases)
    assert methods == {"not recorded": 201, "alert": 142, "oncall": 7, "dashboard": 4, "customer": 1}
    assert matches[0].case.extra["incident_id"] == "azure-20190808-1"
    assert json.dumps(cases[0].extra)  # the rest of each record is kept, as JSON
