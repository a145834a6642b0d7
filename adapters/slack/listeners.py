"""Bolt listeners: acknowledge at once, then hand the work to the runtime.

Every listener calls `ack()` before anything slow (Slack gives three seconds, and a
slow Web API or database must never eat them). The one exception is a modal
submission: the core gets up to FORM_DEADLINE to refuse it, so a bad due date is
shown in the modal beside the field; past the deadline the modal closes and the
answer is applied and delivered as usual.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import answered, form_values, form_view, home_view, root_message, step_of
from adapters.slack.delivery import SEND_ERRORS, Target
from adapters.slack.mrkdwn import from_slack, without_mention_of
from adapters.slack.places import Place, dm_conversation, place_of_action, thread_key
from adapters.slack.runtime import NOT_SAVED, Runtime, Workspace
from bot.commands import parse_command
from bot.forms import FORMS
from bot.home import Viewer, load_home
from bot.messages import InboundKind, Reply, ReplyKind

log = logging.getLogger(__name__)
FORM_DEADLINE = 2.0  # seconds of Slack's three a modal submission may wait for the core
IGNORED_SUBTYPES = {"message_changed", "message_deleted", "channel_join", "channel_leave", "bot_message"}
CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


def register(app: AsyncApp, rt: Runtime) -> None:
    listeners = Listeners(rt)
    app.command(rt.slack.command)(listeners.on_command)
    app.event("message")(listeners.on_message)
    app.event("app_mention")(listeners.on_mention)
    app.event("app_home_opened")(listeners.on_home_opened)
    app.action(re.compile(r"^choice:"))(listeners.on_choice)
    app.action(re.compile(r"^form:"))(listeners.on_form_button)
    app.view(re.compile(r"^form:"))(listeners.on_form_submit)


class Listeners:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    # --- slash command ------------------------------------------------------------------

    async def on_command(
        self, ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        workspace = Workspace.of(context, command)
        await self.rt.work.run(self._command(client, workspace, command), name="slash command")

    async def _command(self, client: AsyncWebClient, workspace: Workspace, command: dict[str, Any]) -> None:
        text = "postmortem " + (command.get("text") or "").strip()
        if parse_command(from_slack(text)[0]).name == "start":
            await self._start(client, workspace, command, text)
            return
        channel, user = command["channel_id"], command["user_id"]
        inbound = await self.rt.inbound(
            client,
            workspace,
            user=user,
            text=text,
            kind=InboundKind.COMMAND,
            key=channel,
            event_id=f"command:{command.get('trigger_id')}",
        )
        target = Target(
            user=user, channel=channel, response_url=command.get("response_url"), via_command=True
        )
        await self.rt.process(client, workspace, target, inbound)

    async def _start(
        self, client: AsyncWebClient, workspace: Workspace, command: dict[str, Any], text: str
    ) -> None:
        """Post the root first (its ts names the thread), then open the case in that thread."""
        channel, user = command["channel_id"], command["user_id"]
        courier = self.rt.courier(client, workspace)
        root = await self._post_root(client, channel, user)
        if root is None:
            explanation = Reply(
                "I can't post in this channel. Add me to it (`/invite @Casebook`), then run "
                f"`{self.rt.slack.command}` again.",
                ReplyKind.ERROR,
                ephemeral=True,
            )
            target = Target(
                user=user, channel=channel, response_url=command.get("response_url"), via_command=True
            )
            await courier.deliver(target, [explanation])
            return
        inbound = await self.rt.inbound(
            client,
            workspace,
            user=user,
            text=text,
            kind=InboundKind.COMMAND,
            key=thread_key(channel, root),
            event_id=f"command:{command.get('trigger_id')}",
        )
        target = Target(user=user, channel=channel, thread_ts=root, response_url=command.get("response_url"))
        outcome = await self.rt.process(client, workspace, target, inbound)
        number = next((r.case_number for r in outcome.replies if r.case_number), None)
        state = "running" if outcome.saved and number else "failed"
        title = parse_command(inbound.text).args or None
        message = root_message(
            state=state, command=self.rt.slack.command, lead=user, number=number, title=title
        )
        await self._update(client, channel, root, message)

    async def _post_root(self, client: AsyncWebClient, channel: str, user: str) -> str | None:
        message = root_message(state="starting", command=self.rt.slack.command, lead=user)
        for attempt in (1, 2):
            try:
                response = await client.chat_postMessage(channel=channel, **message)
                return str(response["ts"])
            except SlackApiError as error:
                reason = error.response.get("error")
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

    @staticmethod
    async def _update(client: AsyncWebClient, channel: str, ts: str, message: dict[str, Any]) -> None:
        try:
            await client.chat_update(channel=channel, ts=ts, **message)
        except SEND_ERRORS as error:
            log.warning("could not update message %s in %s: %r", ts, channel, error)

    # --- messages -----------------------------------------------------------------------

    async def on_message(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if event.get("subtype") in IGNORED_SUBTYPES or event.get("bot_id") or not event.get("user"):
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
        inbound = await self.rt.inbound(
            client,
            workspace,
            user=user,
            text=text,
            kind=InboundKind.MESSAGE,
            key=key,
            event_id=body.get("event_id"),
            direct=direct,
        )
        await self.rt.process(
            client, workspace, Target(user=user, channel=channel, thread_ts=thread_ts), inbound
        )

    async def on_mention(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        workspace = Workspace.of(context, body)
        await self.rt.work.run(self._mention(client, workspace, event, body), name="mention")

    async def _mention(
        self, client: AsyncWebClient, workspace: Workspace, event: dict[str, Any], body: dict[str, Any]
    ) -> None:
        channel, user = event["channel"], event.get("user")
        if not user or event.get("bot_id"):
            return
        text = without_mention_of(event.get("text") or "", workspace.bot_user_id or "")
        thread_ts = event.get("thread_ts") or event["ts"]
        key = thread_key(channel, thread_ts)
        # In a running interview a mention is an answer; anywhere else it is a command.
        answering = "thread_ts" in event and await self.rt.is_active(workspace, key)
        inbound = await self.rt.inbound(
            client,
            workspace,
            user=user,
            text=text,
            kind=InboundKind.MESSAGE if answering else InboundKind.COMMAND,
            key=key,
            event_id=body.get("event_id"),
        )
        await self.rt.process(
            client, workspace, Target(user=user, channel=channel, thread_ts=thread_ts), inbound
        )

    # --- App Home -----------------------------------------------------------------------

    async def on_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        workspace = Workspace.of(context, body)
        await self.rt.work.run(self.publish_home(client, workspace, event["user"]), name="app home")

    async def publish_home(
        self, client: AsyncWebClient, workspace: Workspace, user: str, banner: str | None = None
    ) -> None:
        profile = await self.rt.directory.profile(client, team=workspace.tenant, user_id=user)
        viewer = Viewer("slack", workspace.tenant, user, profile.name, profile.timezone, profile.is_admin)
        home = await load_home(
            self.rt.db, viewer, now=dt.datetime.now(dt.UTC), default_timezone=self.rt.core.default_timezone
        )
        view = home_view(home, command=self.rt.slack.command, banner=banner)
        try:
            await client.views_publish(user_id=user, view=view)
        except SEND_ERRORS as error:
            log.error("could not publish the App Home of %s: %r", user, error)

    # --- buttons ------------------------------------------------------------------------

    async def on_choice(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        workspace = Workspace.of(context, body)
        await self.rt.work.run(self._choice(client, workspace, body, action), name="button")

    async def _choice(
        self, client: AsyncWebClient, workspace: Workspace, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        place = await place_of_action(body, lambda k: self.rt.is_active(workspace, k))
        step = step_of(action.get("block_id"))
        if step and not await self.rt.is_active(workspace, place.key, fresh=True):
            over = Reply(
                "This conversation is over; its buttons no longer do anything.",
                ReplyKind.INFO,
                ephemeral=True,
            )
            await self.rt.courier(client, workspace).deliver(place.target, [over])
            return
        inbound = await self.rt.inbound(
            client,
            workspace,
            user=place.user,
            text=action.get("value") or "",
            kind=InboundKind.ACTION,
            key=place.key,
            event_id=f"action:{body.get('trigger_id') or action.get('action_ts')}",
            direct=place.direct,
            step=step,
        )
        outcome = await self.rt.process(client, workspace, place.target, inbound)
        await self._after_press(client, workspace, place, outcome.replies)
        if (
            step
            and outcome.saved
            and not _refused(outcome.replies)
            and place.message_ts
            and not place.ephemeral
        ):
            message = body.get("message") or {}
            blocks = answered(message.get("blocks") or [], user_id=place.user, label=action["text"]["text"])
            await self._update(
                client,
                place.channel or "",
                place.message_ts,
                {"text": message.get("text", ""), "blocks": blocks},
            )

    async def _after_press(
        self,
        client: AsyncWebClient,
        workspace: Workspace,
        place: Place,
        replies: list[Reply],
    ) -> None:
        """On App Home the results show in the page itself, which is published again."""
        if place.home:
            shown = [r.text for r in replies if not r.to_user]
            await self.publish_home(client, workspace, place.user, banner="\n".join(shown) or None)

    async def on_form_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        workspace = Workspace.of(context, body)
        await self.rt.work.run(self._open_form(client, workspace, body, action), name="open form")

    async def _open_form(
        self, client: AsyncWebClient, workspace: Workspace, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        name = action["action_id"].split(":")[1]
        if name not in FORMS:
            log.warning("a button asked for an unknown form %r", name)
            return
        place = await place_of_action(body, lambda k: self.rt.is_active(workspace, k))
        metadata = {
            "place": place.dumps(),
            "value": action.get("value") or "",
            "step": step_of(action.get("block_id")),
        }
        view = form_view(name, metadata=_dumps(metadata))
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SEND_ERRORS as error:
            log.error("could not open the %s form for %s: %r", name, place.user, error)

    async def on_form_submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        workspace = Workspace.of(context, body)
        metadata = _loads(view.get("private_metadata") or "{}")
        place = Place.loads(metadata["place"])
        name = view["callback_id"].split(":")[1]
        fields = form_values(view)
        applying = self.rt.work.spawn(
            self._apply_form(client, workspace, body, place, metadata, fields), name="form"
        )
        done, _ = await asyncio.wait({applying}, timeout=FORM_DEADLINE)
        early = applying.result() if applying in done else None
        if early and _refused(early) and name in FORMS:
            await ack(
                response_action="errors", errors={_field_for(early[0].text, name): early[0].text[:1900]}
            )
            return
        await ack()
        await self.rt.work.run(self._deliver_form(client, workspace, place, applying), name="form replies")

    async def _apply_form(
        self,
        client: AsyncWebClient,
        workspace: Workspace,
        body: dict[str, Any],
        place: Place,
        metadata: dict[str, Any],
        fields: dict[str, str],
    ) -> list[Reply] | None:
        name = str(body["view"]["callback_id"]).split(":")[1]
        specs = FORMS[name][1] if name in FORMS else ()
        people = tuple(v for spec in specs if spec.type == "user" and (v := fields.get(spec.name)))
        inbound = await self.rt.inbound(
            client,
            workspace,
            user=body["user"]["id"],
            text=metadata.get("value") or fields.get("description", ""),
            kind=InboundKind.FORM,
            key=place.key,
            event_id=f"form:{body.get('trigger_id') or body['view'].get('id')}",
            direct=place.direct,
            form=fields,
            step=metadata.get("step"),
            also_mentioned=people,
        )
        return await self.rt.apply(inbound)

    async def _deliver_form(
        self, client: AsyncWebClient, workspace: Workspace, place: Place, applying: asyncio.Task[Any]
    ) -> None:
        replies = await applying
        replies = replies if replies is not None else [NOT_SAVED]
        await self.rt.deliver(client, workspace, place.target, replies)
        await self._after_press(client, workspace, place, replies)


def _refused(replies: list[Reply]) -> bool:
    return bool(replies) and replies[0].kind == ReplyKind.ERROR


def _field_for(error: str, form: str) -> str:
    """The modal field an error is about (errors are shown beside an input block)."""
    lowered = error.lower()
    specs = FORMS[form][1]
    hints = {"date": ("date", "due", "until", "past"), "user": ("owner", "mention", "@")}
    for spec in specs:
        if spec.name in lowered or any(h in lowered for h in hints.get(spec.type, ())):
            return spec.name
    return specs[0].name


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def _loads(text: str) -> dict[str, Any]:
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {}
