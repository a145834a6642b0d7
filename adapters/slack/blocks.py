"""The core's replies as Block Kit, within Slack's limits.

Limits that shape this module: 50 blocks a message (100 in a view), 3,000 characters of
text a section, 25 elements an actions block, 75 characters a button label, 150 a
header, 24 a modal title. Long replies are split over several messages, never cut.
Every button's value is exactly what typing would send (see `bot.messages.Choice`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from adapters.slack.mrkdwn import escape, plain, to_mrkdwn
from bot.forms import FORMS
from bot.home import Home
from bot.messages import Choice, ListItem, Reply, ReplyKind

Block = dict[str, Any]
Message = dict[str, Any]  # {"text": fallback, "blocks": [...]}

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION = 3000
MAX_ELEMENTS = 25
MAX_OPTIONS = 10  # checkboxes in one element
MAX_LABEL = 75
MAX_HEADER = 150
MAX_VALUE = 2000
HOME_ITEMS = 30
MIN_SPLIT = 16  # the fences a cut adds need room
FORM_LABEL = "📝 Fill in a form"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- text ---------------------------------------------------------------------------------


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Cut mrkdwn into pieces of at most `limit` characters (at least MIN_SPLIT), on line breaks
    where possible, closing and reopening a code fence that a cut falls inside. Joined, the
    pieces are the text again, less the spaces at each cut (and any fences added)."""
    if limit < MIN_SPLIT:
        raise ValueError(f"split_text needs a limit of at least {MIN_SPLIT}, not {limit}")
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    in_fence = False
    for piece in _pieces(text, limit - 8):
        needed = len(piece) + (1 if current else 0) + (4 if in_fence else 0)
        if current and size + needed > limit:
            chunks.append("\n".join([*current, "```"] if in_fence else current))
            current, size = (["```"], 3) if in_fence else ([], 0)
        size += len(piece) + (1 if current else 0)
        current.append(piece)
        if piece.count("```") % 2:
            in_fence = not in_fence
    if current:
        chunks.append("\n".join(current))
    return [c for c in chunks if c.strip()] or [""]


def _pieces(text: str, limit: int) -> Iterable[str]:
    for line in text.split("\n"):
        while len(line) > limit:
            cut = _cut(line, limit)
            yield line[:cut]
            line = line[cut:].lstrip(" ")
        yield line


def _cut(line: str, limit: int) -> int:
    """Where to cut a line longer than `limit`: at a space if there is one in its second half,
    never through an escape (&amp;) or a token (<@U1>) unless one starts the line (a token longer
    than the limit has to be cut somewhere). Always in 1..limit, so the cutter always advances."""
    space = line.rfind(" ", limit // 2, limit)
    cut = space if space > 0 else limit
    amp, lt = line.rfind("&", 0, cut), line.rfind("<", 0, cut)
    if amp > max(0, cut - 6) and ";" not in line[amp:cut]:
        cut = amp
    if lt > max(0, line.rfind(">", 0, cut)):
        cut = lt
    return cut


def text_blocks(mrkdwn: str) -> list[Block]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in split_text(mrkdwn)]


def chunk_blocks(blocks: Sequence[Block], limit: int = MAX_BLOCKS) -> list[list[Block]]:
    """Split into messages; an actions block stays with the block before it when possible."""
    messages: list[list[Block]] = [[]]
    for block in blocks:
        current = messages[-1]
        if len(current) >= limit:
            carried = [current.pop()] if block["type"] == "actions" and len(current) > 1 else []
            messages.append([*carried])
        messages[-1].append(block)
    return [m for m in messages if m]


# --- buttons ------------------------------------------------------------------------------


def button(choice: Choice, action_id: str) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": _clip(choice.label, MAX_LABEL), "emoji": True},
        "value": choice.value[:MAX_VALUE],
        "action_id": action_id,
    }
    if choice.style in {"primary", "danger"}:
        element["style"] = choice.style
    return element


