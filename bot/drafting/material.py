"""The material a model drafts from: the case fields and the raw answers, as data.

People are replaced by labels (`person-1`) before anything leaves the process:
the model needs no names to write a blameless case, and a name it never saw is
a name it cannot put in the draft. Owners, due dates, statuses and the answers
that set them are left out altogether: they are not the model's business.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.case import FIELDS, TIMELINE, CaseDraft
from bot.drafting.grounding import Fallback, SourceAnswer, Sources
from bot.messages import Mention
from bot.parsing import MENTION_RE, format_duration

# Answers that set owners, dates, kinds, risk flags or confirm a step: facts the model must not touch.
EXCLUDED_STEPS = frozenset(
    {"action_owner", "action_due", "action_kind", "action_risk", "review", "confirm", *TIMELINE}
)
CONTROL_WORDS = frozenset({"done", "skip", "back", "yes", "no", "none", "confirm", "cancel", "help"})
MAX_ANSWER_CHARS = 2000
MAX_DATA_CHARS = 60_000


@dataclass(frozen=True)
class AnswerRecord:
    """One stored answer, as storage gives it."""

    raw_id: int
    question: str
    responder: Mention
    text: str


class Pseudonyms:
    """person-N labels for the people of one case, stable within one draft."""

    def __init__(self, people: Iterable[Mention] = ()) -> None:
        self._labels: dict[str, str] = {}
        self._people: dict[str, Mention] = {}
        for person in people:
            self.label(person)

    def label(self, person: Mention) -> str:
        if person.user_id not in self._labels:
            self._labels[person.user_id] = f"person-{len(self._labels) + 1}"
            self._people[person.user_id] = person
        elif person.display_name and not self._people[person.user_id].display_name:
            self._people[person.user_id] = person
        return self._labels[person.user_id]

    def scrub(self, text: str) -> str:
        def mention(m: re.Match[str]) -> str:
            return self.label(Mention(m.group(1), m.group(2) or None))

        text = MENTION_RE.sub(mention, text)
        for user_id, person in self._people.items():
            for name in (person.display_name, user_id):
                if name and len(name) >= 3:
                    text = re.sub(rf"(?<![\w.])@?{re.escape(name)}(?!\w)", self._labels[user_id], text)
        return text

    @property
    def names(self) -> tuple[str, ...]:
        found = [n for p in self._people.values() for n in (p.display_name, p.user_id) if n]
        return tuple(dict.fromkeys(found))

    def reveal(self, text: str) -> str:
        """Labels back to names, for people reading a quote."""
        for user_id, label in sorted(self._labels.items(), key=lambda kv: -len(kv[1])):
            person = self._people[user_id]
            text = re.sub(rf"\b{re.escape(label)}\b", f"@{person.display_name or user_id}", text)
        return text


@dataclass(frozen=True)
class Material:
    case_number: int
    data: dict[str, Any]
    answers: dict[int, SourceAnswer]  # by the id the model sees
    pseudonyms: Pseudonyms
    considered: tuple[str, ...]
    fallback: Fallback
    truncated: bool = False

    def data_text(self) -> str:
        return json.dumps(self.data, ensure_ascii=False, indent=1)

    def sources(self) -> Sources:
        return Sources.build(
            self.data_text(),
            names=self.pseudonyms.names,
            answers=self.answers,
            considered=self.considered,
        )


def _when(value: dt.datetime) -> str:
    utc = value.astimezone(dt.UTC)
    return f"{utc:%Y-%m-%d %H:%M} UTC ({utc:%A} {utc.day} {utc:%B %Y})"


def _case_data(case: CaseDraft, scrub: Any) -> dict[str, Any]:
    durations = {
        "time_to_detect": case.time_to_detect,
        "time_to_mitigate": case.time_to_mitigate,
        "time_to_resolve": case.time_to_resolve,
    }
    return {
        "number": case.number,
        "title": scrub(case.title or ""),
        "severity": case.severity,
        "area": case.area,
        "services": list(case.services),
        "timeline": {p: _when(t) for p in TIMELINE if (t := case.time(p)) is not None},
        "durations": {k: format_duration(v) for k, v in durations.items() if v is not None},
        "wrong_hypotheses": [{"text": scrub(m.text), "cost": m.cost} for m in case.hypotheses],
        "misleading_signals": [{"text": scrub(m.text), "cost": m.cost} for m in case.signals],
        "diagnostic_path": [scrub(s.text) for s in case.diagnostic_path],
        # The written sections, as bot/case.py defines them (a list, or one text).
        **{
            f.key: [scrub(e) for e in f.entries(case)] if f.kind == "list" else scrub(f.value(case) or "")
            for f in FIELDS
        },
    }


def _kept(answer: AnswerRecord) -> bool:
    text = answer.text.strip()
    return answer.question not in EXCLUDED_STEPS and bool(text) and text.lower() not in CONTROL_WORDS


def build_material(
    case: CaseDraft,
    answers: Sequence[AnswerRecord],
    *,
    considered: Sequence[str] = (),
) -> Material:
    people = [m for m in (case.lead, *(a.owner for a in case.actions)) if m is not None]
    pseudonyms = Pseudonyms([*people, *(a.responder for a in answers)])
    data: dict[str, Any] = {"case": _case_data(case, pseudonyms.scrub)}
    data["existing_actions"] = [
        {"description": pseudonyms.scrub(a.description), "kind": a.kind or "prevent"} for a in case.actions
    ]
    if considered:
        data["already_considered"] = [pseudonyms.scrub(c) for c in considered]
    budget = MAX_DATA_CHARS - len(json.dumps(data, ensure_ascii=False))
    listed: list[dict[str, Any]] = []
    by_id: dict[int, SourceAnswer] = {}
    truncated = False
    for answer in filter(_kept, answers):
        text = pseudonyms.scrub(answer.text.strip())[:MAX_ANSWER_CHARS]
        answer_id = len(listed) + 1
        entry = {
            "id": answer_id,
            "question": answer.question,
            "responder": pseudonyms.label(answer.responder),
            "text": text,
        }
        budget -= len(json.dumps(entry, ensure_ascii=False)) + 4
        if budget < 0:
            truncated = True
            break
        listed.append(entry)
        by_id[answer_id] = SourceAnswer(raw_id=answer.raw_id, text=text)
    data["answers"] = listed
    return Material(
        case_number=case.number,
        data=data,
        answers=by_id,
        pseudonyms=pseudonyms,
        considered=tuple([a.description for a in case.actions] + list(considered)),
        fallback=Fallback(
            symptoms=case.symptoms,
            diagnostic_path=tuple(s.text for s in case.diagnostic_path),
            root_cause=case.root_cause,
        ),
        truncated=truncated,
    )
