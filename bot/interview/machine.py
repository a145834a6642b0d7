"""The transition function: one message in, the next state, the updated case and the replies.

`advance(state, case, text, ctx)` does no I/O: the service around it loads and saves,
so a restart between two messages loses nothing. Controls (`skip`, `back`, `status`,
`help`, `cancel`) work at every step; `edit` and `add action` at the review.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from bot import parsing
from bot.capture import sections
from bot.case import TIMELINE, ActionDraft, CaseDraft
from bot.interview.state import Context, Outcome, State, Step
from bot.interview.steps import (
    ACTION_STEPS,
    ORDER,
    SECTIONS,
    STEPS,
    clip,
    label_of,
    list_items,
    local_time,
)
from bot.messages import Choice, Reply, ReplyKind
from bot.parsing import ParseError

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
    question = ask(case, state, ctx)  # one post: the intro leads the first question
    return Outcome(state, case, (replace(question, text=f"{intro}\n\n{question.text}"),))


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
            return cancel(state, case)
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
        if isinstance(value, ActionDraft):  # a form or one line gave owner, due and kind
            outcome = _move(state, updated, _first_unanswered(value), ctx, accepted=True)
            return replace(outcome, replies=(_record(step.key, text.strip(), ctx), *outcome.replies))
    if step.collects:
        return Outcome(state, updated, _ack_item(updated, step, state, ctx), accepted=True)
    record = _record(step.key, _note(step.key, value, updated, ctx, text) or text.strip(), ctx)
    outcome = _forward(state, updated, ctx, accepted=True, note=_tip(step.key, value))
    return replace(outcome, replies=(record, *outcome.replies))


def _first_unanswered(action: ActionDraft) -> str:
    if action.owner is None:
        return "action_owner"
    if action.due is None:
        return "action_due"
    return "action_kind" if action.kind is None else "action_risk"


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
        if (kept := _kept_value(state, case)) is not None:
            outcome = _forward(state, case, ctx)  # an edit keeps what was there, and says so
            return replace(outcome, replies=(_record(state.step, kept, ctx), *outcome.replies))
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
    if step.collects and word in {"none", "n/a", "nothing"} and not list_items(case, step.key):
        return _done_with(state, case, ctx)
    if step.collects and word == "clear":
        return Outcome(
            state,
            _clear(case, step.key),
            (Reply("Cleared."), ask(_clear(case, step.key), state, ctx)),
        )
    if word == "edit" or word.startswith(("edit ", "delete action")) or word == "add action":
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
    outcome = _closed(state, case, ctx)
    return replace(outcome, replies=(_record(state.step, _closing_note(state, case), ctx), *outcome.replies))


def _closing_note(state: State, case: CaseDraft) -> str:
    if STEPS[state.step].collects:
        count = len(list_items(case, state.step))
        return f"{count} noted" if count else "none"
    return "no more" if state.step == "action_description" else "skipped"


def _closed(state: State, case: CaseDraft, ctx: Context) -> Outcome:
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
    following = ORDER[ORDER.index(state.step) + 1]
    if state.return_to:  # an edit walks its section's steps, answered or not
        return following
    # Sections an account, a shortcut or the channel's history filled are not asked again.
    visited = [step for step, _ in state.history] + [state.step]
    return sections.first_missing(case, ORDER, start=following, visited=visited)


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


def _ack_item(case: CaseDraft, step: Step, state: State, ctx: Context) -> tuple[Reply, ...]:
    """A reaction on the line, and the one question message updated with the count."""
    count = len(list_items(case, step.key))
    question = ask(case, state, ctx)
    counted = f"{question.text}\n\n_{count} so far._ Add another, or `done`."
    return (
        Reply(f"Got it ({count} so far).", case_number=case.number, react="white_check_mark"),
        replace(question, text=counted, records_step=step.key),
    )


def _record(step_key: str, answer: str, ctx: Context) -> Reply:
    """The one line that replaces an answered question: what was answered, and by whom."""
    name = step_key.replace("_", " ").capitalize()
    shown = answer.removesuffix(".")
    if shown.lower().startswith(name.lower() + ":"):
        shown = shown[len(name) + 1 :].strip()
    return Reply(
        f"✓ {name}: {clip(shown, 200)} · <@{ctx.sender.user_id}>", records_step=step_key, step=step_key
    )


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


def _tip(step_key: str, value: Any) -> str | None:
    if step_key == "root_cause" and isinstance(value, str) and _BLAME.search(value):
        return (
            "A blameless tip: describe the conditions that let this happen (missing "
            "checks, unclear signals, risky defaults) rather than who slipped. You can `back` "
            "to reword it."
        )
    return None


def _note(step_key: str, value: Any, case: CaseDraft, ctx: Context, text: str) -> str | None:
    if step_key in TIMELINE and isinstance(value, dt.datetime):
        read = parsing.reading(text, value, now=ctx.now, tz=ctx.tz, month_first=ctx.month_first)
        return f"{step_key.capitalize()}: {read or local_time(value, ctx)}."
    if step_key == "severity" and isinstance(value, str):
        return f"Severity: {value} ({parsing.SEVERITY_HELP[value].split(':')[0]})."
    if step_key == "area" and isinstance(value, str):
        return f"Area: {parsing.AREA_LABELS[value]}."
    if step_key == "action_kind" and isinstance(value, str):
        return f"Kind: {value}."
    if step_key == "action_due" and isinstance(value, dt.date):
        return f"Due {value.strftime('%a %Y-%m-%d')}."
    return None


_KEPT = {
    "action_description": ("description", "Kept the description."),
    "action_owner": ("owner", "Kept the owner."),
    "action_due": ("due", "Kept the due date."),
    "action_kind": ("kind", "Kept the kind."),
    "action_risk": ("risks", "Kept the risk check."),
}


def _kept_value(state: State, case: CaseDraft) -> str | None:
    """While an existing action is edited, `skip` keeps each field's current value, and says so."""
    action = case.action(state.current_action)
    if action is None or state.step not in _KEPT:
        return None
    attr, note = _KEPT[state.step]
    value = getattr(action, attr)
    if value is None:
        return None
    shown = {
        "owner": lambda: f" ({action.owner.display_name or action.owner.user_id})" if action.owner else "",
        "due": lambda: f" ({action.due.isoformat()})" if action.due else "",
        "kind": lambda: f" ({action.kind})",
    }.get(attr, lambda: "")()
    return note.removesuffix(".") + shown + "."


