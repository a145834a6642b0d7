"""Work that runs after a platform has been acknowledged, tracked so a shutdown can finish it.

Platforms get their answer before slow work is done (Slack's listeners, Teams' follow-ups);
work that is acknowledged but then cut off by a redeploy would be lost. Every such piece goes
through `Work.spawn` or `Work.run`, and `drain()` (on shutdown, and in tests) waits for it.
Per-conversation locks keep one thread's answers, and the bot's replies to them, in arrival
order inside a process; the database's version check keeps them correct across processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)


class Work:
    def __init__(self, platform: str) -> None:
        self._platform = platform  # names the work in the log
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(self._guarded(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def run(self, coro: Coroutine[Any, Any, Any], *, name: str) -> None:
        """Run inside the tracked set and wait for it (a listener's body after `ack()`)."""
        await asyncio.shield(self.spawn(coro, name=name))

    async def _guarded(self, coro: Coroutine[Any, Any, Any], name: str) -> Any:
        try:
            return await coro
        except asyncio.CancelledError:
            log.warning("%s: %s was cancelled before it finished", self._platform, name)
            raise
        except Exception:  # the last boundary for after-ack work: log it, keep serving
            log.exception("%s: %s failed", self._platform, name)
            return None

    async def drain(self, grace_seconds: float | None = None) -> bool:
        """Wait until no work is left (work may start more work). False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if grace_seconds is None else loop.time() + grace_seconds
        while self._tasks:
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            if remaining == 0.0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True

    def __len__(self) -> int:
        return len(self._tasks)


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
