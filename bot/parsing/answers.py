"""Short answers: titles, severities, areas, action kinds, services, lists, yes/no,
the risk check, and owners named by mention."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.messages import Mention
from bot.parsing.errors import ParseError, quote

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
SEVERITY_HELP = {
    "SEV1": "critical: broad outage or data loss",
    "SEV2": "major: a key feature down for many users",
    "SEV3": "minor: degraded, workaround exists",
    "SEV4": "low: little or no user impact",
}
_SEVERITY_ALIASES = {
    "critical": "SEV1",
    "major": "SEV2",
    "high": "SEV2",
    "minor": "SEV3",
    "medium": "SEV3",
    "low": "SEV4",
}

AREAS = (
    "network",
    "storage",
    "compute",
    "deploy",
    "dependency",
    "data",
    "capacity",
    "security",
    "code",
    "other",
)
AREA_LABELS = {
    "network": "network",
    "storage": "storage",
    "compute": "compute/scheduling",
    "deploy": "deploy/config",
    "dependency": "dependency",
    "data": "data",
    "capacity": "capacity",
    "security": "security",
    "code": "code",
    "other": "other",
}
_AREA_ALIASES = {
    "net": "network",
    "networking": "network",
    "dns": "network",
    "disk": "storage",
    "scheduling": "compute",
    "compute/scheduling": "compute",
    "compute-scheduling": "compute",
    "config": "deploy",
    "configuration": "deploy",
    "deployment": "deploy",
    "deploy/config": "deploy",
    "deploy-config": "deploy",
    "release": "deploy",
    "dependencies": "dependency",
    "third-party": "dependency",
    "vendor": "dependency",
    "database": "data",
    "scale": "capacity",
    "load": "capacity",
    "bug": "code",
    "software": "code",
}

ACTION_KINDS = ("prevent", "detect", "mitigate", "process")
_KIND_ALIASES = {
    "prevention": "prevent",
    "detection": "detect",
    "alerting": "detect",
    "monitoring": "detect",
    "mitigation": "mitigate",
    "runbook": "process",
    "procedure": "process",
}

RISK_KEYS = ("complexity", "coupling", "recovery", "spof", "diagnosability")
RISK_LABELS = {
    "complexity": "adds system complexity",
    "coupling": "adds coupling",
    "recovery": "makes recovery harder",
    "spof": "adds a single point of failure",
    "diagnosability": "makes the system harder to diagnose",
}
_RISK_ALIASES = {
    "complex": "complexity",
    "complexity": "complexity",
    "coupling": "coupling",
    "coupled": "coupling",
    "recovery": "recovery",
    "rollback": "recovery",
    "spof": "spof",
    "single point of failure": "spof",
    "single point": "spof",
    "diagnosability": "diagnosability",
    "diagnose": "diagnosability",
    "diagnosis": "diagnosability",
    "observability": "diagnosability",
}

_YES = {"yes", "y", "yep", "yeah", "ok", "okay", "sure", "confirm", "publish"}
_NO = {"no", "n", "nope", "nah"}


def check_length(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) > limit:
        raise ParseError(
            f"That answer is {len(text):,} characters; the limit is {limit:,}. "
            "Please shorten it or split it over several messages. Nothing was saved."
        )
    return text


def nonempty(text: str, what: str = "an answer") -> str:
    text = text.strip()
    if not text:
        raise ParseError(f"I need {what} here (or say `skip`).")
    return text


def parse_title(text: str) -> str:
    title = " ".join(nonempty(text, "a short title").split())
    if len(title) > 200:
        raise ParseError(
            f"A title is at most 200 characters (that one has {len(title)}). "
            "Keep it short: the details come later."
        )
    return title


def parse_severity(text: str) -> str:
    word = re.sub(r"[\s\-_]", "", text.strip().lower())
    if word.startswith("sev"):
        word = word[3:]
    if word in {"1", "2", "3", "4"}:
        return f"SEV{word}"
    if word in _SEVERITY_ALIASES:
        return _SEVERITY_ALIASES[word]
    raise ParseError(f"Severity is one of SEV1, SEV2, SEV3, SEV4 (1 is the worst). You wrote {quote(text)}.")


def parse_area(text: str) -> str:
    word = text.strip().lower()
    if word in AREAS:
        return word
    if word in _AREA_ALIASES:
        return _AREA_ALIASES[word]
    raise ParseError(
        "Pick one capability area: " + ", ".join(AREA_LABELS[a] for a in AREAS) + f". "
        f"You wrote {quote(text)}."
    )


def parse_action_kind(text: str) -> str:
    word = text.strip().lower()
    if word in ACTION_KINDS:
        return word
    if word in _KIND_ALIASES:
        return _KIND_ALIASES[word]
    raise ParseError(
        "An action is one of: prevent (stops it happening), detect (catches it sooner), "
        "mitigate (limits the damage), process (how we work). "
        f"You wrote {quote(text)}."
    )


def parse_services(text: str) -> list[str]:
    parts = [p.strip().strip("`") for p in re.split(r"[,\n;]+", text)]
    services: list[str] = []
    for part in parts:
        if not part:
            continue
        if len(part) > 80:
            raise ParseError(
                f"{quote(part[:40] + '…')} is long for a service name (80 characters at most). "
                "List service names separated by commas."
            )
        if part.lower() not in (s.lower() for s in services):
            services.append(part)
    if not services:
        raise ParseError("List the services touched, separated by commas (or say `skip`).")
    if len(services) > 30:
        raise ParseError("That is more than 30 services; list the ones that mattered most.")
    return services


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def split_items(text: str) -> list[str]:
    """A message that is a bulleted or numbered list becomes several entries."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) > 1 and all(_BULLET.match(line) for line in lines):
        return [_BULLET.sub("", line).strip() for line in lines]
    return [text.strip()]


