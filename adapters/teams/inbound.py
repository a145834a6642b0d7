"""A Teams activity, read: who, where, which tenant, and what they said or pressed.

Pure functions over botbuilder's Activity. The bot's own `<at>` mention is removed;
other people's mentions become `<@29:...>` tokens listed in `Inbound.mentions`;
a card submit (Action.Submit) becomes an ACTION (a button) or a FORM (inputs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botbuilder.schema import Activity

from adapters.teams import cards
from bot.messages import Inbound, InboundKind, Mention
from bot.parsing import locale_tag

PLATFORM = "teams"
TEAMS_CHANNEL = "msteams"  # the Bot Framework channel id of Teams
PERSONAL, CHANNEL, GROUP_CHAT = "personal", "channel", "groupChat"
_AT_TAG = re.compile(r"</?at>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]+")
_HOLD = "\ue000"  # a private-use character, not expected in what people type
_HELD = re.compile(f"{_HOLD}(\\d+){_HOLD}")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class TenantMismatch(ValueError):
    """channelData and conversation name different tenants: refuse the activity."""


def tenant_of(activity: Activity) -> str | None:
    """The Entra tenant the activity comes from, lower-case; None if it names none."""
    tenant = _dict(_dict(activity.channel_data).get("tenant"))
    from_data = str(tenant.get("id") or "").strip().lower() or None
    conversation = activity.conversation
    # botbuilder maps `tenantID`; Teams sends `tenantId`, which lands in additional_properties.
    raw = (
        (conversation.tenant_id or _dict(conversation.additional_properties).get("tenantId"))
        if conversation
        else None
    )
    from_conversation = str(raw or "").strip().lower() or None
    if from_data and from_conversation and from_data != from_conversation:
        raise TenantMismatch(f"channelData says {from_data}, conversation says {from_conversation}")
    return from_data or from_conversation


def scope_of(activity: Activity) -> str:
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind if kind in {CHANNEL, GROUP_CHAT} else PERSONAL


def channel_base(conversation_id: str) -> str:
    """`19:abc@thread.tacv2;messageid=123` -> `19:abc@thread.tacv2` (the channel itself)."""
    return conversation_id.split(";messageid=", 1)[0]


def is_new_post(activity: Activity) -> bool:
    """A top-level channel post (not a reply): its id is the reply chain's root id."""
    conversation_id = activity.conversation.id if activity.conversation else ""
    _, _, root = conversation_id.partition(";messageid=")
    return bool(root) and root == (activity.id or "")


def team_id_of(activity: Activity) -> str | None:
    team = _dict(_dict(activity.channel_data).get("team"))
    return str(team.get("id")) if team.get("id") else None


def user_timezone(activity: Activity) -> str | None:
    """The sender's IANA zone: `localTimezone`, else the clientInfo entity's."""
    candidates = [activity.local_timezone]
    for entity in activity.entities or ():
        if (entity.type or "").lower() == "clientinfo":
            candidates.append((entity.additional_properties or {}).get("timezone"))
    for name in candidates:
        if isinstance(name, str) and name.strip():
            try:
                ZoneInfo(name.strip())
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return name.strip()
    return None


def user_locale(activity: Activity) -> str | None:
    """The sender's locale (`en-US`): the activity's `locale`, else the clientInfo entity's."""
    candidates = [activity.locale]
    for entity in activity.entities or ():
        if (entity.type or "").lower() == "clientinfo":
            candidates.append((entity.additional_properties or {}).get("locale"))
    return next((tag for tag in map(locale_tag, candidates) if tag), None)


@dataclass(frozen=True)
class Spoken:
    text: str
    mentions: tuple[Mention, ...] = ()
    addressed: bool = True  # the bot was @mentioned (with RSC consent, channel messages need not)


