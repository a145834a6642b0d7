"""TeamsNotifier: the core's Notifier port on Teams (proactive 1:1 messages).

A stored personal-chat reference is continued; without one, the bot opens a 1:1
chat with `create_conversation`, using the service URL and bot identity of any
conversation stored for that tenant, and stores the new chat for next time. The
transport never retries on its own: the caller records the outcome and decides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters

from adapters.teams import delivery, references
from adapters.teams.config import TeamsSettings
from adapters.teams.inbound import PLATFORM, TEAMS_CHANNEL
from adapters.teams.tenancy import tenant_session
from bot.messages import Reply
from bot.notify import SendResult
from storage import reach
from storage.db import Database
from storage.models import ConversationRef

log = logging.getLogger(__name__)


class TeamsNotifier:
    platform = PLATFORM

    def __init__(self, *, adapter: CloudAdapter, db: Database, teams: TeamsSettings):
        self.adapter = adapter
        self.db = db
        self.teams = teams

    @property
    def bot_app_id(self) -> str:
        return self.teams.app_id or ""

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        tenant = tenant.lower()
        if tenant not in self.teams.tenants:
            return SendResult(ok=False, error=f"tenant {tenant} is not one this bot serves")
        if not replies:
            return SendResult(ok=True)
        names = await delivery.names_for(self.db, tenant=tenant, replies=replies)
        activities = delivery.render_all(replies, names)
        personal, anchor = await self._addresses(tenant, user_id)
        try:
            if personal is not None:
                ref = await self._continue(personal, activities)
            elif anchor is not None:
                ref = await self._open_chat(anchor, tenant=tenant, user_id=user_id, activities=activities)
            else:
                return SendResult(
                    ok=False,
                    error="the bot has no conversation in this tenant yet: install the Casebook app "
                    "in a team or a personal chat first",
                )
        except delivery.SEND_ERRORS as error:
            result = delivery.failure(error)
            log.warning("Teams DM to %s in %s failed: %s", user_id, tenant, result.error)
            return result
        log.info("Teams DM delivered to %s in %s (%d message(s))", user_id, tenant, len(activities))
        return SendResult(ok=True, ref=ref)

    async def post_to_channel(self, *, tenant: str, channel: str, replies: Sequence[Reply]) -> SendResult:
        """A new post in a channel the bot knows (installed in its team): the monthly report."""
        tenant = tenant.lower()
        async with tenant_session(self.db, tenant) as (session, tenant_id):
            row = await reach.channel_ref(session, tenant_id=tenant_id, channel=channel)
        if row is None:
            return SendResult(
                ok=False, error=f"the bot knows no channel {channel!r} here: add the Casebook app to its team"
            )
        names = await delivery.names_for(self.db, tenant=tenant, replies=replies)
        # A chart is a file; Teams cards carry text: the report's text goes, the chart is described.
        activities = delivery.render_all(replies, names)
        if not activities:
            return SendResult(ok=True)
        try:
            ref = await self._new_post(row, tenant=tenant, activities=activities)
        except delivery.SEND_ERRORS as error:
            result = delivery.failure(error)
            log.warning("Teams post to channel %s in %s failed: %s", channel, tenant, result.error)
            return result
        return SendResult(ok=True, ref=ref)

    async def update_direct(self, *, tenant: str, user_id: str, ref: str, reply: Reply) -> SendResult:
        """Update a card sent in a 1:1 chat (a digest whose actions changed): `ref` is the
        "conversation|activity" its send returned; the card's activity is replaced in place."""
        tenant = tenant.lower()
        conversation_id, _, activity_id = ref.partition("|")
        personal, _ = await self._addresses(tenant, user_id)
        if personal is None or personal.conversation_id != conversation_id or not activity_id:
            return SendResult(ok=False, error=f"no 1:1 chat with {user_id} holds {ref}")
        names = await delivery.names_for(self.db, tenant=tenant, replies=[reply])
        [card, *_] = delivery.render_all([reply], names)
        card.id = activity_id

        async def logic(context: TurnContext) -> None:
            await context.update_activity(card)

        try:
            await self.adapter.continue_conversation(
                references.reference_of(personal), logic, self.bot_app_id
            )
        except delivery.SEND_ERRORS as error:
            return delivery.failure(error)
        return SendResult(ok=True, ref=ref)

    async def _addresses(
        self, tenant: str, user_id: str
    ) -> tuple[ConversationRef | None, ConversationRef | None]:
        async with tenant_session(self.db, tenant) as (session, tenant_id):
            personal = await reach.personal_ref(session, tenant_id=tenant_id, user_id=user_id)
            anchor = None if personal else await reach.newest_ref(session, tenant_id=tenant_id)
        return personal, anchor

    async def _new_post(self, row: ConversationRef, *, tenant: str, activities: list[Activity]) -> str | None:
        """A new reply chain in the channel: its first activity opens it, the rest follow in it."""
        reference = references.reference_of(row)
        bot = reference.bot or ChannelAccount(id=f"28:{self.bot_app_id}")
        first, *rest = activities
        parameters = ConversationParameters(
            is_group=True,
            bot=ChannelAccount(id=bot.id, name=bot.name),
            activity=first,
            tenant_id=tenant,
            channel_data={"channel": {"id": row.conversation_id}, "tenant": {"id": tenant}},
        )
        opened: list[str] = []

        async def logic(context: TurnContext) -> None:
            opened.append(context.activity.conversation.id)
            await delivery.send(context, rest)

        await self.adapter.create_conversation(
            self.bot_app_id, logic, parameters, channel_id=TEAMS_CHANNEL, service_url=row.service_url
        )
        return opened[0] if opened else None

    async def _continue(self, row: ConversationRef, activities: list[Activity]) -> str | None:
        posted: list[str | None] = []

        async def logic(context: TurnContext) -> None:
            posted.append(await delivery.send(context, activities))

        await self.adapter.continue_conversation(references.reference_of(row), logic, self.bot_app_id)
        return _ref(row.conversation_id, posted)

    async def _open_chat(
        self, anchor: ConversationRef, *, tenant: str, user_id: str, activities: list[Activity]
    ) -> str | None:
        bot = references.reference_of(anchor).bot or ChannelAccount(id=f"28:{self.bot_app_id}")
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot.id, name=bot.name),
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )

        posted: list[str | None] = []
        opened: list[str] = []

        async def logic(context: TurnContext) -> None:
            await references.remember_personal(
                self.db, tenant=tenant, user_id=user_id, activity=context.activity
            )
            opened.append(references.address_of(context.activity)[0])
            posted.append(await delivery.send(context, activities))

        await self.adapter.create_conversation(
            self.bot_app_id,
            logic,
            parameters,
            channel_id=TEAMS_CHANNEL,
            service_url=anchor.service_url,
        )
        return _ref(opened[0], posted) if opened else None


def _ref(conversation_id: str, posted: list[str | None]) -> str | None:
    """Where a card landed, as `update_direct` reads it back: "conversation|activity"."""
    return f"{conversation_id}|{posted[0]}" if posted and posted[0] else None
