"""One transaction in a Teams tenant's rows: what every adapter-side read and write needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.teams.inbound import PLATFORM
from storage import repo
from storage.db import Database
from storage.models import utcnow


@asynccontextmanager
async def tenant_session(db: Database, tenant: str) -> AsyncIterator[tuple[AsyncSession, int]]:
    """The session and the tenant's row id (the row is created on first sight, as the core does)."""
    async with db.transaction() as session:
        row = await repo.tenant(session, platform=PLATFORM, external_id=tenant, now=utcnow())
        assert row.id is not None
        yield session, row.id
