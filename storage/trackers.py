"""Queries for tracker sync: the workspace's tracker, the issue rows, their claims and leases.

A row of tracker_issues is claimed (inserted under its unique key, or leased by a
compare-and-set on `lease_until`) and committed before any call to the tracker, so two
clocks, a retry or a restart never work on the same action at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ActionStatus,
    Case,
    CaseStatus,
    Person,
    PreventionAction,
    Tenant,
    TrackerConfig,
    TrackerIssue,
)
from storage.repo import insert_for


class IssueState:
    CLAIMED = "claimed"  # a create is under way (or its worker died: the lease tells)
    FAILED = "failed"  # the last create failed; retried after next_attempt_at
    LINKED = "linked"  # the issue exists; issue_key / issue_url are set


CLAIM_CHUNK = 200  # rows per INSERT: well under SQLite's bound-parameter limit


# --- the workspace's tracker --------------------------------------------------------------


async def config_of(session: AsyncSession, *, tenant_id: int) -> TrackerConfig | None:
    return await session.get(TrackerConfig, tenant_id)


async def set_config(
    session: AsyncSession, *, tenant_id: int, kind: str, target: str, person_id: int | None, now: dt.datetime
) -> TrackerConfig:
    found = await session.get(TrackerConfig, tenant_id)
    if found is None:
        found = TrackerConfig(tenant_id=tenant_id, kind=kind, target=target, set_at=now)
    elif (found.kind, found.target) != (kind, target):
        found.reconciled_at = None  # a new destination: its closed issues are pulled from now on
    found.kind, found.target, found.set_by_id, found.set_at = kind, target, person_id, now
    session.add(found)
    await session.flush()
    return found


async def clear_config(session: AsyncSession, *, tenant_id: int) -> bool:
    result = await session.exec(delete(TrackerConfig).where(col(TrackerConfig.tenant_id) == tenant_id))
    return bool(result.rowcount)


@dataclass(frozen=True)
class Destination:
    """A tenant with a tracker, as a sync pass sees it."""

    tenant_id: int
    platform: str
    external_id: str
    kind: str
    target: str
    set_at: dt.datetime
    reconciled_at: dt.datetime | None


async def destinations(
    session: AsyncSession, *, kinds: Sequence[str], tenant_id: int | None = None
) -> list[Destination]:
    query = (
        select(TrackerConfig, Tenant)
        .join(Tenant, col(Tenant.id) == TrackerConfig.tenant_id)
        .where(col(TrackerConfig.kind).in_(list(kinds)))
    )
    if tenant_id is not None:
        query = query.where(TrackerConfig.tenant_id == tenant_id)
    rows = await session.exec(query)
    return [
        Destination(c.tenant_id, t.platform, t.external_id, c.kind, c.target, c.set_at, c.reconciled_at)
        for c, t in rows
    ]


async def mark_reconciled(
    session: AsyncSession, *, tenant_id: int, kind: str, target: str, at: dt.datetime
) -> None:
    await session.exec(
        update(TrackerConfig)
        .where(
            col(TrackerConfig.tenant_id) == tenant_id,
            col(TrackerConfig.kind) == kind,
            col(TrackerConfig.target) == target,
        )
        .values(reconciled_at=at)
    )


# --- creates: find, claim, lease ----------------------------------------------------------


def _open_published() -> Any:
    return and_(
        col(PreventionAction.status) == ActionStatus.OPEN,
        col(Case.status) == CaseStatus.PUBLISHED,
    )


async def actions_without_issue(
    session: AsyncSession, *, destination: Destination
) -> list[tuple[int, int, int]]:
    """(action id, case number, action number) of the open actions of published cases in the
    tenant with no row for its tracker yet."""
    has_row = (
        select(TrackerIssue.id)
        .where(
            col(TrackerIssue.action_id) == PreventionAction.id,
            col(TrackerIssue.kind) == destination.kind,
            col(TrackerIssue.target) == destination.target,
        )
        .exists()
    )
    query = (
        select(PreventionAction.id, Case.number, PreventionAction.number)
        .join(Case, col(Case.id) == PreventionAction.case_id)
        .where(PreventionAction.tenant_id == destination.tenant_id, _open_published(), ~has_row)
        .order_by(col(PreventionAction.id))
    )
    return [(a or 0, c, n) for a, c, n in await session.exec(query)]


async def claim_new(
    session: AsyncSession,
    *,
    destination: Destination,
    markers: dict[int, str],
    token: str,
    now: dt.datetime,
    lease_until: dt.datetime,
) -> list[int]:
    """Insert a claimed row per action (ON CONFLICT DO NOTHING): the ids of the rows we won."""
    insert = insert_for(session.get_bind().dialect.name)
    won: list[int] = []
    items = list(markers.items())
    for start in range(0, len(items), CLAIM_CHUNK):
        values = [
            {
                "tenant_id": destination.tenant_id,
                "action_id": action_id,
                "kind": destination.kind,
                "target": destination.target,
                "marker": marker,
                "state": IssueState.CLAIMED,
                "lease_token": token,
                "lease_until": lease_until,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for action_id, marker in items[start : start + CLAIM_CHUNK]
        ]
        statement = insert(TrackerIssue).values(values).on_conflict_do_nothing().returning(TrackerIssue.id)
        won += [row[0] for row in await session.exec(statement)]
    return won


def _lease_free(now: dt.datetime) -> Any:
    return or_(col(TrackerIssue.lease_until).is_(None), col(TrackerIssue.lease_until) < now)


def _attempt_due(now: dt.datetime) -> Any:
    return or_(col(TrackerIssue.next_attempt_at).is_(None), col(TrackerIssue.next_attempt_at) <= now)


async def creates_to_retry(session: AsyncSession, *, destination: Destination, now: dt.datetime) -> list[int]:
    """Rows whose create failed and is due again, or whose worker died holding the claim."""
    query = select(TrackerIssue.id).where(
        TrackerIssue.tenant_id == destination.tenant_id,
        TrackerIssue.kind == destination.kind,
        TrackerIssue.target == destination.target,
        col(TrackerIssue.state).in_([IssueState.CLAIMED, IssueState.FAILED]),
        _lease_free(now),
        _attempt_due(now),
    )
    return [i for i in await session.exec(query) if i is not None]


async def lease(
    session: AsyncSession, *, ids: Sequence[int], token: str, now: dt.datetime, until: dt.datetime
) -> list[int]:
    """Compare-and-set: take the rows whose lease is free; the ids we got."""
    if not ids:
        return []
    result = await session.exec(
        update(TrackerIssue)
        .where(col(TrackerIssue.id).in_(list(ids)), _lease_free(now))
        .values(lease_token=token, lease_until=until, updated_at=now)
        .returning(col(TrackerIssue.id))
    )
    return [row[0] for row in result]


@dataclass(frozen=True)
class WorkItem:
    """A leased row with what its issue says: the action, its case and the people around it."""

    row: TrackerIssue
    action: PreventionAction
    case: Case
    people: dict[int, Person]

    def person(self, person_id: int | None) -> Person | None:
        return self.people.get(person_id) if person_id is not None else None


async def work_items(session: AsyncSession, *, ids: Sequence[int]) -> list[WorkItem]:
    if not ids:
        return []
    query = (
        select(TrackerIssue, PreventionAction, Case)
        .join(PreventionAction, col(PreventionAction.id) == TrackerIssue.action_id)
        .join(Case, col(Case.id) == PreventionAction.case_id)
        .where(col(TrackerIssue.id).in_(list(ids)))
        .order_by(col(TrackerIssue.id))
    )
    rows = list(await session.exec(query))
    wanted = {p for _, a, c in rows for p in (a.owner_id, a.closed_by_id, c.lead_id) if p is not None}
    people: dict[int, Person] = {}
    if wanted:
        found = await session.exec(select(Person).where(col(Person.id).in_(wanted)))
        people = {p.id: p for p in found if p.id is not None}
    return [WorkItem(r, a, c, people) for r, a, c in rows]


async def record_linked(
    session: AsyncSession,
    *,
    row_id: int,
    action_id: int,
    issue_key: str,
    issue_url: str,
    synced: Synced,
    now: dt.datetime,
) -> None:
    await session.exec(
        update(TrackerIssue)
        .where(col(TrackerIssue.id) == row_id)
        .values(
            state=IssueState.LINKED,
            issue_key=issue_key,
            issue_url=issue_url,
            lease_token=None,
            lease_until=None,
            next_attempt_at=None,
            last_error=None,
            attempts=TrackerIssue.attempts + 1,
            synced_status=synced.status,
            synced_due=synced.due,
            synced_owner_id=synced.owner_id,
            updated_at=now,
        )
    )
    await session.exec(
        update(PreventionAction).where(col(PreventionAction.id) == action_id).values(issue_url=issue_url)
    )


async def record_failure(
    session: AsyncSession,
    *,
    row_id: int,
    error: str,
    next_attempt_at: dt.datetime,
    now: dt.datetime,
    create: bool,
) -> None:
    """A failed create (state failed) or push (stays linked): why, and not before when."""
    values: dict[str, Any] = {
        "lease_token": None,
        "lease_until": None,
        "last_error": error[:2000],
        "next_attempt_at": next_attempt_at,
        "attempts": TrackerIssue.attempts + 1,
        "updated_at": now,
    }
    if create:
        values["state"] = IssueState.FAILED
    await session.exec(update(TrackerIssue).where(col(TrackerIssue.id) == row_id).values(**values))


async def release(session: AsyncSession, *, ids: Sequence[int], token: str, now: dt.datetime) -> None:
    """Give back leases not worked on (a tracker that stopped answering mid-pass)."""
    if ids:
        await session.exec(
            update(TrackerIssue)
            .where(col(TrackerIssue.id).in_(list(ids)), col(TrackerIssue.lease_token) == token)
            .values(lease_token=None, lease_until=None, updated_at=now)
        )


# --- pushes: what changed in Casebook since the tracker last saw it -----------------------


@dataclass(frozen=True)
class Synced:
    """What the tracker last saw of an action."""

    status: str
    due: dt.date | None
    owner_id: int | None


async def linked_open(
    session: AsyncSession, *, destination: Destination, now: dt.datetime
) -> list[tuple[int, PreventionAction, TrackerIssue]]:
    """Linked rows the tracker still sees open, due for work, with their action."""
    query = (
        select(TrackerIssue, PreventionAction)
        .join(PreventionAction, col(PreventionAction.id) == TrackerIssue.action_id)
        .where(
            TrackerIssue.tenant_id == destination.tenant_id,
            TrackerIssue.kind == destination.kind,
            TrackerIssue.target == destination.target,
            TrackerIssue.state == IssueState.LINKED,
            TrackerIssue.synced_status == ActionStatus.OPEN,
            _lease_free(now),
            _attempt_due(now),
        )
    )
    return [(r.id or 0, a, r) for r, a in await session.exec(query)]


async def record_pushed(session: AsyncSession, *, row_id: int, synced: Synced, now: dt.datetime) -> None:
    await session.exec(
        update(TrackerIssue)
        .where(col(TrackerIssue.id) == row_id)
        .values(
            synced_status=synced.status,
            synced_due=synced.due,
            synced_owner_id=synced.owner_id,
            lease_token=None,
            lease_until=None,
            next_attempt_at=None,
            last_error=None,
            updated_at=now,
        )
    )


async def rows_by_issue(session: AsyncSession, *, kind: str, issue_keys: Sequence[str]) -> list[TrackerIssue]:
    """The rows of issues a tracker names (a webhook, a reconciliation), in every tenant."""
    if not issue_keys:
        return []
    query = select(TrackerIssue).where(
        TrackerIssue.kind == kind,
        col(TrackerIssue.issue_key).in_(list(issue_keys)),
        TrackerIssue.state == IssueState.LINKED,
    )
    return list(await session.exec(query))


# --- status -------------------------------------------------------------------------------


async def published_actions(
    session: AsyncSession, *, destination: Destination
) -> list[tuple[PreventionAction, Case, TrackerIssue | None]]:
    """Every action of the tenant's published cases, with its row for the destination if any."""
    query = (
        select(PreventionAction, Case, TrackerIssue)
        .join(Case, col(Case.id) == PreventionAction.case_id)
        .outerjoin(
            TrackerIssue,
            and_(
                col(TrackerIssue.action_id) == PreventionAction.id,
                col(TrackerIssue.kind) == destination.kind,
                col(TrackerIssue.target) == destination.target,
            ),
        )
        .where(PreventionAction.tenant_id == destination.tenant_id, col(Case.status) == CaseStatus.PUBLISHED)
        .order_by(col(Case.number), col(PreventionAction.number))
    )
    return [(a, c, r) for a, c, r in await session.exec(query)]
