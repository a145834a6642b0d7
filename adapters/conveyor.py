"""The per-process applier: inbox rows applied in arrival order per conversation, then the
outbox rows they wrote delivered in order, then their jobs run; on start, what the previous
process left is finished first.

A platform supplies three steps: `apply` (an inbox row into the core, its replies into the
outbox, one transaction), `send` (one reply row to the platform, returning its outcome), and
`after` (cosmetic touches once a row's replies are out, e.g. editing a pressed button). The
conveyor owns the order, the claims and the retries. Everything runs as tracked `Work`, so a
shutdown (and a test) can wait for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.messages import Reply
from bot.outbox import run_job
from storage import inbox, outbox
from storage.db import Database
from storage.models import InboxEntry, OutboxEntry

log = logging.getLogger(__name__)

Apply = Callable[[InboxEntry], Awaitable[list[Reply]]]
Send = Callable[[OutboxEntry], Awaitable[str]]
After = Callable[[InboxEntry, list[Reply]], Awaitable[None]]
Clock = Callable[[], dt.datetime]
Spawn = Callable[..., "asyncio.Task[object]"]
RETRY_SECONDS = (0.05, 0.2, 1.0, 3.0)


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Tally:
    """What this process did, for the log and the benchmark."""

    applied: int = 0
    sent: int = 0
    failed: int = 0
    at_most_once: int = 0  # replies found claimed but unsettled after a crash: never resent


@dataclass
class Conveyor:
    platform: str
    db: Database
    settings: Settings
    spawn: Callable[..., asyncio.Task[object]]
    apply: Apply
    send: Send
    after: After
    clock: Clock = wall_clock
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        self._running: set[tuple[str, str]] = set()
        self._again: set[tuple[str, str]] = set()
        # Listeners that show a row's replies themselves when they come in time (a modal's
        # errors): called once the row is applied, True when they took the replies.
        self.early: dict[int, Callable[[list[Reply]], bool]] = {}

    def kick(self, tenant: str, key: str) -> None:
        """Something new for this conversation: make sure a worker will see it."""
        place = (tenant, key)
        if place in self._running:
            self._again.add(place)
            return
        self._running.add(place)
        self.spawn(self._worker(place), name=f"{self.platform} conversation")

    async def recover(self) -> None:
        """Finish what the last process left: interrupted sends are settled, never repeated;
        unapplied rows and unsent replies are picked up in order."""
        async with self.db.transaction() as session:
            settled = await outbox.settle_interrupted(session, platform=self.platform, at=self.clock())
            places = await inbox.pending_conversations(session, platform=self.platform)
            places += await outbox.pending_conversations(session, platform=self.platform)
        if settled:
            self.tally.at_most_once += settled
            log.warning(
                "%s: %d reply(ies) were being sent when the last process stopped; their outcome cannot "
                "be checked, so they are settled as at-most-once and not sent again",
                self.platform,
                settled,
            )
        for tenant, key in dict.fromkeys(places):
            self.kick(tenant, key)
        if places:
            log.info("%s: resuming %d conversation(s) left by the last process", self.platform, len(places))

    async def _worker(self, place: tuple[str, str]) -> None:
        try:
            while True:
                self._again.discard(place)
                await self._deliver(place)
                for entry in await self._pending(place):
                    replies = await self._apply(entry)
                    if replies is None:
                        return  # the database keeps failing: the next kick or start tries again
                    await self._deliver(place)
                    await self.after(entry, replies)
                await self._start_jobs(place)
                if place not in self._again:
                    return
        finally:
            self._running.discard(place)

    async def _pending(self, place: tuple[str, str]) -> list[InboxEntry]:
        async with self.db.sessions() as session:
            return await inbox.pending(session, platform=self.platform, tenant=place[0], key=place[1])

    async def _apply(self, entry: InboxEntry) -> list[Reply] | None:
        assert entry.id is not None
        for pause in (*RETRY_SECONDS, None):
            try:
                replies = await self.apply(entry)
            except Exception:  # the boundary for one row: logged, retried, never dropped
                log.exception("%s: could not apply inbox row %s", self.platform, entry.id)
                if pause is None:
                    return None
                await asyncio.sleep(pause)
                continue
            self.tally.applied += 1
            take = self.early.pop(entry.id, None)
            if take is not None and take(replies):
                async with self.db.transaction() as session:
                    await outbox.settle_replies_of(
                        session, inbox_id=entry.id, at=self.clock(), outcome="shown"
                    )
            return replies
        return None

    async def _deliver(self, place: tuple[str, str]) -> None:
        async with self.db.sessions() as session:
            rows = await outbox.unsettled(
                session, platform=self.platform, tenant=place[0], key=place[1], kind=outbox.REPLY
            )
        settling: tuple[int, str] | None = None  # settled in the commit that claims the next row
        for row in rows:
            assert row.id is not None
            async with self.db.transaction() as session:
                if settling is not None:
                    await outbox.settle(session, entry_id=settling[0], at=self.clock(), outcome=settling[1])
                    settling = None
                if not await outbox.claim(session, entry_id=row.id, at=self.clock()):
                    continue  # another process sends it
            try:
                result = await self.send(row)
            except Exception:  # a bug in a send: logged, settled, the next replies still go out
                log.exception("%s: sending outbox row %s failed", self.platform, row.id)
                result = "failed"
            settling = (row.id, result)
            if result == "sent":
                self.tally.sent += 1
            else:
                self.tally.failed += 1
        if settling is not None:
            async with self.db.transaction() as session:
                await outbox.settle(session, entry_id=settling[0], at=self.clock(), outcome=settling[1])

    async def _start_jobs(self, place: tuple[str, str]) -> None:
        async with self.db.sessions() as session:
            rows = await outbox.unsettled(
                session, platform=self.platform, tenant=place[0], key=place[1], kind=outbox.JOB
            )
        for row in rows:
            self.spawn(self._job(row, place), name=f"{self.platform} job {row.payload.get('job')}")

    async def _job(self, row: OutboxEntry, place: tuple[str, str]) -> None:
        if await run_job(self.db, row, now=self.clock(), settings=self.settings):
            self.kick(*place)  # its replies are rows now: deliver them in order


@dataclass
class Received:
    tenant: str
    event_key: str
    conversation_key: str
    payload: dict[str, Any]
    at: dt.datetime


class InboxWriter:
    """Inbox rows written in group commits: requests that arrive while a commit is under way
    are written together in the next one, so a burst of acknowledgements costs a few commits,
    not one each (SQLite has one writer; PostgreSQL waits on each commit's flush)."""

    def __init__(self, *, platform: str, db: Database) -> None:
        self.platform = platform
        self.db = db
        self._queue: list[tuple[Received, asyncio.Future[int | None]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def write(self, received: Received) -> int | None:
        """The new row's id once committed, or None for an event already in."""
        done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._queue.append((received, done))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._flush())
        return await done

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                async with self.db.transaction() as session:
                    ids = [
                        await inbox.receive(
                            session,
                            platform=self.platform,
                            tenant=r.tenant,
                            event_key=r.event_key,
                            conversation_key=r.conversation_key,
                            payload=r.payload,
                            at=r.at,
                        )
                        for r, _ in batch
                    ]
            except Exception as error:  # every request of the batch hears of it: none is stored
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            for (_, done), entry_id in zip(batch, ids, strict=True):
                if not done.done():
                    done.set_result(entry_id)
