"""Reminder bookkeeping: who has open actions, and the claims on weekly deliveries.

Set-based on purpose: a sweep issues a handful of statements whatever the number
of owners. A list of rows travels as ONE JSON parameter (json_each on SQLite,
jsonb_to_recordset on PostgreSQL), not as one statement or one bind per row.

A delivery row is the claim: its unique key (tenant, owner or case, ISO week)
means only one sweep can create it; later attempts move it on by compare-and-set
on its status, so two sweeps never hold the same row at once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    String,
    Table,
    and_,
    bindparam,
    column,
    delete,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import FromClause
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import UTCDateTime

from storage.models import (
    ActionStatus,
    Case,
    Conversation,
    Person,
    PreventionAction,
    ReminderDelivery,
    ReminderEscalation,
    ReminderSchedule,
    Tenant,
    utcnow,
)


class Status(StrEnum):
    CLAIMED = "claimed"  # a sweep holds it; expires after the claim TTL (a crashed sweep)
    SENT = "sent"
    FAILED = "failed"  # not delivered; retried after `next_attempt_at`
    UNCERTAIN = "uncertain"  # may have been delivered: only re-sent after the platform says it wasn't
    GAVE_UP = "gave_up"  # attempts exhausted or a permanent error; `last_error` says why


@dataclass(frozen=True)
class Ledger:
    """A table of weekly deliveries and the column naming what each is about."""

    table: Table
    subject: str  # "owner_id" (digests) or "case_id" (escalations)

    @property
    def name(self) -> str:
        return self.table.name


def _table(model: type[SQLModel]) -> Table:
    return SQLModel.metadata.tables[str(model.__tablename__)]


DIGESTS = Ledger(_table(ReminderDelivery), "owner_id")
ESCALATIONS = Ledger(_table(ReminderEscalation), "case_id")


class TenantRow(NamedTuple):
    id: int
    platform: str
    external_id: str
    weekday: int | None  # the tenant's own slot, when set in reminder_schedules
    at_time: str | None


class OpenGroup(NamedTuple):
    """An owner's open actions that share a snooze date (None: not snoozed)."""

    snoozed_until: dt.date | None
    actions: int
    since: dt.datetime  # the earliest last change among them: roughly when the first became theirs

    def awake_on(self, day: dt.date) -> bool:
        return self.snoozed_until is None or self.snoozed_until <= day  # a snooze ends on its date


class OwnerRow(NamedTuple):
    """One person with open actions: enough to tell whether their digest is due."""

    tenant_id: int
    owner_id: int
    user_id: str
    timezone: str | None
    groups: tuple[OpenGroup, ...]

    @property
    def open_count(self) -> int:
        return sum(g.actions for g in self.groups)

    def due(self, *, slot_at: dt.datetime, today: dt.date) -> bool:
        """Has an action awake today that was already theirs at the slot.

        An action that became theirs after this week's slot (a case published on
        Thursday, a reassignment) waits for the next slot: they were just told about
        it. One that existed at the slot is caught up even if the clock was down then.
        """
        return any(g.awake_on(today) and g.since <= slot_at for g in self.groups)


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


class ActionRow(NamedTuple):
    """An open action as a digest or an escalation shows it."""

    tenant_id: int
    owner_id: int | None
    action_id: int
    case_id: int
    case_number: int
    case_title: str | None
    number: int
    description: str
    due_date: dt.date | None
    snoozed_until: dt.date | None

    @property
    def ref(self) -> str:
        return f"{self.case_number}.{self.number}"


class OverdueRow(NamedTuple):
    action: ActionRow
    owner_user_id: str | None
    owner_name: str | None
    lead_user_id: str | None
    conversation_key: str | None  # where the case's interview ran


