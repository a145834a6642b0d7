"""What every Slack listener shares: the database, the caches, the after-ack work, and the
one path from an inbound message to delivered replies (`Runtime.process`)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from adapters.slack.blocks import root_message
from adapters.slack.config import SlackSettings
from adapters.slack.delivery import Courier, DmChannels, Target, update_message
from adapters.slack.mrkdwn import from_slack
from adapters.slack.people import Directory
from adapters.work import KeyedLocks, Work
from bot.config import Settings
from bot.jobs import run_followup
from bot.messages import Inbound, InboundKind, Mention, Reply, ReplyKind
from bot.service import handle, has_active_conversation
from storage.db import Database

log = logging.getLogger(__name__)
PLATFORM = "slack"
DB_SLOTS = 4

NOT_SAVED = Reply(
    "I couldn't save that just now: the database did not answer. Nothing was changed; please send it again.",
    ReplyKind.ERROR,
    ephemeral=True,
)


class KeySet:
    """A bounded set that forgets its oldest entries first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def discard(self, key: str) -> None:
        self._keys.pop(key, None)

    def add(self, key: str) -> None:
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)


@dataclass(frozen=True)
class Workspace:
    """The tenant a request belongs to: the team, or the enterprise for org-wide installs."""

    tenant: str
    name: str | None = None
    bot_user_id: str | None = None

    @classmethod
    def of(cls, context: AsyncBoltContext, body: dict[str, Any]) -> Workspace:
        org_wide = bool(context.is_enterprise_install) and context.enterprise_id
        tenant = (context.enterprise_id if org_wide else context.team_id) or body.get("team_id") or "unknown"
        team = body.get("team")
        name = body.get("team_domain") or (team.get("domain") if isinstance(team, dict) else None)
        return cls(tenant=tenant, name=name, bot_user_id=context.bot_user_id)


@dataclass
class Outcome:
    replies: list[Reply]
    saved: bool = True  # False: the core could not apply it (nothing changed)


