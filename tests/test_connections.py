"""PostgreSQL connections: an idle pooled connection the server dropped is replaced before use,
and the conveyor's reads run outside a transaction."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database, connect

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_url: str | None) -> str:
    if pg_url is None:
        pytest.skip("no PostgreSQL server reachable")
    return pg_url


async def _backend(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


def _terminate(url: str, pid: int) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(pg: str) -> None:
    db = connect(pg, ping_after=0.05)
    try:
        first = await _backend(db)
        _terminate(pg, first)
        await asyncio.sleep(0.2)  # idle past ping_after: checked at checkout
        second = await _backend(db)
        assert second != first
    finally:
        await db.dispose()


async def test_a_connection_in_steady_use_is_not_pinged_and_a_drop_costs_one_failure(pg: str) -> None:
    db = connect(pg, ping_after=3600)
    try:
        first = await _backend(db)
        _terminate(pg, first)
        await asyncio.sleep(0.2)
        with pytest.raises(DBAPIError) as failure:
            await _backend(db)
        assert failure.value.connection_invalidated
        assert await _backend(db) != first  # the pool let the dead connection go
    finally:
        await db.dispose()


async def _autocommit(session: AsyncSession) -> bool:
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, psycopg.AsyncConnection)
    return bool(driver.autocommit)


async def test_reads_run_in_autocommit_and_leave_the_pool_transactional(pg: str) -> None:
    db = connect(pg)
    try:
        async with db.reads() as session:
            assert await _autocommit(session)
        async with db.transaction() as session:
            assert not await _autocommit(session)
    finally:
        await db.dispose()
