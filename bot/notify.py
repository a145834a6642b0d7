"""The notifier port: how the core reaches a person directly (reminders, notices).

Adapters implement it (Slack DMs, Teams proactive messages, the console prints).
A send must never be blindly retried by the transport: the caller records the
outcome and decides, so a digest is not posted twice.

Two optional capabilities, checked with isinstance: `DeliveryCheck` (can the
platform tell whether a message carrying a delivery key was posted?) and
`ConversationPoster` (can it post into a conversation, e.g. a case's thread?).
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
