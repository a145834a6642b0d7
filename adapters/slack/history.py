"""The Slack reader of a channel's history (the core's `bot.capture.reading.HistoryPort`).

conversations.history gives a channel's messages newest first, a page at a time with a cursor;
conversations.replies gives a thread's. To read the *first* messages since a time, every page
since then is read (only the fields kept here stay in memory), sorted, and cut at the limit;
what is past the limit is counted (up to COUNT_CAP top-level messages) so that the review
message can say how much was not read. A 429 is honoured: the call waits Slack's Retry-After
(at most MAX_WAIT seconds) and is made again. Joins, topic changes and every subtype that is
not a person's or an integration's message are left out and counted; Casebook's own messages
are left out. Needs the channels:history / groups:history and channels:read / groups:read scopes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.delivery import SEND_ERRORS
from adapters.slack.mrkdwn import from_slack
from adapters.slack.runtime import Runtime
from bot.capture.history import ChannelMessage, Source
from bot.capture.reading import Channel, History, HistoryUnavailable

log = logging.getLogger(__name__)

PAGE = 200  # Slack's advice for conversations.history / replies
COUNT_CAP = 20_000  # top-level messages scanned at most; past it the count says "or more"
MAX_TRIES = 5
MAX_WAIT = 60.0  # seconds: a longer Retry-After gives up (the review says the reading failed)
MESSAGES = {None, "thread_broadcast", "file_share", "me_message", "bot_message"}
_CHANNEL_REF = re.compile(r"^<?#?(?P<id>[CG][A-Z0-9]{2,20})(?:\|[^>]*)?>?$")
_MENTION = re.compile(r"<@([UW][A-Z0-9]{1,20})>")


def _ts_time(ts: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(ts), dt.UTC)


@dataclass
class Calls:
    """The Web API as the reader uses it: GETs, 429s waited out, every call counted."""

    client: AsyncWebClient
    made: int = 0
    sleep: Any = field(default=asyncio.sleep)

    async def get(self, method: str, **params: Any) -> dict[str, Any]:
        for attempt in range(1, MAX_TRIES + 1):
            self.made += 1
            try:
                response = await self.client.api_call(method, http_verb="GET", params=params)
                return dict(response.data) if isinstance(response.data, dict) else {}
            except SlackApiError as error:
                wait = _retry_after(error)
                if wait is None or attempt == MAX_TRIES or wait > MAX_WAIT:
                    raise
                log.info("%s is rate limited; waiting %.0f s as Slack asks", method, wait)
                await self.sleep(wait)
        raise AssertionError("unreachable")


def _retry_after(error: SlackApiError) -> float | None:
    response = error.response
    if response is None or response.status_code != 429:
        return None
    headers = {str(k).lower(): v for k, v in (response.headers or {}).items()}
    raw = headers.get("retry-after")
    value = raw[0] if isinstance(raw, list) else raw
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


class SlackHistory:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.pattern = re.compile(rt.slack.incident_channels) if rt.slack.incident_channels else None

    async def _calls(self, tenant: str) -> Calls:
        client = await self.rt.client_for(tenant)
        # The reader waits out a 429 itself (and counts the calls): no hidden retry underneath.
        client.retry_handlers = [
            h for h in client.retry_handlers if not isinstance(h, AsyncRateLimitErrorRetryHandler)
        ]
        return Calls(client)

    async def _info(self, calls: Calls, channel_id: str) -> dict[str, Any]:
        try:
            data = await calls.get("conversations.info", channel=channel_id)
        except SlackApiError as error:
            raise HistoryUnavailable(_unreadable(error, f"<#{channel_id}>")) from error
        return dict(data.get("channel") or {})

    async def incident_channel(self, *, tenant: str, place: str) -> Channel | None:
        channel_id = place.split(":", 1)[0]
        if self.pattern is None or not _CHANNEL_REF.match(channel_id):
            return None
        try:
            info = await self._info(await self._calls(tenant), channel_id)
        except (HistoryUnavailable, *SEND_ERRORS) as error:
            log.info("not reading %s at an interview's start: %s", channel_id, error)
            return None
        name = str(info.get("name") or "")
        if not self.pattern.search(name) or not info.get("is_member", True):
            return None
        return _channel(channel_id, info)

    async def channel(self, *, tenant: str, ref: str, user: str) -> Channel:
        calls = await self._calls(tenant)
        match = _CHANNEL_REF.match(ref.strip())
        channel_id = match["id"] if match else await self._by_name(calls, ref.strip().lstrip("#"))
        info = await self._info(calls, channel_id)
        name = str(info.get("name") or channel_id)
        if not info.get("is_member", True):
            raise HistoryUnavailable(f"I'm not in #{name}: `/invite @Casebook` there, then ask again.")
        if info.get("is_private") and not await self._is_member(calls, channel_id, user):
            raise HistoryUnavailable(f"#{name} is private and you are not in it, so I won't read it for you.")
        return _channel(channel_id, info)

    async def _by_name(self, calls: Calls, name: str) -> str:
        cursor = ""
        while True:
            params: dict[str, Any] = {"types": "public_channel,private_channel", "limit": 1000}
            if cursor:
                params["cursor"] = cursor
            try:
                data = await calls.get("conversations.list", **params)
            except SlackApiError as error:
                raise HistoryUnavailable(_unreadable(error, f"#{name}")) from error
            for channel in data.get("channels") or []:
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                raise HistoryUnavailable(
                    f"I found no channel #{name} (mention it as #name so Slack links it)."
                )

    async def _is_member(self, calls: Calls, channel_id: str, user: str) -> bool:
        cursor = ""
        while True:
            params: dict[str, Any] = {
                "channel": channel_id,
                "limit": 1000,
                **({"cursor": cursor} if cursor else {}),
            }
            data = await calls.get("conversations.members", **params)
            if user in (data.get("members") or []):
                return True
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return False

    async def read(self, *, tenant: str, channel: Channel, since: dt.datetime, limit: int) -> History:
        calls = await self._calls(tenant)
        try:
            return await Reading(self.rt, calls, tenant, channel, since, limit).run()
        except SlackApiError as error:
            raise HistoryUnavailable(_unreadable(error, f"#{channel.name}")) from error


def _channel(channel_id: str, info: dict[str, Any]) -> Channel:
    created = info.get("created")
    return Channel(
        id=channel_id,
        name=str(info.get("name") or channel_id),
        created=dt.datetime.fromtimestamp(int(created), dt.UTC) if created else None,
    )


def _unreadable(error: SlackApiError, name: str) -> str:
    code = str((error.response.data or {}).get("error") if error.response is not None else "") or "error"
    if code in {"missing_scope", "not_allowed_token_type"}:
        return (
            f"I may not read {name}: the app needs the channels:history, groups:history, "
            "channels:read and groups:read scopes (reinstall it)."
        )
    if code in {"channel_not_found", "not_in_channel"}:
        return f"I can't see {name}: `/invite @Casebook` there, then ask again."
    if code == "ratelimited":
        return f"Slack kept saying to slow down while I read {name}; please ask again in a few minutes."
    return f"Slack would not give me the messages of {name} ({code})."


class Reading:
    """One reading of a channel: its pages, its threads, its messages as the core's."""

    def __init__(
        self, rt: Runtime, calls: Calls, tenant: str, channel: Channel, since: dt.datetime, limit: int
    ) -> None:
        self.rt, self.calls, self.tenant, self.channel = rt, calls, tenant, channel
        self.since, self.limit = since, limit
        self.skipped = 0
        self.host = "https://slack.com"
        self.ours: set[str] = set()

    async def run(self) -> History:
        me = await self.calls.get("auth.test")
        self.host = str(me.get("url") or self.host).rstrip("/")
        self.ours = {str(me.get(k)) for k in ("user_id", "bot_id") if me.get(k)}
        top, counted_all = await self._top_level()
        kept: list[dict[str, Any]] = []
        not_read = 0
        for message in top:
            if len(kept) >= self.limit:
                not_read += 1 + int(message.get("reply_count") or 0)
                continue
            kept.append(message)
            if message.get("reply_count"):
                replies = await self._replies(str(message["ts"]))
                room = self.limit - len(kept)
                kept += replies[:room]
                not_read += max(0, len(replies) - room)
        converted = await self._converted(kept)
        return History(
            channel=self.channel,
            since=self.since,
            messages=tuple(converted),
            limit=self.limit,
            not_read=not_read,
            counted_all=counted_all,
            skipped=self.skipped,
            calls=self.calls.made,
        )

    async def _top_level(self) -> tuple[list[dict[str, Any]], bool]:
        found: list[dict[str, Any]] = []
        cursor = ""
        oldest = f"{self.since.timestamp():.6f}"
        while True:
            params: dict[str, Any] = {
                "channel": self.channel.id,
                "oldest": oldest,
                "limit": PAGE,
                "inclusive": "true",
            }
            if cursor:
                params["cursor"] = cursor
            data = await self.calls.get("conversations.history", **params)
            found += [kept for m in data.get("messages") or [] if (kept := self._slim(m))]
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            more = bool(data.get("has_more") and cursor)
            if not more:
                return sorted(found, key=lambda m: float(m["ts"])), True
            if len(found) >= COUNT_CAP:
                return sorted(found, key=lambda m: float(m["ts"])), False

    async def _replies(self, thread_ts: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = ""
        while True:
            params: dict[str, Any] = {"channel": self.channel.id, "ts": thread_ts, "limit": PAGE}
            if cursor:
                params["cursor"] = cursor
            data = await self.calls.get("conversations.replies", **params)
            for message in data.get("messages") or []:
                if message.get("ts") != thread_ts and (
                    kept := self._slim(message)
                ):  # the parent is read already
                    found.append(kept)
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            if not (data.get("has_more") and cursor):
                return sorted(found, key=lambda m: float(m["ts"]))

    def _slim(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """The fields a proposal needs, or None (and counted) for what is not a message."""
        subtype = message.get("subtype")
        author = message.get("user") or message.get("bot_id")
        if subtype not in MESSAGES or not author or author in self.ours or message.get("bot_id") in self.ours:
            self.skipped += 1
            return None
        integration = bool(message.get("bot_id")) or subtype == "bot_message"
        text = message.get("text") or ""
        if integration and not text.strip():  # alerting tools often put everything in attachments
            text = " ".join(
                str(a.get("fallback") or a.get("text") or "") for a in message.get("attachments") or []
            )
        files = [str(f.get("name") or f.get("title") or "a file") for f in message.get("files") or []]
        if files:
            text = (text + " " if text.strip() else "shared ") + ", ".join(
                f"[file: {name}]" for name in files
            )
        if not text.strip():
            self.skipped += 1
            return None
        name = (message.get("bot_profile") or {}).get("name") or message.get("username")
        return {
            "ts": str(message["ts"]),
            "thread_ts": message.get("thread_ts"),
            "reply_count": message.get("reply_count") or 0,
            "author": str(author),
            "name": str(name) if integration and name else None,
            "text": text,
            "integration": integration,
        }

    async def _converted(self, kept: list[dict[str, Any]]) -> list[ChannelMessage]:
        texts = [from_slack(m["text"]) for m in kept]
        people = {m["author"] for m in kept if not m["integration"]} | {u for _, ids in texts for u in ids}
        client = self.calls.client
        profiles = await self.rt.directory.profiles(client, team=self.tenant, user_ids=tuple(sorted(people)))
        names = {uid: profile.name for uid, profile in profiles.items()}
        out: list[ChannelMessage] = []
        for message, (text, _) in zip(kept, texts, strict=True):
            plain = _MENTION.sub(lambda m: "@" + (names.get(m.group(1)) or m.group(1)), text)
            thread = message["thread_ts"] if message["thread_ts"] != message["ts"] else None
            out.append(
                ChannelMessage(
                    at=_ts_time(message["ts"]),
                    author_id=message["author"],
                    author_name=message["name"] or names.get(message["author"]),
                    text=plain,
                    link=self._link(message["ts"], thread),
                    source=Source.INTEGRATION if message["integration"] else Source.HUMAN,
                    in_thread=thread is not None,
                )
            )
        return out

    def _link(self, ts: str, thread: str | None) -> str:
        link = f"{self.host}/archives/{self.channel.id}/p{ts.replace('.', '')}"
        return link + (f"?thread_ts={thread}&cid={self.channel.id}" if thread else "")