def _sections_text() -> str:
    return (
        "What would you like to change? `edit <section>`: "
        + ", ".join(f"`{name}`" for name in sorted(SECTIONS))
        + "; or `edit action N`, `delete action N`, `add action`."
    )


def _edit(state: State, case: CaseDraft, word: str, ctx: Context) -> Outcome:
    if word == "edit":
        return Outcome(state, case, (Reply(_sections_text(), ReplyKind.INFO, case_number=case.number),))
    if m := re.fullmatch(r"delete action\s+#?(\d+)", word):
        number = int(m.group(1))
        if case.action(number) is None:
            return _refuse(state, case, f"There is no action {number}.", ctx)
        remaining = case.without_action(number)
        review = replace(state, step="review", pending=None)
        note = Reply(f"Deleted action {number}.", case_number=case.number)
        return Outcome(review, remaining, (note, ask(remaining, review, ctx)), accepted=True)
    if word.startswith("delete action"):
        return _refuse(state, case, "Say `delete action N`, e.g. `delete action 2`.", ctx)
    if word == "add action":
        state = replace(state, current_action=None, return_to="review|action_risk")
        return _move(state, case, "action_description", ctx)
    target = word.removeprefix("edit ").strip()
    if m := re.fullmatch(r"action\s+#?(\d+)", target):
        number = int(m.group(1))
        if case.action(number) is None:
            return _refuse(state, case, f"There is no action {number}.", ctx)
        editing = replace(state, return_to="review|action_risk", current_action=number)
        return _move(editing, case, "action_description", ctx)
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


def cancel(state: State, case: CaseDraft) -> Outcome:
    """Close the interview: the answers stay, the draft actions are dropped (confirmed already)."""
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


# --- texts ---------------------------------------------------------------------------------


def _status_text(state: State, case: CaseDraft, ctx: Context) -> str:
    position = ORDER.index(state.step) + 1 if state.step in ORDER else len(ORDER)
    gaps = case.missing()
    text = f"Postmortem #{case.number}" + (f" · {case.title}" if case.title else "")
    text += f" · question {position} of {len(ORDER)} ({label_of(state.step)})."
    if gaps:
        text += " Still missing: " + ", ".join(gaps) + "."
    return text
