"""App Home pages, and the digest edits made after an action changes (Slack's side of the
core's `DirectEditor` and `HomeRefresher` capabilities).

`HomePages` draws one person's App Home (views.publish) from the core's `load_home`.
`SlackSurfaces` edits digest DMs (chat.update on the "channel:ts" a delivery recorded) and
redraws App Homes with whatever Web API client the process has for a workspace: the serve
process's runtime clients, or the clock's notifier clients.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import home_view, reply_messages
from adapters.slack.delivery import SEND_ERRORS, update_message
from adapters.slack.people import Directory
from bot.home import Viewer, load_home
from bot.messages import Reply
from bot.notify import SendResult
from storage.db import Database

log = logging.getLogger(__name__)
PLATFORM = "slack"
Clients = Callable[[str], Awaitable[AsyncWebClient]]


def message_ref(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def parse_ref(ref: str) -> tuple[str, str] | None:
    channel, _, ts = ref.partition(":")
    return (channel, ts) if channel and ts else None


class HomePages:
    def __init__(
        self,
        db: Database,
        directory: Directory,
        *,
        command: str,
        default_timezone: str,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.db = db
        self.directory = directory
        self.command = command
        self.default_timezone = default_timezone
        self.clock = clock

    async def publish(
        self, client: AsyncWebClient, *, tenant: str, user: str, banner: str | None = None
    ) -> None:
        profile = await self.directory.profile(client, team=tenant, user_id=user)
        viewer = Viewer(PLATFORM, tenant, user, profile.name, profile.timezone, profile.is_admin)
        home = await load_home(self.db, viewer, now=self.clock(), default_timezone=self.default_timezone)
        view = home_view(home, command=self.command, banner=banner)
        try:
            await client.views_publish(user_id=user, view=view)
        except SEND_ERRORS as error:
            log.error("could not publish the App Home of %s: %r", user, error)


class SlackSurfaces:
    """Edits digests and redraws App Homes for the refresh pass (bot.reminders.refresh)."""

    platform = PLATFORM

    def __init__(self, clients: Clients, homes: HomePages | None) -> None:
        self.clients = clients
        self.homes = homes

    async def update_direct(self, *, tenant: str, user_id: str, ref: str, reply: Reply) -> SendResult:
        where = parse_ref(ref)
        if where is None:
            return SendResult(ok=False, error=f"not a Slack message ref: {ref!r}")
        client = await self.clients(tenant)
        [message, *_] = reply_messages(reply)
        if await update_message(client, *where, dict(message)):
            return SendResult(ok=True, ref=ref)
        return SendResult(ok=False, retryable=True, error=f"chat.update of {ref} failed (logged above)")

    async def refresh_homes(self, *, tenant: str, user_ids: Sequence[str]) -> None:
        if self.homes is None:
            return
        client = await self.clients(tenant)
        for user in user_ids:
            await self.homes.publish(client, tenant=tenant, user=user)
