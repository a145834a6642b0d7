"""When each tenant's weekly digest comes: its own slot (reminder_schedules) or the default."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.deliveries.sql import execute, table
from storage.models import ReminderSchedule, Tenant


class TenantRow(NamedTuple):
    id: int
    platform: str
    external_id: str
    weekday: int | None  # the tenant's own slot, when set in reminder_schedules
    at_time: str | None


async def tenants(session: AsyncSession) -> list[TenantRow]:
    """Every tenant with its own slot, if it set one."""
    tenant, schedule = table(Tenant).c, table(ReminderSchedule).c
    query = (
        select(tenant.id, tenant.platform, tenant.external_id, schedule.weekday, schedule.at_time)
        .outerjoin(table(ReminderSchedule), schedule.tenant_id == tenant.id)
        .order_by(tenant.id)
    )
    return [TenantRow(*row) for row in await execute(session, query)]


async def schedule_of(session: AsyncSession, *, tenant_id: int) -> ReminderSchedule | None:
    return await session.get(ReminderSchedule, tenant_id)


async def set_schedule(
    session: AsyncSession,
    *,
    tenant_id: int,
    weekday: int,
    at_time: str,
    person_id: int | None,
    now: dt.datetime,
) -> None:
    row = await session.get(ReminderSchedule, tenant_id)
    if row is None:
        row = ReminderSchedule(tenant_id=tenant_id, weekday=weekday, at_time=at_time, updated_at=now)
    row.weekday, row.at_time, row.updated_by_id, row.updated_at = weekday, at_time, person_id, now
    session.add(row)


async def clear_schedule(session: AsyncSession, *, tenant_id: int) -> None:
    row = await session.get(ReminderSchedule, tenant_id)
    if row is not None:
        await session.delete(row)
        await session.flush()  # so that a `get` in this transaction no longer finds it