def choice_blocks(choices: Sequence[Choice], *, block_id: str, form: str | None = None) -> list[Block]:
    """Actions blocks for a reply's choices (and the offer of its form), 25 buttons a block."""
    elements = []
    for index, choice in enumerate(choices):
        action_id = f"form:{choice.form}:{index}" if choice.form else f"choice:{index}"
        elements.append(button(choice, action_id))
    if form and form in FORMS:
        elements.append(button(Choice(FORM_LABEL, ""), f"form:{form}:offer"))
    return [
        {"type": "actions", "block_id": f"{block_id}:{n}", "elements": elements[start : start + MAX_ELEMENTS]}
        for n, start in enumerate(range(0, len(elements), MAX_ELEMENTS))
    ]


def pick_blocks(picks: Sequence[Choice]) -> list[Block]:
    """Lines to tick as checkboxes (10 a group, Slack's most); a button's `{picked}` gets them."""
    groups = [picks[start : start + MAX_OPTIONS] for start in range(0, len(picks), MAX_OPTIONS)]
    return [
        {
            "type": "actions",
            "block_id": f"picks:{n}",
            "elements": [
                {
                    "type": "checkboxes",
                    "action_id": f"pick:{n}",
                    "options": [
                        {"text": {"type": "plain_text", "text": _clip(p.label, MAX_LABEL)}, "value": p.value}
                        for p in group
                    ],
                }
            ],
        }
        for n, group in enumerate(groups)
    ]


def picked(state: dict[str, Any]) -> list[str]:
    """The ticked values in a message's state (`body["state"]["values"]` of a button press)."""
    ticked: list[str] = []
    for block_id, actions in (state or {}).items():
        if not str(block_id).startswith("picks:"):
            continue
        for element in actions.values():
            ticked += [str(o.get("value")) for o in element.get("selected_options") or []]
    return ticked


def step_of(block_id: str | None) -> str | None:
    """The interview step a question's buttons answer (their block id is `step:<key>:<n>`)."""
    if block_id and block_id.startswith("step:"):
        return block_id.split(":")[1] or None
    return None


def item_blocks(item: ListItem, index: int) -> list[Block]:
    blocks = text_blocks(to_mrkdwn(item.text))
    if item.choices:
        blocks += choice_blocks(item.choices, block_id=f"item:{item.ref or index}")
    return blocks


# --- replies ------------------------------------------------------------------------------


def reply_messages(reply: Reply) -> list[Message]:
    """One reply as one or more messages (each within the block limit)."""
    if reply.kind == ReplyKind.CASE:
        return case_messages(reply)
    text = reply.text
    if reply.kind == ReplyKind.ERROR:
        text = "⚠️ " + text
    blocks = text_blocks(to_mrkdwn(text))
    blocks += pick_blocks(reply.picks)
    if reply.choices or reply.form:
        prefix = f"step:{reply.step}" if reply.step else "act"
        blocks += choice_blocks(reply.choices, block_id=prefix, form=reply.form)
    for index, item in enumerate(reply.items):
        blocks += item_blocks(item, index)
    return _messages(blocks, plain(text))


def case_messages(reply: Reply) -> list[Message]:
    intro, heading = reply.intro or "", f"Case #{reply.case_number}: {reply.case_title}"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(heading, MAX_HEADER)}}
    ]
    if intro:
        blocks += text_blocks(to_mrkdwn(intro))
    if reply.sections:
        for section in reply.sections:
            blocks.append({"type": "divider"})
            blocks += text_blocks(f"*{escape(section.title)}*\n" + to_mrkdwn(section.body))
    else:
        body = reply.text.split("\n", 1)[1] if "\n" in reply.text else ""
        blocks += text_blocks(to_mrkdwn(body))
    if reply.attachment is not None:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"The full case is attached as `{reply.attachment.filename}`."}
                ],
            }
        )
    return _messages(blocks, plain(intro or heading))


def _messages(blocks: list[Block], fallback: str) -> list[Message]:
    return [{"text": fallback, "blocks": part} for part in chunk_blocks(blocks)]


