"""The notifier port: how the core reaches a person directly (reminders, notices).

Adapters implement it (Slack DMs, Teams proactive messages, the console prints).
A send must never be blindly retried by the transport: the caller records the
outcome and decides, so a digest is not posted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.messages import Reply


@dataclass(frozen=True)
class SendResult:
    ok: bool
    retryable: bool = False  # worth another try on a later tick (rate limit, outage)
    error: str | None = None
    retry_after: float | None = None  # seconds, when the platform said so


class Notifier(Protocol):
    platform: str

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        """Deliver `replies` to one person in a 1:1 conversation on `tenant`."""
        ...
