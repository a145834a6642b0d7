"""The message shortcut "Add to postmortem" (callback id `add_to_postmortem`).

On any message: a modal to pick the case (the channel's running, else latest, case first and
preselected) and the section; on submit the message's text, author and time go to the core as
the `clip` command with a link to the message, stored before Slack's 200 like every request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.delivery import SEND_ERRORS, Target
from adapters.slack.mrkdwn import from_slack
from adapters.slack.runtime import PLATFORM, Runtime, Workspace
from bot.capture.clip import MAX_TEXT, SECTIONS, picker
from bot.messages import InboundKind

log = logging.getLogger(__name__)
CALLBACK = "add_to_postmortem"
VIEW = "capture:add"


def register(app: AsyncApp, rt: Runtime) -> None:
    shortcuts = Shortcuts(rt)
    app.shortcut(CALLBACK)(shortcuts.on_shortcut)
    app.view(VIEW)(shortcuts.on_submit)


def permalink_of(domain: str | None, channel: str, ts: str) -> str:
    """Slack's link to a message, built as Slack builds it (when chat.getPermalink fails)."""
    host = f"https://{domain}.slack.com" if domain else "https://slack.com"
    return f"{host}/archives/{channel}/p{ts.replace('.', '')}"


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label[:75]}, "value": value}


def _text(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


class Shortcuts:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def on_shortcut(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        message, channel = body.get("message") or {}, (body.get("channel") or {}).get("id")
        if not channel or not message.get("ts") or not body.get("trigger_id"):
            log.warning("an Add to postmortem shortcut came without its message or channel")
            return
        workspace = Workspace.of(context, body)
        self.rt.work.spawn(self._open(client, workspace, body, channel, message), name="add to postmortem")

    async def _open(
        self,
        client: AsyncWebClient,
        workspace: Workspace,
        body: dict[str, Any],
        channel: str,
        message: dict[str, Any],
    ) -> None:
        ts = str(message["ts"])
        choices = await picker(
            self.rt.db, platform=PLATFORM, tenant=workspace.tenant, place=f"{channel}:", now=self.rt.clock()
        )
        link = await self._permalink(client, workspace, channel, ts)
        metadata = {
            "channel": channel,
            "thread_ts": message.get("thread_ts"),
            "ts": ts,
            "author": message.get("user") or message.get("bot_id") or "unknown",
            "link": link,
        }
        try:
            await client.views_open(
                trigger_id=body["trigger_id"], view=self._view(choices, message, metadata)
            )
        except SEND_ERRORS as error:
            log.error("could not open the Add to postmortem form: %r", error)

    async def _permalink(self, client: AsyncWebClient, workspace: Workspace, channel: str, ts: str) -> str:
        try:
            response = await client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(response["permalink"])
        except SEND_ERRORS as error:
            log.info("chat.getPermalink failed (%r); building the link", error)
            return permalink_of(workspace.name, channel, ts)

    def _view(self, choices: Any, message: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
        base: dict[str, Any] = {"type": "modal", "callback_id": VIEW, "title": _text("Add to postmortem")}
        if not choices.cases:
            body = f"There is no case yet. Start one with `{self.rt.slack.command}`, then add messages to it."
            return {
                **base,
                "close": _text("Close"),
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body}}],
            }
        cases = [_option(str(number), label) for number, label in choices.cases]
        case_element: dict[str, Any] = {"type": "static_select", "action_id": "case", "options": cases}
        if choices.preselected is not None:
            case_element["initial_option"] = cases[0]
        text = from_slack(message.get("text") or "")[0][:MAX_TEXT]
        text_element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": "text",
            "multiline": True,
            "max_length": MAX_TEXT,
        }
        if text:
            text_element["initial_value"] = text
        sections = [_option(key, label) for key, label in SECTIONS.items()]
        blocks = [
            {"type": "input", "block_id": "case", "label": _text("Case"), "element": case_element},
            {
                "type": "input",
                "block_id": "section",
                "label": _text("Section"),
                "element": {"type": "static_select", "action_id": "section", "options": sections},
            },
            {"type": "input", "block_id": "text", "label": _text("Text"), "element": text_element},
        ]
        return {
            **base,
            "submit": _text("Add"),
            "close": _text("Cancel"),
            "blocks": blocks,
            "private_metadata": json.dumps(metadata, separators=(",", ":")),
        }

    async def on_submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
            values = view["state"]["values"]
            picked = {block: next(iter(state.values())) for block, state in values.items()}
            form = {
                "case": picked["case"]["selected_option"]["value"],
                "section": picked["section"]["selected_option"]["value"],
                "text": picked["text"].get("value") or "",
                "author": str(metadata["author"]),
                "at": dt.datetime.fromtimestamp(float(metadata["ts"]), dt.UTC).isoformat(),
                "link": str(metadata.get("link") or ""),
            }
            user, channel = body["user"]["id"], str(metadata["channel"])
        except (KeyError, TypeError, ValueError) as error:
            log.warning("an Add to postmortem submission was not in the shape we sent: %r", error)
            await ack()
            return
        workspace = Workspace.of(context, body)
        await self.rt.receive(
            workspace,
            Target(user=user, channel=channel, thread_ts=metadata.get("thread_ts")),
            text="clip",
            kind=InboundKind.COMMAND,
            key=channel,
            event_id=f"clip:{body['view'].get('id') or body.get('trigger_id')}",
            form=form,
            also_mentioned=(form["author"],) if form["author"].startswith(("U", "W")) else (),
        )
        await ack()
