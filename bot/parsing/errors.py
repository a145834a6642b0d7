"""The one error every parser raises: its message is shown to the person as is."""

from __future__ import annotations


class ParseError(ValueError):
    """The answer could not be understood; the message says why, for a person."""


MAX_SHORT_ANSWER = 200


def short(text: str, what: str) -> str:
    """`text`, if it is short enough to be `what` (a time, a date, a duration, a period).

    The patterns that read such answers run only on at most MAX_SHORT_ANSWER characters: nothing
    longer can be one, and refusing it before matching bounds every pattern's work whatever a
    person (or a hostile client) sends."""
    if len(text) > MAX_SHORT_ANSWER:
        raise ParseError(f"That is too long to be {what} ({len(text)} characters).")
    return text


def quote(text: str) -> str:
    """Someone's words, shortened and made safe to show back inside backticks."""
    text = text.strip().replace("`", "'")
    if len(text) > 60:
        text = text[:57] + "…"
    return f"`{text}`"
