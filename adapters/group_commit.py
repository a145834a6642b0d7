"""Group commits: many small writes of one kind (inbox rows, claims, settlements) in one
transaction, which takes one write slot (storage/slots.py) for all of them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database

T = TypeVar("T")

Operation = Callable[[AsyncSession], Awaitable[Any]]


class GroupCommit:
    """Writes that arrive while a commit is under way go together in the next one: a burst
    costs a few commits, not one each. Each caller gets its own operation's result once the
    commit that holds it is done; when that commit fails, every caller of the batch hears of it
    and none of their writes is kept."""

    def __init__(self, *, db: Database, urgent: bool) -> None:
        self.db = db
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
            async with self.db.slots.hold(urgent=self.urgent):
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
