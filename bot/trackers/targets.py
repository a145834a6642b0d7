"""Which tracker names which destination, and how it is spelled."""

from __future__ import annotations

import re

from bot.parsing import ParseError
from bot.trackers.port import KINDS

_SHAPES = {
    "github": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}"),
        "owner/repo, e.g. acme/ops",
    ),
    "jira": (re.compile(r"[A-Z][A-Z0-9_]{1,9}"), "a project key, e.g. OPS"),
    "linear": (re.compile(r"[A-Za-z0-9]{1,7}"), "a team key, e.g. ENG"),
}


def check(kind: str, target: str) -> str:
    """The destination as stored; a ParseError saying the expected shape otherwise."""
    if kind not in KINDS:
        raise ParseError(f"Casebook knows {', '.join(KINDS)}, not {kind!r}.")
    pattern, shape = _SHAPES[kind]
    value = target.strip()
    if kind == "jira":
        value = value.upper()
    if kind == "linear":
        value = value.upper()
    if not pattern.fullmatch(value):
        raise ParseError(f"`tracker {kind}` needs {shape}" + (f", not `{target[:60]}`." if target else "."))
    return value
