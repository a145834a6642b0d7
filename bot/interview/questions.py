"""The questions, parsers and storers of the case's own sections (summary, timeline, lists).

Parsers turn text into a value or raise ParseError with a reason for the person; storers put
the value into the case. Both are pure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot import parsing
from bot.case import TIMELINE, CaseDraft, DiagnosticStep, Misjudgment
from bot.interview.state import Context, Parser, Question, State, Storer
from bot.parsing import ParseError
from bot.render import when_text

TIME_LABELS: dict[str, str] = {
    "started": "the start time",
    "detected": "the detection time",
    "mitigated": "the mitigation time",
    "resolved": "the resolution time",
}


def fixed(text: str) -> Question:
    return lambda case, state, ctx: text


def time_question(point: str) -> Question:
    prompts = {
        "started": "When did it **start** (first user impact)?",
        "detected": "When was it **detected** (first alert, page or report)?",
        "mitigated": "When was the impact **mitigated** (users fine again)?",
        "resolved": "When was it fully **resolved**?",
    }

    def question(case: CaseDraft, state: State, ctx: Context) -> str:
        full = parsing.example_time(ctx.now.astimezone(ctx.tz))
        hint = f"e.g. `14:05`, `yesterday 23:10`, `25 minutes ago`, `{full}`"
        if point != "started":
            hint += ", or `+12m` (after the previous time)"
        current = case.time(point)
        now_text = f" Currently: {local_time(current, ctx)}." if current else ""
        return f"{prompts[point]} {hint}. Times are read in {ctx.tz_name} ({zone_offset(ctx)}).{now_text}"

    return question


def list_question(prompt: str, items: Callable[[CaseDraft], list[str]]) -> Question:
    def question(case: CaseDraft, state: State, ctx: Context) -> str:
        so_far = ""
        if entries := items(case):
            so_far = f"\nSo far ({len(entries)}): " + "; ".join(entries[-3:])
            so_far += ". Add more, `clear` to start over, or `done`."
        return prompt + so_far

    return question


# --- parsers and storers ---------------------------------------------------------------


def text_parser(limit: int | None = None) -> Parser:
    def parse(text: str, case: CaseDraft, state: State, ctx: Context) -> str:
        value = parsing.nonempty(text)
        if limit is not None and len(value) > limit:
            raise ParseError(f"Keep this under {limit} characters (it has {len(value)}).")
        return value

    return parse


def wrap(fn: Callable[[str], Any]) -> Parser:
    return lambda text, case, state, ctx: fn(text)


def setter(attr: str) -> Storer:
    return lambda case, state, value, ctx: replace(case, **{attr: value})


def time_parser(point: str) -> Parser:
    def parse(text: str, case: CaseDraft, state: State, ctx: Context) -> dt.datetime:
        index = TIMELINE.index(point)
        previous = next((case.time(p) for p in reversed(TIMELINE[:index]) if case.time(p) is not None), None)
        when = parsing.parse_when(
            text, now=ctx.now, tz=ctx.tz, previous=previous, month_first=ctx.month_first
        )
        for earlier in TIMELINE[:index]:
            other = case.time(earlier)
            if other is not None and when < other:
                raise ParseError(
                    f"That puts {point} ({local_time(when, ctx)}) before {earlier} "
                    f"({local_time(other, ctx)}). The timeline must run started → detected → "
                    f"mitigated → resolved. Check the time, or `back` to fix {TIME_LABELS[earlier]}."
                )
        for later in TIMELINE[index + 1 :]:
            other = case.time(later)
            if other is not None and when > other:
                raise ParseError(
                    f"That puts {point} ({local_time(when, ctx)}) after {later} "
                    f"({local_time(other, ctx)}). The timeline must run started → detected → "
                    "mitigated → resolved."
                )
        return when

    return parse


def time_storer(point: str) -> Storer:
    return lambda case, state, value, ctx: case.with_time(point, value)


def time_echo(point: str) -> Callable[[Any, Context, str], str | None]:
    """`Started: 21:40 (UTC+01:00).`; a day typed in numbers is echoed with the reading its
    order was given by the speaker's locale (`read as Thu 19 Nov 21:40 (UTC+01:00), day first`)."""

    def echo(value: Any, ctx: Context, typed: str) -> str:
        read = parsing.reading(typed, value, now=ctx.now, tz=ctx.tz, month_first=ctx.month_first)
        return f"{point.capitalize()}: {read or local_time(value, ctx)}."

    return echo


def parse_items(text: str, case: CaseDraft, state: State, ctx: Context) -> list[str]:
    items = parsing.split_items(parsing.nonempty(text))
    for item in items:
        if len(item) > 1000:
            raise ParseError("Keep each entry under 1,000 characters; split longer ones.")
    return items


def appender(attr: str) -> Storer:
    def store(case: CaseDraft, state: State, items: list[str], ctx: Context) -> CaseDraft:
        changes: dict[str, Any] = {attr: (*getattr(case, attr), *items)}
        return replace(case, **changes)

    return store


def entries_of(attr: str) -> Callable[[CaseDraft], list[str]]:
    return lambda case: list(getattr(case, attr))


def emptied(attr: str) -> Callable[[CaseDraft], CaseDraft]:
    changes: dict[str, Any] = {attr: ()}
    return lambda case: replace(case, **changes)


def misjudgment_storer(kind: str) -> Storer:
    def store(case: CaseDraft, state: State, items: list[str], ctx: Context) -> CaseDraft:
        entries = []
        for item in items:
            text, cost = parsing.split_cost(item)
            entries.append(Misjudgment(kind=kind, text=text, cost=cost))
        return replace(case, misjudgments=(*case.misjudgments, *entries))

    return store


def misjudgments_of(kind: str) -> Callable[[CaseDraft], list[str]]:
    return lambda case: [m.text for m in case.misjudgments if m.kind == kind]


def without_misjudgments(kind: str) -> Callable[[CaseDraft], CaseDraft]:
    return lambda case: replace(case, misjudgments=tuple(m for m in case.misjudgments if m.kind != kind))


def store_diagnosis(case: CaseDraft, state: State, items: list[str], ctx: Context) -> CaseDraft:
    by = ctx.sender.display_name or ctx.sender.user_id
    steps = tuple(DiagnosticStep(text=item, by=by) for item in items)
    return replace(case, diagnostic_path=(*case.diagnostic_path, *steps))


_BLAME = re.compile(
    r"\b(human error|forgot|careless|fault of|should have known|blame|negligen\w*|incompeten\w*|"
    r"stupid|sloppy|his mistake|her mistake|their mistake)\b",
    re.I,
)


def blame_tip(value: Any) -> str | None:
    if isinstance(value, str) and _BLAME.search(value):
        return (
            "A blameless tip: describe the conditions that let this happen (missing "
            "checks, unclear signals, risky defaults) rather than who slipped. You can `back` "
            "to reword it."
        )
    return None


def local_time(when: dt.datetime, ctx: Context) -> str:
    return when_text(when, ctx.tz)


def zone_offset(ctx: Context) -> str:
    offset = ctx.now.astimezone(ctx.tz).strftime("%z") or "+0000"
    return f"UTC{offset[:3]}:{offset[3:]}"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
