"""The console's notifier: direct messages and thread posts are printed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from adapters.console.render import render
from bot.messages import Reply
from bot.notify import SendResult


class ConsoleNotifier:
    platform = "console"

    def __init__(self, out: Callable[[str], None] = print) -> None:
        self._out = out

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        self._print(f"→ DM to @{user_id} ({tenant}):", replies)
        return SendResult(ok=True)

    async def post_in_conversation(
        self, *, tenant: str, conversation_key: str, replies: Sequence[Reply]
    ) -> SendResult:
        self._print(f"→ in {conversation_key} ({tenant}):", replies)
        return SendResult(ok=True)

    def _print(self, header: str, replies: Sequence[Reply]) -> None:
        lines = [header]
        for reply in replies:
            lines += ["   " + line for line in render(reply).splitlines()]
        self._out("\n".join(lines) + "\n")
