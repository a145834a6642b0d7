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
                await self._continue(personal, activities)
            elif anchor is not None:
                await self._open_chat(anchor, tenant=tenant, user_id=user_id, activities=activities)
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
        return SendResult(ok=True)

    async def _addresses(
        self, tenant: str, user_id: str
    ) -> tuple[ConversationRef | None, ConversationRef | None]:
        async with tenant_session(self.db, tenant) as (session, tenant_id):
            personal = await reach.personal_ref(session, tenant_id=tenant_id, user_id=user_id)
            anchor = None if personal else await reach.newest_ref(session, tenant_id=tenant_id)
        return personal, anchor

    async def _continue(self, row: ConversationRef, activities: list[Activity]) -> None:
        async def logic(context: TurnContext) -> None:
            await delivery.send(context, activities)

        await self.adapter.continue_conversation(references.reference_of(row), logic, self.bot_app_id)

    async def _open_chat(
        self, anchor: ConversationRef, *, tenant: str, user_id: str, activities: list[Activity]
    ) -> None:
        bot = references.reference_of(anchor).bot or ChannelAccount(id=f"28:{self.bot_app_id}")
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot.id, name=bot.name),
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )

        async def logic(context: TurnContext) -> None:
            await references.remember_personal(
                self.db, tenant=tenant, user_id=user_id, activity=context.activity
            )
            await delivery.send(context, activities)

        await self.adapter.create_conversation(
            self.bot_app_id,
            logic,
            parameters,
            channel_id=TEAMS_CHANNEL,
            service_url=anchor.service_url,
        )
