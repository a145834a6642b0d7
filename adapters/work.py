"""Work that runs after a platform has been acknowledged, tracked so a shutdown can finish it.

Platforms get their answer before slow work is done (the conveyor applying inbox rows and
sending outbox rows, App Home pages). What must survive a crash is in the database; these are
the tasks carrying it, so a clean shutdown (and a test) can wait for them with `drain()`.
The order of one conversation's answers and replies is the conveyor's (adapters/conveyor.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
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
