"""The monthly report's rows: where each tenant's report goes, and one claimed row per month.

A report is claimed by inserting (tenant, channel, month) under its unique constraint before anything is
sent, so two clocks, a restart or a missed tick never post it twice.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import MonthlyReport, ReportChannel, Tenant
from storage.repo import insert_for

MONTHLY = "monthly"


class Destination(NamedTuple):
    tenant_id: int
    platform: str
    tenant: str  # the platform's tenant id
    conversation_key: str
    chosen_at: dt.datetime


async def choose_channel(
    session: AsyncSession, *, tenant_id: int, conversation_key: str, person_id: int | None, now: dt.datetime
) -> None:
    """Send the tenant's monthly report to this conversation from now on (replacing the last choice)."""
    found = (
        await session.exec(
            select(ReportChannel).where(
                ReportChannel.tenant_id == tenant_id, ReportChannel.cadence == MONTHLY
            )
        )
    ).first()
    row = found or ReportChannel(
        tenant_id=tenant_id, cadence=MONTHLY, conversation_key=conversation_key, chosen_at=now
    )
    row.conversation_key, row.chosen_by_id, row.chosen_at = conversation_key, person_id, now
    session.add(row)


async def stop_reports(session: AsyncSession, *, tenant_id: int) -> bool:
    found = (
        await session.exec(
            select(ReportChannel).where(
                ReportChannel.tenant_id == tenant_id, ReportChannel.cadence == MONTHLY
            )
        )
    ).first()
    if found is None:
        return False
    await session.delete(found)
    return True


async def destinations(session: AsyncSession) -> list[Destination]:
    rows = await session.exec(
        select(ReportChannel, Tenant)
        .join(Tenant, col(Tenant.id) == col(ReportChannel.tenant_id))
        .where(ReportChannel.cadence == MONTHLY)
        .order_by(col(ReportChannel.tenant_id))
    )
    return [
        Destination(
            channel.tenant_id,
            tenant.platform,
            tenant.external_id,
            channel.conversation_key,
            channel.chosen_at,
        )
        for channel, tenant in rows
    ]


async def claim(
    session: AsyncSession, *, destination: Destination, month: str, now: dt.datetime
) -> int | None:
    """Claim the tenant's report of `month` for its channel: its row id, or None when it was
    claimed already (then a failed send is claimed again; a sent or uncertain one never)."""
    await session.exec(
        insert_for(session.get_bind().dialect.name)(MonthlyReport)
        .values(
            tenant_id=destination.tenant_id,
            month=month,
            conversation_key=destination.conversation_key,
            status="new",
            claimed_at=now,
        )
        .on_conflict_do_nothing()
    )
    row = (
        await session.exec(
            select(MonthlyReport).where(
                MonthlyReport.tenant_id == destination.tenant_id,
                MonthlyReport.conversation_key == destination.conversation_key,
                MonthlyReport.month == month,
            )
        )
    ).one()
    assert row.id is not None
    taken = await session.exec(
        update(MonthlyReport)
        .where(col(MonthlyReport.id) == row.id, col(MonthlyReport.status).in_(("new", "failed")))
        .values(status="claimed", claimed_at=now)
    )
    return row.id if taken.rowcount == 1 else None


async def record(
    session: AsyncSession, *, report_id: int, status: str, now: dt.datetime, error: str | None = None
) -> None:
    await session.exec(
        update(MonthlyReport)
        .where(col(MonthlyReport.id) == report_id)
        .values(status=status, sent_at=now if status == "sent" else None, last_error=error)
    )
