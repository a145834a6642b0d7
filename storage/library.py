"""Queries of the web case library: filtered, paginated listings of one tenant's cases and actions.

Search ranking is storage.search's (the same as `similar`); this module filters and pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import case, exists, func, literal_column, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import ActionStatus, Case, Person, PreventionAction, RawAnswer, Tenant, UserAlias
from storage.search import ranked_case_ids

T = TypeVar("T")
SEARCH_LIMIT = 500  # a search lists at most this many ranked cases


@dataclass(frozen=True)
class CaseFilters:
    query: str = ""
    status: str | None = None
    severity: str | None = None
    area: str | None = None
    service: str | None = None
    since: dt.datetime | None = None  # started at or after
    until: dt.datetime | None = None  # started before
    lead_id: int | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class CaseRow:
    case: Case
    open_actions: int
    lead: Person | None
    score: float | None = None


@dataclass(frozen=True)
class ActionFilters:
    status: str | None = ActionStatus.OPEN
    owner_id: int | None = None
    overdue_on: dt.date | None = None  # due before this day (and still open)
    area: str | None = None
    case_number: int | None = None


@dataclass(frozen=True)
class ActionRow:
    case: Case
    action: PreventionAction
    owner: Person | None


@dataclass
class PersonFigures:
    open: int = 0
    overdue: int = 0
    done: int = 0
    done_on_time: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _service_clause(session: AsyncSession, service: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        contains = text("cases.services @> jsonb_build_array(CAST(:service AS text))")
        return contains.bindparams(service=service)  # type: ignore[return-value]
    return exists(
        select(literal_column("1"))
        .select_from(func.json_each(col(Case.services)))
        .where(literal_column("value") == service)
    )


def _case_clauses(session: AsyncSession, tenant_id: int, filters: CaseFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [col(Case.tenant_id) == tenant_id]
    for column, value in (
        (Case.status, filters.status),
        (Case.severity, filters.severity),
        (Case.area, filters.area),
        (Case.lead_id, filters.lead_id),
    ):
        if value is not None:
            clauses.append(col(column) == value)
    if filters.service:
        clauses.append(_service_clause(session, filters.service))
    if filters.since is not None:
        clauses.append(col(Case.started_at) >= filters.since)
    if filters.until is not None:
        clauses.append(col(Case.started_at) < filters.until)
    return clauses


async def list_cases(
    session: AsyncSession, *, tenant_id: int, filters: CaseFilters, page: int, per_page: int
) -> Page[CaseRow]:
    """Newest first; with a search text, by rank among the SEARCH_LIMIT best published matches."""
    clauses = _case_clauses(session, tenant_id, filters)
    query = select(Case).where(*clauses)
    scores: dict[int, float] = {}
    if filters.query.strip():
        # The ranking's ids, narrowed by the filters in SQL (ids only), then one page of rows.
        ranked = await ranked_case_ids(session, tenant_id=tenant_id, query=filters.query, limit=SEARCH_LIMIT)
        scores = dict(ranked)
        kept = set(await session.exec(select(Case.id).where(*clauses, col(Case.id).in_(list(scores)))))
        ordered = [case_id for case_id, _ in ranked if case_id in kept]
        total, shown = len(ordered), ordered[(page - 1) * per_page : page * per_page]
        by_id = {c.id: c for c in await session.exec(select(Case).where(col(Case.id).in_(shown)))}
        cases = [by_id[case_id] for case_id in shown if case_id in by_id]
    else:
        count = select(func.count()).select_from(query.subquery())
        total = int((await session.exec(count)).one())
        newest = query.order_by(col(Case.number).desc()).offset((page - 1) * per_page).limit(per_page)
        cases = list(await session.exec(newest))
    open_counts = await _open_counts(session, tenant_id=tenant_id, case_ids=[c.id for c in cases if c.id])
    leads = await _people(session, tenant_id=tenant_id, ids=[c.lead_id for c in cases if c.lead_id])
    rows = [
        CaseRow(c, open_counts.get(c.id or 0, 0), leads.get(c.lead_id or 0), scores.get(c.id or 0))
        for c in cases
    ]
    return Page(rows, total, page, per_page)


async def _open_counts(session: AsyncSession, *, tenant_id: int, case_ids: list[int]) -> dict[int, int]:
    if not case_ids:
        return {}
    rows = await session.exec(
        select(PreventionAction.case_id, func.count())
        .where(
            PreventionAction.tenant_id == tenant_id,
            PreventionAction.status == ActionStatus.OPEN,
            col(PreventionAction.case_id).in_(case_ids),
        )
        .group_by(col(PreventionAction.case_id))
    )
    return {case_id: int(count) for case_id, count in rows}


async def _people(session: AsyncSession, *, tenant_id: int, ids: Sequence[int]) -> dict[int, Person]:
    if not ids:
        return {}
    rows = await session.exec(
        select(Person).where(Person.tenant_id == tenant_id, col(Person.id).in_(set(ids)))
    )
    return {p.id: p for p in rows if p.id is not None}


async def people(session: AsyncSession, *, tenant_id: int) -> list[Person]:
    rows = await session.exec(
        select(Person).where(Person.tenant_id == tenant_id).order_by(col(Person.display_name), col(Person.id))
    )
    return list(rows)


async def person(session: AsyncSession, *, tenant_id: int, person_id: int) -> Person | None:
    found = await _people(session, tenant_id=tenant_id, ids=[person_id])
    return found.get(person_id)


async def person_by_user_id(session: AsyncSession, *, tenant_id: int, user_id: str) -> Person | None:
    return (
        await session.exec(
            select(Person).where(Person.tenant_id == tenant_id, Person.platform_user_id == user_id)
        )
    ).first()


def _action_query(tenant_id: int, filters: ActionFilters) -> SelectOfScalar[tuple[Case, PreventionAction]]:
    query = (
        select(Case, PreventionAction)
        .join(PreventionAction, col(PreventionAction.case_id) == col(Case.id))
        .where(
            PreventionAction.tenant_id == tenant_id,
            PreventionAction.status != ActionStatus.DRAFT,
        )
    )
    if filters.status is not None:
        query = query.where(PreventionAction.status == filters.status)
    if filters.owner_id is not None:
        query = query.where(PreventionAction.owner_id == filters.owner_id)
    if filters.area is not None:
        query = query.where(Case.area == filters.area)
    if filters.case_number is not None:
        query = query.where(Case.number == filters.case_number)
    if filters.overdue_on is not None:
        query = query.where(
            PreventionAction.status == ActionStatus.OPEN, col(PreventionAction.due_date) < filters.overdue_on
        )
    return query  # type: ignore[return-value]


async def list_actions(
    session: AsyncSession, *, tenant_id: int, filters: ActionFilters, page: int, per_page: int
) -> Page[ActionRow]:
    """By due date (undated last), then case and action number."""
    query = _action_query(tenant_id, filters)
    total = int((await session.exec(select(func.count()).select_from(query.subquery()))).one())
    ordered = (
        query.order_by(
            col(PreventionAction.due_date).is_(None),
            col(PreventionAction.due_date),
            col(Case.number),
            col(PreventionAction.number),
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    pairs = [(c, a) for c, a in await session.exec(ordered)]
    owners = await _people(session, tenant_id=tenant_id, ids=[a.owner_id for _, a in pairs if a.owner_id])
    rows = [ActionRow(c, a, owners.get(a.owner_id or 0)) for c, a in pairs]
    return Page(rows, total, page, per_page)


async def answer_authors(
    session: AsyncSession, *, tenant_id: int, answers: list[RawAnswer]
) -> dict[int, Person]:
    return await _people(session, tenant_id=tenant_id, ids=[a.responder_id for a in answers])


async def person_figures(
    session: AsyncSession, *, tenant_id: int, person_id: int, today: dt.date
) -> PersonFigures:
    """The person's own ledger: their actions by status, overdue ones, and closures on time."""
    rows = await session.exec(
        select(  # type: ignore[type-var]
            PreventionAction.status, PreventionAction.due_date, PreventionAction.closed_at
        ).where(
            PreventionAction.tenant_id == tenant_id,
            PreventionAction.owner_id == person_id,
            PreventionAction.status != ActionStatus.DRAFT,
        )
    )
    figures = PersonFigures()
    for status, due, closed_at in rows:
        figures.by_status[status] = figures.by_status.get(status, 0) + 1
        if status == ActionStatus.OPEN:
            figures.open += 1
            figures.overdue += int(due is not None and due < today)
        elif status == ActionStatus.DONE:
            figures.done += 1
            figures.done_on_time += int(due is None or (closed_at is not None and closed_at.date() <= due))
    return figures


