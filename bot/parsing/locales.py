"""How a person writes dates, from the locale their platform reports (`en-US`, `en_GB`, `fr`).

Only one thing is read from it: whether a numeric day is written month first (`11/30`) or
day first (`30/11`). Everyone is day first unless their region writes the month first."""

from __future__ import annotations

import re

# A BCP 47 tag as Slack (`en-US`) and Teams (`en-us`, sometimes `en_US`) send it: a language,
# then optional script / region / variant parts. Anything else is not a locale we trust.
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")
MAX_TAG = 35

# Regions whose people write a numeric date month first (`11/30`): everyone else reads day first.
_MONTH_FIRST_REGIONS = {"US", "PH", "BZ", "FM", "MH", "PW", "GU", "PR", "AS", "VI", "UM"}


def locale_tag(value: object) -> str | None:
    """`en_us` -> `en-US`, `zh-hant-tw` -> `zh-Hant-TW`; None for anything that is not a locale."""
    if not isinstance(value, str) or len(value.strip()) > MAX_TAG or not _TAG.match(value.strip()):
        return None
    language, *rest = re.split(r"[-_]", value.strip())
    parts = [language.lower()]
    for part in rest:
        if len(part) == 4 and part.isalpha():
            parts.append(part.capitalize())  # a script: Hant, Latn
        elif len(part) in (2, 3) and (part.isalpha() or part.isdigit()):
            parts.append(part.upper())  # a region: US, 419
        else:
            parts.append(part.lower())  # a variant
    return "-".join(parts)


def month_first(locale: str | None) -> bool:
    """`en-US`, `en_US` -> True; `en-GB`, `fr-FR`, `en`, unknown -> False."""
    tag = locale_tag(locale)
    if tag is None:
        return False
    regions = [p for p in tag.split("-")[1:] if p.isupper() and p.isalpha()]
    return bool(regions) and regions[-1] in _MONTH_FIRST_REGIONS


def date_order(locale: str | None) -> str:
    """`MDY` or `DMY`: the order a numeric date is read in for this locale."""
    return "MDY" if month_first(locale) else "DMY"