@dataclass
class Runtime:
    db: Database
    core: Settings
    slack: SlackSettings
    directory: Directory
    work: Work = field(default_factory=lambda: Work("slack"))
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    dms: DmChannels = field(default_factory=DmChannels)
    session: aiohttp.ClientSession | None = None  # shared by every Web API call, opened on start
    # How many core transactions run at once: SQLite has one writer (more would only sleep in
    # its busy handler); PostgreSQL gets fewer than the connection pool, so a burst queues here
    # instead of timing out on the pool, and acknowledgements keep the event loop.
    db_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    active_keys: KeySet = field(default_factory=lambda: KeySet(50_000))

    @classmethod
    def create(cls, *, db: Database, core: Settings, slack: SlackSettings) -> Runtime:
        slots = 1 if db.dialect == "sqlite" else DB_SLOTS
        return cls(
            db=db,
            core=core,
            slack=slack,
            directory=Directory(ttl_seconds=slack.profile_ttl_seconds),
            db_slots=asyncio.Semaphore(slots),
        )

    def courier(self, client: AsyncWebClient, workspace: Workspace) -> Courier:
        return Courier(client, team=workspace.tenant, dms=self.dms, session=self.session)

    async def is_active(self, workspace: Workspace, key: str) -> bool:
        """Whether a conversation runs under `key`. Only a yes is remembered: a thread can start
        an interview at any moment (possibly on another replica), and a remembered yes that
        has since ended costs one harmless trip to the core, which ignores the message."""
        remembered = f"{workspace.tenant}/{key}"
        if remembered in self.active_keys:
            return True
        active = await has_active_conversation(self.db, platform=PLATFORM, tenant=workspace.tenant, key=key)
        if active:
            self.active_keys.add(remembered)
        else:
            self.active_keys.discard(remembered)
        return active

    async def inbound(
        self,
        client: AsyncWebClient,
        workspace: Workspace,
        *,
        user: str,
        text: str,
        kind: InboundKind,
        key: str,
        event_id: str | None,
        direct: bool = False,
        form: dict[str, str] | None = None,
        step: str | None = None,
        also_mentioned: tuple[str, ...] = (),
    ) -> Inbound:
        """Slack's text and ids as the core's Inbound, with names and zones from the directory."""
        core_text, mentioned = from_slack(text)
        named = tuple(dict.fromkeys((*mentioned, *also_mentioned)))
        profiles = await self.directory.profiles(client, team=workspace.tenant, user_ids=(user, *named))
        me = profiles[user]
        return Inbound(
            platform=PLATFORM,
            tenant=workspace.tenant,
            tenant_name=workspace.name,
            conversation_key=key,
            user_id=user,
            user_name=me.name,
            user_timezone=me.timezone,
            user_is_admin=me.is_admin,
            text=core_text,
            kind=kind,
            direct=direct,
            form=form,
            step=step,
            mentions=tuple(Mention(uid, profiles[uid].name) for uid in named),
            event_id=event_id,
        )

    async def apply(self, inbound: Inbound) -> list[Reply] | None:
        """The core's answer, or None when the database failed (and so nothing changed)."""
        async with self.locks.hold(inbound.conversation_key):
            return await self._handle(inbound)

    async def process(
        self,
        client: AsyncWebClient,
        workspace: Workspace,
        target: Target,
        *,
        text: str,
        kind: InboundKind,
        key: str,
        event_id: str | None,
        direct: bool = False,
        step: str | None = None,
    ) -> Outcome:
        """What `target.user` said, applied by the core and answered at `target`: one message of a
        conversation at a time, so replies keep the order of the answers."""
        inbound = await self.inbound(
            client,
            workspace,
            user=target.user,
            text=text,
            kind=kind,
            key=key,
            event_id=event_id,
            direct=direct,
            step=step,
        )
        async with self.locks.hold(key):
            replies = await self._handle(inbound)
            saved = replies is not None
            replies = replies if replies is not None else [NOT_SAVED]
            await self.deliver(client, workspace, target, replies)
            return Outcome(replies, saved=saved)

    async def deliver(
        self, client: AsyncWebClient, workspace: Workspace, target: Target, replies: list[Reply]
    ) -> None:
        """Send, mark a thread's root when its case is published, then start any follow-ups."""
        await self.courier(client, workspace).deliver(target, replies)
        published = next((r for r in replies if r.publication), None)
        if published is not None and target.channel and target.thread_ts:
            message = root_message(
                state="published",
                command=self.slack.command,
                lead=target.user,
                number=published.case_number,
                title=published.case_title or "",
            )
            # (fails harmlessly, and is logged, for a thread under a person's own message)
            await update_message(client, target.channel, target.thread_ts, message)
        self.follow_up(client, workspace, target, replies)

    async def _handle(self, inbound: Inbound) -> list[Reply] | None:
        try:
            async with self.db_slots:
                return await handle(self.db, inbound, settings=self.core)
        except (SQLAlchemyError, OSError) as error:
            log.error(
                "could not apply a %s from %s in %s: %r", inbound.kind, inbound.user_id, inbound.tenant, error
            )
            return None

    def follow_up(
        self, client: AsyncWebClient, workspace: Workspace, target: Target, replies: list[Reply]
    ) -> None:
        """Slow work named by replies runs in the background; its results go to the same place."""
        for reply in replies:
            if reply.followup:
                self.work.spawn(
                    self._follow_up(client, workspace, target, reply.followup), name=reply.followup
                )

    async def _follow_up(
        self, client: AsyncWebClient, workspace: Workspace, target: Target, key: str
    ) -> None:
        results = await run_followup(
            self.db, key, platform=PLATFORM, tenant=workspace.tenant, settings=self.core
        )
        await self.courier(client, workspace).deliver(target, results)
