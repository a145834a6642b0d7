"""The core's standard Markdown, as Teams can show it.

Teams renders a subset: a single newline is swallowed in messages, headings are not
supported, and in Adaptive Card TextBlocks a lone `1. x` line becomes a list that
restarts at one. So: headings become bold lines, text messages get paragraph
breaks, and cards get one TextBlock per line with list markers made literal.
`<@id>` tokens become real Teams mentions (`<at>Name</at>` plus an entity).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.markup import quote_code
from bot.parsing import MENTION_RE

_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*(\d+)\.\s+(.*)$")


class Mentions:
    """Collects the mention entities a message needs, one per person."""

    def __init__(self, names: Mapping[str, str]):
        self._names = names
        self.entities: list[dict[str, Any]] = []
        self._seen: set[str] = set()

    def replace(self, text: str) -> str:
        return MENTION_RE.sub(self._tag, text)

    def _tag(self, match: re.Match[str]) -> str:
        user_id, label = match.group(1), match.group(2)
        name = self._names.get(user_id) or label or "teammate"
        tag = f"<at>{name}</at>"
        if user_id not in self._seen:
            self._seen.add(user_id)
            self.entities.append({"type": "mention", "text": tag, "mentioned": {"id": user_id, "name": name}})
        return tag


def heading_text(line: str) -> str | None:
    match = _HEADING.match(line)
    return match.group(1).strip() if match else None


def message_text(markdown: str) -> str:
    """Markdown for a Teams text message: real line breaks, headings in bold."""
    out: list[str] = []
    previous_is_item = False
    for raw in markdown.strip().splitlines():
        line = raw.rstrip()
        if not line.strip():
            previous_is_item = False  # a blank line ends a list
            continue
        heading = heading_text(line)
        if heading is not None:
            line = f"**{heading}**"
        is_item = bool(_BULLET.match(line) or _NUMBERED.match(line))
        if out:
            out.append("\n" if is_item and previous_is_item else "\n\n")
        out.append(line)
        previous_is_item = is_item
    return "".join(out)


def card_lines(markdown: str) -> list[dict[str, Any]]:
    """TextBlocks, one per line; a blank line opens a new paragraph."""
    blocks: list[dict[str, Any]] = []
    gap = False
    for raw in markdown.strip().splitlines():
        line = raw.rstrip()
        if not line.strip():
            gap = True
            continue
        block = text_block(line)
        heading = heading_text(line)
        if heading is not None:
            block.update(text=heading, weight="Bolder", size="Medium" if line.startswith("# ") else "Default")
            gap = True
        elif bullet := _BULLET.match(line):
            block["text"] = f"• {bullet.group(1)}"
        elif numbered := _NUMBERED.match(line):
            block["text"] = f"**{numbered.group(1)}.** {numbered.group(2)}"
        block["spacing"] = "Medium" if gap and blocks else "None"
        gap = False
        blocks.append(block)
    return blocks


def text_block(text: str, **style: Any) -> dict[str, Any]:
    # TextBlocks render no code spans: a backtick would show as typed.
    return {"type": "TextBlock", "text": quote_code(text), "wrap": True, **style}
