"""Grounding: keep only what the answers support; drop the rest and say why.

The schema already leaves the model no field for an owner, a date, a time or a
status. These rules cover what it could still slip into its prose:

- people: no mention, handle, `person-N` label or real name of anyone involved
  (blameless, and owners come from people);
- status: no claim that an action is done, closed or cancelled;
- facts: every clock time, calendar date, date word (weekday, month,
  "tomorrow", "end of week"...), figure (digits, "thousand"), code-like token
  (`p99`, `SEV2`) and link must appear in the material the model was given;
- suggestions: as above, but no date, deadline or time of day at all, numbers
  are free (thresholds), and each must cite answers and repeat no existing action;
- blame flags: the quote must be words of the cited answer; the rewrite obeys
  the fact rules.

Prose is checked sentence by sentence, lists item by item: a bad sentence goes,
its neighbours stay. Everything dropped is recorded in the draft's metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.drafting.schema import ModelDraft

MAX_NARRATIVE_CHARS = 3000
MAX_ITEM_CHARS = 500
MAX_ITEMS = 25
MAX_SUGGESTIONS = 5
MAX_FLAGS = 10
SIMILAR = 0.6  # word-set overlap above which a suggestion repeats an existing action

_PERSON = re.compile(
    r"<[@!#][^>]*>"  # platform mentions and broadcasts: <@U1>, <!here>
    r"|(?<![\w.])@[A-Za-z][\w.\-]*"  # @handles, @here, @channel
    r"|\b(?:person|responder)[\s_-]?\d+\b",  # the labels that stand for people in the data
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d])")
_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_CODE_TOKEN = re.compile(r"(?<![\w-])[A-Za-z][\w\-]*?\d[\w\-]*")
# One figure: 14, 12,000 or 0.5 (a thousands separator or a decimal point stays inside it).
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_URL = re.compile(r"(?:https?://|www\.)[^\s)>\]]+", re.IGNORECASE)
_FIGURE_WORDS = re.compile(r"\b(?:hundreds?|thousands?|millions?|billions?|dozens?)\b", re.IGNORECASE)
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
# "May" is left out: as a modal verb it would drop innocent sentences.
_MONTHS = "january|february|march|april|june|july|august|september|october|november|december"
_DATE_WORDS = re.compile(
    rf"\b(?:{_WEEKDAYS}|{_MONTHS}|today|tonight|tomorrow|yesterday|midnight|noon"
    r"|(?:this|next|last|coming)\s+(?:week|month|quarter|year|sprint)"
    r"|end\s+of\s+(?:the\s+)?(?:day|week|month|quarter|year|sprint)"
    r"|eod|eow|eom|eoq|q[1-4]|deadline|due\s+(?:by|on|date))\b",
    re.IGNORECASE,
)
_STATUS_CLAIM = re.compile(
    r"\b(?:actions?|items?|follow[\s-]?ups?|tasks?)\b(?:[^.;\n]|\.(?=\d)){0,60}?"
    r"\b(?:is|are|was|were|been|be|now|all)\s+(?:all\s+|now\s+|already\s+|fully\s+)?"
    r"(?:done|closed|complete[d]?|finished|cancell?ed|resolved|implemented)\b"
    r"|\bmark(?:ed|ing)?\b(?:[^.;\n]|\.(?=\d)){0,40}?\b(?:done|closed|complete[d]?|cancell?ed|resolved)\b"
    r"|\b(?:close|closed|closing|cancel|cancell?ed)\s+(?:every|all|each|the)\s+(?:\w+\s+)?"
    r"(?:actions?|items?|follow[\s-]?ups?)\b",
    re.IGNORECASE,
)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "when",
        "by",
        "at",
        "or",
        "is",
        "are",
        "be",
        "that",
        "this",
        "it",
        "as",
        "from",
        "into",
        "per",
        "than",
        "add",
        "adds",
        "new",
        "more",
    ]
)


@dataclass(frozen=True)
class SourceAnswer:
    raw_id: int  # raw_answers.id
    text: str  # as the model saw it (people replaced by labels)


@dataclass(frozen=True)
class Sources:
    """What the model was shown, indexed for the checks."""

    text: str  # lower case
    clocks: frozenset[str]
    dates: frozenset[str]
    numbers: frozenset[str]
    tokens: frozenset[str]
    names: tuple[str, ...] = ()  # real names and user ids of the people involved
    answers: Mapping[int, SourceAnswer] = field(default_factory=dict)  # by the id the model saw
    considered: tuple[str, ...] = ()  # existing actions and already decided suggestions

    @classmethod
    def build(
        cls,
        text: str,
        *,
        names: Iterable[str] = (),
        answers: Mapping[int, SourceAnswer] | None = None,
        considered: Iterable[str] = (),
    ) -> Sources:
        return cls(
            text=text.lower(),
            clocks=frozenset(_clock_key(m) for m in _CLOCK.finditer(text)),
            dates=frozenset(_date_key(m) for m in _DATE.finditer(text)),
            numbers=frozenset(_number_key(n) for n in _NUMBER.findall(text)),
            tokens=frozenset(t.lower() for t in _CODE_TOKEN.findall(text)),
            names=tuple(n for n in names if len(n.strip()) >= 2),
            answers=dict(answers or {}),
            considered=tuple(considered),
        )


@dataclass(frozen=True)
class Dropped:
    where: str  # "narrative", "symptoms", "suggestion", ...
    text: str
    reason: str


@dataclass(frozen=True)
class Suggestion:
    description: str
    kind: str
    gap: str
    based_on: tuple[int, ...]  # raw_answers ids


@dataclass(frozen=True)
class Flag:
    raw_answer_id: int
    quote: str
    rewrite: str


@dataclass(frozen=True)
class GroundedDraft:
    narrative: str
    symptoms: tuple[str, ...]
    diagnostic_path: tuple[str, ...]
    root_cause: str | None
    suggestions: tuple[Suggestion, ...] = ()
    flags: tuple[Flag, ...] = ()
    dropped: tuple[Dropped, ...] = ()

    def stored(self) -> dict[str, Any]:
        """The part kept on the case (suggestions live in their own table)."""
        return {
            "narrative": self.narrative,
            "symptoms": list(self.symptoms),
            "diagnostic_path": list(self.diagnostic_path),
            "root_cause": self.root_cause,
            "blame_flags": [
                {"answer": f.raw_answer_id, "quote": f.quote, "rewrite": f.rewrite} for f in self.flags
            ],
        }


def _number_key(text: str) -> str:
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", text):
        text = text.replace(",", "")
    return ".".join(part.lstrip("0") or "0" for part in text.split("."))


def _clock_key(m: re.Match[str]) -> str:
    return f"{int(m.group(1))}:{m.group(2)}"


def _date_key(m: re.Match[str]) -> str:
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"


def _names_person(text: str, names: Sequence[str]) -> bool:
    if _PERSON.search(text):
        return True
    return any(re.search(rf"(?<![\w@]){re.escape(name)}(?!\w)", text) for name in names)


def _fact_problem(text: str, sources: Sources) -> str | None:
    """Why `text` states something the material does not, or None."""
    for m in _CLOCK.finditer(text):
        if _clock_key(m) not in sources.clocks:
            return f"a time ({m.group(0)}) not in the answers"
    for m in _DATE.finditer(text):
        if _date_key(m) not in sources.dates:
            return f"a date ({m.group(0)}) not in the answers"
    for m in _DATE_WORDS.finditer(text):
        if not re.search(rf"\b{re.escape(m.group(0).lower())}\b", sources.text):
            return f"a date ({m.group(0)}) not in the answers"
    if _unknown_link(text, sources):
        return "a link not in the answers"
    for m in _FIGURE_WORDS.finditer(text):
        if m.group(0).lower() not in sources.text:
            return f"a figure ({m.group(0)}) not in the answers"
    rest = _DATE.sub(" ", _CLOCK.sub(" ", text))
    for token in _CODE_TOKEN.findall(rest):
        if token.lower() not in sources.tokens:
            return f"a figure ({token}) not in the answers"
    for number in _NUMBER.findall(_CODE_TOKEN.sub(" ", rest)):
        if _number_key(number) not in sources.numbers:
            return f"a figure ({number}) not in the answers"
    return None


def _unknown_link(text: str, sources: Sources) -> bool:
    return any(m.group(0).lower().rstrip(".,;:") not in sources.text for m in _URL.finditer(text))


def _out_of_bounds(text: str, sources: Sources) -> str | None:
    """What no text of the model may do, wherever it stands: name people, or settle an action."""
    if _names_person(text, sources.names):
        return "refers to a person"
    if _STATUS_CLAIM.search(text):
        return "claims an action's status"
    return None


def fact_problem(text: str, sources: Sources) -> str | None:
    """The rule for prose and cleaned-up sections."""
    return _out_of_bounds(text, sources) or _fact_problem(text, sources)


def suggestion_problem(text: str, sources: Sources) -> str | None:
    """The rule for suggested actions: owners and deadlines are set by a person on acceptance."""
    if problem := _out_of_bounds(text, sources):
        return problem
    if _CLOCK.search(text) or _DATE.search(text) or _DATE_WORDS.search(text):
        return "sets a date or a time"
    if _unknown_link(text, sources):
        return "a link not in the answers"
    return None


def clean_line(text: str) -> str:
    """One line of plain prose: no heading, quote or bullet markup, single spaces."""
    text = re.sub(r"^\s*(?:#{1,6}\s+|>\s*|[-*•]\s+|\d{1,3}[.)]\s+)", "", text.strip())
    return " ".join(text.split())


def sentences(text: str) -> list[list[str]]:
    """Paragraphs of sentences."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    result = []
    for paragraph in paragraphs:
        flat = " ".join(clean_line(line) for line in paragraph.splitlines() if line.strip())
        parts = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=\S)", flat) if s.strip()]
        if parts:
            result.append(parts)
    return result


