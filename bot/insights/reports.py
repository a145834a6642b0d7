"""Load a tenant's history and build the capability map or the value ledger from it."""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.insights import capability_map, ledger
from storage import history


async def build_map(
    session: AsyncSession, *, tenant_id: int, area: str | None = None
) -> capability_map.CapabilityMap:
    cases = await history.published_cases(session, tenant_id=tenant_id, area=area)
    return capability_map.build(cases, area=area)


async def build_ledger(
    session: AsyncSession, *, tenant_id: int, window: ledger.Window, today: dt.date
) -> ledger.Ledger:
    cases = await history.published_cases(session, tenant_id=tenant_id)
    actions = await history.actions_of_published_cases(session, tenant_id=tenant_id)
    return ledger.compute(cases, actions, window=window, today=today)
