"""One reminder sweep: find what is due, claim it, send it, record it.

The database decides what is due; whoever calls `sweep` (the clock's ticker,
`casebook remind --now`, a test) only says when. A sweep:

1. reads every owner with open actions (one grouped query) and works out, in
   each owner's own timezone, the most recent weekly slot and its ISO week;
2. reads this week's delivery rows and keeps the owners with none yet, plus the
   rows due for another attempt (failed, uncertain, or abandoned by a dead sweep);
3. claims them (insert under the unique key, or compare-and-set), commits, and
   only then sends, recording outcomes in batches;
4. does the same for escalations: actions two weeks overdue, once a week per case.

A clock that was down for weeks finds one due week per owner (the latest), so a
missed week is caught up once, not once per missed tick.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import observe
from bot.notify import ConversationPoster, DeliveryCheck, Notifier, SendResult
from bot.parsing import parse_clock
from bot.reminders.config import ReminderSettings
from bot.reminders.digest import MAX_ITEMS, by_due_date, digest_reply, escalation_reply
from bot.reminders.quiet import explain_quiet
from bot.reminders.schedule import Due, WeeklySlot, last_due
from bot.reminders.sender import Clock, Job, Line, Sender
from storage import digests
from storage.db import Database
from storage.deliveries.ledger import (
    DIGESTS,
    ESCALATIONS,
    Claim,
    DeliveryRow,
    Ledger,
    Status,
    claim_existing,
    claim_new,
    release,
    rows_for_weeks,
)
from storage.deliveries.schedules import TenantRow, tenants
from storage.deliveries.workload import (
    ActionRow,
    OverdueRow,
    OwnerRow,
    open_actions_of,
    overdue_actions,
    owners_with_open_actions,
)

log = logging.getLogger(__name__)

Key = tuple[int, int, str]  # (tenant id, owner or case id, ISO week)


@dataclass
class SweepReport:
    started: dt.datetime
    dry_run: bool
    lines: list[Line] = field(default_factory=list)
    quiet: str = ""  # when nothing was due: why (see bot.reminders.quiet)

    def count(self, kind: str, status: str) -> int:
        return sum(1 for line in self.lines if line.kind == kind and line.status == status)

    def describe(self) -> str:
        verb = "would send" if self.dry_run else "sent"
        head = (
            f"Reminder sweep at {self.started:%Y-%m-%d %H:%M} UTC"
            + (" (dry run)" if self.dry_run else "")
            + f": {self.count('digest', verb)} digest(s) and {self.count('escalation', verb)} "
            + f"escalation(s) {verb}"
        )
        problems = [line for line in self.lines if line.status not in {"sent", "would send"}]
        if problems:
            head += f"; {len(problems)} not sent (see below)"
        return "\n".join([head + ".", *(line.describe() for line in self.lines)])


@dataclass
class Sweep:
    db: Database
    notifiers: Mapping[str, Notifier]
    settings: ReminderSettings
    default_timezone: str
    clock: Clock
    dry_run: bool
    token: str
    start: dt.datetime
    public_url: str | None = None  # CASEBOOK_PUBLIC_URL: digests link each case to its page
    tenants: dict[int, TenantRow] = field(default_factory=dict)
    _capabilities: dict[tuple[str, type], bool] = field(default_factory=dict)

    def zone(self, name: str | None) -> dt.tzinfo:
        for candidate in (name, self.default_timezone):
            if candidate:
                try:
                    return ZoneInfo(candidate)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return dt.UTC

    def slot(self, tenant: TenantRow) -> WeeklySlot:
        if tenant.weekday is not None and tenant.at_time:
            return WeeklySlot(tenant.weekday, parse_clock(tenant.at_time))
        return self.settings.slot

    def notifier(self, tenant_id: int) -> Notifier | None:
        return self.notifiers.get(self.tenants[tenant_id].platform)

    def can(self, tenant_id: int, capability: type) -> bool:
        """Whether the tenant's notifier has an optional capability (cached: isinstance on a
        runtime-checkable protocol is slow, and a sweep asks once per delivery)."""
        platform = self.tenants[tenant_id].platform
        if (platform, capability) not in self._capabilities:
            notifier = self.notifiers.get(platform)
            self._capabilities[(platform, capability)] = isinstance(notifier, capability)
        return self._capabilities[(platform, capability)]

    def sender(self, ledger: Ledger, kind: str, claimed_at: dt.datetime) -> Sender:
        return Sender(self.db, ledger, self.token, self.settings, self.clock, claimed_at, kind)


def claim_token(worker: str | None = None) -> str:
    """Unique per sweep, so a late result of an expired claim can be told apart."""
    base = worker or f"{socket.gethostname()}:{os.getpid()}"
    return f"{base[:100]}:{uuid.uuid4().hex[:12]}"


async def sweep(
    db: Database,
    notifiers: Mapping[str, Notifier],
    *,
    settings: ReminderSettings | None = None,
    default_timezone: str = "UTC",
    clock: Clock,
    dry_run: bool = False,
    worker: str | None = None,
    public_url: str | None = None,
) -> SweepReport:
    start = clock()
    run = Sweep(
        db,
        notifiers,
        settings or ReminderSettings(),
        default_timezone,
        clock,
        dry_run,
        claim_token(worker),
        start,
        public_url,
    )
    async with db.transaction() as session:
        rows = await tenants(session)
    run.tenants = {t.id: t for t in rows if dry_run or t.platform in notifiers}
    report = SweepReport(start, dry_run)
    if run.tenants:
        report.lines += await _digests(run)
        report.lines += await _escalations(run)
    if not dry_run:
        for line in report.lines:
            observe.count("reminder", kind=line.kind, outcome=line.status)
    if not report.lines:
        report.quiet = await _why_quiet(run)
    return report


async def _why_quiet(run: Sweep) -> str:
    async with run.db.transaction() as session:
        owners = await owners_with_open_actions(session, tenant_ids=list(run.tenants))
        planned = plan_digests(run, owners)
        rows = await rows_for_weeks(
            session, DIGESTS, weeks={k[2] for k in planned}, tenant_ids=list(run.tenants)
        )
    work = classify(run, planned, rows)
    return explain_quiet(
        [o for o in owners if (o.tenant_id, o.owner_id) not in {(k[0], k[1]) for k in planned}],
        now=run.start,
        zone_of={o.owner_id: run.zone(o.timezone) for o in owners},
        slot_of={t: run.slot(row) for t, row in run.tenants.items()},
        had_digest=len(planned) - len(work.new) - len(work.retry),
    )


# --- digests ------------------------------------------------------------------------------


def plan_digests(run: Sweep, owners: Iterable[OwnerRow]) -> dict[Key, tuple[OwnerRow, Due]]:
    """Each owner due a digest, keyed by the week of their latest slot (see OwnerRow.due)."""
    planned: dict[Key, tuple[OwnerRow, Due]] = {}
    for owner in owners:
        due = last_due(run.start, run.zone(owner.timezone), run.slot(run.tenants[owner.tenant_id]))
        if owner.due(slot_at=due.slot_at, today=due.local_today):
            planned[(owner.tenant_id, owner.owner_id, due.week)] = (owner, due)
    return planned


@dataclass
class Work:
    new: list[Key] = field(default_factory=list)
    retry: dict[int, DeliveryRow] = field(default_factory=dict)


def classify(run: Sweep, keys: Iterable[Key], rows: Iterable[DeliveryRow]) -> Work:
    """Which due keys need a new row, and which rows are due for another attempt."""
    by_key = {(r.tenant_id, r.subject_id, r.week): r for r in rows}
    stale_before = run.start - run.settings.claim_ttl
    work = Work()
    for key in keys:
        row = by_key.get(key)
        if row is None:
            work.new.append(key)
        elif row.status in {Status.FAILED, Status.UNCERTAIN}:
            if row.next_attempt_at is None or row.next_attempt_at <= run.start:
                work.retry[row.id] = row
        elif row.status == Status.CLAIMED and row.claimed_at < stale_before:
            work.retry[row.id] = row
    return work


async def _claim(run: Sweep, ledger: Ledger, work: Work) -> tuple[list[Claim], dt.datetime]:
    """Claim in one transaction; the claim time (not the sweep's start) starts the TTL."""
    now = run.clock()
    async with run.db.transaction() as session:
        claims = await claim_new(session, ledger, keys=work.new, token=run.token, now=now)
        claims += await claim_existing(
            session,
            ledger,
            ids=sorted(work.retry),
            token=run.token,
            now=now,
            stale_before=now - run.settings.claim_ttl,
        )
    return claims, now


def _planned_lines(
    run: Sweep, kind: str, work: Work, describe: Callable[[Key], tuple[str, int]]
) -> list[Line]:
    keys = [*work.new, *((r.tenant_id, r.subject_id, r.week) for r in work.retry.values())]
    lines = []
    for key in keys:
        tenant = run.tenants[key[0]]
        recipient, actions = describe(key)
        lines.append(
            Line(kind, tenant.platform, tenant.external_id, recipient, key[2], actions, "would send")
        )
    return lines


async def _digests(run: Sweep) -> list[Line]:
    async with run.db.transaction() as session:
        owners = await owners_with_open_actions(session, tenant_ids=list(run.tenants))
        planned = plan_digests(run, owners)
        rows = await rows_for_weeks(
            session, DIGESTS, weeks={k[2] for k in planned}, tenant_ids=list(run.tenants)
        )
    work = classify(run, planned, rows)
    if run.dry_run:
        return _planned_lines(
            run, "digest", work, lambda key: (f"@{planned[key][0].user_id}", planned[key][0].open_count)
        )
    claims, claimed_at = await _claim(run, DIGESTS, work)
    if not claims:
        return []
    async with run.db.transaction() as session:
        actions = await open_actions_of(session, owner_ids=[c.subject_id for c in claims])
    by_owner: dict[int, list[ActionRow]] = defaultdict(list)
    for action in actions:
        if action.owner_id is not None:
            by_owner[action.owner_id].append(action)
    jobs, nothing_left = [], []
    for claim in claims:
        owner, due = planned[(claim.tenant_id, claim.subject_id, claim.week)]
        awake = [a for a in by_owner.get(owner.owner_id, ()) if a.awake_on(due.local_today)]
        if awake:
            jobs.append(_digest_job(run, claim, owner, due, awake, work.retry.get(claim.id)))
        else:
            nothing_left.append(claim.id)  # closed or snoozed since step 1: no DM, no row
    if nothing_left:
        async with run.db.transaction() as session:
            await release(session, DIGESTS, token=run.token, ids=nothing_left)
    sender = run.sender(DIGESTS, "digest", claimed_at)
    await sender.run(jobs)
    return sender.lines


def _digest_job(
    run: Sweep, claim: Claim, owner: OwnerRow, due: Due, actions: Sequence[ActionRow], row: DeliveryRow | None
) -> Job:
    notifier = run.notifier(claim.tenant_id)
    assert notifier is not None  # tenants without a notifier were left out
    tenant = run.tenants[claim.tenant_id].external_id
    key = f"digest:{claim.tenant_id}:{claim.subject_id}:{claim.week}"

    async def send() -> SendResult:
        # Rendered at the last moment: 10k digests are never all in memory at once.
        reply = digest_reply(actions, today=due.local_today, delivery_key=key, public_url=run.public_url)
        result = await notifier.send_direct(tenant=tenant, user_id=owner.user_id, replies=[reply])
        if result.ok and result.ref:  # kept so that a change to one of its actions redraws it
            async with run.db.transaction() as session:
                await digests.remember(
                    session,
                    tenant_id=claim.tenant_id,
                    owner_id=owner.owner_id,
                    delivery_key=key,
                    ref=result.ref,
                    action_ids=[a.action_id for a in by_due_date(actions)[:MAX_ITEMS]],
                    at=run.start,  # read before this: a change since then redraws it
                )
        return result

    job = Job(
        claim,
        notifier.platform,
        tenant,
        f"@{owner.user_id}",
        tuple(a.action_id for a in actions),
        send,
        previous_uncertain=row is not None and row.status == Status.UNCERTAIN,
        stale=row is not None and row.status == Status.CLAIMED,
    )
    if run.can(claim.tenant_id, DeliveryCheck):
        checker = cast(DeliveryCheck, notifier)

        async def check() -> bool | None:
            return await checker.was_delivered(
                tenant=tenant, user_id=owner.user_id, delivery_key=key, since=due.slot_at
            )

        job.check = check
    return job


# --- escalations --------------------------------------------------------------------------


async def _escalations(run: Sweep) -> list[Line]:
    """Cases with actions `escalate_after` overdue: once a week, in the case's thread or to its lead."""
    dues = {tid: last_due(run.start, run.zone(None), run.slot(t)) for tid, t in run.tenants.items()}
    cutoffs = {tid: due.local_today - run.settings.escalate_after for tid, due in dues.items()}
    async with run.db.transaction() as session:
        overdue = await overdue_actions(
            session, tenant_ids=list(run.tenants), due_on_or_before=max(cutoffs.values())
        )
        by_case: dict[Key, list[OverdueRow]] = defaultdict(list)
        for row in overdue:
            a = row.action
            due = dues[a.tenant_id]
            if a.due_date is not None and a.due_date <= cutoffs[a.tenant_id] and a.awake_on(due.local_today):
                by_case[(a.tenant_id, a.case_id, due.week)].append(row)
        rows = await rows_for_weeks(
            session, ESCALATIONS, weeks={d.week for d in dues.values()}, tenant_ids=list(run.tenants)
        )
    work = classify(run, by_case, rows)
    if run.dry_run:
        return _planned_lines(
            run, "escalation", work, lambda key: (_where(run, by_case[key]), len(by_case[key]))
        )
    claims, claimed_at = await _claim(run, ESCALATIONS, work)
    jobs = [
        _escalation_job(
            run, claim, by_case[(claim.tenant_id, claim.subject_id, claim.week)], dues[claim.tenant_id]
        )
        for claim in claims
    ]
    sender = run.sender(ESCALATIONS, "escalation", claimed_at)
    await sender.run(jobs)
    return sender.lines


def _where(run: Sweep, rows: Sequence[OverdueRow]) -> str:
    first = rows[0]
    if first.conversation_key and run.can(first.action.tenant_id, ConversationPoster):
        return f"case #{first.action.case_number} thread"
    return f"case #{first.action.case_number} lead @{first.lead_user_id}"


def _escalation_job(run: Sweep, claim: Claim, rows: Sequence[OverdueRow], due: Due) -> Job:
    notifier = run.notifier(claim.tenant_id)
    assert notifier is not None
    tenant = run.tenants[claim.tenant_id].external_id
    key = f"escalation:{claim.tenant_id}:{claim.subject_id}:{claim.week}"
    thread, lead = rows[0].conversation_key, rows[0].lead_user_id
    poster = cast(ConversationPoster, notifier) if run.can(claim.tenant_id, ConversationPoster) else None
    job = Job(
        claim,
        notifier.platform,
        tenant,
        _where(run, rows),
        tuple(r.action.action_id for r in rows),
        send=_no_target,
    )

    async def send() -> SendResult:
        reply = escalation_reply(rows, today=due.local_today, delivery_key=key, public_url=run.public_url)
        if thread and poster is not None:
            job.target = f"thread:{thread}"
            result = await poster.post_in_conversation(
                tenant=tenant, conversation_key=thread, replies=[reply]
            )
            if result.ok or result.uncertain or result.retryable or not lead:
                return result
            log.warning(
                "could not post in case thread %s (%s); telling the lead instead", thread, result.error
            )
        if lead:
            job.target = f"lead:{lead}"
            return await notifier.send_direct(tenant=tenant, user_id=lead, replies=[reply])
        return await _no_target()

    job.send = send
    return job


async def _no_target() -> SendResult:
    return SendResult(ok=False, error="the case has no thread to post in and no lead to tell")
