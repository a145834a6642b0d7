"""The Slack stand-in with channels to read: conversations.info / list / members / history /
replies, paged with cursors as Slack pages them (history newest first, `oldest` honoured,
`has_more` and `response_metadata.next_cursor`). Used by the history tests and bench/history.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.slack.support import SlackStandIn


@dataclass
class ChannelData:
    id: str
    name: str
    created: int
    messages: list[dict[str, Any]]  # Slack's message objects, any order; replies carry thread_ts
    private: bool = False
    members: tuple[str, ...] = ("UALICE", "UBOB", "UCAROL", "UDANA")


@dataclass
class HistoryStandIn(SlackStandIn):
    channels: dict[str, ChannelData] = field(default_factory=dict)

    def add_channel(self, channel: ChannelData) -> None:
        for message in channel.messages:
            message.setdefault("type", "message")
        self.channels[channel.id] = channel

    def _channel_of(self, params: dict[str, Any]) -> ChannelData | None:
        return self.channels.get(str(params.get("channel")))

    def _conversations_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = self._channel_of(params)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "created": channel.created,
                "is_private": channel.private,
                "is_member": True,
            }
        }

    def _conversations_list(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        listed = [{"id": c.id, "name": c.name} for c in self.channels.values()]
        return {"channels": listed, "response_metadata": {"next_cursor": ""}}

    def _conversations_members(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = self._channel_of(params)
        members = list(channel.members) if channel else []
        return {"members": members, "response_metadata": {"next_cursor": ""}}

    def _conversations_history(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = self._channel_of(params)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        top = [
            m for m in channel.messages if m.get("thread_ts") in (None, m["ts"]) and float(m["ts"]) >= oldest
        ]
        top.sort(key=lambda m: float(m["ts"]), reverse=True)
        return _page(top, params)

    def _conversations_replies(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = self._channel_of(params)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = str(params.get("ts"))
        thread = [m for m in channel.messages if m["ts"] == ts or m.get("thread_ts") == ts]
        thread.sort(key=lambda m: float(m["ts"]))
        return _page(thread, params)


def _page(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    start = int(str(params.get("cursor") or "off:0").removeprefix("off:"))
    size = min(int(params.get("limit") or 100), 999)
    page = messages[start : start + size]
    more = start + size < len(messages)
    return {
        "messages": page,
        "has_more": more,
        "response_metadata": {"next_cursor": f"off:{start + size}" if more else ""},
    }
