"""Queries for the actions a model suggests. Tenant-scoped, like storage.repo."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ActionSuggestion, Case, PreventionAction, SuggestionStatus


async def of_case(
    session: AsyncSession, *, tenant_id: int, case_id: int, statuses: Sequence[str] | None = None
) -> list[ActionSuggestion]:
    query = select(ActionSuggestion).where(
        ActionSuggestion.tenant_id == tenant_id, ActionSuggestion.case_id == case_id
    )
    if statuses:
        query = query.where(col(ActionSuggestion.status).in_(statuses))
    return list(await session.exec(query.order_by(col(ActionSuggestion.number))))


async def by_ref(
    session: AsyncSession, *, tenant_id: int, case_number: int, number: int
) -> tuple[Case, ActionSuggestion] | None:
    row = (
        await session.exec(
            select(Case, ActionSuggestion)
            .join(ActionSuggestion, col(ActionSuggestion.case_id) == col(Case.id))
            .where(
                Case.tenant_id == tenant_id,
                Case.number == case_number,
                ActionSuggestion.number == number,
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def supersede_pending(session: AsyncSession, *, tenant_id: int, case_id: int, now: dt.datetime) -> None:
    """A new draft replaces the suggestions nobody has decided on yet."""
    await session.exec(
        update(ActionSuggestion)
        .where(
            col(ActionSuggestion.tenant_id) == tenant_id,
            col(ActionSuggestion.case_id) == case_id,
            col(ActionSuggestion.status) == SuggestionStatus.PENDING,
        )
        .values(status=SuggestionStatus.SUPERSEDED, decided_at=now)
        .execution_options(synchronize_session=False)
    )


async def next_number(session: AsyncSession, *, case_id: int) -> int:
    current = (
        await session.exec(
            select(func.max(ActionSuggestion.number)).where(ActionSuggestion.case_id == case_id)
        )
    ).one()
    return int(current or 0) + 1


async def next_action_number(session: AsyncSession, *, case_id: int) -> int:
    current = (
        await session.exec(
            select(func.max(PreventionAction.number)).where(PreventionAction.case_id == case_id)
        )
    ).one()
    return int(current or 0) + 1


async def decide(
    session: AsyncSession,
    suggestion: ActionSuggestion,
    *,
    status: str,
    by_id: int | None,
    now: dt.datetime,
    reason: str | None = None,
) -> bool:
    """Pending -> accepted | dropped, compare-and-set: of two clicks at once, one wins."""
    result = await session.exec(
        update(ActionSuggestion)
        .where(
            col(ActionSuggestion.id) == suggestion.id,
            col(ActionSuggestion.status) == SuggestionStatus.PENDING,
        )
        .values(status=status, decided_by_id=by_id, decided_at=now, reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)
