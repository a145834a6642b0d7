"""Write slots and group commits: acknowledgements first, every other write in turn.

SQLite has one writer: two connections writing at once do not run side by side, the second
sleeps in SQLite's busy handler (sleeps of up to 100 ms), which is where an acknowledgement's
latency went under a burst. So a process hands out its write slots itself, urgent holders
(the inbox writes a 200 waits for) before routine ones (applying, claiming, settling).
PostgreSQL writes side by side; its slots only keep a burst below the connection pool.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database

T = TypeVar("T")
POSTGRES_SLOTS = 4  # fewer than the pool (10 + 20 overflow): a burst queues here, not on the pool


class Gate:
    """At most `slots` holders at once; a free slot goes to the oldest urgent waiter first."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._routine: deque[asyncio.Future[None]] = deque()

    @classmethod
    def for_database(cls, db: Database) -> Gate:
        return cls(1 if db.dialect == "sqlite" else POSTGRES_SLOTS)

    @asynccontextmanager
    async def hold(self, *, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if self._free > 0 and not self._urgent and (urgent or not self._routine):
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._routine).append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # the slot was handed over just as the waiter was cancelled
            raise

    def _release(self) -> None:
        for waiting in (self._urgent, self._routine):
            while waiting:
                turn = waiting.popleft()
                if not turn.done():
                    turn.set_result(None)  # the slot passes straight to the next holder
                    return
        self._free += 1


Operation = Callable[[AsyncSession], Awaitable[Any]]


class GroupCommit:
    """Writes that arrive while a commit is under way go together in the next one: a burst
    costs a few commits, not one each. Each caller gets its own operation's result once the
    commit that holds it is done; when that commit fails, every caller of the batch hears of it
    and none of their writes is kept."""

    def __init__(self, *, db: Database, gate: Gate, urgent: bool) -> None:
        self.db = db
        self.gate = gate
        self.urgent = urgent
        self._queue: list[tuple[Operation, asyncio.Future[Any]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def run(self, operation: Callable[[AsyncSession], Awaitable[T]]) -> T:
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((operation, done))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._flush())
        return await done

    async def _flush(self) -> None:
        while self._queue:
            async with self.gate.hold(urgent=self.urgent):
                batch, self._queue = self._queue, []  # taken once the slot is ours: the batch grows meanwhile
                try:
                    async with self.db.transaction() as session:
                        results = [await operation(session) for operation, _ in batch]
                except Exception as error:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    continue
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)
