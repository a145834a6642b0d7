"""Replies as Teams activities: text messages, and Adaptive Cards for choices, forms,
listings and cases.

Pressing a card button is the same as typing its value: every Action.Submit carries
`{"casebook": 1, "value": ...}` (plus the form's name and an input-id prefix when it
collects inputs), which comes back as a message activity whose `value` is that data
merged with the inputs. Teams refuses messages over about 28 KB, so every card is
packed under CARD_BUDGET and overflow continues in the next card.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount, Mention

from adapters.teams.markdown import Mentions, card_lines, message_text, text_block
from bot.forms import FORMS, FormField
from bot.markup import strip_marks
from bot.messages import Choice, ListItem, Reply, ReplyKind

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
DATA_KEY, DATA_VERSION = "casebook", 1
CHOICE_FIELD = "choice"
CARD_BUDGET = 24_000  # bytes of card JSON; Teams refuses a whole message over ~28 KB
TEXT_BUDGET = 20_000  # characters of one text message
MAX_BUTTONS = 5  # more choices than this become a drop-down
PEOPLE_DATASET = "graph.microsoft.com/users"
_ICONS = {ReplyKind.ERROR: "⚠️ "}


def render(reply: Reply, *, names: Mapping[str, str]) -> list[Activity]:
    """One reply as one or more activities, each within Teams' size limit."""
    mentions = Mentions(names)
    if reply.kind == ReplyKind.CASE and reply.sections:
        return _case(reply, mentions)
    if reply.choices or reply.items or reply.form:
        return _interactive(reply, mentions)
    return [_text_activity(chunk, mentions) for chunk in _chunks(_ICONS.get(reply.kind, "") + reply.text)]


# --- text -----------------------------------------------------------------------------------


def _text_activity(markdown: str, mentions: Mentions) -> Activity:
    text = mentions.replace(message_text(markdown))
    used = [
        Mention(mentioned=ChannelAccount(**e["mentioned"]), text=e["text"], type="mention")
        for e in mentions.entities
        if e["text"] in text
    ]
    return Activity(type=ActivityTypes.message, text=text, text_format="markdown", entities=used or None)


def _chunks(text: str, limit: int = TEXT_BUDGET) -> list[str]:
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            chunks.append(current + line[: limit - len(current)])
            line, current = line[limit - len(current) :], ""
        if len(current) + len(line) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current.strip() or not chunks:
        chunks.append(current)
    return [c.rstrip("\n") for c in chunks]


# --- cards ----------------------------------------------------------------------------------


def card_activity(body: list[dict[str, Any]], actions: list[dict[str, Any]], *, summary: str) -> Activity:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    return Activity(
        type=ActivityTypes.message,
        summary=summary[:120],
        attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)],
    )


def card_of(activity: Activity) -> dict[str, Any] | None:
    for attachment in activity.attachments or ():
        if attachment.content_type == ADAPTIVE_CARD and isinstance(attachment.content, dict):
            return attachment.content
    return None


def _size(body: Sequence[dict[str, Any]], actions: Sequence[dict[str, Any]]) -> int:
    return len(json.dumps({"body": body, "actions": actions}, ensure_ascii=False).encode())


def pack(
    elements: Sequence[dict[str, Any]],
    *,
    actions: list[dict[str, Any]],
    mentions: Mentions,
    summary: str,
    budget: int = CARD_BUDGET,
) -> list[Activity]:
    """Cards holding `elements` in order, each under `budget`; the actions go on the last."""
    cards: list[list[dict[str, Any]]] = [[]]
    for element in elements:
        if cards[-1] and _size([*cards[-1], element], []) > budget:
            cards.append([])
        cards[-1].append(element)
    if cards[-1] and _size(cards[-1], actions) > budget:
        cards.append([text_block("…")])
    activities = []
    for index, body in enumerate(cards):
        last = index == len(cards) - 1
        activity = card_activity(body, actions if last else [], summary=summary)
        _attach_mentions(activity, mentions)
        activities.append(activity)
    return activities


def _attach_mentions(activity: Activity, mentions: Mentions) -> None:
    card = card_of(activity)
    if card is None:
        return
    blob = json.dumps(card, ensure_ascii=False)
    used = [e for e in mentions.entities if e["text"] in blob]
    if used:
        card["msteams"]["entities"] = used


def _lines(markdown: str, mentions: Mentions) -> list[dict[str, Any]]:
    return card_lines(mentions.replace(markdown))


def _summary(text: str, limit: int = 120) -> str:
    """The first line, without Markdown marks: a notification preview or a question's gist."""
    first = next((line for line in text.splitlines() if line.strip()), "Casebook")
    plain = strip_marks(first).strip("# ")
    question_end = plain.find("?")
    if 0 < question_end < limit:
        return plain[: question_end + 1]
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


# --- choices, forms, listings ---------------------------------------------------------------


def _interactive(reply: Reply, mentions: Mentions) -> list[Activity]:
    body = _lines(_ICONS.get(reply.kind, "") + reply.text, mentions)
    question = _summary(reply.text) if reply.step else None
    context = {"step": reply.step, "question": question} if reply.step else {}
    actions: list[dict[str, Any]] = []
    choices = list(reply.choices)
    if len(choices) > MAX_BUTTONS and not any(c.form for c in choices):
        body.append(_dropdown(choices, prefix="q."))
        actions.append(_submit("Answer", _data(prefix="q.", **context), associated=True, style="positive"))
    else:
        actions += [_choice_action(c, prefix=f"c{i}.", context=context) for i, c in enumerate(choices)]
    if reply.form:
        actions.append(
            _form_action(reply.form, title=FORMS[reply.form][0], value="", prefix="f.", context=context)
        )
    for index, item in enumerate(reply.items):
        body.append(_item(item, index, mentions))
    return pack(body, actions=actions, mentions=mentions, summary=_summary(reply.text))


