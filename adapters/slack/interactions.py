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
import json
import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import payloads
from adapters.slack.applier import refused as _refused
from adapters.slack.blocks import form_values, form_view, picked, step_of
from adapters.slack.delivery import SEND_ERRORS
from adapters.slack.home import HomePages
from adapters.slack.places import Place, place_of_action
from adapters.slack.runtime import PLATFORM, Runtime, Workspace
from bot.capture.review import PICKED
from bot.forms import FORMS
from bot.lifecycle import closed_before_form
from bot.messages import InboundKind, Reply

log = logging.getLogger(__name__)
FORM_DEADLINE = 2.0  # seconds of Slack's three a modal submission may wait for the core


class Interactions:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.homes = HomePages(
            rt.db,
            rt.directory,
            command=rt.slack.command,
            default_timezone=rt.core.default_timezone,
            clock=lambda: rt.clock(),  # (read at each use: tests choose the runtime's clock)
        )

    # --- App Home -----------------------------------------------------------------------

    async def on_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if payloads.parse(payloads.HomeOpened, event, what="app_home_opened event") is None:
            return
        if event.get("tab", "home") != "home":
            return
        workspace = Workspace.of(context, body)
        self.rt.work.spawn(self.publish_home(client, workspace, event["user"]), name="app home")

    async def publish_home(
        self, client: AsyncWebClient, workspace: Workspace, user: str, banner: str | None = None
    ) -> None:
        await self.homes.publish(client, tenant=workspace.tenant, user=user, banner=banner)

    # --- buttons ------------------------------------------------------------------------

    async def on_tick(self, ack: AsyncAck) -> None:
        """A checkbox ticked: nothing to do until a button sends the ticked lines."""
        await ack()

    async def on_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """A choice is sent as if typed; a choice that names a form opens it first."""
        if payloads.parse(payloads.BlockAction, body, what="block action") is None:
            await ack()  # malformed: answered, nothing done (the WARNING names the field)
            return
        workspace = Workspace.of(context, body)
        if action["action_id"].startswith("form:"):
            self.rt.work.spawn(self._open_form(client, workspace, body, action), name="open form")
        else:
            await self._choice(workspace, body, action)
        await ack()  # (bolt answers Slack once this listener returns: the press is stored)

    async def _choice(self, workspace: Workspace, body: dict[str, Any], action: dict[str, Any]) -> None:
        place = await place_of_action(body, lambda k: self.rt.is_active(workspace, k))
        step = step_of(action.get("block_id"))
        after: dict[str, Any] = {"home": place.home}
        if step and place.message_ts and not place.ephemeral:
            message = body.get("message") or {}
            after["press"] = {
                "channel": place.channel or "",
                "ts": place.message_ts,
                "text": message.get("text", ""),
                "blocks": message.get("blocks") or [],
                "label": action["text"]["text"],
            }
        value = action.get("value") or ""
        if PICKED in value:  # "Accept selected": the lines ticked in the same message
            value = value.replace(PICKED, ",".join(picked((body.get("state") or {}).get("values") or {})))
        await self.rt.receive(
            workspace,
            place.target,
            text=value,
            kind=InboundKind.ACTION,
            key=place.key,
            event_id=f"action:{body.get('trigger_id') or action.get('action_ts')}",
            direct=place.direct,
            step=step,
            after=after,
        )

    async def _open_form(
        self, client: AsyncWebClient, workspace: Workspace, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        name = action["action_id"].split(":")[1]
        if name not in FORMS:
            log.warning("a button asked for an unknown form %r", name)
            return
        place = await place_of_action(body, lambda k: self.rt.is_active(workspace, k))
        if await self._closed_already(client, workspace, place, action.get("value") or ""):
            return
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

    async def _closed_already(
        self, client: AsyncWebClient, workspace: Workspace, place: Place, value: str
    ) -> bool:
        """Done on an action closed since: say so to the presser, and open no form."""
        refusal = await closed_before_form(
            self.rt.db, platform=PLATFORM, tenant=workspace.tenant, value=value
        )
        if refusal is not None:
            await self.rt.deliver(client, workspace, place.target, [refusal])
        return refusal is not None

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
        specs = FORMS[name][1] if name in FORMS else ()
        people = tuple(v for spec in specs if spec.type == "user" and (v := fields.get(spec.name)))
        entry_id = await self.rt.receive(
            workspace,
            place.target,
            text=metadata.get("value") or fields.get("description", ""),
            kind=InboundKind.FORM,
            key=place.key,
            event_id=f"form:{body.get('trigger_id') or body['view'].get('id')}",
            direct=place.direct,
            form=fields,
            step=metadata.get("step"),
            also_mentioned=people,
            after={"home": place.home},
        )
        early = await self._early_refusal(entry_id, shown_inline=name in FORMS)
        if early:
            await ack(
                response_action="errors", errors={_field_for(early[0].text, name): early[0].text[:1900]}
            )
            return
        await ack()

    async def _early_refusal(self, entry_id: int | None, *, shown_inline: bool) -> list[Reply] | None:
        """A refusal that came within FORM_DEADLINE, to show in the modal (and not send)."""
        conveyor = self.rt.conveyor
        if entry_id is None or conveyor is None or not shown_inline:
            return None
        arrived: asyncio.Future[list[Reply] | None] = asyncio.get_running_loop().create_future()

        def take(replies: list[Reply]) -> bool:
            if arrived.done():
                return False  # too late: the modal closed, the replies go out as messages
            refusal = _refused(replies)
            arrived.set_result(replies if refusal else None)
            return refusal

        conveyor.early[entry_id] = take
        try:
            return await asyncio.wait_for(asyncio.shield(arrived), FORM_DEADLINE)
        except TimeoutError:
            conveyor.early.pop(entry_id, None)
            if arrived.done():
                return arrived.result()
            arrived.cancel()
            return None


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
