"""The interview as one table: every step, what it asks, and what comes next.

Read top to bottom it is the interview: the case's sections in order, then the prevention-action
sub-flow (a loop), then the review sub-flow and the terminal states. `machine` only walks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

from bot import parsing
from bot.case import FIELDS, FIELDS_BY_KEY, TIMELINE, CaseDraft
from bot.interview import questions as q
from bot.interview import review
from bot.interview.actions import ACTION_FLOW, FIRST_ACTION_STEP, LAST_ACTION_STEP
from bot.interview.state import State, Step
from bot.messages import Choice
from bot.parsing import ParseError

# Every place the interview can stand. mypy checks each name the table and the state use;
# a written section of the case (bot/case.py FIELDS) is asked at the step of the same name.
StepName = Literal[
    "title",
    "severity",
    "area",
    "services",
    "started",
    "detected",
    "mitigated",
    "resolved",
    "symptoms",
    "hypotheses",
    "signals",
    "lucky",
    "diagnostic_path",
    "root_cause",
    "contributing_factors",
    "action_description",
    "action_owner",
    "action_due",
    "action_kind",
    "action_risk",
    "review",
    "confirm",
    "published",
    "cancelled",
]
STEP_NAMES: tuple[StepName, ...] = get_args(StepName)


def step_name(text: str) -> StepName:
    """A stored step name read back (from a database row or a button), checked."""
    for name in STEP_NAMES:
        if name == text:
            return name
    raise ParseError(f"Unknown interview step {text!r}.")


_SKIP = Choice("Skip", "skip")
_DONE = Choice("Done", "done", "primary")
_TIME_HELP = (
    "Clock times are read in your timezone; add `+01:00` or `UTC` to override. "
    "`+12m` counts from the previous time of the timeline."
)
_TIMELINE_NEXT: dict[str, StepName] = {
    "started": "detected",
    "detected": "mitigated",
    "mitigated": "resolved",
    "resolved": "symptoms",
}


def _time_step(point: StepName) -> Step:
    return Step(
        point,
        q.time_question(point),
        _TIMELINE_NEXT[point],
        q.time_parser(point),
        q.time_storer(point),
        choices=(_SKIP,),
        help=_TIME_HELP,
        echo=q.time_echo(point),
    )


def _field_step(key: StepName, next_step: StepName, **extra: Any) -> Step:
    """The step that asks one written section of the case, as bot/case.py defines it."""
    field = FIELDS_BY_KEY[key]
    if field.kind == "list":
        return _list_step(key, field.question, next_step, help=field.help, skippable=field.skippable)
    return Step(
        key,
        q.fixed(field.question),
        next_step,
        q.text_parser(),
        q.setter(key),
        skippable=field.skippable,
        choices=(_SKIP,) if field.skippable else (),
        help=field.help,
        **extra,
    )


def _list_step(
    key: StepName,
    prompt: str,
    next_step: StepName,
    *,
    help: str,
    skippable: bool = True,
    misjudgment: str | None = None,
) -> Step:
    """A section answered in several messages until `done` (misjudgments: of one kind)."""
    if misjudgment is None:
        items, store, clear = q.entries_of(key), q.appender(key), q.emptied(key)
    else:
        items = q.misjudgments_of(misjudgment)
        store, clear = q.misjudgment_storer(misjudgment), q.without_misjudgments(misjudgment)
    return Step(
        key,
        q.list_question(prompt, items),
        next_step,
        q.parse_items,
        store,
        collects=True,
        choices=(_DONE, _SKIP) if skippable else (_DONE,),
        help=help,
        items=items,
        clear=clear,
    )


_SECTIONS_FLOW: tuple[Step, ...] = (
    Step(
        "title",
        q.fixed(
            "What should we call this incident? A short title, e.g. "
            "`Checkout 502s after the payments deploy`."
        ),
        "severity",
        q.wrap(parsing.parse_title),
        q.setter("title"),
        skippable=False,
        help="A title people will recognise in a list of cases, 200 characters at most.",
    ),
    Step(
        "severity",
        q.fixed(
            "How severe was it? " + "; ".join(f"**{k}** {v}" for k, v in parsing.SEVERITY_HELP.items()) + "."
        ),
        "area",
        q.wrap(parsing.parse_severity),
        q.setter("severity"),
        skippable=False,
        choices=tuple(Choice(s, s) for s in parsing.SEVERITIES),
        help="SEV1 is the worst. `1`, `sev2`, `major`, `low` all work.",
        echo=lambda value, ctx, typed: f"Severity: {value} ({parsing.SEVERITY_HELP[value].split(':')[0]}).",
    ),
    Step(
        "area",
        q.fixed(
            "Which capability area does it belong to? "
            + ", ".join(parsing.AREA_LABELS[a] for a in parsing.AREAS)
            + "."
        ),
        "services",
        q.wrap(parsing.parse_area),
        q.setter("area"),
        skippable=False,
        choices=tuple(Choice(parsing.AREA_LABELS[a], a) for a in parsing.AREAS),
        help="The area groups cases in the capability map: pick where the fault lived.",
        echo=lambda value, ctx, typed: f"Area: {parsing.AREA_LABELS[value]}.",
    ),
    Step(
        "services",
        q.fixed(
            "Which services were touched? Separate them with commas, e.g. "
            "`checkout-api, payments, postgres-main`."
        ),
        "started",
        lambda text, case, state, ctx: tuple(parsing.parse_services(text)),
        q.setter("services"),
        choices=(_SKIP,),
        help="Service names as your team says them; they link repeat incidents.",
    ),
    _time_step("started"),
    _time_step("detected"),
    _time_step("mitigated"),
    _time_step("resolved"),
    _field_step("symptoms", "hypotheses"),
    _list_step(
        "hypotheses",
        "Which **hypotheses turned out wrong**, and what did each cost? e.g. "
        "`Suspected the CDN — cost: 20 min purging caches`. One per message; `done` "
        "when finished, `skip` if none.",
        "signals",
        help="Wrong leads are the most useful part of a case for the next on-call.",
        misjudgment="hypothesis",
    ),
    _list_step(
        "signals",
        "Which **signals misled** you, or what nearly made it worse? e.g. `CPU alarm on "
        "the DB pointed away from the pool exhaustion — cost: 15 min`. `done` when "
        "finished, `skip` if none.",
        "lucky",
        help="A misleading dashboard, a red herring alert, a risky fix that was nearly run.",
        misjudgment="signal",
    ),
    _field_step("lucky", "diagnostic_path"),
    Step(
        "diagnostic_path",
        q.list_question(
            "Walk me through the **diagnosis**, in order: what was checked and what it "
            "showed. One step per message; end with the check that revealed the cause, "
            "then `done`.",
            lambda case: [s.text for s in case.diagnostic_path],
        ),
        "root_cause",
        q.parse_items,
        q.store_diagnosis,
        collects=True,
        choices=(_DONE,),
        help="e.g. `Checked the error-rate dashboard: 502s only from eu-west`. "
        "Several responders can add steps; each records who gave it.",
        items=lambda case: [s.text for s in case.diagnostic_path],
        clear=q.emptied("diagnostic_path"),
    ),
    _field_step("root_cause", "contributing_factors", tip=q.blame_tip),
    _field_step("contributing_factors", FIRST_ACTION_STEP),
)

# What `edit <name>` reaches at the review: the first step, and the step after which it returns.
SECTIONS: Mapping[str, tuple[StepName, StepName]] = {
    "title": ("title", "title"),
    "severity": ("severity", "severity"),
    "area": ("area", "area"),
    "services": ("services", "services"),
    "timeline": ("started", "resolved"),
    "started": ("started", "started"),
    "detected": ("detected", "detected"),
    "mitigated": ("mitigated", "mitigated"),
    "resolved": ("resolved", "resolved"),
    "hypotheses": ("hypotheses", "hypotheses"),
    "signals": ("signals", "signals"),
    "misjudgments": ("hypotheses", "signals"),
    "diagnosis": ("diagnostic_path", "diagnostic_path"),
    "diagnostic path": ("diagnostic_path", "diagnostic_path"),
    "cause": ("root_cause", "root_cause"),
    "factors": ("contributing_factors", "contributing_factors"),
    **{f.label.lower(): (step_name(f.key), step_name(f.key)) for f in FIELDS},
}
assert set(TIMELINE) <= set(SECTIONS)

FLOW: tuple[Step, ...] = (
    *_SECTIONS_FLOW,
    *ACTION_FLOW,
    *review.flow(SECTIONS, after_action=LAST_ACTION_STEP),
)
STEPS: Mapping[StepName, Step] = {step.key: step for step in FLOW}
# The questions a responder walks through, in order (what `status` counts).
ORDER: tuple[StepName, ...] = tuple(step.key for step in FLOW if not step.terminal)
ACTION_STEPS: tuple[StepName, ...] = tuple(step.key for step in ACTION_FLOW)
TERMINALS: tuple[StepName, ...] = tuple(step.key for step in FLOW if step.terminal)
CANCEL_STEP: StepName = "cancelled"
assert set(STEPS) == set(STEP_NAMES), "every step name has its row in the table"


def first_step(case: CaseDraft) -> StepName:
    """Where a new interview begins: the title, unless the command gave it."""
    title = _SECTIONS_FLOW[0]
    return title.next_after(case.title, case, State(step=title.key)) if case.title else title.key


# How people name each question: internal keys never appear in a message.
LABELS: Mapping[str, str] = {
    **{f.key: f"the {f.label.lower()}" for f in FIELDS},
    "title": "the title",
    "severity": "the severity",
    "area": "the capability area",
    "services": "the services touched",
    "started": q.TIME_LABELS["started"],
    "detected": q.TIME_LABELS["detected"],
    "mitigated": q.TIME_LABELS["mitigated"],
    "resolved": q.TIME_LABELS["resolved"],
    "hypotheses": "the wrong hypotheses",
    "signals": "the misleading signals",
    "diagnostic_path": "the diagnostic path",
    "action_description": "an action's description",
    "action_owner": "an action's owner",
    "action_due": "an action's due date",
    "action_kind": "an action's kind",
    "action_risk": "an action's risk check",
    "review": "the review",
    "confirm": "the confirmation",
    "published": "the end (published)",
    "cancelled": "the end (cancelled)",
}
assert set(TIMELINE) <= set(LABELS)


def label_of(step: str) -> str:
    return LABELS.get(step, "the next question")


def is_answered(step: Step, case: CaseDraft) -> bool:
    """Does the case already hold an answer to this question of its sections?"""
    if step.key in FIELDS_BY_KEY:
        return FIELDS_BY_KEY[step.key].present(case)
    if step.items is not None:
        return bool(step.items(case))
    if step.key in TIMELINE:
        return case.time(step.key) is not None
    if step.key in {"title", "severity", "area", "services"}:
        return bool(getattr(case, step.key))
    return step.in_action and bool(case.actions)


def answered_sections(case: CaseDraft) -> tuple[StepName, ...]:
    """The questions of the case's sections that already have an answer, in interview order
    (what message capture may skip asking again). The action sub-flow counts, by its first
    step, once any action exists."""
    return tuple(s.key for s in FLOW if (s.opens_action or not s.in_action) and is_answered(s, case))


def first_unanswered(case: CaseDraft, *, start: StepName, visited: Iterable[str]) -> StepName:
    """`start`, or the first step after it whose section holds a value the interview never asked
    for itself (an account, a shortcut or the channel's history filled it). Steps it visited are
    asked again as before (`back` reaches them); an action's steps are always asked (each action
    needs its owner, due date and risk check)."""
    filled = {step for step in answered_sections(case) if not STEPS[step].in_action} - set(visited)
    following = ORDER[ORDER.index(start) :]
    return next((step for step in following if step not in filled), ORDER[-1])
