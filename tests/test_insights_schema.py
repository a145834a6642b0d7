"""Migration 0006_insights: models and migrations agree, and the search index follows the cases."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel, select

import storage.models  # noqa: F401  (the tables)
from storage.db import Database, alembic_config, migrate, sync_url
from storage.migrations_filter import include_object
from storage.models import Case, CaseStatus, Tenant
from storage.search import similar_cases
from tests.conftest import NOW


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_search_triggers_exist_at_head(db_url: str) -> None:
    """A later migration that recreates `cases` (SQLite batch mode) would drop them: this says so."""
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                names = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
                expected = {
                    "case_search_after_insert",
                    "case_search_after_update",
                    "case_search_after_delete",
                }
            else:
                names = connection.execute(
                    text(
                        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'cases'::regclass AND NOT tgisinternal"
                    )
                )
                expected = {"case_search_refresh"}
            assert expected <= {row[0] for row in names}
    finally:
        engine.dispose()


def test_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cycle.db'}"
    migrate(url)
    command.downgrade(alembic_config(url), "0001_core")
    engine = create_engine(url)
    with engine.connect() as connection:
        tables = {r[0] for r in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    engine.dispose()
    assert not {t for t in tables if t.startswith(("case_search", "case_imports"))}
    migrate(url)


async def _case(db: Database, **values: object) -> int:
    async with db.transaction() as session:
        tenant = Tenant(platform="console", external_id="T-index", created_at=NOW)
        session.add(tenant)
        await session.flush()
        assert tenant.id is not None
        case = Case(
            tenant_id=tenant.id,
            number=1,
            status=CaseStatus.PUBLISHED,
            created_at=NOW,
            updated_at=NOW,
            **values,  # type: ignore[arg-type]
        )
        session.add(case)
        await session.flush()
        assert case.id is not None
        return tenant.id


async def _numbers(db: Database, tenant_id: int, query: str) -> list[int]:
    async with db.transaction() as session:
        return [m.case.number for m in await similar_cases(session, tenant_id=tenant_id, query=query)]


async def test_index_follows_inserts_updates_status_and_deletes(db: Database) -> None:
    tenant_id = await _case(db, title="Checkout down", symptoms=["kafka consumer lag"], services=["orders"])
    assert await _numbers(db, tenant_id, "consumer lag growing") == [1]

    async with db.transaction() as session:
        case = (await session.exec(select(Case).where(Case.tenant_id == tenant_id))).one()
        case.symptoms = ["certificate expired at the edge"]
        session.add(case)
    assert await _numbers(db, tenant_id, "consumer lag") == []
    assert await _numbers(db, tenant_id, "expired certificates") == [1]  # stemmed

    async with db.transaction() as session:
        case = (await session.exec(select(Case).where(Case.tenant_id == tenant_id))).one()
        case.status = CaseStatus.CANCELLED
        session.add(case)
    assert await _numbers(db, tenant_id, "expired certificate") == []

    async with db.transaction() as session:
        case = (await session.exec(select(Case).where(Case.tenant_id == tenant_id))).one()
        case.status = CaseStatus.PUBLISHED
        session.add(case)
    assert await _numbers(db, tenant_id, "expired certificate") == [1]

    async with db.transaction() as session:
        case = (await session.exec(select(Case).where(Case.tenant_id == tenant_id))).one()
        await session.delete(case)
    async with db.transaction() as session:
        remaining = await session.connection()
        rows = (await remaining.execute(text("SELECT count(*) FROM case_search"))).scalar()
    assert rows == 0


async def test_query_words_that_look_like_search_syntax_are_harmless(db: Database) -> None:
    tenant_id = await _case(db, title="x", symptoms=['OR NOT error 503 "quoted" (paren) col:on -minus * AND'])
    for query in ['"', "OR", "error 503) OR (", "col:on * NEAR(a b)", "'; DROP TABLE cases; --", "!!!"]:
        await _numbers(db, tenant_id, query)  # no syntax error, whatever the text
    assert await _numbers(db, tenant_id, "error 503 (paren)") == [1]
