"""Bolt listeners for conversations: the slash command, thread replies, DMs, @-mentions.

Every listener stores what it received as an inbox row and returns: bolt runs with
`process_before_response`, so Slack's 200 means "stored". Nothing slow happens here (Slack
gives three seconds): the conveyor applies the row and sends the replies afterwards.
Buttons, forms and App Home are in `interactions`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from adapters.slack import payloads, shortcuts
from adapters.slack.delivery import Target
from adapters.slack.interactions import Interactions
from adapters.slack.mrkdwn import from_slack, without_mention_of
from adapters.slack.places import dm_conversation, thread_key
from adapters.slack.runtime import Runtime, Workspace
from bot.commands import parse_command
from bot.messages import InboundKind

log = logging.getLogger(__name__)
IGNORED_SUBTYPES = {"message_changed", "message_deleted", "channel_join", "channel_leave", "bot_message"}


def register(app: AsyncApp, rt: Runtime, listeners: Listeners) -> Interactions:
    app.command(rt.slack.command)(listeners.on_command)
    app.event("message")(listeners.on_message)
    app.event("app_mention")(listeners.on_mention)
    interactions = Interactions(rt)
    app.event("app_home_opened")(interactions.on_home_opened)
    app.action(re.compile(r"^(choice|form):"))(interactions.on_button)
    app.action(re.compile(r"^pick:"))(interactions.on_tick)
    app.view(re.compile(r"^form:"))(interactions.on_form_submit)
    shortcuts.register(app, rt)  # "Add to postmortem" on any message
    return interactions


class Listeners:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    # --- slash command ------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        await self.command(command, context)
        await ack()  # (bolt answers Slack only once this listener returns: the row is stored)

    async def command(self, command: dict[str, Any], context: AsyncBoltContext) -> None:
        """Stored as an inbox row; a malformed one is answered and nothing done (the WARNING
        names the field)."""
        if payloads.parse(payloads.SlashCommand, command, what="slash command") is None:
            return
        await self._command(Workspace.of(context, command), command)

    async def _command(self, workspace: Workspace, command: dict[str, Any]) -> None:
        """A new postmortem posts its root first (the root's ts names the thread the case
        opens in: the conveyor does that); any other command is answered where it was typed."""
        channel, user = command["channel_id"], command["user_id"]
        text = "postmortem " + (command.get("text") or "").strip()
        parsed = parse_command(from_slack(text)[0])
        here = Target(user=user, channel=channel, response_url=command.get("response_url"), via_command=True)
        after = {"start": {"title": parsed.args or None}} if parsed.name == "start" else {}
        await self.rt.receive(
            workspace,
            here,
            text=text,
            kind=InboundKind.COMMAND,
            key=channel,
            event_id=f"command:{command.get('trigger_id')}",
            after=after,
        )

    # --- messages -----------------------------------------------------------------------

    async def on_message(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("subtype") in IGNORED_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        if event["user"] == context.bot_user_id:
            return  # (our own post, as bolt's self-event rule says)
        if not _readable(event, body):
            return
        workspace = Workspace.of(context, body)
        await self._message(workspace, event, body)

    async def _message(self, workspace: Workspace, event: dict[str, Any], body: dict[str, Any]) -> None:
        channel, user, thread_ts = event["channel"], event["user"], event.get("thread_ts")
        text = event.get("text") or ""
        direct = event.get("channel_type") == "im"
        if direct:
            key = await dm_conversation(channel, user, thread_ts, lambda k: self.rt.is_active(workspace, k))
        else:
            mentions_bot = workspace.bot_user_id and f"<@{workspace.bot_user_id}" in text
            if not thread_ts or mentions_bot:
                return  # channel chatter; an @-mention is answered by on_mention
            key = thread_key(channel, thread_ts)
            if not await self.rt.is_active(workspace, key):
                return
        await self.rt.receive(
            workspace,
            Target(user=user, channel=channel, thread_ts=thread_ts, message_ts=event.get("ts")),
            text=text,
            kind=InboundKind.MESSAGE,
            key=key,
            event_id=body.get("event_id"),
            direct=direct,
        )

    async def on_mention(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("user") == context.bot_user_id or not _readable(event, body):
            return
        workspace = Workspace.of(context, body)
        await self._mention(workspace, event, body)

    async def _mention(self, workspace: Workspace, event: dict[str, Any], body: dict[str, Any]) -> None:
        channel, user = event["channel"], event.get("user")
        if not user or event.get("bot_id"):
            return
        thread_ts = event.get("thread_ts") or event["ts"]
        key = thread_key(channel, thread_ts)
        # In a running interview a mention is an answer; anywhere else it is a command.
        answering = "thread_ts" in event and await self.rt.is_active(workspace, key)
        await self.rt.receive(
            workspace,
            Target(user=user, channel=channel, thread_ts=thread_ts, message_ts=event.get("ts")),
            text=without_mention_of(event.get("text") or "", workspace.bot_user_id or ""),
            kind=InboundKind.MESSAGE if answering else InboundKind.COMMAND,
            key=key,
            event_id=body.get("event_id"),
        )


def _readable(event: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether a message or mention event (and its envelope) is in the shape we read."""
    return (
        payloads.parse(payloads.MessageEvent, event, what=f"{event.get('type')} event") is not None
        and payloads.parse(payloads.EventBody, body, what="event envelope") is not None
    )
