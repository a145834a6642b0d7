"""The word counts that let the rarest words choose the candidates stay exact as cases change.

PostgreSQL keeps them in `case_search_words` (0021_words: triggers on case_search note each
change, its commit adds them up), per tenant and for published cases only; SQLite reads them
from its FTS5 index, which has every tenant's cases, drafts included. Each test keeps its own
account of the cases and checks the database's counts against it after every kind of write.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import select

from storage import search
from storage.db import Database, alembic_config, connect, migrate
from storage.models import Case, CaseStatus, Tenant
from tests.conftest import NOW

TERMS = ("kafka", "lag", "broker", "zebra")  # words the stemmers of both databases keep as they are
QUERY = " ".join(TERMS)


@dataclass
class Kept:
    """Our own account of one case: what the counts must follow."""

    tenant_id: int
    status: CaseStatus
    words: set[str]


async def _tenant(db: Database, name: str) -> int:
    async with db.transaction() as session:
        tenant = Tenant(platform="console", external_id=name, created_at=NOW)
        session.add(tenant)
        await session.flush()
        assert tenant.id is not None
        return tenant.id


def _case(tenant_id: int, number: int, symptoms: str, status: CaseStatus = CaseStatus.PUBLISHED) -> Case:
    return Case(
        tenant_id=tenant_id,
        number=number,
        title=f"Incident {number}",
        symptoms=[symptoms],
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )


def _expected(db: Database, kept: dict[int, Kept], tenant_id: int) -> tuple[int, dict[str, int]]:
    counted = [
        k.words
        for k in kept.values()
        if db.dialect == "sqlite" or (k.tenant_id == tenant_id and k.status == CaseStatus.PUBLISHED)
    ]
    return len(counted), {term: sum(term in words for words in counted) for term in TERMS}


async def _counts(db: Database, tenant_id: int) -> tuple[int, dict[str, int]]:
    async with db.transaction() as session:
        return await search.document_counts(session, tenant_id=tenant_id, query=QUERY)


async def _recounted(db: Database) -> None:
    """PostgreSQL: the kept table is exactly what counting every document again gives."""
    if db.dialect != "postgresql":
        return
    async with db.engine.connect() as connection:
        kept = set(
            (await connection.execute(text("SELECT tenant_id, lexeme, cases FROM case_search_words"))).all()
        )
        recount = set(
            (
                await connection.execute(
                    text(
                        "SELECT tenant_id, lexeme, count(*) FROM ("
                        " SELECT tenant_id, unnest(tsvector_to_array(document))"
                        " FROM case_search WHERE published"
                        " UNION ALL SELECT tenant_id, '' FROM case_search WHERE published"
                        ") AS held (tenant_id, lexeme) GROUP BY tenant_id, lexeme"
                    )
                )
            ).all()
        )
    # A tenant whose last published case went keeps its '' row, at 0; no word keeps a 0.
    assert kept - recount == {row for row in kept if row[1] == "" and row[2] == 0}
    assert recount <= kept


async def _edit(db: Database, case_id: int, **values: object) -> None:
    async with db.transaction() as session:
        case = (await session.exec(select(Case).where(Case.id == case_id))).one()
        for key, value in values.items():
            setattr(case, key, value)
        session.add(case)


async def test_counts_follow_inserts_updates_status_moves_and_deletes(db: Database) -> None:
    first, second = await _tenant(db, "T-words-1"), await _tenant(db, "T-words-2")
    kept: dict[int, Kept] = {}
    async with db.transaction() as session:
        cases = [
            (_case(first, 1, "kafka consumer lag"), {"kafka", "lag"}),
            (_case(first, 2, "kafka broker down"), {"kafka", "broker"}),
            (_case(first, 3, "kafka lag again", CaseStatus.INTERVIEWING), {"kafka", "lag"}),
            (_case(second, 1, "kafka lag elsewhere"), {"kafka", "lag"}),
        ]
        session.add_all(case for case, _ in cases)  # one flush, one multi-row insert
        await session.flush()
        for case, words in cases:
            assert case.id is not None
            kept[case.id] = Kept(case.tenant_id, CaseStatus(case.status), words)
    ids = list(kept)

    async def check() -> None:
        assert await _counts(db, first) == _expected(db, kept, first)
        assert await _counts(db, second) == _expected(db, kept, second)
        await _recounted(db)

    await check()
    await _edit(db, ids[1], symptoms=["certificate expired"])  # text changes
    kept[ids[1]].words = set()
    await check()
    await _edit(db, ids[1], title="Certificate expired, broker zebra")  # the title is indexed too
    kept[ids[1]].words = {"broker", "zebra"}
    await check()
    await _edit(db, ids[2], status=CaseStatus.PUBLISHED)  # a draft published
    kept[ids[2]].status = CaseStatus.PUBLISHED
    await check()
    await _edit(db, ids[0], status=CaseStatus.CANCELLED)  # a published case withdrawn
    kept[ids[0]].status = CaseStatus.CANCELLED
    await check()
    await _edit(db, ids[3], tenant_id=first, number=9)  # moved to another tenant
    kept[ids[3]].tenant_id = first
    await check()
    async with db.transaction() as session:
        for case_id in ids[2:]:
            await session.delete((await session.exec(select(Case).where(Case.id == case_id))).one())
            del kept[case_id]
    await check()


async def test_the_rarest_words_choose_by_the_counts(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """20 cases say 'kafka', 2 'zebra': with no budget, only the three rarest words choose, so a
    case with none of them is no candidate however many common words it shares."""
    tenant_id = await _tenant(db, "T-words-rank")
    async with db.transaction() as session:
        for number in range(1, 21):
            extra = " zebra broker lag" if number <= 2 else " broker lag" if number <= 5 else ""
            session.add(_case(tenant_id, number, "kafka consumer" + extra))
    monkeypatch.setattr(search, "RANK_BUDGET", 0)
    monkeypatch.setattr(search, "SQLITE_COMMON_SHARE", 0.0)
    monkeypatch.setattr(search, "PG_RANK_BUDGET", 0)
    async with db.transaction() as session:
        found = await search.ranked_case_ids(
            session, tenant_id=tenant_id, query="kafka consumer zebra", limit=30
        )
    assert len(found) == 20  # kafka and consumer are among the three: every case
    async with db.transaction() as session:
        found = await search.ranked_case_ids(
            session, tenant_id=tenant_id, query=QUERY + " consumer", limit=30
        )
    assert len(found) == 5  # zebra, broker, lag choose; kafka and consumer only rank


def _pg_only(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite counts from its FTS5 index: there is no table to keep")


async def test_two_writers_of_one_tenant_never_wait_for_each_other(db: Database) -> None:
    """The first writes a case with 'mmm' and stays open; the second writes one with 'aaa mmm' and
    commits; the first then writes one with 'aaa'. Counted as each case was written, the second
    would wait for the first's lock on 'mmm', and the first for the second's on 'aaa': a
    deadlock. Counted at commit, neither waits, and both commits add up."""
    _pg_only(db)
    tenant_id = await _tenant(db, "T-words-locks")
    first_wrote, second_done = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with db.transaction() as session:
            session.add(_case(tenant_id, 1, "mmm"))
            await session.flush()
            first_wrote.set()
            await second_done.wait()
            session.add(_case(tenant_id, 3, "aaa"))
            await session.flush()

    async def second() -> None:
        await first_wrote.wait()
        async with db.transaction() as session:
            session.add(_case(tenant_id, 2, "aaa mmm"))
            await session.flush()
        second_done.set()

    await asyncio.wait_for(asyncio.gather(first(), second()), timeout=10)
    async with db.transaction() as session:
        counts = await search.document_counts(session, tenant_id=tenant_id, query="aaa mmm")
    assert counts == (3, {"aaa": 2, "mmm": 2})
    await _recounted(db)


async def test_notes_do_not_outlive_their_commit(db: Database) -> None:
    _pg_only(db)
    tenant_id = await _tenant(db, "T-words-notes")
    async with db.transaction() as session:
        session.add_all([_case(tenant_id, 1, "kafka lag"), _case(tenant_id, 2, "kafka broker")])
        await session.flush()
        connection = await session.connection()
        noted = (
            await connection.execute(text("SELECT count(*) FROM case_search_words_pending"))
        ).scalar_one()
        assert noted == 2  # one per published document written, counted at commit
    async with db.engine.connect() as connection:
        for table in ("case_search_words_pending", "case_search_words_due"):
            assert (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() == 0
    assert await _counts(db, tenant_id) == (2, {"kafka": 2, "lag": 1, "broker": 1, "zebra": 0})


def test_the_migration_counts_the_cases_already_there(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite counts from its FTS5 index: there is no table to fill")

    async def fill() -> int:
        db = connect(db_url)
        try:
            tenant_id = await _tenant(db, "T-words-fill")
            async with db.transaction() as session:
                session.add_all([_case(tenant_id, 1, "kafka lag"), _case(tenant_id, 2, "kafka broker")])
            return tenant_id
        finally:
            await db.dispose()

    async def check(tenant_id: int) -> None:
        db = connect(db_url)
        try:
            assert await _counts(db, tenant_id) == (2, {"kafka": 2, "lag": 1, "broker": 1, "zebra": 0})
            await _recounted(db)
        finally:
            await db.dispose()

    tenant_id = asyncio.run(fill())
    command.downgrade(alembic_config(db_url), "0020_similar")
    migrate(db_url)
    asyncio.run(check(tenant_id))


async def test_the_index_takes_new_entries_at_once(db: Database) -> None:
    """No pending list: a search never scans the entries buffered since the last vacuum."""
    _pg_only(db)
    async with db.engine.connect() as connection:
        options = (
            await connection.execute(
                text("SELECT reloptions FROM pg_class WHERE relname = 'case_search_document_gin'")
            )
        ).scalar_one()
    assert "fastupdate=off" in options


async def test_odd_lexemes_are_quoted_not_parsed(db: Database) -> None:
    _pg_only(db)
    async with db.engine.connect() as connection:
        for lexeme in ("o'brien", "back\\slash", "a:b", "x|y", "!", "ends\\"):
            matches = text("SELECT array_to_tsvector(CAST(:held AS text[])) @@ CAST(:query AS tsquery)")
            query = search._tsquery_or([lexeme])
            assert (await connection.execute(matches, {"held": [lexeme], "query": query})).scalar_one(), (
                lexeme
            )
            assert not (await connection.execute(matches, {"held": ["other"], "query": query})).scalar_one()


async def test_emptying_the_index_empties_the_counts(db: Database) -> None:
    _pg_only(db)
    tenant_id = await _tenant(db, "T-words-truncate")
    async with db.transaction() as session:
        session.add(_case(tenant_id, 1, "kafka lag"))
    async with db.engine.begin() as connection:
        await connection.execute(text("TRUNCATE case_search"))
    assert await _counts(db, tenant_id) == (0, dict.fromkeys(TERMS, 0))
    await _recounted(db)
