"""One written account, read without a model: labelled sections into the case's sections.

A responder pastes what they wrote during the incident:

    Symptoms:
    - 502s on checkout
    Root cause: conntrack table full on the LB nodes
    Timeline:
    - 14:05 first 502s (started)
    - 14:12 alert fired

A label is a line's head before its first colon ("Symptoms", "Root cause", "Misleading
signals", ... case-insensitive, with Markdown bold or heading marks allowed). The text after the
colon and the lines below it, until the next label, belong to it; bullets are stripped. Lines
before any label are the free text (a model may map it, see `bot.capture.mapping`). Pure and
linear: every line is looked at once, no pattern can backtrack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Every way a section is labelled -> the interview step it answers ("timeline" and "actions"
# are read line by line by `bot.capture.intake`).
LABELS: dict[str, str] = {
    "title": "title",
    "incident": "title",
    "severity": "severity",
    "sev": "severity",
    "area": "area",
    "capability area": "area",
    "services": "services",
    "services touched": "services",
    "affected services": "services",
    "started": "started",
    "start": "started",
    "detected": "detected",
    "mitigated": "mitigated",
    "resolved": "resolved",
    "timeline": "timeline",
    "symptoms": "symptoms",
    "symptom": "symptoms",
    "observed": "symptoms",
    "what we saw": "symptoms",
    "impact": "symptoms",
    "hypotheses": "hypotheses",
    "wrong hypotheses": "hypotheses",
    "wrong leads": "hypotheses",
    "red herrings": "hypotheses",
    "misleading signals": "signals",
    "misleading signal": "signals",
    "signals": "signals",
    "near misses": "signals",
    "where we got lucky": "lucky",
    "got lucky": "lucky",
    "lucky": "lucky",
    "what limited the damage": "lucky",
    "diagnostic path": "diagnostic_path",
    "diagnostic steps": "diagnostic_path",
    "diagnosis": "diagnostic_path",
    "investigation": "diagnostic_path",
    "what we checked": "diagnostic_path",
    "root cause": "root_cause",
    "cause": "root_cause",
    "contributing factors": "contributing_factors",
    "factors": "contributing_factors",
    "actions": "actions",
    "action items": "actions",
    "prevention actions": "actions",
    "prevention": "actions",
    "follow-ups": "actions",
    "follow ups": "actions",
}
# Where one value is wanted, the section's lines are joined into one.
SINGLE = frozenset(
    {"title", "severity", "area", "services", "started", "detected", "mitigated", "resolved", "root_cause"}
)
MAX_LABEL = 30  # a head longer than this is a sentence with a colon, not a label
_MARKS = "#*_ \t>"
_BULLET = re.compile(r"(?:[-*•]|\d{1,3}[.)])\s+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Account:
    """What an account says, section by section, in the order written."""

    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()
    free_text: str = ""

    def lines(self, section: str) -> tuple[str, ...]:
        found: list[str] = []
        for name, lines in self.sections:
            if name == section:
                found += lines
        return tuple(found)

    @property
    def labelled(self) -> tuple[str, ...]:
        """The sections present, once each, in the order first written."""
        return tuple(dict.fromkeys(name for name, lines in self.sections if lines))


def label_of(line: str) -> tuple[str, str] | None:
    """(section, the rest of the line) when the line opens a labelled section."""
    colon = line.find(":", 0, MAX_LABEL + 8)
    if colon <= 0:
        return _heading(line)
    head = _SPACES.sub(" ", line[:colon].strip(_MARKS)).lower()
    section = LABELS.get(head)
    if section is None:
        return None
    return section, line[colon + 1 :].strip(_MARKS)


def _heading(line: str) -> tuple[str, str] | None:
    """A Markdown heading or a bold line that is a label without its colon: `## Symptoms`."""
    text = line.strip()
    if not text.startswith(("#", "**", "__")) or len(text) > MAX_LABEL + 8:
        return None
    section = LABELS.get(_SPACES.sub(" ", text.strip(_MARKS)).lower())
    return (section, "") if section else None


def strip_bullet(line: str) -> str:
    text = line.strip()
    match = _BULLET.match(text)
    return text[match.end() :].strip() if match else text


def parse_account(text: str) -> Account:
    sections: list[tuple[str, list[str]]] = []
    free: list[str] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        opened = label_of(raw)
        if opened is not None:
            section, rest = opened
            sections.append((section, [strip_bullet(rest)] if rest.strip() else []))
            continue
        line = strip_bullet(raw)
        if not line:
            continue
        if sections:
            sections[-1][1].append(line)
        else:
            free.append(raw.strip())
    merged = tuple((name, _shaped(name, lines)) for name, lines in sections)
    return Account(sections=merged, free_text="\n".join(free))


def _shaped(section: str, lines: list[str]) -> tuple[str, ...]:
    kept = [line for line in lines if line]
    if section in SINGLE and kept:
        return ("; ".join(kept) if section == "root_cause" else " ".join(kept),)
    return tuple(kept)


def looks_like_account(text: str) -> bool:
    """Two labelled sections or more: an account, not an answer to one question."""
    return len(parse_account(text).labelled) >= 2


WORD = "account"
FIRST_QUESTIONS = frozenset({"title", "severity"})


def account_text(text: str, step: str) -> str | None:
    """The account in a message: after the word `account`, or a labelled answer to the first question."""
    stripped = text.strip()
    first_line, _, below = stripped.partition("\n")
    head, colon, after = first_line.partition(":")
    if first_line.strip().lower() == WORD:  # `account` on its own line (or alone)
        return below.strip()
    if colon and head.strip().lower() == WORD:  # `account: …`
        return (after + "\n" + below).strip()
    if step in FIRST_QUESTIONS and looks_like_account(stripped):
        return stripped
    return None


# --- timeline lines ------------------------------------------------------------------------

# A line's leading time: `14:05`, `2026-11-20 14:05`, `yesterday 23:10`, `9:40pm`, with a zone.
_LEADING_TIME = re.compile(
    r"(?:(?:yesterday|today)\s+|\d{4}-\d{2}-\d{2}[ T]|\d{1,2}/\d{1,2}\s+)?"
    r"\d{1,2}:\d{2}(?:\s?[ap]m)?(?:\s?(?:utc|z|[+-]\d{2}:?\d{2}))?(?![\d:])",
    re.IGNORECASE,
)
_SEPARATOR = " \t—–-:|"
# Words that name a point of the timeline, checked in this order (first found wins).
POINT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("resolved", ("resolved", "resolution", "fixed", "all clear", "all-clear", "incident closed")),
    (
        "mitigated",
        (
            "mitigated",
            "mitigation",
            "rolled back",
            "rollback",
            "failed over",
            "failover",
            "recovered",
            "workaround",
        ),
    ),
    ("detected", ("detected", "alert", "paged", "page fired", "noticed", "reported")),
    ("started", ("started", "began", "first impact", "impact began", "start of impact")),
)


@dataclass(frozen=True)
class TimelineLine:
    when: str  # the time as written
    what: str
    point: str | None  # "started" | "detected" | "mitigated" | "resolved" | None


def point_named(text: str) -> str | None:
    lowered = text.lower()
    for point, words in POINT_WORDS:
        if any(_has_word(lowered, word) for word in words):
            return point
    return None


def _has_word(text: str, word: str) -> bool:
    start = text.find(word)
    while start != -1:
        before = text[start - 1] if start else " "
        if not before.isalnum():
            return True
        start = text.find(word, start + 1)
    return False


def timeline_line(line: str) -> TimelineLine | None:
    """`14:05 first 502s (started)` -> its time, its text, its point; None without a leading time."""
    match = _LEADING_TIME.match(line.strip())
    if match is None:
        return None
    what = line.strip()[match.end() :].lstrip(_SEPARATOR).strip()
    return TimelineLine(when=match.group(0), what=what, point=point_named(what))
