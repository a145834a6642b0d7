"""A channel's history as proposals for the case: the timeline (first alert, first human
message, mitigation, resolution), candidate symptoms and candidate diagnostic steps, each with
its author and a link. Pure and platform-neutral: an adapter reads the messages (behind the
port in `bot.capture.reading`), this module only sorts them; nothing here touches the case.

The rules are plain words, checked in this order for each message, oldest first:
- integrations' messages (alerting tools) count only as the first alert; every other
  integration message is left out (the adapter already dropped joins and other noise);
- the first alert: the first message with an alerting word ("alert", "firing", "paged", …);
- the first human message: the `detected` point when no alert came before it;
- mitigation / resolution: the first human message saying so ("rolled back", "resolved", …),
  unless it says it did not work ("no change", "didn't help") or asks ("roll back?");
- a diagnostic step: a human message saying what was checked or tried ("checked", "ran",
  "rolled back …, no change");
- a symptom: a human message naming what was seen ("502s", "latency", "timeouts", …).
Very short messages ("ok", "on it") are never candidates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    HUMAN = "human"
    INTEGRATION = "integration"  # a bot or an app posting (an alerting tool, a deploy bot)


@dataclass(frozen=True)
class ChannelMessage:
    """One message as an adapter read it: text in the core's Markdown, mentions as names."""

    at: dt.datetime
    author_id: str
    author_name: str | None
    text: str
    link: str | None
    source: Source = Source.HUMAN
    in_thread: bool = False

    @property
    def author(self) -> str:
        return self.author_name or self.author_id


@dataclass(frozen=True)
class Candidate:
    kind: str  # "timeline" | "symptom" | "diagnostic"
    label: str  # what it is: "first alert", "mitigation", "symptom", …
    point: str | None  # the case's timeline point it sets when accepted (timeline only)
    text: str
    author_id: str
    author_name: str | None
    at: dt.datetime
    link: str | None

    @property
    def author(self) -> str:
        return self.author_name or self.author_id


@dataclass(frozen=True)
class Proposal:
    candidates: tuple[Candidate, ...]
    symptoms_left_out: int = 0  # candidates past the caps below: counted, and said
    steps_left_out: int = 0

    def of_kind(self, kind: str) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.kind == kind)


MAX_SYMPTOMS = 10
MAX_STEPS = 15
MAX_TEXT = 500
MIN_WORDS = 3


def _words(*words: str) -> re.Pattern[str]:
    """One alternation of whole words (with their plural / past / -ing endings)."""
    alternation = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternation})(?:s|es|ed|d|ing)?(?![a-z0-9])")


ALERT = _words("alert", "alarm", "firing", "triggered", "paged", "page", "pagerduty", "opsgenie", "monitor")
MITIGATION = _words(
    "mitigated", "mitigation", "rolled back", "rollback", "roll back", "failed over", "failover",
    "recovered", "recovering", "workaround", "back to normal", "errors dropping", "error rate dropping",
)  # fmt: skip
RESOLUTION = _words(
    "resolved", "resolution", "fixed", "all clear", "all-clear", "incident closed", "closing the incident",
)  # fmt: skip
DID_NOT_WORK = _words(
    "no change", "did not help", "didn't help", "no effect", "no improvement", "didn't work",
    "did not work", "not fixed", "still failing", "still broken", "still seeing", "not resolved",
)  # fmt: skip
CHECKED = _words(
    "checked", "checking", "looked at", "looking at", "looked into", "ran", "running", "tried",
    "trying", "verified", "confirmed", "compared", "grepped", "ruled out", "traced", "profiled",
    "restarted", "tested", "inspected", "queried", "kubectl", "dug into", "digging into",
)  # fmt: skip
SEEN = _words(
    "error", "5xx", "500", "502", "503", "504", "timeout", "timing out", "latency", "slow", "down",
    "outage", "failing", "failure", "unavailable", "spike", "elevated", "p99", "p95", "degraded",
    "crash", "crashloop", "oom", "oomkilled", "users report", "customers report", "impact",
)  # fmt: skip


def _says(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.search(text) is not None


def _asks(text: str) -> bool:
    return text.rstrip(" .!)").endswith("?")


def _substantial(text: str) -> bool:
    return len(text.split()) >= MIN_WORDS


def propose(messages: Iterable[ChannelMessage]) -> Proposal:
    """The candidates in a channel's messages (any order: they are sorted by time here)."""
    ordered = sorted(messages, key=lambda m: m.at)
    timeline = _timeline(ordered)
    # A mitigation or a resolution is not also a step; the first messages may be symptoms too.
    used = {(c.at, c.author_id, c.text) for c in timeline if c.point in {"mitigated", "resolved"}}
    symptoms: list[Candidate] = []
    steps: list[Candidate] = []
    for message in ordered:
        if message.source != Source.HUMAN or not _substantial(message.text):
            continue
        if (message.at, message.author_id, _short(message.text)) in used:
            continue
        lowered = message.text.lower()
        if not _asks(lowered) and (_says(CHECKED, lowered) or _says(DID_NOT_WORK, lowered)):
            steps.append(_candidate("diagnostic", "diagnostic step", None, message))
        elif _says(SEEN, lowered):
            symptoms.append(_candidate("symptom", "symptom", None, message))
    return Proposal(
        candidates=(*timeline, *symptoms[:MAX_SYMPTOMS], *steps[:MAX_STEPS]),
        symptoms_left_out=max(0, len(symptoms) - MAX_SYMPTOMS),
        steps_left_out=max(0, len(steps) - MAX_STEPS),
    )


def _timeline(ordered: Sequence[ChannelMessage]) -> list[Candidate]:
    alert = next((m for m in ordered if _says(ALERT, m.text.lower())), None)
    human = next((m for m in ordered if m.source == Source.HUMAN and m.text.strip()), None)
    # The earlier of the two is when the incident was detected; the other is kept as a point
    # of the timeline without a field of the case.
    alert_first = alert is not None and (human is None or alert.at <= human.at)
    found: list[Candidate] = []
    if alert is not None:
        found.append(_candidate("timeline", "first alert", "detected" if alert_first else None, alert))
    if human is not None and human is not alert:
        point = None if alert_first else "detected"
        found.append(_candidate("timeline", "first human message", point, human))
    start = min((c.at for c in found), default=None)
    mitigation = _first_saying(ordered, MITIGATION, after=start)
    if mitigation is not None:
        found.append(_candidate("timeline", "mitigation", "mitigated", mitigation))
    resolution = _first_saying(ordered, RESOLUTION, after=mitigation.at if mitigation else start)
    if resolution is not None and resolution is not mitigation:
        found.append(_candidate("timeline", "resolution", "resolved", resolution))
    return sorted(found, key=lambda c: c.at)


def _first_saying(
    ordered: Sequence[ChannelMessage], pattern: re.Pattern[str], *, after: dt.datetime | None
) -> ChannelMessage | None:
    for message in ordered:
        lowered = message.text.lower()
        if message.source != Source.HUMAN or (after is not None and message.at < after):
            continue
        if _says(pattern, lowered) and not _says(DID_NOT_WORK, lowered) and not _asks(lowered):
            return message
    return None


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_TEXT else flat[: MAX_TEXT - 1] + "…"


def _candidate(kind: str, label: str, point: str | None, message: ChannelMessage) -> Candidate:
    return Candidate(
        kind=kind,
        label=label,
        point=point,
        text=_short(message.text),
        author_id=message.author_id,
        author_name=message.author_name,
        at=message.at,
        link=message.link,
    )
