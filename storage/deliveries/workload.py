"""Who has open actions, and the rows a digest or an escalation lists.

Read in a few grouped queries whatever the number of owners: the sweep works out
in Python, per owner's timezone, whose digest is due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import UTCDateTime

from storage.deliveries.sql import dialect, execute, id_list, table
from storage.models import ActionStatus, Case, Conversation, Person, PreventionAction


def awake(snoozed_until: dt.date | None, day: dt.date) -> bool:
    """Not snoozed on `day`: a snooze ends on its date."""
    return snoozed_until is None or snoozed_until <= day


class OpenGroup(NamedTuple):
    """An owner's open actions that share a snooze date (None: not snoozed)."""

    snoozed_until: dt.date | None
    actions: int
    since: dt.datetime  # when the first of them became theirs (assigned_at)


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
        return any(awake(g.snoozed_until, today) and g.since <= slot_at for g in self.groups)


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
    issue_url: str | None = None

    def awake_on(self, day: dt.date) -> bool:
        return awake(self.snoozed_until, day)


class OverdueRow(NamedTuple):
    action: ActionRow
    owner_user_id: str | None
    owner_name: str | None
    lead_user_id: str | None
    conversation_key: str | None  # where the case's interview ran


async def owners_with_open_actions(session: AsyncSession, *, tenant_ids: Sequence[int]) -> list[OwnerRow]:
    """Everyone with at least one open action, grouped in the database by owner and snooze date."""
    if not tenant_ids:
        return []
    action = table(PreventionAction).c
    person = table(Person).c
    keys = (action.tenant_id, action.owner_id, person.platform_user_id, person.timezone)
    query = (
        select(
            *keys,
            action.snoozed_until,
            func.count(),
            func.min(func.coalesce(action.assigned_at, action.updated_at), type_=UTCDateTime()),
        )
        .join(table(Person), person.id == action.owner_id)
        .where(
            action.status == ActionStatus.OPEN,
            action.owner_id.is_not(None),
            action.tenant_id.in_(list(tenant_ids)),
        )
        .group_by(*keys, action.snoozed_until)
        .order_by(action.owner_id)
    )
    owners: list[OwnerRow] = []
    for tenant_id, owner_id, user_id, timezone, snoozed_until, count, since in await execute(session, query):
        group = OpenGroup(snoozed_until, count, since)
        if owners and owners[-1].owner_id == owner_id:
            owners[-1] = OwnerRow(tenant_id, owner_id, user_id, timezone, (*owners[-1].groups, group))
        else:
            owners.append(OwnerRow(tenant_id, owner_id, user_id, timezone, (group,)))
    return owners


def action_columns() -> list[Any]:
    """The columns of an ActionRow, in its order (joined to the action's case)."""
    a = table(PreventionAction).c
    c = table(Case).c
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
        a.issue_url,
    ]


async def open_actions_of(session: AsyncSession, *, owner_ids: Sequence[int]) -> list[ActionRow]:
    """The open actions of these owners, in one query, ordered for grouping per owner."""
    if not owner_ids:
        return []
    a = table(PreventionAction).c
    c = table(Case).c
    query = (
        select(*action_columns())
        .join(Case, c.id == a.case_id)
        .where(a.status == ActionStatus.OPEN, a.owner_id.in_(id_list(dialect(session), owner_ids)))
        .order_by(a.owner_id)
    )
    return [ActionRow._make(row) for row in await execute(session, query)]


async def overdue_actions(
    session: AsyncSession, *, tenant_ids: Sequence[int], due_on_or_before: dt.date
) -> list[OverdueRow]:
    """Open actions due on or before a date, with their owner, case lead and interview thread."""
    if not tenant_ids:
        return []
    a = table(PreventionAction).c
    c = table(Case).c
    conv = table(Conversation).c
    owner = table(Person).alias("owner")
    lead = table(Person).alias("lead")
    thread = (
        select(conv.conversation_key)
        .where(conv.case_id == a.case_id, conv.flow == "interview")
        .order_by(conv.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            *action_columns(),
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
        OverdueRow(ActionRow(*row[:11]), row[11], row[12], row[13], row[14])
        for row in await execute(session, query)
    ]