def ground_prose(where: str, text: str, sources: Sources, *, limit: int) -> tuple[str, list[Dropped]]:
    kept_paragraphs: list[str] = []
    dropped: list[Dropped] = []
    size = 0
    for paragraph in sentences(text):
        kept: list[str] = []
        for sentence in paragraph:
            problem = fact_problem(sentence, sources)
            if problem is None and size + len(sentence) > limit:
                problem = "over the length limit"
            if problem:
                dropped.append(Dropped(where, sentence, problem))
                continue
            kept.append(sentence)
            size += len(sentence) + 1
        if kept:
            kept_paragraphs.append(" ".join(kept))
    return "\n\n".join(kept_paragraphs), dropped


def ground_items(
    where: str, items: Sequence[str], sources: Sources, *, fallback: Sequence[str]
) -> tuple[tuple[str, ...], list[Dropped]]:
    """Cleaned-up list items; if none survives, the interview's own items stand (nothing lost)."""
    kept: list[str] = []
    dropped: list[Dropped] = []
    for raw in items:
        item = clean_line(raw)
        if not item:
            continue
        problem = fact_problem(item, sources)
        if problem is None and len(item) > MAX_ITEM_CHARS:
            problem = "over the length limit"
        if problem is None and len(kept) >= MAX_ITEMS:
            problem = "too many items"
        if problem is None and item.lower() in (k.lower() for k in kept):
            problem = "a duplicate"
        if problem:
            dropped.append(Dropped(where, item, problem))
        else:
            kept.append(item)
    return (tuple(kept) if kept else tuple(fallback)), dropped


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[a-z0-9_]+", text.lower()) if w not in _STOPWORDS)


