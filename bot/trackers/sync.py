"""One tracker sync pass: the database says what the trackers must show, the pass makes it so.

For each workspace with a tracker whose adapter this process has (the pass takes `now` once):

1. creates: open actions of published cases with no issue row are claimed (a row under a
   unique key, committed before any call), along with rows whose create failed and is due
   again or whose worker died holding the lease. A retried row looks its marker up in the
   tracker first, so a create that happened before a crash is linked, not repeated.
2. pushes: a linked issue whose action changed in Casebook since the tracker last saw it
   (closed or cancelled, its due date moved by a snooze, reassigned) is leased and updated.
3. pull (the clock's periodic reconciliation): issues closed in the tracker since the last
   pull close their actions, for webhooks that never arrived.

A tracker that is down, rate-limited or refusing credentials stops the pass for itself only:
what it did not do is recorded with the reason and retried with backoff on a later pass.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot import observe
from bot.notify import Notifier
from bot.trackers import content
from bot.trackers.inbound import apply_closed
from bot.trackers.port import LABELS, Failure, Issue, Tracker, TrackerError
from storage import trackers as store
from storage.db import Database
from storage.models import ActionStatus, Case, PreventionAction
from storage.trackers import Destination, Synced, WorkItem

log = logging.getLogger(__name__)

# A pull looks this far before the last one: a closure and its index may lag a little.
PULL_OVERLAP = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class SyncSettings:
    lease_ttl: dt.timedelta = dt.timedelta(minutes=10)
    retry_base: dt.timedelta = dt.timedelta(minutes=1)  # doubled after each failed attempt
    retry_cap: dt.timedelta = dt.timedelta(hours=1)
    concurrency: int = 4
    reconcile_every: dt.timedelta = dt.timedelta(minutes=15)
    link_base: str | None = None  # the public Casebook URL issues link back to, when there is one

    def backoff(self, attempts: int, retry_after: float | None) -> dt.timedelta:
        delay = min(self.retry_base * (2 ** max(attempts, 0)), self.retry_cap)
        if retry_after is not None:
            delay = max(delay, dt.timedelta(seconds=retry_after))
        return delay


@dataclass(frozen=True)
class Line:
    what: str  # created | linked | updated | closed | failed | closed in tracker
    tenant: str
    ref: str
    detail: str = ""

    def describe(self) -> str:
        return f"- {self.what}: {self.ref} ({self.tenant})" + (f": {self.detail}" if self.detail else "")


@dataclass
class SyncReport:
    started: dt.datetime
    lines: list[Line] = field(default_factory=list)

    def count(self, what: str) -> int:
        return sum(1 for line in self.lines if line.what == what)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0

    def describe(self) -> str:
        head = (
            f"Tracker sync at {self.started:%Y-%m-%d %H:%M} UTC: {self.count('created')} issue(s) created, "
            f"{self.count('linked')} found by marker and linked, {self.count('updated')} updated, "
            f"{self.count('closed in tracker')} action(s) closed from the tracker"
        )
        if self.failed:
            head += f"; {self.count('failed')} failed (retried later; `casebook trackers status`)"
        return "\n".join([head + ".", *(line.describe() for line in self.lines)])


async def sync_pass(
    db: Database,
    trackers: Mapping[str, Tracker],
    *,
    now: dt.datetime,
    settings: SyncSettings | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
    tenant_id: int | None = None,
    pull: bool = True,
    worker: str | None = None,
) -> SyncReport:
    report = SyncReport(now)
    if not trackers:
        return report
    async with db.transaction() as session:
        found = await store.destinations(session, kinds=list(trackers), tenant_id=tenant_id)
    for destination in found:
        run = Pass(
            db, trackers[destination.kind], destination, now, settings or SyncSettings(), claim_token(worker)
        )
        await run.creates()
        await run.pushes()
        if pull:
            await run.pull(notifiers or {})
        report.lines += run.lines
    return report


@dataclass
class Pass:
    db: Database
    tracker: Tracker
    destination: Destination
    now: dt.datetime
    settings: SyncSettings
    token: str
    lines: list[Line] = field(default_factory=list)
    stopped: TrackerError | None = None  # the tracker stopped answering: leave it alone this pass

    @property
    def tenant(self) -> str:
        return f"{self.destination.platform}/{self.destination.external_id}"

    def line(self, what: str, item: WorkItem, detail: str = "") -> None:
        self.lines.append(Line(what, self.tenant, f"{item.case.number}.{item.action.number}", detail))

    # --- creates ---------------------------------------------------------------------------

    async def creates(self) -> None:
        d, lease_until = self.destination, self.now + self.settings.lease_ttl
        async with self.db.transaction() as session:
            new = await store.actions_without_issue(session, destination=d)
            markers = {aid: content.marker(d.tenant_id, c, n) for aid, c, n in new}
            fresh = await store.claim_new(
                session,
                destination=d,
                markers=markers,
                token=self.token,
                now=self.now,
                lease_until=lease_until,
            )
            due = await store.creates_to_retry(session, destination=d, now=self.now)
            retried = await store.lease(
                session,
                ids=[i for i in due if i not in set(fresh)],
                token=self.token,
                now=self.now,
                until=lease_until,
            )
        async with self.db.transaction() as session:
            items = await store.work_items(session, ids=[*fresh, *retried])
        fresh_ids = set(fresh)
        await self._each(items, lambda item: self._create(item, looked_up=item.row.id not in fresh_ids))

    async def _create(self, item: WorkItem, *, looked_up: bool) -> None:
        d = self.destination
        issue: Issue | None = None
        try:
            # A retried row may have reached the tracker before (a crash, a timeout): look first.
            if looked_up:
                issue = await self.tracker.find(d.target, item.row.marker)
            found = issue is not None
            if issue is None:
                new = content.new_issue(
                    item.case,
                    item.action,
                    item.person(item.action.owner_id),
                    tenant_id=d.tenant_id,
                    link_base=self.settings.link_base,
                )
                issue = await self.tracker.create(d.target, new)
        except TrackerError as error:
            await self._failed(item, error, create=True)
            return
        synced = Synced(ActionStatus.OPEN, content.effective_due(item.action), item.action.owner_id)
        async with self.db.transaction() as session:
            await store.record_linked(
                session,
                row_id=item.row.id or 0,
                action_id=item.action.id or 0,
                issue_key=issue.key,
                issue_url=issue.url,
                synced=synced,
                now=self.now,
            )
        self._synced(waiting_since(item.case, self.destination))
        self.line("linked" if found else "created", item, issue.url)

    # --- pushes ----------------------------------------------------------------------------

    async def pushes(self) -> None:
        async with self.db.transaction() as session:
            rows = await store.linked_open(session, destination=self.destination, now=self.now)
            changed = [
                row_id
                for row_id, action, row in rows
                if wanted(action) != Synced(row.synced_status or "", row.synced_due, row.synced_owner_id)
            ]
            leased = await store.lease(
                session, ids=changed, token=self.token, now=self.now, until=self.now + self.settings.lease_ttl
            )
        async with self.db.transaction() as session:
            items = await store.work_items(session, ids=leased)
        await self._each(items, self._push)

    async def _push(self, item: WorkItem) -> None:
        row, action = item.row, item.action
        target = wanted(action)
        change = content.update_for(
            item.case,
            action,
            owner=item.person(action.owner_id),
            closed_by=item.person(action.closed_by_id),
            tenant_id=self.destination.tenant_id,
            link_base=self.settings.link_base,
            due_changed=target.due != row.synced_due,
            owner_changed=target.owner_id != row.synced_owner_id,
        )
        try:
            await self.tracker.update(self.destination.target, row.issue_key or "", change)
        except TrackerError as error:
            await self._failed(item, error, create=False)
            return
        async with self.db.transaction() as session:
            await store.record_pushed(session, row_id=row.id or 0, synced=target, now=self.now)
        self._synced(action.updated_at)
        self.line("updated", item, _what_changed(row, target))

    # --- pull ------------------------------------------------------------------------------

    async def pull(self, notifiers: Mapping[str, Notifier]) -> None:
        d = self.destination
        if self.stopped is not None:
            return
        if d.reconciled_at is not None and self.now - d.reconciled_at < self.settings.reconcile_every:
            return
        since = (d.reconciled_at or d.set_at) - PULL_OVERLAP
        try:
            closed = await self.tracker.closed_since(d.target, since)
        except TrackerError as error:
            log.warning("could not pull closed issues from %s %s: %s", d.kind, d.target, error.describe())
            self.lines.append(Line("failed", self.tenant, d.target, f"pull: {error.describe()}"))
            return
        for outcome in await apply_closed(
            self.db, kind=d.kind, issues=closed, notifiers=notifiers, now=self.now, tenant_id=d.tenant_id
        ):
            self.lines.append(Line("closed in tracker", self.tenant, outcome.ref, outcome.url))
        async with self.db.transaction() as session:
            await store.mark_reconciled(
                session, tenant_id=d.tenant_id, kind=d.kind, target=d.target, at=self.now
            )

    # --- shared ----------------------------------------------------------------------------

    def _synced(self, since: dt.datetime | None) -> None:
        """How long the tracker lagged behind Casebook for one change it now shows."""
        if since is not None:
            delay = max((self.now - since).total_seconds(), 0.0)
            observe.measure("tracker_sync_delay", delay, tracker=self.destination.kind)

    async def _each(self, items: Sequence[WorkItem], work: Callable[[WorkItem], Awaitable[None]]) -> None:
        """Bounded concurrency; once the tracker stops answering, the rest wait for a later pass."""
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def one(item: WorkItem) -> None:
            async with gate:
                if self.stopped is not None:
                    await self._failed(item, self.stopped, create=item.row.state != store.IssueState.LINKED)
                    return
                try:
                    await work(item)
                except TrackerError as error:
                    await self._failed(item, error, create=item.row.state != store.IssueState.LINKED)
                except Exception as error:  # one boundary per item: log it, record it, go on
                    log.exception("tracker sync of action id %s failed", item.action.id)
                    unexpected = TrackerError(repr(error)[:300], failure=Failure.UNCERTAIN)
                    await self._failed(item, unexpected, create=item.row.state != store.IssueState.LINKED)

        await asyncio.gather(*(one(item) for item in items))

    async def _failed(self, item: WorkItem, error: TrackerError, *, create: bool) -> None:
        if error.stops_the_pass and self.stopped is None:
            self.stopped = error
            log.warning(
                "%s %s: %s; leaving it alone until a later pass",
                LABELS.get(self.destination.kind, self.destination.kind),
                self.destination.target,
                error.describe(),
            )
        delay = self.settings.backoff(item.row.attempts, error.retry_after)
        async with self.db.transaction() as session:
            await store.record_failure(
                session,
                row_id=item.row.id or 0,
                error=error.describe(),
                next_attempt_at=self.now + delay,
                now=self.now,
                create=create,
            )
        self.line("failed", item, f"{error.describe()} (next try after {self.now + delay:%H:%M:%S} UTC)")


def claim_token(worker: str | None = None) -> str:
    """Unique per pass, so the leases of a pass that died can be told from ours."""
    base = worker or f"{socket.gethostname()}:{os.getpid()}"
    return f"{base[:100]}:{uuid.uuid4().hex[:12]}"


def waiting_since(case: Case, destination: Destination) -> dt.datetime | None:
    """Since when an action of a published case has wanted its issue: its publication, or the
    pick of the tracker when that came later."""
    if case.published_at is None:
        return None
    return max(case.published_at, destination.set_at)


def wanted(action: PreventionAction) -> Synced:
    """What the tracker should show of an action."""
    status = (
        action.status if action.status in {ActionStatus.DONE, ActionStatus.CANCELLED} else ActionStatus.OPEN
    )
    return Synced(status, content.effective_due(action), action.owner_id)


def _what_changed(row: store.TrackerIssue, target: Synced) -> str:
    said = []
    if target.status != row.synced_status:
        said.append(f"closed ({target.status})")
    if target.due != row.synced_due:
        said.append(f"due {target.due.isoformat() if target.due else 'none'}")
    if target.owner_id != row.synced_owner_id:
        said.append("assignee")
    return ", ".join(said)
