"""Request bodies every adapter reads the same way: JSON objects of bounded depth.

Python's JSON parser recurses, so thousands of nested brackets would end in a RecursionError;
the depth is therefore measured before parsing, on the text, in linear time.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 40  # Block Kit and Adaptive Cards nest about 10 deep
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class Malformed(ValueError):
    """The body cannot be a payload at all (answered 400)."""


def depth_of(text: str) -> int:
    """How deep a JSON text nests, without parsing it (strings removed, brackets counted)."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    depth = deepest = 0
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def json_object(text: str, what: str) -> dict[str, Any]:
    if depth_of(text) > MAX_DEPTH:
        raise Malformed(f"{what} nests deeper than {MAX_DEPTH} levels")
    try:
        loaded = json.loads(text)
    except ValueError as error:
        raise Malformed(f"{what} is not JSON ({error.__class__.__name__})") from None
    if not isinstance(loaded, dict):
        raise Malformed(f"{what} is a JSON {type(loaded).__name__}, not an object")
    return loaded
