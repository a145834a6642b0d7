"""Engine and sessions from DATABASE_URL, and migrations.

The application runs on async drivers (aiosqlite, psycopg); Alembic runs on the
matching sync driver, before the event loop starts or in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_driver
from storage.slots import WriteSlots

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite+aiosqlite:///casebook.db"
PING_AFTER_SECONDS = 2.0  # idle longer than this: checked before use (ping_when_idle)
READ_SLOTS = 8  # reads of the conveyor at once: with the write slots, well inside the pool
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseURLError(ValueError):
    """DATABASE_URL names a database Casebook cannot use."""


def async_url(url: str) -> str:
    """Accept the common spellings and return the async driver URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in {"postgresql", "postgres"}:  # postgres:// is how Heroku, Render and Fly spell it
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise DatabaseURLError(
        f"DATABASE_URL uses {backend!r}; Casebook supports sqlite and postgresql "
        "(e.g. postgresql+psycopg://user:pass@host/db)."
    )


def sync_url(url: str) -> str:
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
    return parsed.render_as_string(hide_password=False)  # psycopg 3 is both sync and async


def is_sqlite(url: str) -> bool:
    """Whether `url` names SQLite (any spelling)."""
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web and clock processes read while the other writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # No busy_timeout: waiting for another process's write lock is the driver's, off the
    # event loop (storage/sqlite_driver.py).
    cursor.close()


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    slots: WriteSlots = field(init=False)

    def __post_init__(self) -> None:
        self.slots = WriteSlots.for_dialect(self.dialect)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any exception. It holds one of
        the process's write slots (storage/slots.py); `urgent` ones are served first."""
        async with self.slots.hold(urgent=urgent), self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only, at most READ_SLOTS at once. On PostgreSQL it runs in
        autocommit: each read is its own snapshot, without the BEGIN and ROLLBACK round trips
        a transaction would add."""
        async with self._read_slots:
            if self.dialect != "postgresql":
                async with self.sessions() as session:
                    yield session
                return
            async with self.sessions(bind=self._autocommit) as session:
                yield session

    @cached_property
    def _autocommit(self) -> AsyncEngine:
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @cached_property
    def _read_slots(self) -> asyncio.Semaphore:
        # Fifty conversations reading at once opened connections past the pool, and closed
        # them again: a PostgreSQL connection costs more than the reads it served.
        return asyncio.Semaphore(READ_SLOTS)

    async def dispose(self) -> None:
        await self.engine.dispose()


def connect(
    url: str | None = None, *, echo: bool = False, ping_after: float = PING_AFTER_SECONDS
) -> Database:
    url = async_url(url or os.environ.get("DATABASE_URL") or DEFAULT_URL)
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite(url):
        kwargs.update(async_creator=sqlite_driver.creator(url), **sqlite_driver.pool_arguments(url))
    else:
        kwargs.update(pool_size=30, max_overflow=10)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        ping_when_idle(engine, seconds=ping_after)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    return Database(url=url, engine=engine, sessions=sessions)


def ping_when_idle(engine: AsyncEngine, *, seconds: float) -> None:
    """Check a pooled connection before use when it has been idle for `seconds`: a database
    restarted (or a connection dropped by a proxy) meanwhile costs a reconnect, not an error.
    A connection in steady use is not pinged: pinging every checkout (pool_pre_ping) was a
    round trip on each of an answer's transactions and reads."""

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", float("-inf")) < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool drops this connection and checks out another (a fresh one if need be).
            raise DisconnectionError(f"a pooled connection was dead: {error}") from error

    event.listen(engine.sync_engine, "checkin", checked_in)
    event.listen(engine.sync_engine, "connect", checked_in)
    event.listen(engine.sync_engine, "checkout", checkout)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on % in passwords.
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str | None = None, revision: str = "heads") -> None:
    """Upgrade the schema to the newest revision (synchronous: call outside the loop)."""
    from alembic import command

    target = url or os.environ.get("DATABASE_URL") or DEFAULT_URL
    command.upgrade(alembic_config(target), revision)
    log.info("database schema is up to date (%s)", make_url(async_url(target)).get_backend_name())


class SchemaBehind(RuntimeError):
    """The database lacks migrations this code needs (PostgreSQL is migrated by hand)."""


def check_schema(url: str) -> None:
    """Refuse to run on a schema older than the code: say which revisions are missing."""
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    missing = heads - current_revisions(url)
    if missing:
        raise SchemaBehind(
            f"the database schema is behind ({', '.join(sorted(missing))} missing): "
            "run `casebook migrate` first"
        )


def current_revisions(url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
