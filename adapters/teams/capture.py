"""The Teams message action "Add to postmortem": a message extension action command
(`composeExtension/submitAction` with its `messagePayload`), doing what the Slack shortcut does.
Its two parameters come from the manifest (case: a number, or empty for the channel's running
or latest case; section: a choice); the message's text, author, time and link go to the core
as the `clip` command."""

from __future__ import annotations

import html
import re
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema.teams import (
    MessagingExtensionAction,
    MessagingExtensionActionResponse,
    TaskModuleMessageResponse,
)

from adapters.teams.inbound import PLATFORM, tenant_of
from bot.capture.clip import picker
from bot.config import Settings
from bot.messages import Inbound, InboundKind, Mention
from bot.service import handle
from storage.db import Database
from storage.models import utcnow

COMMAND_ID = "addToPostmortem"
_TAG = re.compile(r"<[^<>]{0,500}>")


def plain(content: str) -> str:
    """A Teams message body (HTML) as its text."""
    spaced = content.replace("<br>", "\n").replace("</p>", "\n")
    return html.unescape(_TAG.sub("", spaced)).replace("\xa0", " ").strip()


def answer(text: str) -> MessagingExtensionActionResponse:
    return MessagingExtensionActionResponse(task=TaskModuleMessageResponse(value=text))


async def submit_action(
    db: Database, settings: Settings, turn_context: TurnContext, action: MessagingExtensionAction
) -> MessagingExtensionActionResponse:
    activity = turn_context.activity
    tenant = tenant_of(activity)
    payload = action.message_payload
    if tenant is None or payload is None or action.command_id != COMMAND_ID:
        return answer("Use “Add to postmortem” from a message's ⋯ menu.")
    data: dict[str, Any] = action.data if isinstance(action.data, dict) else {}
    channel = (activity.conversation.id or "").split(";")[0]
    case = str(data.get("case") or "").strip().lstrip("#")
    if not case:
        choices = await picker(db, platform=PLATFORM, tenant=tenant, place=channel, now=utcnow())
        if not choices.cases:
            return answer("There is no case yet: start one with `@Casebook postmortem <title>`.")
        case = str(choices.preselected or choices.cases[0][0])
    author = payload.from_property.user if payload.from_property else None
    form = {
        "case": case,
        "section": str(data.get("section") or ""),
        "text": plain(payload.body.content if payload.body else ""),
        "author": (author.id if author else None) or "unknown",
        "author_name": (author.display_name if author else None) or "",
        "at": str(payload.created_date_time or ""),
        "link": payload.link_to_message or "",
    }
    sender = activity.from_property
    inbound = Inbound(
        platform=PLATFORM,
        tenant=tenant,
        conversation_key=channel,
        user_id=sender.id,
        user_name=sender.name,
        text="clip",
        kind=InboundKind.COMMAND,
        form=form,
        mentions=(Mention(form["author"], form["author_name"] or None),),
        event_id=f"clip:{activity.id}",
        at=activity.timestamp or turn_context.activity.local_timestamp,
    )
    replies = await handle(db, inbound, settings=settings)
    return answer("\n".join(r.text for r in replies) or "Nothing was added.")
