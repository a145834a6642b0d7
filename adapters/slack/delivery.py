"""Send the core's replies where they belong.

- `to_user`: a DM (conversations.open, then chat.postMessage), wherever the exchange was.
- `ephemeral`: only the caller sees it: the slash command's response_url outside a
  thread, chat.postEphemeral in a thread; in a DM it is simply posted.
- a case: Block Kit split over messages, then the full Markdown uploaded as a file in
  the same thread (files.getUploadURLExternal + completeUploadExternal).
- anything else: the thread (or DM) the exchange is in; after a slash command outside
  any thread, the command's response_url, visible to the channel.
A failed send is logged and the rest still go out: one reply's trouble never drops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.blocks import Message, reply_messages
from bot.messages import Attachment, Reply

log = logging.getLogger(__name__)
SEND_ERRORS = (SlackApiError, aiohttp.ClientError, TimeoutError)


@dataclass(frozen=True)
class Target:
    """Where an exchange happened, and who started it."""

    user: str
    channel: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    via_command: bool = False  # a slash command outside a thread: answer through response_url
    message_ts: str | None = None  # the person's message this exchange answers (for a reaction)

    @property
    def is_dm(self) -> bool:
        return bool(self.channel and self.channel.startswith("D"))


class DmChannels:
    """Each person's DM channel id, per workspace: one conversations.open per person."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], str] = {}

    async def channel(self, client: AsyncWebClient, *, team: str, user_id: str) -> str:
        key = (team, user_id)
        if key not in self._ids:
            response = await client.conversations_open(users=user_id)
            self._ids[key] = response["channel"]["id"]
        return self._ids[key]


class Courier:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        team: str,
        dms: DmChannels,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.client = client
        self.team = team
        self.dms = dms
        self.session = session

    async def deliver(self, target: Target, replies: Sequence[Reply]) -> None:
        for reply in replies:
            await self.deliver_one(target, reply)

    async def deliver_one(self, target: Target, reply: Reply) -> bool:
        """False when Slack refused it or did not answer (logged here)."""
        delivered, _ = await self.send_one(target, reply)
        return delivered

    async def send_one(self, target: Target, reply: Reply) -> tuple[bool, str | None]:
        """Whether it was delivered, and the ts of the channel message it became (if one did)."""
        try:
            return True, await self._one(target, reply)
        except SEND_ERRORS as error:
            log.error(
                "could not deliver a %s reply for %s in %s: %s",
                reply.kind,
                target.user,
                target.channel or "a view",
                _reason(error),
            )
            return False, None

    async def react(self, target: Target, name: str) -> bool:
        """Acknowledge the person's message with a reaction; False when there is none to react on."""
        if not (target.channel and target.message_ts):
            return False
        try:
            await self.client.reactions_add(channel=target.channel, timestamp=target.message_ts, name=name)
        except SEND_ERRORS as error:
            if _reason(error) == "already_reacted":
                return True
            log.warning("could not react on %s in %s: %s", target.message_ts, target.channel, _reason(error))
            return False
        return True

    async def _one(self, target: Target, reply: Reply) -> str | None:
        """Without a channel (App Home) a reply has no place here: the page shows it instead."""
        messages = reply_messages(reply)
        if reply.to_user:
            channel = await self.dms.channel(self.client, team=self.team, user_id=reply.to_user)
            await self._post(channel, None, messages)
            await self._attach(channel, None, reply.attachment)
        elif reply.ephemeral and not target.is_dm:
            await self._ephemeral(target, messages)
        elif target.via_command and target.response_url:
            await self._respond(target.response_url, messages, in_channel=True)
            await self._attach_somewhere(target, reply.attachment)
        elif target.channel:
            posted = await self._post(target.channel, target.thread_ts, messages)
            await self._attach_somewhere(target, reply.attachment)
            return posted
        return None

    async def _post(self, channel: str, thread_ts: str | None, messages: list[Message]) -> str | None:
        first: str | None = None
        for message in messages:
            response = await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=message["text"],
                blocks=message["blocks"],
                unfurl_links=False,
                unfurl_media=False,
            )
            first = first or str(response.get("ts") or "") or None
        return first

    async def _ephemeral(self, target: Target, messages: list[Message]) -> None:
        if target.response_url and (target.via_command or not target.channel):
            await self._respond(target.response_url, messages, in_channel=False)
        elif target.channel:
            for message in messages:
                await self.client.chat_postEphemeral(
                    channel=target.channel,
                    user=target.user,
                    thread_ts=target.thread_ts,
                    text=message["text"],
                    blocks=message["blocks"],
                )

    async def _respond(self, url: str, messages: list[Message], *, in_channel: bool) -> None:
        # Rate limits only: a response_url post that timed out may well have been shown.
        hook = AsyncWebhookClient(
            url, session=self.session, retry_handlers=[AsyncRateLimitErrorRetryHandler()]
        )
        for message in messages:
            body: dict[str, Any] = {
                **message,
                "response_type": "in_channel" if in_channel else "ephemeral",
                "replace_original": False,
            }
            response = await hook.send_dict(body)
            if response.status_code != 200:
                raise SlackApiError(f"response_url answered {response.status_code}", {"error": response.body})

    async def _attach_somewhere(self, target: Target, attachment: Attachment | None) -> None:
        """Files go into the conversation; if the bot may not post there, to the caller's DM."""
        if attachment is None:
            return
        if target.channel:
            try:
                await self._attach(target.channel, target.thread_ts, attachment)
                return
            except SlackApiError as error:
                if _reason(error) not in {"not_in_channel", "channel_not_found", "access_denied"}:
                    raise
        dm = await self.dms.channel(self.client, team=self.team, user_id=target.user)
        await self._attach(dm, None, attachment)

    async def _attach(self, channel: str, thread_ts: str | None, attachment: Attachment | None) -> None:
        if attachment is None:
            return
        kwargs: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        await self.client.files_upload_v2(
            channel=channel,
            content=attachment.content,
            filename=attachment.filename,
            title=attachment.filename,
            snippet_type="markdown" if attachment.mime == "text/markdown" else None,
            **kwargs,
        )


async def update_message(client: AsyncWebClient, channel: str, ts: str, message: dict[str, Any]) -> bool:
    """Edit a message the bot posted; a failure is logged, never raised (it is cosmetic)."""
    try:
        await client.chat_update(channel=channel, ts=ts, **message)
    except SEND_ERRORS as error:
        log.warning("could not update message %s in %s: %s", ts, channel, _reason(error))
        return False
    return True


async def delete_message(client: AsyncWebClient, channel: str, ts: str) -> None:
    try:
        await client.chat_delete(channel=channel, ts=ts)
    except SEND_ERRORS as error:
        log.warning("could not delete message %s in %s: %s", ts, channel, _reason(error))


def _reason(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error)
    return repr(error)
