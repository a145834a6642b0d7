"""Conversation references: captured on every turn and on install, so the bot can
speak first later (weekly digests, follow-ups, DMs to owners).

A personal (1:1) chat is stored per person; a channel is stored without its reply
chain id, so the address means "the channel"; every stored row also proves the
tenant's service URL and the bot's identity there, which is all `create_conversation`
needs to open a 1:1 chat with someone the bot has never talked to.
"""

from __future__ import annotations

import datetime as dt
from copy import copy

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationReference
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.teams.inbound import CHANNEL, PERSONAL, PLATFORM, channel_base, scope_of, team_id_of
from adapters.teams.tenancy import tenant_session
from storage import reach
from storage.db import Database
from storage.models import ConversationRef, utcnow


def address_of(activity: Activity) -> tuple[str, ConversationReference]:
    """The id to store the conversation under, and its reference (not tied to one message)."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    conversation_id = activity.conversation.id
    if scope_of(activity) == CHANNEL:
        conversation_id = channel_base(conversation_id)
        reference.conversation = copy(activity.conversation)
        reference.conversation.id = conversation_id
    return conversation_id, reference


async def remember(db: Database, activity: Activity, *, tenant: str) -> None:
    """Store (or refresh) where this activity came from, and who its people are."""
    if activity.conversation is None or not activity.conversation.id or not activity.service_url:
        return
    conversation_id, reference = address_of(activity)
    scope = scope_of(activity)
    sender = activity.from_property
    now = utcnow()  # the activity's one moment, for every row it refreshes
    async with tenant_session(db, tenant) as (session, tenant_id):
        await reach.save_conversation_ref(
            session,
            tenant_id=tenant_id,
            platform=PLATFORM,
            conversation_id=conversation_id,
            scope=scope,
            service_url=activity.service_url,
            reference=reference.serialize(),
            now=now,
            user_id=sender.id if scope == PERSONAL and sender else None,
            team_id=team_id_of(activity),
        )
        for account in (sender, *(activity.members_added or ())):
            await _remember_alias(session, tenant_id, account, now=now)


async def forget(db: Database, activity: Activity, *, tenant: str) -> None:
    """The app was uninstalled here: drop the stored address."""
    conversation_id, _ = address_of(activity)
    async with tenant_session(db, tenant) as (session, tenant_id):
        await reach.forget_conversation(session, tenant_id=tenant_id, conversation_id=conversation_id)


async def remember_personal(db: Database, *, tenant: str, user_id: str, activity: Activity) -> None:
    """A 1:1 chat the bot just opened with `user_id` (create_conversation has no sender)."""
    conversation_id, reference = address_of(activity)
    reference.user = ChannelAccount(id=user_id)
    async with tenant_session(db, tenant) as (session, tenant_id):
        await reach.save_conversation_ref(
            session,
            tenant_id=tenant_id,
            platform=PLATFORM,
            conversation_id=conversation_id,
            scope=PERSONAL,
            service_url=activity.service_url,
            reference=reference.serialize(),
            now=utcnow(),
            user_id=user_id,
        )


async def _remember_alias(
    session: AsyncSession, tenant_id: int, account: ChannelAccount | None, *, now: dt.datetime
) -> None:
    if account is None or not account.id or not account.aad_object_id:
        return
    await reach.save_alias(
        session,
        tenant_id=tenant_id,
        alias=account.aad_object_id.lower(),
        user_id=account.id,
        display_name=account.name or None,
        now=now,
    )


def reference_of(row: ConversationRef) -> ConversationReference:
    return ConversationReference().deserialize(row.reference)
