"""Messages, mentions and the slash command over HTTP, routed without bolt's dispatch.

Every message in every channel Casebook is in arrives as an event (an interview's answers
among them, most of them channel chatter to ignore), so this is by far the busiest route.
bolt's dispatch of one (a request object that parses the body again, a Web API client per
request, its middleware chain, every listener's matchers, keyword injection) cost more than
storing the answer. The context is still bolt's own (`build_async_context` on the body, the
app's authorize), and the listener is the one bolt calls in Socket Mode: both routes decide
alike.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.listeners import Listeners

log = logging.getLogger(__name__)
ROUTED = frozenset({"message", "app_mention"})
NOT_INSTALLED = "Casebook is not installed in this workspace any more: ask an admin to add it again."


class DirectEvents:
    def __init__(
        self, *, authorize: AsyncAuthorize, listeners: Listeners, client: AsyncWebClient, command: str
    ) -> None:
        self.authorize = authorize
        self.listeners = listeners
        self.client = client
        self.command = command

    def takes(self, payload: dict[str, Any]) -> bool:
        if "command" in payload:  # (Slack's ssl_check carries none)
            return payload["command"] == self.command
        event = payload.get("event")
        routed = isinstance(event, dict) and event.get("type") in ROUTED
        return routed and payload.get("type") == "event_callback"

    async def dispatch(self, payload: dict[str, Any]) -> str:
        """Store what the request says (or ignore it) before it is answered; the text of the
        answer (empty but for a command in a workspace without an installation)."""
        is_command = "command" in payload
        context = await self._context(payload)
        if context is None:
            return NOT_INSTALLED if is_command else ""
        if is_command:
            await self.listeners.command(payload, context)
            return ""
        event = payload["event"]
        if event["type"] == "message":
            await self.listeners.on_message(event=event, body=payload, context=context)
        else:
            await self.listeners.on_mention(event=event, body=payload, context=context)
        return ""

    async def _context(self, payload: dict[str, Any]) -> AsyncBoltContext | None:
        """bolt's context for the body, with the workspace's authorization; None (logged, as
        bolt does) when the workspace has none."""
        context = build_async_context(AsyncBoltContext({"client": self.client, "logger": log}), payload)
        try:
            result = await self.authorize(
                context=context,
                enterprise_id=context.enterprise_id,
                team_id=context.team_id,
                user_id=context.user_id,
            )
        except SlackApiError as error:
            reason = error.response.get("error")
            log.error("could not authorize a request from team %s: %s", context.team_id, reason)
            return None
        if result is None:
            log.error(
                "a request came from team %s, where Casebook has no installation: install it there again",
                context.team_id,
            )
            return None
        context.set_authorize_result(result)
        return context
