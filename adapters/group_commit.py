"""Group commits: many small writes of one kind (inbox rows, claims, settlements) in one
transaction, which takes one write slot (storage/slots.py) for all of them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database

T = TypeVar("T")
Item = TypeVar("Item")

Operation = Callable[[AsyncSession], Awaitable[Any]]


@dataclass(frozen=True, eq=False)
class Combined(Generic[Item, T]):
    """A write that many callers' items share: `run(session, items)` writes every item of a
    commit in one statement and returns one result per item, in order. Under a burst a commit
    holds dozens of claims; one statement each kept the write slot ~25 ms per commit."""

    run: Callable[[AsyncSession, list[Item]], Awaitable[list[T]]]


@dataclass
class _Waiting:
    done: asyncio.Future[Any]
    operation: Operation | None = None
    combined: Combined[Any, Any] | None = None
    item: Any = None


class GroupCommit:
    """Writes that arrive while a commit is under way go together in the next one: a burst
    costs a few commits, not one each. Each caller gets its own operation's result once the
    commit that holds it is done; when that commit fails, every caller of the batch hears of it
    and none of their writes is kept."""

    def __init__(self, *, db: Database, urgent: bool) -> None:
        self.db = db
        self.urgent = urgent
        self._queue: list[_Waiting] = []
        self._writing: asyncio.Task[None] | None = None

    async def run(self, operation: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await self._enqueue(operation=operation)

    async def add(self, combined: Combined[Item, T], item: Item) -> T:
        """`item` written with the other items of `combined` in the next commit."""
        return await self._enqueue(combined=combined, item=item)

    async def _enqueue(self, **what: Any) -> Any:
        waiting = _Waiting(done=asyncio.get_running_loop().create_future(), **what)
        self._queue.append(waiting)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._flush())
        return await waiting.done

    async def _flush(self) -> None:
        while self._queue:
            async with self.db.slots.hold(urgent=self.urgent):
                batch, self._queue = self._queue, []  # taken once the slot is ours: the batch grows meanwhile
                try:
                    async with self.db.transaction() as session:
                        results = await _write(session, batch)
                except Exception as error:
                    for waiting in batch:
                        if not waiting.done.done():
                            waiting.done.set_exception(error)
                    continue
            for waiting, result in zip(batch, results, strict=True):
                if not waiting.done.done():
                    waiting.done.set_result(result)


async def _write(session: AsyncSession, batch: list[_Waiting]) -> list[Any]:
    """Every operation in arrival order; each combined write once, where its first item came."""
    results: list[Any] = [None] * len(batch)
    written: set[int] = set()
    for position, waiting in enumerate(batch):
        if waiting.operation is not None:
            results[position] = await waiting.operation(session)
            continue
        combined = waiting.combined
        assert combined is not None
        if id(combined) in written:
            continue
        written.add(id(combined))
        positions = [i for i, other in enumerate(batch) if other.combined is combined]
        outcomes = await combined.run(session, [batch[i].item for i in positions])
        for i, outcome in zip(positions, outcomes, strict=True):
            results[i] = outcome
    return results
