"""What a case's texts mean, for the map and the ledger: grouping keys, detection, causes, costs.

Every text is grouped by meaning with the shared vocabulary (bot.insights.vocabulary): by the
concepts it names, else by its content stems when it is short, else by its own words.
"""

from __future__ import annotations

import re

from bot.insights.vocabulary import BY_KEY, concepts, free_key
from storage.models import Case

# "At this stage engineers do not have a definitive root cause": a statement about the
# investigation, not a cause.
_NON_CAUSE = re.compile(
    r"\b(?:(?:no|not (?:yet )?(?:have|know|found|determined|identified)(?: a| the)?)\s+"
    r"(?:\w+\s+){0,2}root cause|investigating the (?:\w+\s+)?root cause|root cause (?:is |was )?"
    r"(?:still |not yet |yet to be )?(?:unknown|under investigation|undetermined|being investigated|tbd)|"
    r"^(?:unknown|tbd|n/?a|none|not known)\.?$)",
    re.IGNORECASE,
)
_DETECTION_TEXT = re.compile(r"^\s*(?:detected|reported|noticed|found)\s+by\b", re.IGNORECASE)
_COST = re.compile(r"(\d+(?:\.\d+)?)\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d)\b", re.IGNORECASE)
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}
DETECTION_ORDER = ("customer", "alert", "dashboard", "oncall")
NOT_RECORDED = "not recorded"


def is_non_cause(text: str) -> bool:
    return bool(_NON_CAUSE.search(text.strip()))


def is_detection_text(text: str) -> bool:
    """ "Detected by automated means (monitoring)": how it was noticed, not what was seen."""
    return bool(_DETECTION_TEXT.match(text))


def exact_key(text: str) -> str:
    return re.sub(r"[\s.;:!,]+$", "", " ".join(text.lower().split()))


def keys(text: str, kind: str, *, all_concepts: bool = True) -> list[tuple[str, str]]:
    """(grouping key, label) pairs for a text: its concepts of `kind` (all, or the first),
    else its content stems when it is short, else the text itself."""
    found = concepts(text, kind)
    if found:
        chosen = found if all_concepts else found[:1]
        return [(f"{kind}:{c.key}", c.label) for c in chosen]
    short = free_key(text)
    spelled = " ".join(text.split())
    return [(f"free:{short}", spelled)] if short else [(f"text:{exact_key(text)}", spelled)]


def cost_minutes(cost: str | None) -> float | None:
    """The time a misjudgment cost, from what was said: `15 min`, `2 h purging caches`, `1.5 hours`."""
    if not cost:
        return None
    match = _COST.search(cost)
    if not match:
        return None
    return float(match.group(1)) * _UNIT_MINUTES[match.group(2)[0].lower()]


def detection_method(case: Case) -> str:
    """alert, customer, dashboard, oncall or `not recorded`: how the incident came to light."""
    recorded = (case.extra or {}).get("detection")
    texts: list[str] = []
    if isinstance(recorded, dict):
        tools = recorded.get("tool") or []
        texts += [str(t) for t in (tools if isinstance(tools, list) else [tools])]
        texts.append(str(recorded.get("method") or ""))
        texts += [str(t) for t in recorded.get("noted") or ()]  # detection sentences an import moved
    texts += [s for s in case.symptoms or ()]
    found = {c.key for text in texts if text for c in concepts(text, "detection")}
    return next((method for method in DETECTION_ORDER if method in found), NOT_RECORDED)


def detection_label(method: str) -> str:
    concept = BY_KEY.get(("detection", method))
    return concept.label if concept else method


def cause_keys(case: Case) -> list[tuple[str, str]]:
    """The case's cause by meaning: the source's label when imported, else its root-cause text."""
    labels = (case.extra or {}).get("root_cause_labels")
    if isinstance(labels, list) and labels:
        return keys(str(labels[0]), "cause", all_concepts=False)
    text = case.root_cause or ""
    if not text.strip() or is_non_cause(text):
        return []
    return keys(text, "cause", all_concepts=False)


def has_cause(case: Case) -> bool:
    return bool(cause_keys(case))


_CHANGE_OPERATION = re.compile(
    r"triggering operation:.*\b"
    r"(deploy|deployment|rollout|update|upgrade|change|configuration|migration|release)",
    re.IGNORECASE,
)


def change_triggered(case: Case) -> bool:
    """Whether a deploy or a configuration change set the incident off."""
    if case.area == "deploy":
        return True
    if any(_CHANGE_OPERATION.search(f) for f in case.contributing_factors or ()):
        return True
    return any(k in {"cause:config-change", "cause:code-change"} for k, _ in cause_keys(case))
