"""aiosqlite connections whose statements run on the event loop's own thread.

aiosqlite runs every call of a connection in the connection's own thread and hands the result
back through the loop. SQLAlchemy's adapter makes four such calls per statement (open a
cursor, execute, fetch, close), and each one waited twice: for its turn on a loop also serving
HTTP, and for the GIL the loop's thread holds while it runs Python. Under a burst a primary-key
read took ~4 ms that way, and a turn's nine statements held the one SQLite write slot ~16 ms.
The statements themselves take microseconds (WAL: readers never wait for the writer, and this
process's writers take turns through storage/slots.py), so here a statement is opened,
executed, fetched and closed at once, where it is awaited.

Three things run on the connection's thread instead: the commit (its fsync must not stall the
loop); any statement that finds another process holding the write lock (SQLite's busy handler
is off on these connections, it would sleep on the loop, and `patiently` waits there instead);
and a read still running after READ_BUDGET_SECONDS (interrupted, then run there from the start).

Plugged in through `create_async_engine(async_creator=...)`, SQLAlchemy's documented hook for
a driver connection it does not open itself.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.engine import make_url

T = TypeVar("T")
Row = tuple[Any, ...]
Description = tuple[tuple[Any, ...], ...] | None


class Outcome:
    """What one statement left behind, taken on the connection's thread."""

    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.description: Description = cursor.description
        self.rows: list[Row] = cursor.fetchall() if cursor.description else []
        # After the fetch: an UPDATE ... RETURNING counts its rows as they are read.
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


def _run(connection: sqlite3.Connection, sql: str, parameters: Any) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters if parameters is not None else ())
        return Outcome(cursor)
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, sql: str, rows: Iterable[Any]) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, rows)
        return Outcome(cursor)
    finally:
        cursor.close()


class OneTripCursor:
    """The part of aiosqlite's cursor SQLAlchemy uses: a statement and its rows in one call."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: deque[Row] = deque()
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        return self._take(await self._connection.run(_run, sql, parameters))

    async def executemany(self, sql: str, rows: Iterable[Any]) -> OneTripCursor:
        return self._take(await self._connection.run(_run_many, sql, rows))

    def _take(self, outcome: Outcome) -> OneTripCursor:
        self.description = outcome.description
        self.rowcount = outcome.rowcount
        self.lastrowid = outcome.lastrowid
        self._rows = deque(outcome.rows)
        return self

    async def fetchone(self) -> Row | None:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Row]:
        count = size or self.arraysize
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    async def fetchall(self) -> Sequence[Row]:
        rows, self._rows = list(self._rows), deque()
        return rows

    async def close(self) -> None:
        self._rows.clear()


class OneTripConnection(aiosqlite.Connection):
    """Statements run on the loop's own thread; commits (the fsync) on the connection's."""

    inline = True  # False for a connection bound to its thread (an in-memory database)

    async def run(self, function: Callable[..., Outcome], *args: Any) -> Outcome:
        """`function(sqlite3_connection, *args)`: here, unless it has to wait for a lock another
        process holds, or is a read that outruns READ_BUDGET_SECONDS; then on the connection's
        thread, from the start."""
        if self.inline:
            try:
                outcome = _within_budget(self._conn, function, *args)
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
            else:
                if outcome is not None:
                    return outcome
        return await self._execute(patiently, function, self._conn, *args)

    def cursor(self) -> OneTripCursor:  # type: ignore[override]  # sync: no trip to open one
        return OneTripCursor(self)

    async def commit(self) -> None:
        await self._execute(patiently, sqlite3.Connection.commit, self._conn)

    async def rollback(self) -> None:
        # SQLAlchemy never runs two calls of one connection at once: the thread is idle here.
        if self._connection is None or not self._conn.in_transaction:
            return
        if self.inline:
            self._conn.rollback()
        else:
            await super().rollback()


# A read still running after this long (a search over thousands of cases, say) is stopped and
# run again on the connection's thread, so it never holds up acknowledgements on the loop.
READ_BUDGET_SECONDS = 0.002
CHECK_EVERY = 1000  # SQLite virtual machine steps between looks at the clock


def _within_budget(
    connection: sqlite3.Connection, function: Callable[..., Outcome], *args: Any
) -> Outcome | None:
    """`function(connection, *args)`; None when it is a read that ran out of time (interrupted,
    it changed nothing). Writes are never interrupted: inside a transaction SQLite would roll
    the whole transaction back."""
    if function is not _run or not _is_read(args[0]):
        return function(connection, *args)
    deadline = time.perf_counter() + READ_BUDGET_SECONDS
    in_transaction = connection.in_transaction
    connection.set_progress_handler(lambda: time.perf_counter() > deadline, CHECK_EVERY)
    try:
        return function(connection, *args)
    except sqlite3.OperationalError as error:
        if str(error) != "interrupted":
            raise
        if in_transaction and not connection.in_transaction:  # never seen; never go on without it
            raise sqlite3.OperationalError("a read was interrupted and its transaction lost") from error
        return None
    finally:
        connection.set_progress_handler(None, 0)


def _is_read(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    return head == "SELECT" or (head[:4] == "WITH" and WRITES.search(sql) is None)


WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


# SQLite's own busy handler sleeps like this while another connection writes; it is off on
# these connections (it would sleep on the loop's thread) and done here, on theirs.
BUSY_SLEEPS = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05)
BUSY_SECONDS = 10.0


def is_busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock (not a snapshot conflict, which waiting cannot cure)."""
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY  # None: one we raised


def patiently(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, tried again after short sleeps while the database is busy, for up to
    BUSY_SECONDS; runs on a connection's own thread."""
    deadline = time.monotonic() + BUSY_SECONDS
    for pause in itertools.chain(BUSY_SLEEPS, itertools.repeat(0.1)):
        try:
            return function(*args)
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
    raise AssertionError("unreachable")


# Sessions open at once under a burst: each conversation's worker reads while others write.
# Past the pool's size a connection is opened (a thread started) and closed for each session.
POOL_SIZE = 32


def pool_arguments(url: str) -> dict[str, int]:
    """A pool that keeps what a burst opens; none for an in-memory database (one connection)."""
    parsed = make_url(url)
    in_memory = parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
    return {} if in_memory else {"pool_size": POOL_SIZE, "max_overflow": POOL_SIZE}


def creator(url: str) -> Callable[[], Awaitable[OneTripConnection]]:
    """The `async_creator` for an engine on `url`: the connection aiosqlite would open."""
    parsed = make_url(url)
    args, kwargs = parsed.get_dialect()().create_connect_args(parsed)

    # The busy handler is ours (`patiently`); a connection bound to its thread stays there.
    kwargs = {**kwargs, "timeout": 0}
    inline = kwargs.get("check_same_thread") is False

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(partial(sqlite3.connect, *args, **kwargs), iter_chunk_size=64)
        connection.inline = inline
        connection._thread.daemon = True  # as SQLAlchemy's own connect does: exit never waits on it
        await connection  # starts its thread and opens the file
        return connection

    return connect
