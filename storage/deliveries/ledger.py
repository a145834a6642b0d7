"""The weekly delivery rows: one per digest (owner, ISO week) and per escalation (case, week).

A row is the claim: its unique key means only one sweep can create it; later
attempts move it on by compare-and-set on its status, so two sweeps never hold
the same row at once. Both tables share their columns (storage.models.ClaimedSend);
`Ledger` names which one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import Integer, String, Table, and_, bindparam, delete, literal, or_, select, true, update
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import UTCDateTime

from storage.deliveries.sql import dialect, execute, id_list, json_rows, table
from storage.models import ClaimedSend, ReminderDelivery, ReminderEscalation
from storage.repo import insert_for


class Status(StrEnum):
    CLAIMED = "claimed"  # a sweep holds it; expires after the claim TTL (a crashed sweep)
    SENT = "sent"
    FAILED = "failed"  # not delivered; retried after `next_attempt_at`
    UNCERTAIN = "uncertain"  # may have been delivered: only re-sent after the platform says it wasn't
    GAVE_UP = "gave_up"  # attempts exhausted or a permanent error; `last_error` says why


@dataclass(frozen=True)
class Ledger:
    """A table of weekly deliveries and the column naming what each is about."""

    model: type[ClaimedSend]
    subject: str  # "owner_id" (digests) or "case_id" (escalations)

    @property
    def table(self) -> Table:
        return table(self.model)

    @property
    def name(self) -> str:
        return self.table.name


DIGESTS = Ledger(ReminderDelivery, "owner_id")
ESCALATIONS = Ledger(ReminderEscalation, "case_id")


class DeliveryRow(NamedTuple):
    id: int
    tenant_id: int
    subject_id: int
    week: str
    status: str
    attempts: int
    claimed_at: dt.datetime
    next_attempt_at: dt.datetime | None


class Claim(NamedTuple):
    id: int
    tenant_id: int
    subject_id: int
    week: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row; written back in one batch."""

    id: int
    status: Status
    error: str | None = None
    next_attempt_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    action_ids: tuple[int, ...] = ()
    attempts_adjust: int = 0  # -1 gives back an attempt that was never made (rate limit, deadline)
    target: str | None = None  # escalations: where it went


async def rows_for_weeks(
    session: AsyncSession, ledger: Ledger, *, weeks: Iterable[str], tenant_ids: Sequence[int]
) -> list[DeliveryRow]:
    if not weeks or not tenant_ids:
        return []
    t = ledger.table.c
    query = select(
        t.id, t.tenant_id, t[ledger.subject], t.week, t.status, t.attempts, t.claimed_at, t.next_attempt_at
    ).where(t.week.in_(sorted(set(weeks))), t.tenant_id.in_(list(tenant_ids)))
    return [DeliveryRow(*row) for row in await execute(session, query)]


async def claim_new(
    session: AsyncSession,
    ledger: Ledger,
    *,
    keys: Sequence[tuple[int, int, str]],
    token: str,
    now: dt.datetime,
) -> list[Claim]:
    """Create the rows for (tenant, subject, week) that nobody has created yet; return ours.

    The unique constraint is the arbiter: a row another sweep inserted first is
    skipped (ON CONFLICT DO NOTHING), so each key is claimed by exactly one sweep.
    Keys are inserted in one order so concurrent sweeps wait on each other instead
    of deadlocking on PostgreSQL.
    """
    if not keys:
        return []
    kind = dialect(session)
    t = ledger.table.c
    src = json_rows(
        kind,
        [{"t": tenant, "s": subject, "w": week} for tenant, subject, week in sorted(set(keys))],
        [("t", Integer), ("s", Integer), ("w", String)],
    )
    rows = select(
        src.c.t,
        src.c.s,
        src.c.w,
        literal(Status.CLAIMED.value, String),
        literal(1, Integer),
        literal(token, String),
        literal(now, UTCDateTime()),
        literal([], t.action_ids.type),
    ).where(true())  # SQLite needs a WHERE to read INSERT ... SELECT ... ON CONFLICT unambiguously
    stmt = (
        insert_for(kind)(ledger.table)
        .from_select(
            [
                "tenant_id",
                ledger.subject,
                "week",
                "status",
                "attempts",
                "claimed_by",
                "claimed_at",
                "action_ids",
            ],
            rows,
        )
        .on_conflict_do_nothing()
        .returning(t.id, t.tenant_id, t[ledger.subject], t.week, t.attempts)
    )
    return [Claim(*row) for row in await execute(session, stmt)]


