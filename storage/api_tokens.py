"""Bearer tokens of the read API: created and revoked by a tenant's admins, kept as SHA-256 only."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ApiToken

PREFIX = "cb_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    session: AsyncSession, *, tenant_id: int, name: str, created_by_id: int | None, now: dt.datetime
) -> tuple[ApiToken, str]:
    """A new token: the row, and the token itself (shown once, never stored)."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        tenant_id=tenant_id,
        name=name,
        token_hash=digest(token),
        hint=token[:10],
        created_by_id=created_by_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row, token


async def of_tenant(session: AsyncSession, *, tenant_id: int) -> list[ApiToken]:
    rows = await session.exec(
        select(ApiToken).where(ApiToken.tenant_id == tenant_id).order_by(col(ApiToken.id).desc())
    )
    return list(rows)


async def revoke(session: AsyncSession, *, tenant_id: int, token_id: int, now: dt.datetime) -> bool:
    """True when a live token of this tenant was revoked."""
    result = await session.exec(
        update(ApiToken)
        .where(
            col(ApiToken.id) == token_id,
            col(ApiToken.tenant_id) == tenant_id,
            col(ApiToken.revoked_at).is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


async def tenant_of(session: AsyncSession, *, token: str) -> int | None:
    """The tenant a live token belongs to, or None."""
    row = (
        await session.exec(
            select(ApiToken).where(ApiToken.token_hash == digest(token), col(ApiToken.revoked_at).is_(None))
        )
    ).first()
    return row.tenant_id if row else None
