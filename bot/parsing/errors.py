"""The one error every parser raises: its message is shown to the person as is."""

from __future__ import annotations


class ParseError(ValueError):
    """The answer could not be understood; the message says why, for a person."""


def quote(text: str) -> str:
    """Someone's words, shortened and made safe to show back inside backticks."""
    text = text.strip().replace("`", "'")
    if len(text) > 60:
        text = text[:57] + "…"
    return f"`{text}`"