def _claimable(ledger: Ledger, *, now: dt.datetime, stale_before: dt.datetime) -> Any:
    t = ledger.table.c
    ready = or_(t.next_attempt_at.is_(None), t.next_attempt_at <= now)
    return or_(
        and_(t.status.in_([Status.FAILED.value, Status.UNCERTAIN.value]), ready),
        and_(t.status == Status.CLAIMED.value, t.claimed_at < stale_before),
    )


async def claim_existing(
    session: AsyncSession,
    ledger: Ledger,
    *,
    ids: Sequence[int],
    token: str,
    now: dt.datetime,
    stale_before: dt.datetime,
) -> list[Claim]:
    """Take over rows that are due for another attempt: compare-and-set on their state.

    On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED first, so a sweep
    never waits on (or double-takes) a row another sweep is taking right now.
    """
    if not ids:
        return []
    t = ledger.table.c
    claimable = _claimable(ledger, now=now, stale_before=stale_before)
    locked = (
        select(t.id)
        .where(t.id.in_(id_list(dialect(session), ids)), claimable)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(ledger.table)
        .where(t.id.in_(locked), claimable)
        .values(status=Status.CLAIMED.value, claimed_by=token, claimed_at=now, attempts=t.attempts + 1)
        .returning(t.id, t.tenant_id, t[ledger.subject], t.week, t.attempts)
    )
    return [Claim(*row) for row in await execute(session, stmt)]


async def record_outcomes(
    session: AsyncSession, ledger: Ledger, *, token: str, outcomes: Sequence[Outcome]
) -> int:
    """Write what happened to our claims, in one batch; rows we no longer hold are left alone.

    The guard (still ours, still claimed) fences off a sweep whose claim expired
    and was taken over: its late result cannot overwrite the newer attempt.
    """
    if not outcomes:
        return 0
    t = ledger.table.c
    values: dict[str, Any] = {
        "status": bindparam("o_status"),
        "last_error": bindparam("o_error"),
        "next_attempt_at": bindparam("o_next", type_=UTCDateTime()),
        "sent_at": bindparam("o_sent", type_=UTCDateTime()),
        "action_ids": bindparam("o_actions", type_=t.action_ids.type),
        "attempts": t.attempts + bindparam("o_adjust", type_=Integer),
    }
    if "target" in t:
        values["target"] = bindparam("o_target")
    stmt = (
        update(ledger.table)
        .where(t.id == bindparam("o_id"), t.claimed_by == token, t.status == Status.CLAIMED.value)
        .values(**values)
    )
    params = [
        {
            "o_id": o.id,
            "o_status": o.status.value,
            "o_error": (o.error or None) and o.error[:2000],
            "o_next": o.next_attempt_at,
            "o_sent": o.sent_at,
            "o_actions": list(o.action_ids),
            "o_adjust": o.attempts_adjust,
            "o_target": o.target,
        }
        for o in outcomes
    ]
    result = await execute(session, stmt, params)
    return int(result.rowcount or 0)


async def release(session: AsyncSession, ledger: Ledger, *, token: str, ids: Sequence[int]) -> None:
    """Drop claims that turned out to have nothing to send (everything closed meanwhile)."""
    if not ids:
        return
    t = ledger.table.c
    await execute(
        session,
        delete(ledger.table).where(
            t.id.in_(id_list(dialect(session), ids)), t.claimed_by == token, t.status == Status.CLAIMED.value
        ),
    )