def parse_yes_no(text: str) -> bool:
    word = text.strip().lower().rstrip("!.")
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ParseError("Please answer `yes` or `no`.")


def parse_risks(text: str) -> dict[str, bool]:
    """The five risk-check answers: name the risks that apply, or `none`."""
    raw = text.strip().lower()
    if raw in {"none", "no", "nothing", "n/a", "na", "-"}:
        return dict.fromkeys(RISK_KEYS, False)
    if raw in {"all", "all of them"}:
        return dict.fromkeys(RISK_KEYS, True)
    tokens = [t for t in re.split(r"[\s,;/]+", raw) if t]
    if len(tokens) == 5 and all(t in _YES | _NO for t in tokens):
        return {key: t in _YES for key, t in zip(RISK_KEYS, tokens, strict=True)}
    found: dict[str, bool] = dict.fromkeys(RISK_KEYS, False)
    rest = raw
    for alias in sorted(_RISK_ALIASES, key=len, reverse=True):
        if re.search(rf"\b{re.escape(alias)}\b", rest):
            found[_RISK_ALIASES[alias]] = True
            rest = re.sub(rf"\b{re.escape(alias)}\b", " ", rest)
    leftover = [t for t in re.split(r"[\s,;/]+", rest) if t and t not in {"and", "&", "adds", "a"}]
    if leftover or not any(found.values()):
        raise ParseError(
            "Name the risks this action brings: "
            + ", ".join(f"`{k}` ({RISK_LABELS[k]})" for k in RISK_KEYS)
            + " — or `none`. You can also answer five yes/no in that order."
        )
    return found


MENTION_RE = re.compile(r"<@([A-Za-z0-9._:\-]+)(?:\|([^>]*))?>")


def parse_owner(text: str, *, mentions: Sequence[Mention], sender: Mention) -> Mention:
    stripped = text.strip()
    if stripped.lower() in {"me", "myself", "i", "i'll do it"}:
        return sender
    found = MENTION_RE.findall(stripped)
    ids = list(dict.fromkeys(user_id for user_id, _ in found))
    if len(ids) > 1:
        raise ParseError("One owner per action: the one person accountable for it. Mention just one.")
    if not ids:
        raise ParseError("Mention the owner with @ so I can remind them (e.g. @dana), or say `me`.")
    user_id = ids[0]
    name = next((m.display_name for m in mentions if m.user_id == user_id), None)
    if name is None:
        name = next((label for uid, label in found if uid == user_id and label), None)
    return Mention(user_id=user_id, display_name=name)


# The cost of a wrong lead is split off only at a marker a person writes on purpose: a dash
# before the word (`— cost 15 min`), or the word with a colon (`cost: 15 min`, `(cost: 15 min)`).
# "which cost us 15 minutes" and "the cost-saving change" are sentences, kept whole.
_COST_WORD = r"(?:cost(?:s|\s+us)?|lost)"
# Each pattern starts at the marker itself and ends greedily: no leading or trailing `\s*` that a
# long run of spaces would make the engine retry at every position (that was cubic).
_COST_MARKERS = (
    re.compile(rf"\(\s*{_COST_WORD}\b\s*:?(?P<cost>[^()]*)\)$", re.I),
    re.compile(rf"(?:[—–]|--|(?<=\s)-)[ \t]*{_COST_WORD}\b[ \t]*:?(?P<cost>.*)$", re.I),
    re.compile(rf"\b{_COST_WORD}[ \t]*:(?P<cost>.*)$", re.I),
)


def split_cost(item: str) -> tuple[str, str | None]:
    """`Suspected the CDN — cost: 20 min` -> ("Suspected the CDN", "20 min"); no marker, no split."""
    item = item.strip()
    for marker in _COST_MARKERS:
        m = marker.search(item)
        if m is None:
            continue
        before, cost = item[: m.start()].rstrip(), m.group("cost").strip()
        if marker is _COST_MARKERS[2]:
            before = before.removesuffix(";").removesuffix(",").rstrip()
        if before and cost:
            return before, cost
    return item, None