async def distinct_services(session: AsyncSession, *, tenant_id: int, limit: int = 200) -> list[str]:
    """The services named by the tenant's most recent cases, for the filter's choices."""
    rows = await session.exec(
        select(Case.services)
        .where(Case.tenant_id == tenant_id)
        .order_by(col(Case.number).desc())
        .limit(limit)
    )
    return sorted({s for services in rows for s in services or ()})


@dataclass(frozen=True)
class OpenSummary:
    """Open and overdue actions counted by owner (person id, None: unassigned) and by area."""

    by_owner: list[tuple[Person | None, int, int]]
    by_area: list[tuple[str, int, int]]


async def open_summary(session: AsyncSession, *, tenant_id: int, today: dt.date) -> OpenSummary:
    overdue = func.sum(case((col(PreventionAction.due_date) < today, 1), else_=0))
    base = (
        select(PreventionAction.owner_id, Case.area, func.count(), overdue)
        .join(Case, col(Case.id) == col(PreventionAction.case_id))
        .where(PreventionAction.tenant_id == tenant_id, PreventionAction.status == ActionStatus.OPEN)
        .group_by(col(PreventionAction.owner_id), col(Case.area))
    )
    owners: dict[int | None, list[int]] = {}
    areas: dict[str, list[int]] = {}
    for owner_id, area, count, late in await session.exec(base):
        for totals in (owners.setdefault(owner_id, [0, 0]), areas.setdefault(area or "other", [0, 0])):
            totals[0] += int(count)
            totals[1] += int(late or 0)
    people = await _people(session, tenant_id=tenant_id, ids=[k for k in owners if k is not None])
    by_owner = sorted(
        ((people.get(k) if k is not None else None, v[0], v[1]) for k, v in owners.items()),
        key=lambda row: (-row[2], -row[1]),
    )
    by_area = sorted(((k, v[0], v[1]) for k, v in areas.items()), key=lambda row: (-row[2], -row[1], row[0]))
    return OpenSummary(by_owner, by_area)


async def tenant_by_external_id(session: AsyncSession, *, platform: str, external_id: str) -> Tenant | None:
    """A tenant the bots already serve; never created from here."""
    return (
        await session.exec(
            select(Tenant).where(Tenant.platform == platform, Tenant.external_id == external_id)
        )
    ).first()


async def user_id_for_alias(session: AsyncSession, *, tenant_id: int, alias: str) -> str | None:
    """The platform user id behind another id of a person (Teams: the Entra object id)."""
    found = (
        await session.exec(
            select(UserAlias).where(UserAlias.tenant_id == tenant_id, UserAlias.alias == alias)
        )
    ).first()
    return found.user_id if found else None