def similarity(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def _suggestion_drop(
    description: str, gap: str, cited: Sequence[int], sources: Sources, taken: Sequence[str]
) -> str | None:
    if not 8 <= len(description) <= 300:
        return "not a specific action (length)"
    problem = suggestion_problem(description, sources) or suggestion_problem(gap, sources)
    if problem:
        return problem
    if not cited:
        return "cites no answer"
    if any(i not in sources.answers for i in cited):
        return "cites an answer that does not exist"
    for other in taken:
        if similarity(description, other) >= SIMILAR:
            return f"repeats “{other[:60]}”"
    return None


def ground_suggestions(
    suggestions: Sequence[Any], sources: Sources
) -> tuple[tuple[Suggestion, ...], list[Dropped]]:
    kept: list[Suggestion] = []
    dropped: list[Dropped] = []
    for s in suggestions:
        description, gap = clean_line(s.description), clean_line(s.gap)[:500]
        cited = list(dict.fromkeys(s.based_on))
        taken = [*sources.considered, *(k.description for k in kept)]
        problem = _suggestion_drop(description, gap, cited, sources, taken)
        if problem is None and len(kept) >= MAX_SUGGESTIONS:
            problem = "too many suggestions"
        if problem:
            dropped.append(Dropped("suggestion", description, problem))
            continue
        raw_ids = tuple(sources.answers[i].raw_id for i in cited)
        kept.append(Suggestion(description, s.kind, gap, raw_ids))
    return tuple(kept), dropped


def _normal(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.lower().split())


def ground_flags(flags: Sequence[Any], sources: Sources) -> tuple[tuple[Flag, ...], list[Dropped]]:
    kept: list[Flag] = []
    dropped: list[Dropped] = []
    for f in flags:
        quote, rewrite = " ".join(f.quote.split()).strip("\"'“” "), clean_line(f.rewrite)
        answer = sources.answers.get(f.answer_id)
        problem = None
        if answer is None:
            problem = "cites an answer that does not exist"
        elif not quote or _normal(quote) not in _normal(answer.text) or len(quote) > 400:
            problem = "quotes words the answer does not contain"
        elif not rewrite or _normal(rewrite) == _normal(quote) or len(rewrite) > 600:
            problem = "offers no rewrite"
        else:
            problem = fact_problem(rewrite, sources)
        if problem is None and len(kept) >= MAX_FLAGS:
            problem = "too many flags"
        if problem or answer is None:
            dropped.append(Dropped("blame flag", quote or f.quote[:200], problem or "invalid"))
            continue
        kept.append(Flag(answer.raw_id, quote, rewrite))
    return tuple(kept), dropped


@dataclass(frozen=True)
class Fallback:
    """The interview's own sections, which stand where the model's do not survive."""

    symptoms: tuple[str, ...] = ()
    diagnostic_path: tuple[str, ...] = ()
    root_cause: str | None = None


def ground(draft: ModelDraft, sources: Sources, fallback: Fallback) -> GroundedDraft:
    narrative, dropped = ground_prose("narrative", draft.narrative, sources, limit=MAX_NARRATIVE_CHARS)
    symptoms, d_symptoms = ground_items("symptoms", draft.symptoms, sources, fallback=fallback.symptoms)
    path, d_path = ground_items(
        "diagnostic path", draft.diagnostic_path, sources, fallback=fallback.diagnostic_path
    )
    root, d_root = ground_prose("root cause", draft.root_cause, sources, limit=MAX_NARRATIVE_CHARS)
    suggestions, d_suggestions = ground_suggestions(draft.suggested_actions, sources)
    flags, d_flags = ground_flags(draft.blame_flags, sources)
    return GroundedDraft(
        narrative=narrative,
        symptoms=symptoms,
        diagnostic_path=path,
        root_cause=root or fallback.root_cause,
        suggestions=suggestions,
        flags=flags,
        dropped=tuple([*dropped, *d_symptoms, *d_path, *d_root, *d_suggestions, *d_flags]),
    )
