"""The SQLite connections Casebook opens (storage/sqlite_driver.py): what SQLAlchemy reads off a
statement is all there, statements run without leaving the event loop's thread, and a lock
held by another process is waited for off that thread, for a bounded time."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import sqlite_driver
from storage.db import Database, connect


class Ticker:
    """Counts how often the event loop got round to it: a loop stalled by a statement does not."""

    def __init__(self, every: float = 0.01) -> None:
        self.every = every
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    def __enter__(self) -> Ticker:
        self._task = asyncio.create_task(self._tick())
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.ticks += 1


@pytest.fixture
async def plain(tmp_path: Path) -> AsyncIterator[Database]:
    database = connect(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}")
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE, n INT)"))
    try:
        yield database
    finally:
        await database.dispose()


async def test_rows_counts_and_ids_come_back_as_sqlalchemy_expects(plain: Database) -> None:
    async with plain.engine.begin() as connection:
        inserted = await connection.execute(
            text("INSERT INTO notes (body, n) VALUES (:body, :n) RETURNING id"), {"body": "a", "n": 1}
        )
        assert inserted.scalar_one() == 1
        plain_insert = await connection.execute(text("INSERT INTO notes (body, n) VALUES ('b', 2)"))
        assert plain_insert.lastrowid == 2
        await connection.execute(
            text("INSERT INTO notes (body, n) VALUES (:body, :n)"),
            [{"body": f"many {i}", "n": i} for i in range(3, 8)],
        )
        updated = await connection.execute(text("UPDATE notes SET n = n + 100 WHERE n >= 5"))
        assert updated.rowcount == 3
        returned = await connection.execute(text("UPDATE notes SET n = 0 WHERE n > 100 RETURNING id"))
        assert sorted(returned.scalars()) == [5, 6, 7]
        rows = await connection.execute(text("SELECT body, n FROM notes ORDER BY id"))
        assert rows.fetchone() == ("a", 1)
        assert len(rows.all()) == 6  # what the first fetch left is still there

    async with plain.engine.connect() as connection:
        streamed = await connection.stream(text("SELECT id FROM notes ORDER BY id"))
        assert [row.id async for row in streamed] == [1, 2, 3, 4, 5, 6, 7]


async def test_a_failed_statement_raises_sqlalchemys_error_and_the_transaction_rolls_back(
    plain: Database,
) -> None:
    with pytest.raises(IntegrityError):
        async with plain.engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('same')"))
            await connection.execute(text("INSERT INTO notes (body) VALUES ('same')"))

    async with plain.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0


async def test_statements_run_on_the_loops_own_thread(plain: Database) -> None:
    async with plain.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, sqlite_driver.OneTripConnection)
        assert driver.inline


async def test_another_process_holding_the_lock_is_waited_for_without_stopping_the_loop(
    plain: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "plain.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # what another process writing holds
    other.execute("INSERT INTO notes (body) VALUES ('theirs')")

    async def write() -> None:
        async with plain.engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('ours')"))

    with Ticker() as ticker:
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.5)
        assert not writing.done()  # still waiting for the lock...
        assert ticker.ticks >= 3  # ...and the loop went on meanwhile
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
    other.close()

    async with plain.engine.connect() as connection:
        bodies = (await connection.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all()
    assert bodies == ["theirs", "ours"]


async def test_a_lock_held_too_long_fails_the_write_and_keeps_nothing(
    plain: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "BUSY_SECONDS", 0.2)
    other = sqlite3.connect(tmp_path / "plain.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            async with plain.engine.begin() as connection:
                await connection.execute(text("INSERT INTO notes (body) VALUES ('ours')"))
    finally:
        other.execute("ROLLBACK")
        other.close()

    async with plain.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0


SLOW_READ = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT count(*) FROM n"
)


async def test_a_long_read_finishes_on_the_connections_thread_while_the_loop_goes_on(plain: Database) -> None:
    with Ticker(every=0.005) as ticker:
        async with plain.engine.connect() as connection:
            started = asyncio.get_running_loop().time()
            count = (await connection.execute(SLOW_READ)).scalar_one()
            took = asyncio.get_running_loop().time() - started
    ticks = ticker.ticks

    assert count == 3_000_000
    assert took > 0.1  # long enough that the loop had to be free meanwhile
    assert ticks >= 5


async def test_a_long_read_inside_a_write_keeps_the_write(plain: Database) -> None:
    async with plain.engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
        assert (await connection.execute(SLOW_READ)).scalar_one() == 3_000_000
        await connection.execute(text("INSERT INTO notes (body) VALUES ('after')"))

    async with plain.engine.connect() as connection:
        bodies = (await connection.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all()
    assert bodies == ["kept", "after"]


async def test_an_in_memory_database_stays_on_its_connections_thread() -> None:
    database = connect("sqlite+aiosqlite:///:memory:")
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INT)"))
            await connection.execute(text("INSERT INTO t VALUES (1), (2)"))
            raw = await connection.get_raw_connection()
            assert isinstance(raw.driver_connection, sqlite_driver.OneTripConnection)
            assert not raw.driver_connection.inline
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("SELECT sum(x) FROM t"))).scalar_one() == 3
    finally:
        await database.dispose()
