"""What every Slack listener shares: the database, the caches, the after-ack work, and the
one path from an inbound message to delivered replies (`Runtime.process`)."""

from __future__ import annotations

import copy
import datetime as dt
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from adapters.arrivals import Arrivals
from adapters.conveyor import Conveyor, InboxWriter, wall_clock
from adapters.slack.auth import TokenSource
from adapters.slack.blocks import root_message
from adapters.slack.config import SlackSettings
from adapters.slack.delivery import Courier, DmChannels, Target, update_message
from adapters.slack.mrkdwn import from_slack
from adapters.slack.people import Directory
from adapters.work import Work
from bot.config import Settings
from bot.messages import Inbound, InboundKind, Mention, Reply, ReplyKind
from bot.service import has_active_conversation
from storage.db import Database
from storage.inbox import Received

log = logging.getLogger(__name__)
PLATFORM = "slack"

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


def flat(record: Workspace | Target) -> dict[str, Any]:
    """A record of plain fields as a dict (what `dataclasses.asdict` gives, without its deep
    copy: it was a twentieth of every acknowledgement)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


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
class Runtime:
    db: Database
    core: Settings
    slack: SlackSettings
    directory: Directory
    work: Work = field(default_factory=lambda: Work("slack"))
    dms: DmChannels = field(default_factory=DmChannels)
    session: aiohttp.ClientSession | None = None  # shared by every Web API call, opened on start
    arrivals: Arrivals = field(default_factory=Arrivals)  # requests waiting for their 200
    active_keys: KeySet = field(default_factory=lambda: KeySet(50_000))
    # The time of a request is taken once, when it arrives: injectable so tests choose it.
    clock: Callable[[], dt.datetime] = wall_clock
    inbox: InboxWriter = field(init=False)
    conveyor: Conveyor | None = None  # set by the Slack service, which owns the Web API clients
    base_client: AsyncWebClient | None = None
    tokens: TokenSource | None = None

    @classmethod
    def create(cls, *, db: Database, core: Settings, slack: SlackSettings) -> Runtime:
        return cls(
            db=db,
            core=core,
            slack=slack,
            directory=Directory(ttl_seconds=slack.profile_ttl_seconds),
        )

    def __post_init__(self) -> None:
        self.inbox = InboxWriter(platform=PLATFORM, db=self.db)

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
        at: dt.datetime | None = None,
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
            user_locale=me.locale,
            user_is_admin=me.is_admin,
            text=core_text,
            kind=kind,
            direct=direct,
            form=form,
            step=step,
            mentions=tuple(Mention(uid, profiles[uid].name) for uid in named),
            event_id=event_id,
            at=at or self.clock(),
        )

    async def receive(
        self,
        workspace: Workspace,
        target: Target,
        *,
        text: str,
        kind: InboundKind,
        key: str,
        event_id: str | None,
        direct: bool = False,
        step: str | None = None,
        form: dict[str, str] | None = None,
        also_mentioned: tuple[str, ...] = (),
        after: dict[str, Any] | None = None,
    ) -> int | None:
        """What `target.user` said, stored before Slack gets its 200; the conveyor applies it
        and answers at `target`, one message of a conversation at a time. The row's id, or None
        for a retry of an event already in (or when the database did not answer: then the
        person is told, and nothing was stored)."""
        now = self.clock()
        payload = {
            "workspace": flat(workspace),
            "target": flat(target),
            "text": text,
            "kind": str(kind),
            "event_id": event_id,
            "direct": direct,
            "step": step,
            "form": form,
            "also_mentioned": list(also_mentioned),
            "after": after or {},
        }
        event_key = event_id or f"{kind}:{uuid.uuid4().hex}"
        try:
            entry_id = await self.inbox.write(
                Received(
                    tenant=workspace.tenant,
                    event_key=event_key,
                    conversation_key=key,
                    payload=payload,
                    at=now,
                )
            )
        except (SQLAlchemyError, OSError) as error:
            log.error("could not store a %s from %s in %s: %r", kind, target.user, workspace.tenant, error)
            client = await self.client_for(workspace.tenant)
            await self.courier(client, workspace).deliver(target, [NOT_SAVED])
            return None
        if entry_id is None:
            log.info("event %s is already in the inbox; ignoring the retry", event_key)
            return None
        assert self.conveyor is not None, "the Slack service starts the conveyor"
        self.conveyor.kick(workspace.tenant, key)
        return entry_id

    async def client_for(self, tenant: str) -> AsyncWebClient:
        """A Web API client speaking for a workspace, outside any request (the conveyor)."""
        assert self.base_client is not None and self.tokens is not None
        token = await self.tokens.token_for(tenant)
        client = copy.copy(self.base_client)
        client.token = token
        return client

    async def deliver(
        self, client: AsyncWebClient, workspace: Workspace, target: Target, replies: list[Reply]
    ) -> None:
        """Send directly, outside the outbox: only what was never stored (NOT_SAVED) and the
        App Home's own page go this way."""
        await self.courier(client, workspace).deliver(target, replies)

    async def mark_published(self, client: AsyncWebClient, target: Target, replies: list[Reply]) -> None:
        """A thread's root says so when its case is published."""
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
