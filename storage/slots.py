"""Write slots: every transaction of a process takes one, urgent holders first.

SQLite has one writer: two connections writing at once do not run side by side, the second
sleeps in SQLite's busy handler (sleeps of up to 100 ms), which is where an acknowledgement's
latency went under a burst. So the process hands out its one write slot itself, and a slot
freed goes to the oldest urgent waiter (the inbox writes a 200 waits for) before routine ones
(applying, claiming, settling, jobs, the web). PostgreSQL writes side by side; its slots only
keep a burst below the connection pool.

Taking the slot in `Database.transaction` means no write can go around it. A task that holds
a slot and opens another transaction keeps its slot (a nested unit of work must not wait for
itself).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

POSTGRES_SLOTS = 4  # fewer than the pool (10 + 20 overflow): a burst queues here, not on the pool


class WriteSlots:
    """At most `slots` holders at once; a free slot goes to the oldest urgent waiter first."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._routine: deque[asyncio.Future[None]] = deque()
        self._holders: set[asyncio.Task[object]] = set()

    @classmethod
    def for_dialect(cls, dialect: str) -> WriteSlots:
        return cls(1 if dialect == "sqlite" else POSTGRES_SLOTS)

    @asynccontextmanager
    async def hold(self, *, urgent: bool = False) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is None or task in self._holders:
            yield  # this task holds a slot already
            return
        await self._acquire(urgent)
        self._holders.add(task)
        try:
            yield
        finally:
            self._holders.discard(task)
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
