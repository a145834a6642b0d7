"""Read-only queries over a tenant's published history, for the capability map and the ledger."""

from __future__ import annotations

from sqlalchemy import distinct, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, CaseStatus, Person, PreventionAction, RawAnswer


async def published_cases(session: AsyncSession, *, tenant_id: int, area: str | None = None) -> list[Case]:
    """Every published case of a tenant (of one area), oldest first."""
    query = select(Case).where(Case.tenant_id == tenant_id, Case.status == CaseStatus.PUBLISHED)
    if area is not None:
        query = query.where(Case.area == area)
    return list(await session.exec(query.order_by(col(Case.started_at), col(Case.number))))


async def actions_of_published_cases(
    session: AsyncSession, *, tenant_id: int
) -> list[tuple[int, PreventionAction]]:
    """(case number, action) for every action of a published case."""
    rows = await session.exec(
        select(Case.number, PreventionAction)
        .join(PreventionAction, col(PreventionAction.case_id) == col(Case.id))
        .where(Case.tenant_id == tenant_id, Case.status == CaseStatus.PUBLISHED)
        .order_by(col(Case.number), col(PreventionAction.number))
    )
    return [(number, action) for number, action in rows]


async def responders_per_case(session: AsyncSession, *, tenant_id: int) -> dict[int, int]:
    """{case id: how many people answered its interview}, for the cases with answers."""
    rows = await session.exec(
        select(RawAnswer.case_id, func.count(distinct(col(RawAnswer.responder_id))))
        .where(RawAnswer.tenant_id == tenant_id)
        .group_by(col(RawAnswer.case_id))
    )
    return {int(case_id): int(count) for case_id, count in rows}


async def find_person(session: AsyncSession, *, tenant_id: int, who: str) -> Person | None:
    """A person of the tenant by platform id, else by display name (ignoring case)."""
    exact = await session.exec(
        select(Person).where(Person.tenant_id == tenant_id, Person.platform_user_id == who)
    )
    found = exact.first()
    if found is not None:
        return found
    named = await session.exec(
        select(Person)
        .where(Person.tenant_id == tenant_id, func.lower(col(Person.display_name)) == who.lower())
        .order_by(col(Person.id))
    )
    return named.first()
