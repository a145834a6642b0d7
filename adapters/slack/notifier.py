"""Slack implementation of the notifier port: DMs (conversations.open + chat.postMessage),
posts in a case's thread, and a check of whether a delivery already landed.

Never a blind resend. slack_sdk's default retry handler re-sends a request after a
connection error, which may post the same message twice; these clients run with no
retry handlers at all, and each failure is classified instead:
- rate limited (429): retryable, with Slack's Retry-After;
- the request never left (connection refused, connect timeout): retryable;
- it may have reached Slack (read timeout, dropped connection, 5xx, internal_error
  from chat.postMessage): `uncertain`. The sweep then asks `was_delivered`, which
  looks for the delivery key this notifier stores in the message's metadata;
- anything else (user_not_found, account_inactive, invalid_auth...): permanent.

Tokens come from an injectable lookup (tenant id -> bot token): one workspace's
SLACK_BOT_TOKEN, or the OAuth installations (`slack_notifier(db=...)` picks).
Replies are rendered as the adapter renders them (adapters/slack/blocks.py), so a
digest's buttons are the ones the adapter's listener understands.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import auth
from adapters.slack.blocks import reply_messages
from adapters.slack.config import SlackSettings
from adapters.slack.home import HomePages, SlackSurfaces, message_ref
from adapters.slack.people import Directory
from adapters.slack.places import thread_of
from bot.config import Settings
from bot.messages import Reply
from bot.notify import SendResult
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)

TokenLookup = Callable[[str], Awaitable[str | None]]

DEFAULT_API_URL = "https://slack.com/api/"
METADATA_EVENT = "casebook_delivery"
_MAYBE_POSTED = {"internal_error", "fatal_error"}
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_TRANSIENT = {"service_unavailable", "request_timeout", "team_added_to_org"}


@dataclass(frozen=True)
class _Identity:
    team_ids: frozenset[str]
    bot_user_id: str | None


class _Failed(Exception):
    def __init__(self, result: SendResult) -> None:
        super().__init__(result.error)
        self.result = result


class SlackNotifier:
    platform = "slack"

    def __init__(
        self,
        tokens: TokenLookup,
        *,
        base_url: str | None = None,
        timeout: float = 15.0,
        homes: HomePages | None = None,
    ) -> None:
        self._tokens = tokens
        self._base_url = _with_slash(base_url or DEFAULT_API_URL)
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._identities: dict[str, _Identity] = {}
        self._surfaces = SlackSurfaces(self._checked_client, homes)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- the port -----------------------------------------------------------------------

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        try:
            client = await self._client_for(tenant)
            channel = await self._open_dm(client, user_id)
            return await self._post_all(client, channel, None, replies)
        except _Failed as failed:
            return failed.result

    async def post_in_conversation(
        self, *, tenant: str, conversation_key: str, replies: Sequence[Reply]
    ) -> SendResult:
        thread = thread_of(conversation_key)
        if thread is None:
            return SendResult(ok=False, error=f"cannot tell a Slack thread from {conversation_key!r}")
        try:
            client = await self._client_for(tenant)
            return await self._post_all(client, *thread, replies)
        except _Failed as failed:
            return failed.result

    async def post_to_channel(self, *, tenant: str, channel: str, replies: Sequence[Reply]) -> SendResult:
        """A new top-level post in a channel (its id from a `<#C…|name>` mention), files included."""
        try:
            client = await self._client_for(tenant)
            channel = await self._channel_id(client, channel)
            result = await self._post_all(client, channel, None, replies)
            if not result.ok:
                return result
            for reply in replies:
                if reply.attachment is not None:
                    await self._upload(client, channel, reply)
        except _Failed as failed:
            return failed.result
        return result

    async def _channel_id(self, client: AsyncWebClient, channel: str) -> str:
        """A channel id as it is; a name (the core shows `<#C…|name>` mentions by name) looked up
        in the channels the bot can see: once a month, so paging is affordable."""
        name = channel.lstrip("#")
        if _CHANNEL_ID.match(name):
            return name
        cursor: str | None = None
        for _ in range(50):  # at most 50 pages of 200 channels
            page = await self._call(
                client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=200, cursor=cursor
                ),
                posting=False,
            )
            for found in page.get("channels") or []:
                if found.get("name") == name:
                    return str(found["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        raise _Failed(SendResult(ok=False, error=f"no channel #{name} that the bot can see: invite it there"))

    async def _upload(self, client: AsyncWebClient, channel: str, reply: Reply) -> None:
        attachment = reply.attachment
        assert attachment is not None
        try:
            await self._call(
                client.files_upload_v2(
                    channel=channel,
                    file=attachment.payload,
                    filename=attachment.filename,
                    title=attachment.content[:200],
                ),
                posting=True,
            )
        except _Failed as failed:  # the text is in: the file is worth a warning, not a resend
            log.warning("could not upload %s to %s: %s", attachment.filename, channel, failed.result.error)

    async def update_direct(self, *, tenant: str, user_id: str, ref: str, reply: Reply) -> SendResult:
        """Edit a digest DM in place (chat.update on the "channel:ts" its send returned)."""
        try:
            return await self._surfaces.update_direct(tenant=tenant, user_id=user_id, ref=ref, reply=reply)
        except _Failed as failed:
            return failed.result

    async def refresh_homes(self, *, tenant: str, user_ids: Sequence[str]) -> None:
        try:
            await self._surfaces.refresh_homes(tenant=tenant, user_ids=user_ids)
        except _Failed as failed:
            log.warning("could not redraw App Homes in %s: %s", tenant, failed.result.error)

    async def was_delivered(
        self, *, tenant: str, user_id: str, delivery_key: str, since: dt.datetime
    ) -> bool | None:
        """Look for our message carrying `delivery_key` in the DM (needs the im:history scope)."""
        try:
            client = await self._client_for(tenant)
            channel = await self._open_dm(client, user_id)
            history = await client.conversations_history(
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
            )
        except _Failed as failed:
            log.warning("cannot check an earlier Slack delivery to %s: %s", user_id, failed.result.error)
            return None
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as error:
            log.warning("cannot check an earlier Slack delivery to %s: %s", user_id, _describe(error))
            return None
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("delivery_key") == delivery_key:
                return True
        return None if history.get("has_more") else False  # more pages than we read: cannot be sure

    # --- the wire -----------------------------------------------------------------------

    async def _checked_client(self, tenant: str) -> AsyncWebClient:
        return await self._client_for(tenant)

    async def _client_for(self, tenant: str) -> AsyncWebClient:
        token = await self._tokens(tenant)
        if not token:
            raise _Failed(SendResult(ok=False, error=f"no Slack bot token for workspace {tenant}"))
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=self._timeout)
            )
        # retry_handlers=[]: the SDK must never re-send on its own (see the module docstring).
        client = AsyncWebClient(
            token=token,
            base_url=self._base_url,
            session=self._session,
            retry_handlers=[],
            timeout=int(self._timeout),
        )
        identity = await self._identity(client, token)
        if tenant not in identity.team_ids:
            raise _Failed(
                SendResult(
                    ok=False,
                    error=f"the Slack bot token belongs to {sorted(identity.team_ids)}, not {tenant}",
                )
            )
        return client

    async def _identity(self, client: AsyncWebClient, token: str) -> _Identity:
        if token not in self._identities:
            response = await self._call(client.auth_test(), posting=False)
            teams = {response.get("team_id"), response.get("enterprise_id")}
            self._identities[token] = _Identity(frozenset(t for t in teams if t), response.get("user_id"))
        return self._identities[token]

    async def _open_dm(self, client: AsyncWebClient, user_id: str) -> str:
        response = await self._call(client.conversations_open(users=user_id), posting=False)
        channel = (response.get("channel") or {}).get("id")
        if not channel:
            raise _Failed(SendResult(ok=False, error="conversations.open returned no channel"))
        return str(channel)

    async def _post_all(
        self, client: AsyncWebClient, channel: str, thread_ts: str | None, replies: Sequence[Reply]
    ) -> SendResult:
        messages = []
        for reply in replies:
            for index, message in enumerate(reply_messages(reply)):
                if reply.delivery_key and index == 0:  # was_delivered looks for the first message
                    message["metadata"] = {
                        "event_type": METADATA_EVENT,
                        "event_payload": {"delivery_key": reply.delivery_key},
                    }
                messages.append(message)
        first: str | None = None
        for posted, message in enumerate(messages):
            try:
                response = await self._call(
                    client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message), posting=True
                )
            except _Failed as failed:
                if posted:  # part of it is already in Slack: re-sending would repeat that part
                    return SendResult(ok=False, uncertain=True, error=f"partly sent: {failed.result.error}")
                return failed.result
            ts = response.get("ts")
            first = first or (message_ref(str(response.get("channel") or channel), str(ts)) if ts else None)
        return SendResult(ok=True, ref=first)

    async def _call(self, request: Awaitable[Any], *, posting: bool) -> Any:
        """Await one Web API call; a failure becomes a classified SendResult."""
        try:
            return await request
        except SlackApiError as error:
            raise _Failed(_api_failure(error, posting=posting)) from error
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
            # The request never reached Slack: safe to try again later.
            raise _Failed(SendResult(ok=False, retryable=True, error=_describe(error))) from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise _Failed(_maybe_sent(_describe(error), posting=posting)) from error


def _api_failure(error: SlackApiError, *, posting: bool) -> SendResult:
    response = error.response
    status = getattr(response, "status_code", None) or 0
    code = str(response.get("error") or "") if isinstance(response.data, dict) else ""
    if status == 429 or code == "ratelimited":
        retry_after = _retry_after(response.headers)
        return SendResult(ok=False, retryable=True, retry_after=retry_after, error="rate limited by Slack")
    if status >= 500 or code in _MAYBE_POSTED:
        return _maybe_sent(f"Slack answered {status} {code}".strip(), posting=posting)
    if code in _TRANSIENT:
        return SendResult(ok=False, retryable=True, error=f"Slack: {code}")
    return SendResult(ok=False, error=f"Slack: {code or status}")


def _maybe_sent(error: str, *, posting: bool) -> SendResult:
    if posting:
        return SendResult(ok=False, uncertain=True, error=error)
    return SendResult(ok=False, retryable=True, error=error)  # reads and conversations.open repeat safely


def _retry_after(headers: Any) -> float:
    raw = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    try:
        return max(float(str(raw)), 1.0)
    except (TypeError, ValueError):
        return 30.0


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def slack_notifier(*, db: Database, slack: SlackSettings | None = None) -> SlackNotifier | None:
    """The notifier for the configured Slack app (one workspace's token, or every OAuth
    installation's); None when Slack is off."""
    slack = slack if slack is not None else SlackSettings.from_env()
    if not slack.enabled:
        return None
    tokens: auth.TokenSource
    if slack.oauth:
        tokens = auth.InstalledTokens(auth.installation_store(db, slack))
    else:
        assert slack.bot_token is not None
        tokens = auth.StaticToken(slack.bot_token)
    homes = HomePages(
        db,
        Directory(ttl_seconds=slack.profile_ttl_seconds),
        command=slack.command,
        default_timezone=Settings().default_timezone,
        clock=utcnow,
    )
    return SlackNotifier(tokens.token_for, base_url=slack.api_url, homes=homes)
