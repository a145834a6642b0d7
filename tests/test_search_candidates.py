"""Similar-case search at scale: the rare words choose the candidates, all the words rank them."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.insights.similar import case_text
from storage import search
from storage.db import Database
from storage.models import Case, CaseStatus, Tenant
from tests.conftest import NOW


def test_the_rarest_words_choose_while_they_match_few_cases() -> None:
    counts = {"service": 9000, "rate": 4000, "kafka": 30, "lag": 400, "broker": 700, "zebra": 2}
    # Always the three rarest; then those within the budget of rows or the common share.
    assert search.selective(counts, total=5_000) == ["kafka", "lag", "zebra"]  # broker: 14% of cases
    assert search.selective(counts, total=20_000) == ["kafka", "lag", "broker", "zebra"]  # 3.5%
    # A small tenant's query is ranked whole: its cases together are within the budget.
    assert search.selective({"a": 3, "b": 5, "c": 6, "d": 6}, total=10) == ["a", "b", "c", "d"]


async def _library(db: Database) -> int:
    """20 cases that all say 'service errors'; 1-3 also 'kafka lag', 1-6 'broker', 4 'kafka'."""
    async with db.transaction() as session:
        tenant = Tenant(platform="console", external_id="T-scale", created_at=NOW)
        session.add(tenant)
        await session.flush()
        assert tenant.id is not None
        for number in range(1, 21):
            words = ["service errors", "errors again" * (number % 3)]
            words += ["kafka consumer lag"] if number <= 3 else ["kafka"] if number == 4 else []
            words += ["broker restarted"] if number <= 6 else []
            session.add(
                Case(
                    tenant_id=tenant.id,
                    number=number,
                    title=f"Incident {number}",
                    symptoms=words,
                    status=CaseStatus.PUBLISHED,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        return tenant.id


async def _ranked(db: Database, tenant_id: int, query: str, limit: int) -> list[tuple[int, float]]:
    async with db.transaction() as session:
        return await search.ranked_case_ids(session, tenant_id=tenant_id, query=query, limit=limit)


async def test_the_candidates_rank_exactly_as_the_whole_query(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id = await _library(db)
    query = "service errors kafka lag broker"
    whole = await _ranked(db, tenant_id, query, limit=10)  # 20 cases: within the budget, one OR
    assert len(whole) == 10

    monkeypatch.setattr(search, "RANK_BUDGET", 0)
    monkeypatch.setattr(search, "SQLITE_COMMON_SHARE", 0.0)
    monkeypatch.setattr(search, "PG_RANK_BUDGET", 0)
    split = await _ranked(db, tenant_id, query, limit=10)  # lag, kafka, broker choose: cases 1-6
    assert sorted(case_id for case_id, _ in split) == sorted(case_id for case_id, _ in whole[:6])
    assert [c for c, _ in split] == [c for c, _ in whole[:6]]
    assert [s for _, s in split] == pytest.approx([s for _, s in whole[:6]])  # scored by every word


async def test_a_word_no_case_holds_takes_no_rare_words_place(db: Database) -> None:
    tenant_id = await _library(db)
    found = await _ranked(db, tenant_id, "zebra quagga okapi broker", limit=10)
    assert len(found) == 6  # broker's cases, though three absent words are "rarer"
    assert await _ranked(db, tenant_id, "zebra quagga", limit=10) == []


async def test_tenant_and_status_come_from_the_covering_index(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL keeps tenant and status in case_search itself")
    async with db.transaction() as session:
        connection = await session.connection()
        plan = await connection.execute(
            text("EXPLAIN QUERY PLAN " + str(search._SQLITE_QUERY)),
            {"query": '"kafka"', "tenant_id": 1, "status": "published", "exclude": -1, "limit": 3},
        )
        details = " ".join(str(row[-1]) for row in plan)
    assert "COVERING INDEX case_search_scope" in details


def test_the_floor_reads_an_edited_case_anew() -> None:
    case = Case(
        tenant_id=1,
        number=1,
        title="Checkout down",
        symptoms=["kafka consumer lag"],
        created_at=NOW,
        updated_at=NOW,
    )
    assert "kafka" in case_text(case).present
    case.symptoms = ["certificate expired"]
    after = case_text(case).present
    assert "kafka" not in after and "certif" in after
