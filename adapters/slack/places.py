"""Where an exchange lives: conversation keys and reply targets from Slack payloads.

Keys: a thread is `<channel>:<thread_ts>`; a person's DM with the bot is the core's
`dm:<user>` (so an invitation made anywhere reaches the invitee's DM); a slash
command outside any thread is the channel id; App Home is `home:<user>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from adapters.slack.delivery import Target
from bot.invite import dm_key


def thread_key(channel: str, thread_ts: str) -> str:
    return f"{channel}:{thread_ts}"


_THREAD_KEY = re.compile(r"([CGD][A-Z0-9]{2,})[:/](\d{9,}\.\d+)$")


def thread_of(key: str) -> tuple[str, str] | None:
    """(channel, thread_ts) of a key that ends like one made by `thread_key`; None otherwise."""
    match = _THREAD_KEY.search(key)
    return (match.group(1), match.group(2)) if match else None


def home_key(user: str) -> str:
    return f"home:{user}"


IsActive = Callable[[str], Awaitable[bool]]


async def dm_conversation(channel: str, user: str, thread_ts: str | None, is_active: IsActive) -> str:
    """In a DM, a thread under a postmortem root is that interview; anything else is the DM's."""
    if thread_ts and await is_active(thread_key(channel, thread_ts)):
        return thread_key(channel, thread_ts)
    return dm_key(user)


@dataclass(frozen=True)
class Place:
    """A button's or form's origin: enough to answer it and to find the conversation."""

    key: str
    user: str
    channel: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    message_ts: str | None = None
    ephemeral: bool = False
    direct: bool = False
    home: bool = False

    @property
    def target(self) -> Target:
        return Target(
            user=self.user,
            channel=self.channel,
            thread_ts=self.thread_ts,
            response_url=self.response_url,
            via_command=bool(self.response_url and not self.thread_ts and not self.direct),
        )

    def dumps(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v not in (None, False)})

    @classmethod
    def loads(cls, text: str) -> Place:
        return cls(**json.loads(text))


async def place_of_action(body: dict[str, Any], is_active: IsActive) -> Place:
    user = body["user"]["id"]
    view = body.get("view") or {}
    if view.get("type") == "home":
        return Place(key=home_key(user), user=user, direct=True, home=True)
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    thread_ts = message.get("thread_ts") or container.get("thread_ts")
    common: dict[str, Any] = {
        "user": user,
        "channel": channel,
        "thread_ts": thread_ts,
        "response_url": body.get("response_url"),
        "message_ts": container.get("message_ts") or message.get("ts"),
        "ephemeral": bool(container.get("is_ephemeral")),
    }
    if channel and channel.startswith("D"):
        return Place(key=await dm_conversation(channel, user, thread_ts, is_active), direct=True, **common)
    if channel and thread_ts:
        return Place(key=thread_key(channel, thread_ts), **common)
    return Place(key=channel or home_key(user), **common)