def _item(item: ListItem, index: int, mentions: Mentions) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Container",
        "separator": True,
        "items": _lines(item.text, mentions),
    }
    if item.choices:
        element["items"].append(
            {
                "type": "ActionSet",
                "actions": [
                    _choice_action(c, prefix=f"i{index}c{j}.", context={}) for j, c in enumerate(item.choices)
                ],
            }
        )
    return element


def _choice_action(choice: Choice, *, prefix: str, context: Mapping[str, Any]) -> dict[str, Any]:
    style = {"primary": "positive", "danger": "destructive"}.get(choice.style or "")
    if choice.form and choice.form in FORMS:
        return _form_action(
            choice.form, title=choice.label, value=choice.value, prefix=prefix, context=context
        )
    return _submit(choice.label, _data(value=choice.value, label=choice.label, **context), style=style)


def _form_action(
    form: str, *, title: str, value: str, prefix: str, context: Mapping[str, Any]
) -> dict[str, Any]:
    heading, fields = FORMS[form]
    body: list[dict[str, Any]] = [text_block(heading, weight="Bolder")]
    body += [_input(f, prefix) for f in fields]
    if any(f.type == "user" for f in fields):
        body.append(
            text_block(
                "Can't find them? Reply in this conversation and @mention them instead.",
                isSubtle=True,
                size="Small",
            )
        )
    data = _data(value=value, form=form, prefix=prefix, label=title, **context)
    submit = _submit("Submit", data, style="positive")
    submit["associatedInputs"] = "auto"
    return {
        "type": "Action.ShowCard",
        "title": title,
        "card": {"type": "AdaptiveCard", "body": body, "actions": [submit]},
    }


def _input(field: FormField, prefix: str) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": prefix + field.name,
        "label": field.label,
        "isRequired": field.required,
        "errorMessage": f"{field.label} is required",
    }
    if field.type == "user":
        return {
            **base,
            "type": "Input.ChoiceSet",
            "isMultiSelect": False,
            "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": PEOPLE_DATASET},
        }
    if field.type == "date":
        return {**base, "type": "Input.Date"}
    if field.type == "choice":
        return {
            **base,
            "type": "Input.ChoiceSet",
            "style": "compact",
            "value": field.options[0] if field.options else "",
            "choices": [{"title": o, "value": o} for o in field.options],
        }
    return {**base, "type": "Input.Text", "isMultiline": field.type == "long_text", "maxLength": 4000}


def _dropdown(choices: Sequence[Choice], *, prefix: str) -> dict[str, Any]:
    return {
        "type": "Input.ChoiceSet",
        "id": prefix + CHOICE_FIELD,
        "style": "compact",
        "isRequired": True,
        "errorMessage": "Pick one",
        "value": choices[0].value,
        "choices": [{"title": c.label, "value": c.value} for c in choices],
    }


def _data(**values: Any) -> dict[str, Any]:
    return {DATA_KEY: DATA_VERSION, **{k: v for k, v in values.items() if v is not None}}


def _submit(
    title: str, data: dict[str, Any], *, style: str | None = None, associated: bool = False
) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": data}
    if not associated:
        # A plain button must not be blocked by (or carry) inputs elsewhere in the card.
        action["associatedInputs"] = "none"
    if style:
        action["style"] = style
    return action


# --- the case -------------------------------------------------------------------------------


def _case(reply: Reply, mentions: Mentions) -> list[Activity]:
    intro = reply.intro or ""
    heading = f"Case #{reply.case_number}: {reply.case_title}"
    elements: list[dict[str, Any]] = []
    if intro.strip():
        elements += _lines(intro, mentions)
    elements.append(text_block(heading, weight="Bolder", size="Large", spacing="Medium"))
    for section in reply.sections:
        elements.append(text_block(section.title, weight="Bolder", size="Medium", separator=True))
        elements += _lines(section.body, mentions)
    markdown = reply.attachment.content if reply.attachment else reply.text
    source = _markdown_action(markdown)
    summary = heading
    whole = pack(elements, actions=[source], mentions=mentions, summary=summary)
    if len(whole) == 1:
        return whole
    # Too big for one card: the sections over several cards, the Markdown as text messages.
    cards = pack(elements, actions=[], mentions=mentions, summary=summary)
    name = reply.attachment.filename if reply.attachment else "case.md"
    parts = _chunks(markdown, TEXT_BUDGET - 200)
    texts = [
        Activity(
            type=ActivityTypes.message,
            text=f"Markdown source ({name}), part {i} of {len(parts)}:\n```\n{part}\n```",
            text_format="markdown",
        )
        for i, part in enumerate(parts, start=1)
    ]
    return [*cards, *texts]


def _markdown_action(markdown: str) -> dict[str, Any]:
    """The raw Markdown in a read-only-looking multi-line box, ready to copy."""
    return {
        "type": "Action.ShowCard",
        "title": "Markdown",
        "card": {
            "type": "AdaptiveCard",
            "body": [
                text_block("Copy this into your wiki or postmortem doc.", isSubtle=True, size="Small"),
                {"type": "Input.Text", "id": "markdown_source", "isMultiline": True, "value": markdown},
            ],
        },
    }


def answered(question: str, label: str, by: str | None) -> Activity:
    """What a question card becomes once answered: no buttons left to press twice."""
    body = [
        text_block(question, isSubtle=True),
        text_block(f"✓ **{label}**" + (f" · {by}" if by else ""), spacing="Small"),
    ]
    return card_activity(body, [], summary=question)
