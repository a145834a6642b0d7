"""Bolt listeners for buttons, modal forms and App Home.

A button's value is exactly what typing would send; a button whose choice names a
form opens it as a modal first. Buttons `ack()` at once. A modal submission is the
one place the core gets a moment before the acknowledgement (FORM_DEADLINE, within
Slack's three seconds): so a refused answer, such as a due date in the past, shows
in the modal beside its field instead of closing it; past the deadline the modal
closes and the answer is applied and delivered as usual.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import payloads
from adapters.slack.blocks import answered, form_values, form_view, home_view, step_of
from adapters.slack.delivery import SEND_ERRORS, update_message
from adapters.slack.places import Place, place_of_action
from adapters.slack.runtime import NOT_SAVED, PLATFORM, Runtime, Workspace
from bot.forms import FORMS
from bot.home import Viewer, load_home
from bot.messages import InboundKind, Reply, ReplyKind

log = logging.getLogger(__name__)
FORM_DEADLINE = 2.0  # seconds of Slack's three a modal submission may wait for the core


class Interactions:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    # --- App Home -----------------------------------------------------------------------

    async def on_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if payloads.parse(payloads.HomeOpened, event, what="app_home_opened event") is None:
            return
        if event.get("tab", "home") != "home":
            return
        workspace = Workspace.of(context, body)
        await self.rt.work.run(self.publish_home(client, workspace, event["user"]), name="app home")

    async def publish_home(
        self, client: AsyncWebClient, workspace: Workspace, user: str, banner: str | None = None
    ) -> None:
        profile = await self.rt.directory.profile(client, team=workspace.tenant, user_id=user)
        viewer = Viewer(PLATFORM, workspace.tenant, user, profile.name, profile.timezone, profile.is_admin)
        home = await load_home(
            self.rt.db, viewer, now=dt.datetime.now(dt.UTC), default_timezone=self.rt.core.default_timezone
        )
        view = home_view(home, command=self.rt.slack.command, banner=banner)
        try:
            await client.views_publish(user_id=user, view=view)
        except SEND_ERRORS as error:
            log.error("could not publish the App Home of %s: %r", user, error)

    # --- buttons ------------------------------------------------------------------------

    async def on_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """A choice is sent as if typed; a choice that names a form opens it first."""
        await ack()
        if payloads.parse(payloads.BlockAction, body, what="block action") is None:
            return
        workspace = Workspace.of(context, body)
        if action["action_id"].startswith("form:"):
            await self.rt.work.run(self._open_form(client, workspace, body, action), name="open form")
        else:
            await self.rt.work.run(self._choice(client, workspace, body, action), name="button")

    async def _choice(
        self, client: AsyncWebClient, workspace: Workspace, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        place = await place_of_action(body, lambda k: self.rt.is_active(workspace, k))
        step = step_of(action.get("block_id"))
        outcome = await self.rt.process(
            client,
            workspace,
            place.target,
            text=action.get("value") or "",
            kind=InboundKind.ACTION,
            key=place.key,
            event_id=f"action:{body.get('trigger_id') or action.get('action_ts')}",
            direct=place.direct,
            step=step,
        )
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
            update = {"text": message.get("text", ""), "blocks": blocks}
            await update_message(client, place.channel or "", place.message_ts, update)

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
        if payloads.parse(payloads.ViewSubmission, body, what="view submission") is None:
            await ack()  # the modal closes; nothing was applied
            return
        workspace = Workspace.of(context, body)
        metadata = _loads(view.get("private_metadata") or "{}")
        place = Place.loads(metadata["place"])
        name = view["callback_id"].split(":")[1]
        fields = form_values(view)
        applying = self.rt.work.spawn(
            self._apply_form(client, workspace, body, place, metadata, name, fields), name="form"
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
        name: str,
        fields: dict[str, str],
    ) -> list[Reply] | None:
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
