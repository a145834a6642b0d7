"""The interview: an explicit table of steps and a pure transition function.

`advance(state, case, text, ctx)` takes one message and returns the next state,
the updated case and the replies. It does no I/O: the service around it loads
and saves, so a restart between two messages loses nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot import parsing
from bot.case import TIMELINE, ActionDraft, CaseDraft, DiagnosticStep, Misjudgment
from bot.messages import Choice, Mention, Reply, ReplyKind
from bot.parsing import ParseError
from bot.render import render_case_markdown


@dataclass(frozen=True)
class State:
    step: str
    history: tuple[tuple[str, int | None], ...] = ()
    current_action: int | None = None
    # "review|resolved": after the step `resolved`, go back to `review` (an edit).
    return_to: str | None = None
    pending: str | None = None  # "cancel" while a cancellation awaits confirmation


@dataclass(frozen=True)
class Context:
    now: dt.datetime
    tz: dt.tzinfo
    tz_name: str
    sender: Mention
    mentions: tuple[Mention, ...] = ()
    may_manage: bool = True  # the case lead or an admin: may publish or cancel
    max_chars: int = 4000
    form: dict[str, str] | None = None

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()


@dataclass(frozen=True)
class Outcome:
    state: State
    case: CaseDraft
    replies: tuple[Reply, ...]
    accepted: bool = False  # an answer was stored: the service keeps the raw text
    finished: str | None = None  # "published" | "cancelled"


Parser = Callable[[str, CaseDraft, State, Context], Any]
Storer = Callable[[CaseDraft, State, Any, Context], CaseDraft]
Question = Callable[[CaseDraft, State, Context], str]


@dataclass(frozen=True)
class Step:
    key: str
    question: Question
    parse: Parser
    store: Storer
    skippable: bool = True
    collects: bool = False  # several messages until `done`
    choices: tuple[Choice, ...] = ()
    help: str = ""


# --- questions --------------------------------------------------------------------


def _q(text: str) -> Question:
    return lambda case, state, ctx: text


def _time_question(point: str) -> Question:
    prompts = {
        "started": "When did it **start** (first user impact)?",
        "detected": "When was it **detected** (first alert, page or report)?",
        "mitigated": "When was the impact **mitigated** (users fine again)?",
        "resolved": "When was it fully **resolved**?",
    }

    def question(case: CaseDraft, state: State, ctx: Context) -> str:
        hint = "e.g. `14:05`, `yesterday 23:10`, `25 minutes ago`, `2026-11-20 14:05 +01:00`"
        if point != "started":
            hint += ", or `+12m` (after the previous time)"
        current = case.time(point)
        now_text = f" Currently: {_local(current, ctx)}." if current else ""
        return f"{prompts[point]} {hint}. Times are read in {ctx.tz_name}.{now_text}"

    return question


def _list_question(prompt: str, attr: str) -> Question:
    def question(case: CaseDraft, state: State, ctx: Context) -> str:
        items = _list_items(case, attr)
        so_far = ""
        if items:
            so_far = f"\nSo far ({len(items)}): " + "; ".join(items[-3:])
            so_far += ". Add more, `clear` to start over, or `done`."
        return prompt + so_far

    return question


def _list_items(case: CaseDraft, attr: str) -> list[str]:
    if attr == "hypotheses":
        return [m.text for m in case.hypotheses]
    if attr == "signals":
        return [m.text for m in case.signals]
    if attr == "diagnostic_path":
        return [s.text for s in case.diagnostic_path]
    return list(getattr(case, attr))


def _action_question(prompt: str) -> Question:
    def question(case: CaseDraft, state: State, ctx: Context) -> str:
        action = case.action(state.current_action)
        label = f"action {action.number} ({_clip(action.description, 80)})" if action else "action"
        return prompt.format(action=label)

    return question


def _description_question(case: CaseDraft, state: State, ctx: Context) -> str:
    editing = case.action(state.current_action)
    if editing is not None:
        return (
            f"Action {editing.number} reads: {_clip(editing.description, 200)}\n"
            "Send a new description, or `skip` to keep it."
        )
    number = case.next_action_number()
    if number == 1:
        return (
            "Now the **prevention plan**. Action 1: what should change so this cannot happen "
            "again, or is caught and contained sooner? One action per message; say `done` when "
            "there are no more."
        )
    return f"Action {number}: describe the next prevention action, or say `done` if that is all."


# --- parsers and storers ---------------------------------------------------------------


def _text(limit: int | None = None) -> Parser:
    def parse(text: str, case: CaseDraft, state: State, ctx: Context) -> str:
        value = parsing.nonempty(text)
        if limit is not None and len(value) > limit:
            raise ParseError(f"Keep this under {limit} characters (it has {len(value)}).")
        return value

    return parse


def _set(attr: str) -> Storer:
    return lambda case, state, value, ctx: replace(case, **{attr: value})


def _parse_time(point: str) -> Parser:
    def parse(text: str, case: CaseDraft, state: State, ctx: Context) -> dt.datetime:
        index = TIMELINE.index(point)
        previous = next((case.time(p) for p in reversed(TIMELINE[:index]) if case.time(p) is not None), None)
        when = parsing.parse_when(text, now=ctx.now, tz=ctx.tz, previous=previous)
        for earlier in TIMELINE[:index]:
            other = case.time(earlier)
            if other is not None and when < other:
                raise ParseError(
                    f"That puts {point} ({_local(when, ctx)}) before {earlier} "
                    f"({_local(other, ctx)}). The timeline must run started → detected → "
                    f"mitigated → resolved. Check the time, or `back` to fix {earlier}."
                )
        for later in TIMELINE[index + 1 :]:
            other = case.time(later)
            if other is not None and when > other:
                raise ParseError(
                    f"That puts {point} ({_local(when, ctx)}) after {later} "
                    f"({_local(other, ctx)}). The timeline must run started → detected → "
                    "mitigated → resolved."
                )
        return when

    return parse


def _store_time(point: str) -> Storer:
    return lambda case, state, value, ctx: case.with_time(point, value)


def _parse_items(text: str, case: CaseDraft, state: State, ctx: Context) -> list[str]:
    items = parsing.split_items(parsing.nonempty(text))
    for item in items:
        if len(item) > 1000:
            raise ParseError("Keep each entry under 1,000 characters; split longer ones.")
    return items


def _append(attr: str) -> Storer:
    def store(case: CaseDraft, state: State, items: list[str], ctx: Context) -> CaseDraft:
        changes: dict[str, Any] = {attr: (*getattr(case, attr), *items)}
        return replace(case, **changes)

    return store


_COST = re.compile(r"\s*(?:[—–;,(]|--|\s-)?\s*\b(?:cost|costs|cost us|lost)\b\s*:?\s*(.+?)\)?$", re.I)


def _misjudgment(kind: str) -> Storer:
    def store(case: CaseDraft, state: State, items: list[str], ctx: Context) -> CaseDraft:
        entries = []
        for item in items:
            m = _COST.search(item)
            text, cost = (item[: m.start()].strip(), m.group(1).strip()) if m else (item, None)
            entries.append(Misjudgment(kind=kind, text=text or item, cost=cost))
        return replace(case, misjudgments=(*case.misjudgments, *entries))

    return store


def _store_diagnosis(case: CaseDraft, state: State, items: list[str], ctx: Context) -> CaseDraft:
    by = ctx.sender.display_name or ctx.sender.user_id
    steps = tuple(DiagnosticStep(text=item, by=by) for item in items)
    return replace(case, diagnostic_path=(*case.diagnostic_path, *steps))


def _parse_action_description(text: str, case: CaseDraft, state: State, ctx: Context) -> Any:
    if ctx.form:
        return _parse_action_form(ctx.form, ctx)
    value = parsing.nonempty(text, "a description of the action")
    if len(value) > 1000:
        raise ParseError("Keep an action under 1,000 characters; split it into several.")
    return value


def _parse_action_form(form: dict[str, str], ctx: Context) -> ActionDraft:
    description = parsing.nonempty(form.get("description", ""), "a description of the action")
    owner_raw = form.get("owner", "").strip()
    mention = f"<@{owner_raw}>" if owner_raw and not owner_raw.startswith("<@") else owner_raw
    owner = parsing.parse_owner(mention, mentions=ctx.mentions, sender=ctx.sender)
    due = parsing.parse_due_date(form.get("due", ""), today=ctx.today)
    kind = parsing.parse_action_kind(form["kind"]) if form.get("kind") else "prevent"
    return ActionDraft(number=0, description=description, owner=owner, due=due, kind=kind)


def _store_action_description(case: CaseDraft, state: State, value: Any, ctx: Context) -> CaseDraft:
    existing = case.action(state.current_action)
    if isinstance(value, ActionDraft):
        number = existing.number if existing else case.next_action_number()
        return case.with_action(replace(value, number=number, risks=existing.risks if existing else None))
    if existing is not None:
        return case.with_action(replace(existing, description=value))
    return case.with_action(ActionDraft(number=case.next_action_number(), description=value))


def _action_field(attr: str) -> Storer:
    def store(case: CaseDraft, state: State, value: Any, ctx: Context) -> CaseDraft:
        action = case.action(state.current_action)
        if action is None:
            return case
        return case.with_action(replace(action, **{attr: value}))

    return store


def _parse_owner(text: str, case: CaseDraft, state: State, ctx: Context) -> Mention:
    return parsing.parse_owner(text, mentions=ctx.mentions, sender=ctx.sender)


def _parse_due(text: str, case: CaseDraft, state: State, ctx: Context) -> dt.date:
    return parsing.parse_due_date(text, today=ctx.today)


def _wrap(fn: Callable[[str], Any]) -> Parser:
    return lambda text, case, state, ctx: fn(text)


def _no_parse(text: str, case: CaseDraft, state: State, ctx: Context) -> str:
    return text


def _keep(case: CaseDraft, state: State, value: Any, ctx: Context) -> CaseDraft:
    return case


# --- the table ---------------------------------------------------------------------------

_SKIP = Choice("Skip", "skip")
_DONE = Choice("Done", "done", "primary")

STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step(
            "title",
            _q(
                "What should we call this incident? A short title, e.g. "
                "`Checkout 502s after the payments deploy`."
            ),
            _wrap(parsing.parse_title),
            _set("title"),
            skippable=False,
            help="A title people will recognise in a list of cases, 200 characters at most.",
        ),
        Step(
            "severity",
            _q(
                "How severe was it? "
                + "; ".join(f"**{k}** {v}" for k, v in parsing.SEVERITY_HELP.items())
                + "."
            ),
            _wrap(parsing.parse_severity),
            _set("severity"),
            skippable=False,
            choices=tuple(Choice(s, s) for s in parsing.SEVERITIES),
            help="SEV1 is the worst. `1`, `sev2`, `major`, `low` all work.",
        ),
        Step(
            "area",
            _q(
                "Which capability area does it belong to? "
                + ", ".join(parsing.AREA_LABELS[a] for a in parsing.AREAS)
                + "."
            ),
            _wrap(parsing.parse_area),
            _set("area"),
            skippable=False,
            choices=tuple(Choice(parsing.AREA_LABELS[a], a) for a in parsing.AREAS),
            help="The area groups cases in the capability map: pick where the fault lived.",
        ),
        Step(
            "services",
            _q(
                "Which services were touched? Separate them with commas, e.g. "
                "`checkout-api, payments, postgres-main`."
            ),
            lambda text, case, state, ctx: tuple(parsing.parse_services(text)),
            _set("services"),
            choices=(_SKIP,),
            help="Service names as your team says them; they link repeat incidents.",
        ),
        *(
            Step(
                point,
                _time_question(point),
                _parse_time(point),
                _store_time(point),
                choices=(_SKIP,),
                help="Clock times are read in your timezone; add `+01:00` or `UTC` to override. "
                "`+12m` counts from the previous time of the timeline.",
            )
            for point in TIMELINE
        ),
        Step(
            "symptoms",
            _list_question(
                "What did you **observe**? User impact, alerts, dashboards, error messages: one "
                "per message (a bulleted list works too). Say `done` when finished.",
                "symptoms",
            ),
            _parse_items,
            _append("symptoms"),
            collects=True,
            choices=(_DONE,),
            help="Symptoms are what you saw, before you knew the cause.",
        ),
        Step(
            "hypotheses",
            _list_question(
                "Which **hypotheses turned out wrong**, and what did each cost? e.g. "
                "`Suspected the CDN — cost: 20 min purging caches`. One per message; `done` "
                "when finished, `skip` if none.",
                "hypotheses",
            ),
            _parse_items,
            _misjudgment("hypothesis"),
            collects=True,
            choices=(_DONE, _SKIP),
            help="Wrong leads are the most useful part of a case for the next on-call.",
        ),
        Step(
            "signals",
            _list_question(
                "Which **signals misled** you, or what nearly made it worse? e.g. `CPU alarm on "
                "the DB pointed away from the pool exhaustion — cost: 15 min`. `done` when "
                "finished, `skip` if none.",
                "signals",
            ),
            _parse_items,
            _misjudgment("signal"),
            collects=True,
            choices=(_DONE, _SKIP),
            help="A misleading dashboard, a red herring alert, a risky fix that was nearly run.",
        ),
        Step(
            "diagnostic_path",
            _list_question(
                "Walk me through the **diagnosis**, in order: what was checked and what it "
                "showed. One step per message; end with the check that revealed the cause, "
                "then `done`.",
                "diagnostic_path",
            ),
            _parse_items,
            _store_diagnosis,
            collects=True,
            choices=(_DONE,),
            help="e.g. `Checked the error-rate dashboard: 502s only from eu-west`. "
            "Several responders can add steps; each records who gave it.",
        ),
        Step(
            "root_cause",
            _q("What was the **root cause**? Describe systems and conditions, not people."),
            _text(),
            _set("root_cause"),
            choices=(_SKIP,),
            help="Blameless: 'the deploy pipeline allowed an unreviewed config change', not "
            "'Alex pushed a bad config'.",
        ),
        Step(
            "contributing_factors",
            _list_question(
                "Any **contributing factors** (conditions that made it possible or worse)? One "
                "per message; `done` when finished, `skip` if none.",
                "contributing_factors",
            ),
            _parse_items,
            _append("contributing_factors"),
            collects=True,
            choices=(_DONE, _SKIP),
            help="e.g. `No alert on connection-pool saturation`, `Runbook out of date`.",
        ),
        Step(
            "action_description",
            _description_question,
            _parse_action_description,
            _store_action_description,
            choices=(Choice("No more actions", "done"),),
            help="Good actions are specific and checkable: 'Alert when pool usage > 80% for "
            "5 min', not 'improve monitoring'. Each gets an owner and a due date next.",
        ),
        Step(
            "action_owner",
            _action_question("Who owns {action}? Mention them (@name), or say `me`."),
            _parse_owner,
            _action_field("owner"),
            skippable=False,
            help="One accountable owner; they get the weekly reminder until it's closed.",
        ),
        Step(
            "action_due",
            _action_question("When is {action} due? e.g. `2026-12-01`, `next friday`, `in 2 weeks`."),
            _parse_due,
            _action_field("due"),
            skippable=False,
            help="Today or later, within two years.",
        ),
        Step(
            "action_kind",
            _action_question(
                "What kind of action is {action}? **prevent** (stops it happening), **detect** "
                "(catches it sooner), **mitigate** (limits the damage), **process** (how we work)."
            ),
            _wrap(parsing.parse_action_kind),
            _action_field("kind"),
            choices=tuple(Choice(k, k) for k in parsing.ACTION_KINDS),
            help="Skipping counts it as `prevent`.",
        ),
        Step(
            "action_risk",
            _action_question(
                "Risk check for {action}. Does it "
                + ", ".join(f"**{k}** ({v})" for k, v in parsing.RISK_LABELS.items())
                + "? Reply with those that apply, e.g. `coupling, spof`, or `none`."
            ),
            _wrap(parsing.parse_risks),
            _action_field("risks"),
            choices=(Choice("None of these", "none"), _SKIP),
            help="A fix can add new ways to fail. Flagged risks show on the case beside the "
            "action, so reviewers can weigh them.",
        ),
        Step(
            "review",
            lambda case, state, ctx: _review_text(case),
            _no_parse,
            _keep,
            skippable=False,
            choices=(
                Choice("Confirm", "confirm", "primary"),
                Choice("Add an action", "add action"),
            ),
        ),
        Step(
            "confirm",
            lambda case, state, ctx: _confirm_text(case),
            lambda text, case, state, ctx: parsing.parse_yes_no(text),
            _keep,
            skippable=False,
            choices=(Choice("Yes, publish", "yes", "primary"), Choice("Not yet", "no")),
        ),
    )
}

ORDER: tuple[str, ...] = tuple(STEPS)
ACTION_STEPS = ("action_description", "action_owner", "action_due", "action_kind", "action_risk")

# What `edit <name>` reaches: the first step, and the step after which it returns.
SECTIONS: dict[str, tuple[str, str]] = {
    "title": ("title", "title"),
    "severity": ("severity", "severity"),
    "area": ("area", "area"),
    "services": ("services", "services"),
    "timeline": ("started", "resolved"),
    **{point: (point, point) for point in TIMELINE},
    "symptoms": ("symptoms", "symptoms"),
    "hypotheses": ("hypotheses", "hypotheses"),
    "signals": ("signals", "signals"),
    "misjudgments": ("hypotheses", "signals"),
    "diagnosis": ("diagnostic_path", "diagnostic_path"),
    "diagnostic path": ("diagnostic_path", "diagnostic_path"),
    "root cause": ("root_cause", "root_cause"),
    "cause": ("root_cause", "root_cause"),
    "factors": ("contributing_factors", "contributing_factors"),
    "contributing factors": ("contributing_factors", "contributing_factors"),
}

CONTROLS = "`skip`, `back`, `status`, `help`, `cancel`"


# --- the transition function --------------------------------------------------------------


def start(case: CaseDraft, ctx: Context) -> Outcome:
    """The first question of a new interview (the title is skipped when given)."""
    first = "severity" if case.title else "title"
    state = State(step=first)
    intro = (
        f"Postmortem **#{case.number}**"
        + (f": {case.title}" if case.title else "")
        + " started. I'll ask one question at a time; anyone here can answer, and "
        f"{CONTROLS} work at every step."
    )
    return Outcome(
        state, case, (Reply(intro, ReplyKind.INFO, case_number=case.number), ask(case, state, ctx))
    )


def ask(case: CaseDraft, state: State, ctx: Context) -> Reply:
    step = STEPS[state.step]
    return Reply(
        step.question(case, state, ctx),
        ReplyKind.QUESTION,
        choices=step.choices,
        case_number=case.number,
        step=step.key,
        form="action" if step.key == "action_description" else None,
    )


def advance(state: State, case: CaseDraft, text: str, ctx: Context) -> Outcome:
    step = STEPS[state.step]
    word = " ".join(text.strip().lower().rstrip(".!").split())

    if state.pending == "cancel":
        if word in {"yes", "y", "cancel", "yes, cancel"}:
            return _cancel(state, case, ctx)
        state = replace(state, pending=None)
        if word in {"no", "n", "keep going"}:
            return Outcome(state, case, (Reply("Not cancelled; carrying on."), ask(case, state, ctx)))

    if not ctx.form:
        control = _control(word, state, case, ctx)
        if control is not None:
            return control

    try:
        parsing.check_length(text, ctx.max_chars)
        if step.key == "review":
            return _review(state, case, word, ctx)
        if step.key == "confirm":
            return _confirm(state, case, step.parse(text, case, state, ctx), ctx)
        value = step.parse(text, case, state, ctx)
    except ParseError as error:
        return _refuse(state, case, str(error), ctx)

    updated = step.store(case, state, value, ctx)
    if step.key == "action_description":
        number = updated.action(state.current_action) or max(updated.actions, key=lambda a: a.number)
        state = replace(state, current_action=number.number)
        if isinstance(value, ActionDraft):  # a form filled owner, due and kind at once
            return _move(state, updated, "action_risk", ctx, accepted=True)
    if step.collects:
        return Outcome(state, updated, (_ack_item(updated, step, ctx),), accepted=True)
    return _forward(state, updated, ctx, accepted=True, note=_note(step.key, value, updated, ctx))


def _control(word: str, state: State, case: CaseDraft, ctx: Context) -> Outcome | None:
    step = STEPS[state.step]
    if word == "help":
        text = (step.help + "\n" if step.help else "") + f"At any step: {CONTROLS}."
        if step.collects:
            text += " Here also `done` (next question) and `clear` (start this list over)."
        if state.step in {"review", "confirm"}:
            text += (
                " Here also `edit <section>` ("
                + ", ".join(sorted(SECTIONS))
                + "), `edit action N`, `add action`."
            )
        return Outcome(state, case, (Reply(text, ReplyKind.INFO), ask(case, state, ctx)))
    if word == "status":
        return Outcome(state, case, (Reply(_status_text(state, case, ctx)), ask(case, state, ctx)))
    if word in {"cancel", "cancel interview", "cancel postmortem"}:
        if not ctx.may_manage:
            return _refuse(state, case, "Only the case lead or an admin can cancel this interview.", ctx)
        state = replace(state, pending="cancel")
        return Outcome(
            state,
            case,
            (
                Reply(
                    f"Cancel postmortem #{case.number}? The answers so far are kept, but the "
                    "case is closed and its draft actions are dropped.",
                    ReplyKind.QUESTION,
                    choices=(
                        Choice("Yes, cancel it", "yes", "danger"),
                        Choice("No, keep going", "no"),
                    ),
                    case_number=case.number,
                    step=state.step,
                ),
            ),
        )
    if word == "back":
        if not state.history:
            return _refuse(state, case, "This is the first question; there is nothing to go back to.", ctx)
        (previous, action), history = state.history[-1], state.history[:-1]
        state = replace(state, step=previous, history=history, current_action=action)
        return Outcome(state, case, (ask(case, state, ctx),))
    if word == "skip":
        if step.key == "action_description" and case.action(state.current_action):
            return _forward(state, case, ctx)  # keep the description being edited
        if not step.skippable:
            return _refuse(
                state,
                case,
                "This one can't be skipped: " + (step.help or "an answer is needed."),
                ctx,
            )
        return _done_with(state, case, ctx)
    if word in {"done", "finished", "that's all", "no more"} and (
        step.collects or step.key == "action_description"
    ):
        return _done_with(state, case, ctx)
    if step.collects and word in {"none", "n/a", "nothing"} and not _list_items(case, _attr(step.key)):
        return _done_with(state, case, ctx)
    if step.collects and word == "clear":
        return Outcome(
            state,
            _clear(case, step.key),
            (Reply("Cleared."), ask(_clear(case, step.key), state, ctx)),
        )
    if word.startswith("edit ") or word == "add action":
        if state.step not in {"review", "confirm"}:
            return _refuse(
                state,
                case,
                "Finish this question first (or `skip`); you can edit anything at the review.",
                ctx,
            )
        return _edit(state, case, word, ctx)
    return None


def _done_with(state: State, case: CaseDraft, ctx: Context) -> Outcome:
    if state.step == "action_description":
        pending = case.action(state.current_action)
        if pending is not None and not pending.complete:
            case = case.without_action(pending.number)
        state = replace(state, current_action=None)
        return _move(state, case, _return_target(state) or "review", ctx, returning=True)
    if state.step == "action_kind" and (action := case.action(state.current_action)) and not action.kind:
        case = case.with_action(replace(action, kind="prevent"))
    return _forward(state, case, ctx)


def _forward(
    state: State, case: CaseDraft, ctx: Context, *, accepted: bool = False, note: str | None = None
) -> Outcome:
    target = _return_target(state)
    if target and state.return_to and state.step == state.return_to.split("|")[1]:
        outcome = _move(state, case, target, ctx, accepted=accepted, returning=True)
    else:
        outcome = _move(state, case, _next_step(state, case), ctx, accepted=accepted)
    if note:
        return replace(outcome, replies=(Reply(note), *outcome.replies))
    return outcome


def _next_step(state: State, case: CaseDraft) -> str:
    if state.step == "action_risk":
        return "action_description"
    return ORDER[ORDER.index(state.step) + 1]


def _return_target(state: State) -> str | None:
    return state.return_to.split("|")[0] if state.return_to else None


def _move(
    state: State,
    case: CaseDraft,
    target: str,
    ctx: Context,
    *,
    accepted: bool = False,
    returning: bool = False,
) -> Outcome:
    history = (*state.history, (state.step, state.current_action))[-200:]
    current = state.current_action
    if target == "action_description" and state.step == "action_risk":
        current = None  # the next action is a new one
    if target not in ACTION_STEPS:
        current = None
    new_state = State(
        step=target,
        history=history,
        current_action=current,
        return_to=None if returning else state.return_to,
    )
    return Outcome(new_state, case, (ask(case, new_state, ctx),), accepted=accepted)


def _refuse(state: State, case: CaseDraft, message: str, ctx: Context) -> Outcome:
    return Outcome(
        state,
        case,
        (Reply(message, ReplyKind.ERROR, ephemeral=True, case_number=case.number, step=state.step),),
    )


def _ack_item(case: CaseDraft, step: Step, ctx: Context) -> Reply:
    count = len(_list_items(case, _attr(step.key)))
    return Reply(
        f"Noted ({count} so far). Add another, or `done`.",
        ReplyKind.QUESTION,
        choices=step.choices,
        case_number=case.number,
        step=step.key,
    )


def _attr(step_key: str) -> str:
    return step_key


def _clear(case: CaseDraft, step_key: str) -> CaseDraft:
    if step_key in {"hypotheses", "signals"}:
        kind = "hypothesis" if step_key == "hypotheses" else "signal"
        return replace(case, misjudgments=tuple(m for m in case.misjudgments if m.kind != kind))
    changes: dict[str, Any] = {step_key: ()}
    return replace(case, **changes)


_BLAME = re.compile(
    r"\b(human error|forgot|careless|fault of|should have known|blame|negligen\w*|incompeten\w*|"
    r"stupid|sloppy|his mistake|her mistake|their mistake)\b",
    re.I,
)


def _note(step_key: str, value: Any, case: CaseDraft, ctx: Context) -> str | None:
    if step_key in TIMELINE and isinstance(value, dt.datetime):
        return f"{step_key.capitalize()}: {_local(value, ctx)}."
    if step_key == "root_cause" and isinstance(value, str) and _BLAME.search(value):
        return (
            "Noted. A blameless tip: describe the conditions that let this happen (missing "
            "checks, unclear signals, risky defaults) rather than who slipped. You can `back` "
            "to reword it."
        )
    if step_key == "action_due" and isinstance(value, dt.date):
        return f"Due {value.strftime('%a %Y-%m-%d')}."
    return None


def _edit(state: State, case: CaseDraft, word: str, ctx: Context) -> Outcome:
    if word == "add action":
        state = replace(state, current_action=None, return_to="review|action_risk")
        return _move(state, case, "action_description", ctx)
    target = word.removeprefix("edit ").strip()
    if m := re.fullmatch(r"action\s+#?(\d+)", target):
        number = int(m.group(1))
        if case.action(number) is None:
            return _refuse(state, case, f"There is no action {number}.", ctx)
        state = replace(state, return_to="review|action_risk")
        outcome = _move(state, case, "action_description", ctx)
        new_state = replace(outcome.state, current_action=number)
        return Outcome(new_state, case, (ask(case, new_state, ctx),))
    if target in {"actions", "action"}:
        return _refuse(state, case, "Say `edit action N` for one action, or `add action` for a new one.", ctx)
    if target not in SECTIONS:
        return _refuse(
            state,
            case,
            f"I can't edit {target!r}. Sections: " + ", ".join(sorted(SECTIONS)) + ", or `edit action N`.",
            ctx,
        )
    first, last = SECTIONS[target]
    return _move(replace(state, return_to=f"review|{last}"), case, first, ctx)


def _review(state: State, case: CaseDraft, word: str, ctx: Context) -> Outcome:
    if word in {"confirm", "ok", "yes", "looks good", "lgtm", "publish"}:
        return _move(state, case, "confirm", ctx)
    raise ParseError(
        "Reply `confirm` to publish, `edit <section>` to change something (e.g. `edit timeline`), "
        "`edit action N`, or `add action`."
    )


def _confirm(state: State, case: CaseDraft, yes: bool, ctx: Context) -> Outcome:
    if not yes:
        return _move(state, case, "review", ctx)
    if not ctx.may_manage:
        lead = f"<@{case.lead.user_id}>" if case.lead else "the case lead"
        raise ParseError(f"Only {lead} or an admin can publish this case.")
    for action in case.actions:
        if not action.complete:
            raise ParseError(
                f"Action {action.number} has no owner or due date yet: `edit action {action.number}` first."
            )
    published = replace(
        case,
        status="published",
        actions=tuple(replace(a, status="open", kind=a.kind or "prevent") for a in case.actions),
    )
    new_state = replace(state, step="published", pending=None)
    return Outcome(new_state, published, (), accepted=True, finished="published")


def _cancel(state: State, case: CaseDraft, ctx: Context) -> Outcome:
    cancelled = replace(
        case,
        status="cancelled",
        actions=tuple(replace(a, status="cancelled") for a in case.actions),
    )
    reply = Reply(
        f"Postmortem #{case.number} cancelled. Its answers are kept for the record.",
        case_number=case.number,
    )
    return Outcome(replace(state, step="cancelled", pending=None), cancelled, (reply,), finished="cancelled")


# --- texts -----------------------------------------------------------------------------------


def _status_text(state: State, case: CaseDraft, ctx: Context) -> str:
    position = ORDER.index(state.step) + 1 if state.step in ORDER else len(ORDER)
    gaps = case.missing()
    text = f"Postmortem #{case.number}" + (f" · {case.title}" if case.title else "")
    text += f" · question {position} of {len(ORDER)} ({state.step.replace('_', ' ')})."
    if gaps:
        text += " Still missing: " + ", ".join(gaps) + "."
    return text


def _review_text(case: CaseDraft) -> str:
    gaps = case.missing()
    text = "Here is the draft. Reply `confirm` to publish it, or `edit <section>` to change something.\n\n"
    text += render_case_markdown(case)
    if gaps:
        text += "\n\n**Still missing:** " + ", ".join(gaps) + "."
    return text


def _confirm_text(case: CaseDraft) -> str:
    owners = sorted({a.owner.display_name or a.owner.user_id for a in case.actions if a.owner})
    if case.actions:
        return (
            f"Publish case #{case.number} and open {len(case.actions)} prevention action(s)? "
            f"Their owners ({', '.join(owners)}) will get a weekly reminder until each is closed."
        )
    return f"Publish case #{case.number}? It has no prevention actions."


def _local(when: dt.datetime, ctx: Context) -> str:
    return when.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M %Z").strip()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