async def _exec(session: AsyncSession, statement: Any, params: Any = None) -> Any:
    """Run a Core statement on the session's connection: plain rows, no ORM loading on the way."""
    connection = await session.connection()
    return await connection.execute(statement, params)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _json_rows(
    dialect: str, rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, Any]]
) -> FromClause:
    """A list of dicts as a table, from a single bound JSON parameter."""
    payload = literal(json.dumps(list(rows)), String)
    if dialect == "postgresql":
        records = func.jsonb_to_recordset(sql_cast(payload, JSONB))
        return records.table_valued(*(column(name, kind) for name, kind in columns)).render_derived(
            name="src", with_types=True
        )
    each = func.json_each(payload).table_valued("value")
    fields = [
        sql_cast(func.json_extract(each.c.value, f"$.{name}"), kind).label(name) for name, kind in columns
    ]
    return select(*fields).select_from(each).subquery("src")


def _ids(dialect: str, ids: Sequence[int]) -> Any:
    src = _json_rows(dialect, [{"id": i} for i in ids], [("id", Integer)])
    return select(src.c.id).scalar_subquery()


def _insert(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


# --- what is due ----------------------------------------------------------------------


async def tenants(session: AsyncSession) -> list[TenantRow]:
    tenant, schedule = _table(Tenant).c, _table(ReminderSchedule).c
    query = (
        select(tenant.id, tenant.platform, tenant.external_id, schedule.weekday, schedule.at_time)
        .outerjoin(_table(ReminderSchedule), schedule.tenant_id == tenant.id)
        .order_by(tenant.id)
    )
    return [TenantRow(*row) for row in await _exec(session, query)]


async def owners_with_open_actions(session: AsyncSession, *, tenant_ids: Sequence[int]) -> list[OwnerRow]:
    """Everyone with at least one open action, grouped in the database by owner and snooze date."""
    if not tenant_ids:
        return []
    action = _table(PreventionAction).c
    person = _table(Person).c
    keys = (action.tenant_id, action.owner_id, person.platform_user_id, person.timezone)
    query = (
        select(*keys, action.snoozed_until, func.count(), func.min(action.updated_at, type_=UTCDateTime()))
        .join(_table(Person), person.id == action.owner_id)
        .where(
            action.status == ActionStatus.OPEN,
            action.owner_id.is_not(None),
            action.tenant_id.in_(list(tenant_ids)),
        )
        .group_by(*keys, action.snoozed_until)
        .order_by(action.owner_id)
    )
    owners: list[OwnerRow] = []
    for tenant_id, owner_id, user_id, timezone, snoozed_until, count, since in await _exec(session, query):
        group = OpenGroup(snoozed_until, count, since)
        if owners and owners[-1].owner_id == owner_id:
            owners[-1] = OwnerRow(tenant_id, owner_id, user_id, timezone, (*owners[-1].groups, group))
        else:
            owners.append(OwnerRow(tenant_id, owner_id, user_id, timezone, (group,)))
    return owners


async def rows_for_weeks(
    session: AsyncSession, ledger: Ledger, *, weeks: Iterable[str], tenant_ids: Sequence[int]
) -> list[DeliveryRow]:
    if not weeks or not tenant_ids:
        return []
    t = ledger.table.c
    query = select(
        t.id, t.tenant_id, t[ledger.subject], t.week, t.status, t.attempts, t.claimed_at, t.next_attempt_at
    ).where(t.week.in_(sorted(set(weeks))), t.tenant_id.in_(list(tenant_ids)))
    return [DeliveryRow(*row) for row in await _exec(session, query)]


# --- claims -----------------------------------------------------------------------------


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
    dialect = _dialect(session)
    t = ledger.table.c
    src = _json_rows(
        dialect,
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
        _insert(dialect)(ledger.table)
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
    return [Claim(*row) for row in await _exec(session, stmt)]


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
    dialect = _dialect(session)
    t = ledger.table.c
    claimable = _claimable(ledger, now=now, stale_before=stale_before)
    locked = (
        select(t.id)
        .where(t.id.in_(_ids(dialect, ids)), claimable)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(ledger.table)
        .where(t.id.in_(locked), claimable)
        .values(status=Status.CLAIMED.value, claimed_by=token, claimed_at=now, attempts=t.attempts + 1)
        .returning(t.id, t.tenant_id, t[ledger.subject], t.week, t.attempts)
    )
    return [Claim(*row) for row in await _exec(session, stmt)]


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
    result = await _exec(session, stmt, params)
    return int(result.rowcount or 0)


async def release(session: AsyncSession, ledger: Ledger, *, token: str, ids: Sequence[int]) -> None:
    """Drop claims that turned out to have nothing to send (everything closed meanwhile)."""
    if not ids:
        return
    t = ledger.table.c
    await _exec(
        session,
        delete(ledger.table).where(
            t.id.in_(_ids(_dialect(session), ids)), t.claimed_by == token, t.status == Status.CLAIMED.value
        ),
    )


# --- what to say ------------------------------------------------------------------------


def _action_columns() -> list[Any]:
    a = _table(PreventionAction).c
    c = _table(Case).c
    return [
        a.tenant_id,
        a.owner_id,
        a.id,
        a.case_id,
        c.number,
        c.title,
        a.number,
        a.description,
        a.due_date,
        a.snoozed_until,
    ]


async def open_actions_of(session: AsyncSession, *, owner_ids: Sequence[int]) -> list[ActionRow]:
    """The open actions of these owners, in one query, ordered for grouping per owner."""
    if not owner_ids:
        return []
    a = _table(PreventionAction).c
    c = _table(Case).c
    query = (
        select(*_action_columns())
        .join(Case, c.id == a.case_id)
        .where(a.status == ActionStatus.OPEN, a.owner_id.in_(_ids(_dialect(session), owner_ids)))
        .order_by(a.owner_id)
    )
    return [ActionRow._make(row) for row in await _exec(session, query)]


async def overdue_actions(
    session: AsyncSession, *, tenant_ids: Sequence[int], due_on_or_before: dt.date
) -> list[OverdueRow]:
    """Open actions due on or before a date, with their owner, case lead and interview thread."""
    if not tenant_ids:
        return []
    a = _table(PreventionAction).c
    c = _table(Case).c
    conv = _table(Conversation).c
    owner = _table(Person).alias("owner")
    lead = _table(Person).alias("lead")
    thread = (
        select(conv.conversation_key)
        .where(conv.case_id == a.case_id, conv.flow == "interview")
        .order_by(conv.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            *_action_columns(),
            owner.c.platform_user_id,
            owner.c.display_name,
            lead.c.platform_user_id,
            thread,
        )
        .join(Case, c.id == a.case_id)
        .outerjoin(owner, owner.c.id == a.owner_id)
        .outerjoin(lead, lead.c.id == c.lead_id)
        .where(
            a.status == ActionStatus.OPEN,
            a.due_date <= due_on_or_before,
            a.tenant_id.in_(list(tenant_ids)),
        )
        .order_by(a.case_id, a.due_date, a.number)
    )
    return [
        OverdueRow(ActionRow(*row[:10]), row[10], row[11], row[12], row[13])
        for row in await _exec(session, query)
    ]


# --- a tenant's own slot ------------------------------------------------------------------


async def schedule_of(session: AsyncSession, *, tenant_id: int) -> ReminderSchedule | None:
    return await session.get(ReminderSchedule, tenant_id)


async def set_schedule(
    session: AsyncSession, *, tenant_id: int, weekday: int, at_time: str, person_id: int | None
) -> None:
    row = await session.get(ReminderSchedule, tenant_id)
    if row is None:
        row = ReminderSchedule(tenant_id=tenant_id, weekday=weekday, at_time=at_time)
    row.weekday, row.at_time, row.updated_by_id, row.updated_at = weekday, at_time, person_id, utcnow()
    session.add(row)


async def clear_schedule(session: AsyncSession, *, tenant_id: int) -> None:
    row = await session.get(ReminderSchedule, tenant_id)
    if row is not None:
        await session.delete(row)
        await session.flush()  # so that a `get` in this transaction no longer finds it
