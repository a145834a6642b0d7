"""Load a tenant's history and build the capability map or the value ledger from it."""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.insights import capability_map, ledger, person
from storage import history


async def build_map(
    session: AsyncSession, *, tenant_id: int, area: str | None = None
) -> capability_map.CapabilityMap:
    # Every area, even for one: an area's distinctive symptoms are measured against the others.
    cases = await history.published_cases(session, tenant_id=tenant_id)
    return capability_map.build(cases, area=area)


async def build_ledger(
    session: AsyncSession, *, tenant_id: int, window: ledger.Window, today: dt.date
) -> ledger.Ledger:
    cases = await history.published_cases(session, tenant_id=tenant_id)
    actions = await history.actions_of_published_cases(session, tenant_id=tenant_id)
    responders = await history.responders_per_case(session, tenant_id=tenant_id)
    return ledger.compute(cases, actions, window=window, today=today, responders=responders)


async def build_person_ledger(
    session: AsyncSession, *, tenant_id: int, who: str, today: dt.date
) -> person.PersonLedger | None:
    """`who`: a platform user id or a display name; None when nobody here is called that."""
    found = await history.find_person(session, tenant_id=tenant_id, who=who)
    if found is None:
        return None
    cases = await history.published_cases(session, tenant_id=tenant_id)
    actions = await history.actions_of_published_cases(session, tenant_id=tenant_id)
    return person.compute(found, cases, actions, today=today)
