"""Markdown marks, for places that show plain text (notifications, fallbacks, card summaries).

Only marks that are markup go: `nf_conntrack_max`, `2*3*4` and `snake_case` keep their
underscores and asterisks, because they are part of the words a person typed.
"""

from __future__ import annotations

import re

_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_STAR_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_UNDERSCORE_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")


def strip_marks(markdown: str) -> str:
    """Emphasis and code marks removed, word-internal `_` and `*` kept."""
    text = _CODE.sub(r"\1", markdown)
    text = _BOLD.sub(r"\1", text)
    text = _STAR_ITALIC.sub(r"\1", text)
    return _UNDERSCORE_ITALIC.sub(r"\1", text)


def quote_code(markdown: str) -> str:
    """Code spans as quoted text, for renderers without code spans (Teams TextBlocks)."""
    return _CODE.sub(lambda m: f"“{m.group(1)}”", markdown)
