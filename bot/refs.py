"""How people name cases (`#12`) and actions (`12.3`) in commands."""

from __future__ import annotations

import re

from bot.parsing import ParseError

_CASE = re.compile(r"^(?:case\s*)?#?(\d{1,9})$", re.I)
_ACTION = re.compile(r"^#?(\d{1,9})\.(\d{1,4})$")


def split_first(args: str) -> tuple[str, str]:
    parts = args.strip().split(maxsplit=1)
    return (parts[0] if parts else "", parts[1].strip() if len(parts) > 1 else "")


def parse_case_ref(text: str) -> int:
    m = _CASE.match(text.strip())
    if not m:
        raise ParseError(f"Name a case by its number, e.g. `#12` (you wrote `{text.strip()[:30]}`).")
    return int(m.group(1))


def parse_action_ref(text: str) -> tuple[int, int]:
    m = _ACTION.match(text.strip())
    if not m:
        raise ParseError(
            "Name an action as case.number, e.g. `12.3` (action 3 of case #12); `actions` lists yours."
        )
    return int(m.group(1)), int(m.group(2))


def is_action_ref(text: str) -> bool:
    return bool(_ACTION.match(text.strip()))