def answered(blocks: Sequence[Block], *, user_id: str, label: str) -> list[Block]:
    """A question's blocks once answered by a button: the buttons give way to who chose what."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    note = f"✔ <@{user_id}> chose *{escape(label)}*"
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]


# --- forms --------------------------------------------------------------------------------


def form_view(name: str, *, metadata: str, initial: dict[str, str] | None = None) -> dict[str, Any]:
    title, fields = FORMS[name]
    initial = initial or {}
    blocks = []
    for field in fields:
        element = _form_element(field.type, field.options, initial.get(field.name))
        blocks.append(
            {
                "type": "input",
                "block_id": field.name,
                "optional": not field.required,
                "label": {"type": "plain_text", "text": _clip(field.label, 2000)},
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": f"form:{name}",
        "title": {"type": "plain_text", "text": _clip(title, 24)},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": metadata,
        "blocks": blocks,
    }


def _form_element(kind: str, options: Sequence[str], initial: str | None) -> Block:
    element: Block
    if kind == "user":
        element = {"type": "users_select"}
        if initial:
            element["initial_user"] = initial
    elif kind == "date":
        element = {"type": "datepicker"}
        if initial:
            element["initial_date"] = initial
    elif kind == "choice":
        element = {
            "type": "static_select",
            "options": [{"text": {"type": "plain_text", "text": o}, "value": o} for o in options],
        }
    else:
        element = {"type": "plain_text_input", "multiline": kind == "long_text", "max_length": 3000}
        if initial:
            element["initial_value"] = initial
    element["action_id"] = "value"
    return element


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """A submitted modal's values by field name (empty optional fields are left out)."""
    values: dict[str, str] = {}
    for field, actions in (view.get("state") or {}).get("values", {}).items():
        element = actions.get("value") or {}
        value = (
            element.get("value")
            or element.get("selected_user")
            or element.get("selected_date")
            or (element.get("selected_option") or {}).get("value")
        )
        if value:
            values[field] = str(value)
    return values


# --- messages of our own ------------------------------------------------------------------


def root_message(
    *, state: str, command: str, lead: str, number: int | None = None, title: str | None = None
) -> Message:
    """The channel message a postmortem's thread hangs from."""
    name = f"Postmortem #{number}" if number else "Postmortem"
    titled = f"*{name}*" + (f": {escape(title)}" if title else "")
    texts = {
        "starting": f"🩺 <@{lead}> is starting a postmortem…",
        "running": f"🩺 {titled}\nLed by <@{lead}>. The interview runs in this thread: anyone who was "
        f"there can answer. To ask someone privately: `{command} invite #{number} @name`.",
        "published": f"✅ {titled}, published. The case and its Markdown file are in the thread.",
        "failed": f"⚠️ <@{lead}>'s postmortem could not start. Please run `{command}` again.",
    }
    text = texts[state]
    return {"text": plain(text), "blocks": text_blocks(text)}


def home_view(home: Home, *, command: str, banner: str | None = None) -> dict[str, Any]:
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "Casebook"}}]
    if banner:
        blocks += text_blocks(to_mrkdwn(banner))
        blocks.append({"type": "divider"})
    overdue = f", {home.overdue_count} overdue" if home.overdue_count else ""
    if home.actions:
        blocks += text_blocks(f"*Your open prevention actions* ({home.open_count}{overdue})")
        for index, item in enumerate(home.actions[:HOME_ITEMS]):
            blocks += item_blocks(item, index)
        if len(home.actions) > HOME_ITEMS:
            more = f"…and {len(home.actions) - HOME_ITEMS} more: `{command} actions` lists them all."
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    else:
        blocks += text_blocks("*Your open prevention actions*\nNone. 🎉")
    blocks.append({"type": "divider"})
    cases = "\n".join(f"• {to_mrkdwn(line)}" for line in home.recent_cases) or "_No cases yet._"
    blocks += text_blocks("*Your recent cases*\n" + cases)
    tip = f"`{command} <title>` starts a postmortem in a channel · `{command} help` lists every command."
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": tip}]})
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}
