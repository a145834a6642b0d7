"""The per-process applier: inbox rows applied in arrival order per conversation, then the
outbox rows they wrote delivered in order, then their jobs run; on start, what the previous
process left is finished first.

A platform supplies three steps: `apply` (the first of a conversation's waiting inbox rows,
or a run of them, into the core, their replies into the outbox, one transaction, returning
the rows it wrote for each), `send` (one reply row to the platform, returning its outcome),
and `after` (cosmetic touches once a row's replies are out, e.g. editing a pressed button).
The conveyor owns the order, the claims and the retries. Everything runs as tracked `Work`, so
a shutdown (and a test) can wait for it.

A worker reads its conversation once (unapplied rows, rows nobody took) and then goes on from
what each apply returns: the outbox rows an apply just committed need no second look.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.arrivals import Arrivals
from adapters.group_commit import Combined, GroupCommit
from bot.config import Settings
from bot.messages import Reply
from bot.outbox import Written, run_job
from storage import inbox, outbox
from storage.db import Database
from storage.models import InboxEntry, OutboxEntry

log = logging.getLogger(__name__)

# The first rows of a conversation's waiting ones, applied: one Written per row applied, at
# least the first; the second argument says whether to go on (no request waits for its 200).
Apply = Callable[[list[InboxEntry], Callable[[], bool]], Awaitable[list[Written]]]
Send = Callable[[OutboxEntry], Awaitable[str]]
After = Callable[[InboxEntry, list[Reply]], Awaitable[None]]
Clock = Callable[[], dt.datetime]
Spawn = Callable[..., "asyncio.Task[object]"]
RETRY_SECONDS = (0.05, 0.2, 1.0, 3.0)
# At most this many rows in one apply's transaction; each apply is offered twice as many as
# the last one took (the applier prepares every row it is offered).
RUN_ROWS = 32
FIRST_RUN_ROWS = 8


async def _claim_rows(session: AsyncSession, claims: list[tuple[int, dt.datetime]]) -> list[bool]:
    # One statement for the commit's claims, stamped with the latest claim's time: they all
    # take effect at that commit.
    ours = set(
        await outbox.claim_all(session, entry_ids=[i for i, _ in claims], at=max(at for _, at in claims))
    )
    return [entry_id in ours for entry_id, _ in claims]


async def _settle_rows(session: AsyncSession, settlements: list[tuple[int, dt.datetime, str]]) -> list[None]:
    await outbox.settle_each(session, settlements)
    return [None] * len(settlements)


CLAIMS = Combined(_claim_rows)
SETTLEMENTS = Combined(_settle_rows)


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
    arrivals: Arrivals = field(default_factory=Arrivals)  # the platform's requests awaiting a 200
    # Which reply rows the platform takes twice without showing them twice: those a crash cut
    # off are sent again, not settled at-most-once.
    repeatable: Callable[[dict[str, Any]], bool] = lambda _payload: False
    # Which message a reply row rewrites as a whole (an edit of a question's count): of several
    # such rows for one message in a worker's pass, only the newest is sent.
    rewrites: Callable[[dict[str, Any]], str | None] = lambda _payload: None
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        # Claims and settlements of every conversation share commits.
        self.ledger = GroupCommit(db=self.db, urgent=False)
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
            settled = await outbox.settle_interrupted(
                session, platform=self.platform, at=self.clock(), repeatable=self.repeatable
            )
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
            while await self._pass(place) and place in self._again:
                pass
        finally:
            self._running.discard(place)

    async def _pass(self, place: tuple[str, str]) -> bool:
        """Apply what the conversation has waiting, delivering as it goes; False when the
        database keeps failing (the next kick or start tries again)."""
        self._again.discard(place)
        await self.arrivals.quiet()
        entries, left = await self._read(place)
        # The newest rewrite of each message, sent once the pass is through: a burst of list
        # lines edits its question's count once, not once per line.
        newest: dict[str, OutboxEntry] = {}
        await self._deliver([row for row in left if row.kind == outbox.REPLY], newest)
        jobs = [row for row in left if row.kind == outbox.JOB]
        applied = True
        done, offer = 0, FIRST_RUN_ROWS
        while done < len(entries):
            await self.arrivals.quiet()
            results = await self._apply(entries[done : done + offer])
            if results is None:
                applied = False
                break
            for entry, written in zip(entries[done:], results, strict=False):
                await self._deliver(written.rows, newest)
                await self.after(entry, written.replies)
                jobs += written.jobs
            done += len(results)
            offer = min(RUN_ROWS, 2 * len(results))
        await self._deliver(list(newest.values()))
        if applied:
            for job in jobs:
                self.spawn(self._job(job, place), name=f"{self.platform} job {job.payload.get('job')}")
        return applied

    async def _read(self, place: tuple[str, str]) -> tuple[list[InboxEntry], list[OutboxEntry]]:
        """The conversation's unapplied inbox rows, and the outbox rows nobody has taken (a
        job's replies, what the last process left), in one read."""
        tenant, key = place
        async with self.db.reads() as session:
            entries = await inbox.pending(session, platform=self.platform, tenant=tenant, key=key)
            left = await outbox.unsettled(session, platform=self.platform, tenant=tenant, key=key)
        return entries, left

    async def _apply(self, run: list[InboxEntry]) -> list[Written] | None:
        """The first rows of `run` applied (after a failure, the first alone), or None when
        the database keeps failing."""
        for pause in (*RETRY_SECONDS, None):
            try:
                results = await self.apply(run, self._no_request_waits)
            except Exception:  # the boundary for one row: logged, retried, never dropped
                log.exception("%s: could not apply inbox row %s", self.platform, run[0].id)
                if pause is None:
                    return None
                await asyncio.sleep(pause)
                run = run[:1]
                continue
            for entry, written in zip(run, results, strict=False):
                await self._applied(entry, written)
            return results
        return None

    def _no_request_waits(self) -> bool:
        return self.arrivals.waiting == 0

    async def _applied(self, entry: InboxEntry, written: Written) -> None:
        assert entry.id is not None
        self.tally.applied += 1
        take = self.early.pop(entry.id, None)
        if take is not None and take(written.replies):
            await self.ledger.run(
                partial(outbox.settle_replies_of, inbox_id=entry.id, at=self.clock(), outcome="shown")
            )
            written.rows = []  # shown with the request's own response

    async def _deliver(self, rows: list[OutboxEntry], newest: dict[str, OutboxEntry] | None = None) -> None:
        """Send `rows` in order; rewrites go into `newest` instead, when given (an older rewrite
        of the same message is settled as superseded, unsent)."""
        settling: list[asyncio.Future[None]] = []
        for row in rows:
            assert row.id is not None
            if newest is not None and (rewritten := self.rewrites(row.payload)) is not None:
                older = newest.pop(rewritten, None)
                newest[rewritten] = row
                if older is not None and older.id is not None:
                    settlement = (older.id, self.clock(), "superseded")
                    settling.append(asyncio.ensure_future(self.ledger.add(SETTLEMENTS, settlement)))
                continue
            await self.arrivals.quiet()
            # A row the platform takes twice without showing it twice needs no claim: sent
            # again after a crash (or by a second process), it changes nothing.
            if not self.repeatable(row.payload) and not await self.ledger.add(CLAIMS, (row.id, self.clock())):
                continue  # another process sends it
            try:
                result = await self.send(row)
            except Exception:  # a bug in a send: logged, settled, the next replies still go out
                log.exception("%s: sending outbox row %s failed", self.platform, row.id)
                result = "failed"
            # Not awaited before the next claim: a crash before this commit leaves the row
            # claimed and unsettled, which recovery settles as at-most-once, never resends.
            settling.append(
                asyncio.ensure_future(self.ledger.add(SETTLEMENTS, (row.id, self.clock(), result)))
            )
            if result == "sent":
                self.tally.sent += 1
            else:
                self.tally.failed += 1
        await asyncio.gather(*settling)

    async def _job(self, row: OutboxEntry, place: tuple[str, str]) -> None:
        if await run_job(self.db, row, now=self.clock(), settings=self.settings):
            self.kick(*place)  # its replies are rows now: deliver them in order


async def _receive_rows(platform: str, session: AsyncSession, rows: list[inbox.Received]) -> list[int | None]:
    return await inbox.receive_all(session, platform=platform, rows=rows)


class InboxWriter:
    """Inbox rows written in group commits, ahead of every other write of the process: the
    acknowledgement waits for this commit, so applying never makes it wait long."""

    def __init__(self, *, platform: str, db: Database) -> None:
        self.commits = GroupCommit(db=db, urgent=True)
        self._rows = Combined(partial(_receive_rows, platform))

    async def write(self, received: inbox.Received) -> int | None:
        """The new row's id once committed, or None for a delivery already in."""
        return await self.commits.add(self._rows, received)
