"""How to reach people and conversations later: stored conversation references and
user aliases. Tenant-scoped like every query; the references stay opaque here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import ConversationRef, Person, UserAlias
from storage.repo import first_or_insert


def _ref_query(tenant_id: int, conversation_id: str) -> SelectOfScalar[ConversationRef]:
    return select(ConversationRef).where(
        ConversationRef.tenant_id == tenant_id, ConversationRef.conversation_id == conversation_id
    )


def _alias_query(tenant_id: int, alias: str) -> SelectOfScalar[UserAlias]:
    return select(UserAlias).where(UserAlias.tenant_id == tenant_id, UserAlias.alias == alias)


async def save_conversation_ref(
    session: AsyncSession,
    *,
    tenant_id: int,
    platform: str,
    conversation_id: str,
    scope: str,
    service_url: str,
    reference: dict[str, Any],
    now: dt.datetime,
    user_id: str | None = None,
    team_id: str | None = None,
) -> ConversationRef:
    """Insert or refresh one reference at `now`; writes only when something changed."""
    values = {
        "scope": scope,
        "service_url": service_url,
        "reference": reference,
        "user_id": user_id,
        "team_id": team_id,
    }
    found = await first_or_insert(
        session,
        _ref_query(tenant_id, conversation_id),
        ConversationRef,
        tenant_id=tenant_id,
        platform=platform,
        conversation_id=conversation_id,
        created_at=now,
        updated_at=now,
        **values,
    )
    changed = {k: v for k, v in values.items() if v is not None and getattr(found, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(found, key, value)
        found.updated_at = now
        session.add(found)
    return found


async def forget_conversation(session: AsyncSession, *, tenant_id: int, conversation_id: str) -> None:
    """The bot was removed from this conversation: stop trying to speak in it."""
    for row in await session.exec(_ref_query(tenant_id, conversation_id)):
        await session.delete(row)


async def personal_ref(session: AsyncSession, *, tenant_id: int, user_id: str) -> ConversationRef | None:
    """The newest 1:1 conversation with this person, if the bot has one."""
    return (
        await session.exec(
            select(ConversationRef)
            .where(
                ConversationRef.tenant_id == tenant_id,
                ConversationRef.scope == "personal",
                ConversationRef.user_id == user_id,
            )
            .order_by(col(ConversationRef.updated_at).desc())
        )
    ).first()


async def newest_ref(session: AsyncSession, *, tenant_id: int) -> ConversationRef | None:
    """Any conversation of the tenant, newest first: its service URL and bot identity let the
    bot open a new 1:1 chat with someone it has not talked to yet."""
    return (
        await session.exec(
            select(ConversationRef)
            .where(ConversationRef.tenant_id == tenant_id)
            .order_by(col(ConversationRef.updated_at).desc())
        )
    ).first()


async def save_alias(
    session: AsyncSession,
    *,
    tenant_id: int,
    alias: str,
    user_id: str,
    display_name: str | None,
    now: dt.datetime,
) -> None:
    found = await first_or_insert(
        session,
        _alias_query(tenant_id, alias),
        UserAlias,
        tenant_id=tenant_id,
        alias=alias,
        user_id=user_id,
        display_name=display_name,
        updated_at=now,
    )
    if found.user_id != user_id or (display_name and found.display_name != display_name):
        found.user_id = user_id
        found.display_name = display_name or found.display_name
        found.updated_at = now
        session.add(found)


async def user_by_alias(session: AsyncSession, *, tenant_id: int, alias: str) -> UserAlias | None:
    return (await session.exec(_alias_query(tenant_id, alias))).first()


async def display_names(session: AsyncSession, *, tenant_id: int, user_ids: Iterable[str]) -> dict[str, str]:
    """Platform user id -> display name, for the people of this tenant who have one."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = await session.exec(
        select(Person).where(Person.tenant_id == tenant_id, col(Person.platform_user_id).in_(wanted))
    )
    return {p.platform_user_id: p.display_name for p in rows if p.display_name}


async def channel_ref(session: AsyncSession, *, tenant_id: int, channel: str) -> ConversationRef | None:
    """A channel the bot was installed in (or heard from), by its id or its name."""
    rows = (
        await session.exec(
            select(ConversationRef).where(
                ConversationRef.tenant_id == tenant_id, ConversationRef.scope == "channel"
            )
        )
    ).all()
    wanted = channel.lstrip("#").lower()
    for row in rows:
        name = str((row.reference.get("conversation") or {}).get("name") or "")
        if row.conversation_id.lower() == wanted or name.lower() == wanted:
            return row
    return None