def read_text(activity: Activity) -> Spoken:
    """The message without the bot's mention; other mentions as `<@id>` tokens."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    mentions: dict[str, Mention] = {}
    tokens: list[str] = []
    addressed = False
    for entity in activity.entities or ():
        if (entity.type or "").lower() != "mention":
            continue
        props = _dict(entity.additional_properties)
        mentioned = _dict(props.get("mentioned"))
        user_id = str(mentioned.get("id") or "")
        name = mentioned.get("name")
        tag = str(props.get("text") or (f"<at>{name}</at>" if name else ""))
        if not user_id or not tag:
            continue
        if user_id == bot_id:
            text = text.replace(tag, " ", 1)
            addressed = True
            continue
        if user_id.startswith("19:"):  # a channel or team, not a person: shown by its name
            text = text.replace(tag, str(name or "the channel"), 1)
            continue
        # A placeholder until the text is unescaped, so only real mentions become tokens.
        text = text.replace(tag, f"{_HOLD}{len(tokens)}{_HOLD}", 1)
        tokens.append(f"<@{user_id}>")
        mentions.setdefault(user_id, Mention(user_id, str(name) if name else None))
    text = html.unescape(_AT_TAG.sub("", text)).replace("\xa0", " ")
    text = text.replace("<@", "<\u200b@")  # typed `<@29:...>` is text, not a mention
    text = _HELD.sub(lambda m: tokens[int(m.group(1))] if int(m.group(1)) < len(tokens) else "", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return Spoken("\n".join(lines).strip(), tuple(mentions.values()), addressed)


@dataclass(frozen=True)
class Submission:
    """What an Action.Submit sent back: the choice's value, and the inputs of its form."""

    value: str
    form_name: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    step: str | None = None
    label: str | None = None
    question: str | None = None


def read_submission(activity: Activity) -> Submission | None:
    value = activity.value
    if not isinstance(value, dict) or value.get(cards.DATA_KEY) != cards.DATA_VERSION:
        return None
    prefix = str(value.get("prefix") or "")
    fields = {
        key[len(prefix) :]: _field_text(raw)
        for key, raw in value.items()
        if prefix and key.startswith(prefix) and key != prefix
    }
    chosen = fields.pop(cards.CHOICE_FIELD, None)
    return Submission(
        value=str(value.get("value") or chosen or ""),
        form_name=str(value["form"]) if value.get("form") else None,
        fields=fields,
        step=str(value["step"]) if value.get("step") else None,
        label=str(value["label"]) if value.get("label") else chosen,
        question=str(value["question"]) if value.get("question") else None,
    )


def _field_text(raw: Any) -> str:
    return raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))


def event_id(activity: Activity) -> str | None:
    """Teams message ids are timestamps, unique within a conversation only."""
    if not activity.id:
        return None
    conversation = activity.conversation.id if activity.conversation else ""
    digest = hashlib.sha256(conversation.encode()).hexdigest()[:16]
    return f"teams:{activity.id}:{digest}"


def to_inbound(
    activity: Activity,
    *,
    tenant: str,
    submission: Submission | None = None,
    form: dict[str, str] | None = None,
    extra_mentions: tuple[Mention, ...] = (),
    admins: frozenset[str] = frozenset(),
) -> Inbound | None:
    """The core's view of a message activity; None when there is nothing to say."""
    scope = scope_of(activity)
    sender = activity.from_property
    if sender is None or not sender.id or activity.conversation is None:
        return None
    spoken = read_text(activity)
    # With the ChannelMessage.Read.Group consent Teams sends every channel message: one that
    # does not @mention the bot is only an answer where an interview runs, never a command.
    overheard = scope == CHANNEL and submission is None and not spoken.addressed
    if overheard and is_new_post(activity):
        return None
    if submission is not None:
        kind = InboundKind.FORM if submission.form_name else InboundKind.ACTION
        text = submission.value
    elif not spoken.text and scope == CHANNEL and is_new_post(activity):
        kind, text = InboundKind.COMMAND, ""  # a bare `@Casebook`: show the help
    elif not spoken.text:
        return None
    elif scope == CHANNEL and is_new_post(activity):
        kind, text = InboundKind.COMMAND, spoken.text
    else:
        kind, text = InboundKind.MESSAGE, spoken.text
    mentions = {m.user_id: m for m in (*spoken.mentions, *extra_mentions)}
    return Inbound(
        platform=PLATFORM,
        tenant=tenant,
        conversation_key=activity.conversation.id,
        user_id=sender.id,
        text=text,
        kind=kind,
        user_name=sender.name or None,
        user_timezone=user_timezone(activity),
        user_locale=user_locale(activity),
        user_is_admin=(sender.aad_object_id or "").lower() in admins,
        # In a channel or group chat the bot only hears messages that @mention it:
        # they are addressed to it, so plain text works as a command when no
        # interview runs in that reply chain.
        direct=not overheard,
        form=form if kind == InboundKind.FORM else None,
        mentions=tuple(mentions.values()),
        event_id=event_id(activity),
        at=_when(activity.timestamp),
        step=submission.step if submission else None,
    )


def _when(timestamp: dt.datetime | None) -> dt.datetime:
    if timestamp is None:
        return dt.datetime.now(dt.UTC)
    if timestamp.tzinfo is None:
        return timestamp.replace(tzinfo=dt.UTC)
    return timestamp.astimezone(dt.UTC)
