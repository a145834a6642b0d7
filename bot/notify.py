"""The notifier port: how the core reaches a person directly (reminders, notices).

Adapters implement it (Slack DMs, Teams proactive messages, the console prints).
A send must never be blindly retried by the transport: the caller records the
outcome and decides, so a digest is not posted twice.

Optional capabilities, checked with isinstance: `DeliveryCheck` (can the platform
tell whether a message carrying a delivery key was posted?), `ConversationPoster`
(can it post into a conversation, e.g. a case's thread?), `ChannelPoster` (into a
channel named by its id, e.g. the monthly report), `DirectEditor` (can it edit a
message it sent, e.g. a digest whose action was closed since?) and `HomeRefresher`
(can it redraw a person's home page, Slack's App Home?).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.messages import Reply


@dataclass(frozen=True)
class SendResult:
    ok: bool
    retryable: bool = False  # worth another try on a later tick (rate limit, outage)
    error: str | None = None
    retry_after: float | None = None  # seconds, when the platform said so
    # The request may have reached the platform (a timeout or a dropped connection after
    # it was sent): resending could post twice, so the caller must not resend blindly.
    uncertain: bool = False
    # Where the (first) message landed, in the notifier's own terms (Slack "channel:ts"), so it
    # can be edited later with `DirectEditor`; None when the platform gave no address.
    ref: str | None = None


class Notifier(Protocol):
    platform: str

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        """Deliver `replies` to one person in a 1:1 conversation on `tenant`."""
        ...


@runtime_checkable
class DeliveryCheck(Protocol):
    async def was_delivered(
        self, *, tenant: str, user_id: str, delivery_key: str, since: dt.datetime
    ) -> bool | None:
        """Whether a direct message carrying `delivery_key` was posted since then; None if unknown."""
        ...


@runtime_checkable
class ConversationPoster(Protocol):
    async def post_in_conversation(
        self, *, tenant: str, conversation_key: str, replies: Sequence[Reply]
    ) -> SendResult:
        """Post into the conversation a `conversation_key` names (a thread, a channel)."""
        ...


@runtime_checkable
class ChannelPoster(Protocol):
    async def post_to_channel(self, *, tenant: str, channel: str, replies: Sequence[Reply]) -> SendResult:
        """Post at the top level of a channel (a Slack channel id, a Teams channel the bot knows)."""
        ...


@runtime_checkable
class DirectEditor(Protocol):
    async def update_direct(self, *, tenant: str, user_id: str, ref: str, reply: Reply) -> SendResult:
        """Replace the message `ref` (from an earlier SendResult) with `reply`."""
        ...


@runtime_checkable
class HomeRefresher(Protocol):
    async def refresh_homes(self, *, tenant: str, user_ids: Sequence[str]) -> None:
        """Redraw these people's home pages (best effort: failures are logged, not raised)."""
        ...
