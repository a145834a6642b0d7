"""Bolt listeners for conversations: the slash command, thread replies, DMs, @-mentions.

Every listener calls `ack()` before anything slow (Slack gives three seconds, and a
slow Web API or database must never eat them), then hands the rest to the runtime's
tracked after-ack work. Buttons, forms and App Home are in `interactions`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import payloads
from adapters.slack.blocks import root_message
from adapters.slack.delivery import SEND_ERRORS, Target, delete_message, update_message
from adapters.slack.interactions import Interactions
from adapters.slack.mrkdwn import from_slack, without_mention_of
from adapters.slack.places import dm_conversation, thread_key
from adapters.slack.runtime import Outcome, Runtime, Workspace
from bot.commands import parse_command
from bot.messages import InboundKind, Reply, ReplyKind

log = logging.getLogger(__name__)
IGNORED_SUBTYPES = {"message_changed", "message_deleted", "channel_join", "channel_leave", "bot_message"}


def register(app: AsyncApp, rt: Runtime) -> None:
    listeners = Listeners(rt)
    app.command(rt.slack.command)(listeners.on_command)
    app.event("message")(listeners.on_message)
    app.event("app_mention")(listeners.on_mention)
    interactions = Interactions(rt)
    app.event("app_home_opened")(interactions.on_home_opened)
    app.action(re.compile(r"^(choice|form):"))(interactions.on_button)
    app.view(re.compile(r"^form:"))(interactions.on_form_submit)


class Listeners:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    # --- slash command ------------------------------------------------------------------

    async def on_command(
        self, ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        if payloads.parse(payloads.SlashCommand, command, what="slash command") is None:
            return
        workspace = Workspace.of(context, command)
        await self.rt.work.run(self._command(client, workspace, command), name="slash command")

    async def _command(self, client: AsyncWebClient, workspace: Workspace, command: dict[str, Any]) -> None:
        """A new postmortem posts its root first (the root's ts names the thread the case
        opens in); any other command is answered where it was typed."""
        channel, user = command["channel_id"], command["user_id"]
        text = "postmortem " + (command.get("text") or "").strip()
        parsed = parse_command(from_slack(text)[0])
        here = Target(user=user, channel=channel, response_url=command.get("response_url"), via_command=True)
        root = None
        if parsed.name == "start":
            root = await self._post_root(client, channel, user)
            if root is None:
                await self.rt.courier(client, workspace).deliver(here, [self._cannot_post()])
                return
        outcome = await self.rt.process(
            client,
            workspace,
            replace(here, thread_ts=root, via_command=False) if root else here,
            text=text,
            kind=InboundKind.COMMAND,
            key=thread_key(channel, root) if root else channel,
            event_id=f"command:{command.get('trigger_id')}",
        )
        if root:
            await self._settle_root(client, channel, root, user, outcome, title=parsed.args or None)

    def _cannot_post(self) -> Reply:
        return Reply(
            "I can't post in this channel. Add me to it (`/invite @Casebook`), then run "
            f"`{self.rt.slack.command}` again.",
            ReplyKind.ERROR,
            ephemeral=True,
        )

    async def _settle_root(
        self, client: AsyncWebClient, channel: str, root: str, lead: str, outcome: Outcome, title: str | None
    ) -> None:
        """The root says how the start went; a redelivered command's extra root goes away."""
        if outcome.saved and not outcome.replies:  # a redelivered command, already applied
            await delete_message(client, channel, root)
            return
        number = next((r.case_number for r in outcome.replies if r.case_number), None)
        state = "running" if outcome.saved and number else "failed"
        message = root_message(
            state=state, command=self.rt.slack.command, lead=lead, number=number, title=title
        )
        await update_message(client, channel, root, message)

    async def _post_root(self, client: AsyncWebClient, channel: str, user: str) -> str | None:
        message = root_message(state="starting", command=self.rt.slack.command, lead=user)
        for attempt in (1, 2):
            try:
                response = await client.chat_postMessage(channel=channel, **message)
                return str(response["ts"])
            except SEND_ERRORS as error:
                reason = error.response.get("error") if isinstance(error, SlackApiError) else repr(error)
                if reason == "not_in_channel" and attempt == 1 and await self._join(client, channel):
                    continue
                log.warning("cannot post a postmortem root in %s: %s", channel, reason)
                return None
        return None

    @staticmethod
    async def _join(client: AsyncWebClient, channel: str) -> bool:
        try:
            await client.conversations_join(channel=channel)
        except SlackApiError as error:
            log.info("could not join %s: %s", channel, error.response.get("error"))
            return False
        return True

    # --- messages -----------------------------------------------------------------------

    async def on_message(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if event.get("subtype") in IGNORED_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        if not _readable(event, body):
            return
        workspace = Workspace.of(context, body)
        await self.rt.work.run(self._message(client, workspace, event, body), name="message")

    async def _message(
        self, client: AsyncWebClient, workspace: Workspace, event: dict[str, Any], body: dict[str, Any]
    ) -> None:
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
        await self.rt.process(
            client,
            workspace,
            Target(user=user, channel=channel, thread_ts=thread_ts),
            text=text,
            kind=InboundKind.MESSAGE,
            key=key,
            event_id=body.get("event_id"),
            direct=direct,
        )

    async def on_mention(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if not _readable(event, body):
            return
        workspace = Workspace.of(context, body)
        await self.rt.work.run(self._mention(client, workspace, event, body), name="mention")

    async def _mention(
        self, client: AsyncWebClient, workspace: Workspace, event: dict[str, Any], body: dict[str, Any]
    ) -> None:
        channel, user = event["channel"], event.get("user")
        if not user or event.get("bot_id"):
            return
        thread_ts = event.get("thread_ts") or event["ts"]
        key = thread_key(channel, thread_ts)
        # In a running interview a mention is an answer; anywhere else it is a command.
        answering = "thread_ts" in event and await self.rt.is_active(workspace, key)
        await self.rt.process(
            client,
            workspace,
            Target(user=user, channel=channel, thread_ts=thread_ts),
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
