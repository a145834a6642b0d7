"""The transition function: one message in, the next state, the updated case and the replies.

`advance(state, case, text, ctx)` does no I/O: the service around it loads and saves,
so a restart between two messages loses nothing. Controls (`skip`, `back`, `status`,
`help`, `cancel`) work at every step; a step's own `commands` (the review's `edit ...`)
only there. Which step comes next is the table's business (bot/interview/table.py): this
module names no step.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot import parsing
from bot.case import FIELDS_BY_KEY, CaseDraft
from bot.interview.questions import clip
from bot.interview.review import cancelled, edit_help
from bot.interview.state import Context, Decision, Outcome, State, Stay, Step
from bot.interview.table import (
    CANCEL_STEP,
    ORDER,
    SECTIONS,
    STEPS,
    StepName,
    first_step,
    first_unanswered,
    label_of,
)
from bot.messages import Choice, Reply, ReplyKind
from bot.parsing import ParseError

CONTROLS = "`skip`, `back`, `status`, `help`, `cancel`"
_DONE_WORDS = {"done", "finished", "that's all", "no more"}


def start(case: CaseDraft, ctx: Context) -> Outcome:
    """The first question of a new interview (the title is skipped when given)."""
    state = State(step=first_step(case))
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
        form=step.form,
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

    try:
        if not ctx.form:
            control = _control(word, step, state, case, ctx)
            if control is not None:
                return control
        parsing.check_length(text, ctx.max_chars)
        if step.react is not None:
            return _carry_out(step.react(state, case, word, ctx), state, case, ctx)
        value = step.parse(text, case, state, ctx)
    except ParseError as error:
        return _refuse(state, case, str(error), ctx)

    updated = step.store(case, state, value, ctx)
    if step.opens_action:
        picked = updated.action(state.current_action) or max(updated.actions, key=lambda a: a.number)
        state = replace(state, current_action=picked.number)
    if step.collects:
        return Outcome(state, updated, _ack_item(updated, step, state, ctx), accepted=True)
    echoed = step.echo(value, ctx, text) if step.echo else None
    record = _record(step.key, echoed or text.strip(), ctx)
    tip = step.tip(value) if step.tip else None
    outcome = _forward(state, updated, ctx, value=value, accepted=True, note=tip)
    return replace(outcome, replies=(record, *outcome.replies))


def _control(word: str, step: Step, state: State, case: CaseDraft, ctx: Context) -> Outcome | None:
    if word == "help":
        text = (step.help + "\n" if step.help else "") + f"At any step: {CONTROLS}."
        if step.collects:
            text += " Here also `done` (next question) and `clear` (start this list over)."
        if step.commands is not None:
            text += edit_help(SECTIONS)
        return Outcome(state, case, (Reply(text, ReplyKind.INFO), ask(case, state, ctx)))
    if word == "status":
        return Outcome(state, case, (Reply(_status_text(state, case)), ask(case, state, ctx)))
    if word in {"cancel", "cancel interview", "cancel postmortem"}:
        return _ask_to_cancel(state, case, ctx)
    if word == "back":
        if not state.history:
            raise ParseError("This is the first question; there is nothing to go back to.")
        (previous, action), history = state.history[-1], state.history[:-1]
        state = replace(state, step=previous, history=history, current_action=action)
        return Outcome(state, case, (ask(case, state, ctx),))
    if word == "skip":
        if step.keeps is not None and (kept := step.keeps(case, state)) is not None:
            outcome = _forward(state, case, ctx)  # an edit keeps what was there, and says so
            return replace(outcome, replies=(_record(state.step, kept, ctx), *outcome.replies))
        if not step.skippable:
            raise ParseError("This one can't be skipped: " + (step.help or "an answer is needed."))
        return _done_with(step, state, case, ctx)
    if word in _DONE_WORDS and (step.collects or step.ends_loop_at):
        return _done_with(step, state, case, ctx)
    if step.items and word in {"none", "n/a", "nothing"} and not step.items(case):
        return _done_with(step, state, case, ctx)
    if step.clear and word == "clear":
        emptied = step.clear(case)
        return Outcome(state, emptied, (Reply("Cleared."), ask(emptied, state, ctx)))
    if step.commands is not None and (decision := step.commands(state, case, word, ctx)) is not None:
        return _carry_out(decision, state, case, ctx)
    if word == "edit" or word.startswith(("edit ", "delete action")) or word == "add action":
        raise ParseError("Finish this question first (or `skip`); you can edit anything at the review.")
    return None


def _ask_to_cancel(state: State, case: CaseDraft, ctx: Context) -> Outcome:
    if not ctx.may_manage:
        raise ParseError("Only the case lead or an admin can cancel this interview.")
    state = replace(state, pending="cancel")
    question = Reply(
        f"Cancel postmortem #{case.number}? The answers so far are kept, but the "
        "case is closed and its draft actions are dropped.",
        ReplyKind.QUESTION,
        choices=(Choice("Yes, cancel it", "yes", "danger"), Choice("No, keep going", "no")),
        case_number=case.number,
        step=state.step,
    )
    return Outcome(state, case, (question,))


def _carry_out(decision: Decision, state: State, case: CaseDraft, ctx: Context) -> Outcome:
    """Do what a sub-flow decided."""
    if isinstance(decision, Stay):
        return Outcome(state, case, (Reply(decision.text, decision.kind, case_number=case.number),))
    case = decision.case or case
    state = decision.state or state
    target = STEPS[decision.to]
    if target.terminal:
        ended = replace(state, step=target.key, pending=None)
        return Outcome(ended, case, (), accepted=decision.accepted, finished=target.finished)
    outcome = _move(state, case, decision.to, ctx, accepted=decision.accepted, returning=decision.returning)
    if decision.note:
        return replace(outcome, replies=(Reply(decision.note, case_number=case.number), *outcome.replies))
    return outcome


def _done_with(step: Step, state: State, case: CaseDraft, ctx: Context) -> Outcome:
    """`done` or `skip`: close this step (a list, a loop) and go on."""
    if step.tidy is not None:
        case = step.tidy(case, state)
    if step.ends_loop_at is not None:
        state = replace(state, current_action=None)
        outcome = _move(state, case, _return_target(state) or step.ends_loop_at, ctx, returning=True)
    else:
        outcome = _forward(state, case, ctx)
    return replace(outcome, replies=(_record(state.step, _closing_note(step, case), ctx), *outcome.replies))


def _closing_note(step: Step, case: CaseDraft) -> str:
    if step.items is not None:
        count = len(step.items(case))
        return f"{count} noted" if count else "none"
    return step.done_note


def _forward(
    state: State,
    case: CaseDraft,
    ctx: Context,
    *,
    value: Any = None,
    accepted: bool = False,
    note: str | None = None,
) -> Outcome:
    target = _return_target(state)
    if target and state.return_to and state.step == state.return_to.split("|")[1]:
        outcome = _move(state, case, target, ctx, accepted=accepted, returning=True)
    else:
        following = STEPS[state.step].next_after(value, case, state)
        if not state.return_to:  # an edit walks its section's steps, answered or not
            # Sections an account, a shortcut or the channel's history filled are not asked again.
            visited = [step for step, _ in state.history] + [state.step]
            following = first_unanswered(case, start=following, visited=visited)
        outcome = _move(state, case, following, ctx, accepted=accepted)
    if note:
        return replace(outcome, replies=(Reply(note), *outcome.replies))
    return outcome


def _return_target(state: State) -> StepName | None:
    if not state.return_to:
        return None
    name = state.return_to.split("|")[0]
    return next((key for key in STEPS if key == name), None)


def _move(
    state: State,
    case: CaseDraft,
    target: StepName,
    ctx: Context,
    *,
    accepted: bool = False,
    returning: bool = False,
) -> Outcome:
    history = (*state.history, (state.step, state.current_action))[-200:]
    current = state.current_action
    if STEPS[state.step].closes_action or not STEPS[target].in_action:
        current = None  # the next action is a new one, or the action sub-flow is left
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
    count = len(step.items(case)) if step.items else 0
    question = ask(case, state, ctx)
    counted = f"{question.text}\n\n_{count} so far._ Add another, or `done`."
    return (
        Reply(f"Got it ({count} so far).", case_number=case.number, react="white_check_mark"),
        replace(question, text=counted, records_step=step.key),
    )


def _record(step_key: StepName, answer: str, ctx: Context) -> Reply:
    """The one line that replaces an answered question: what was answered, and by whom."""
    written = FIELDS_BY_KEY.get(step_key)  # a section of the case shape has its own label
    name = written.label if written else step_key.replace("_", " ").capitalize()
    shown = answer.removesuffix(".")
    if shown.lower().startswith(name.lower() + ":"):
        shown = shown[len(name) + 1 :].strip()
    return Reply(
        f"✓ {name}: {clip(shown, 200)} · <@{ctx.sender.user_id}>", records_step=step_key, step=step_key
    )


def cancel(state: State, case: CaseDraft) -> Outcome:
    """Close the interview: the answers stay, the draft actions are dropped (confirmed already)."""
    reply = Reply(
        f"Postmortem #{case.number} cancelled. Its answers are kept for the record.",
        case_number=case.number,
    )
    ended = replace(state, step=CANCEL_STEP, pending=None)
    return Outcome(ended, cancelled(case), (reply,), finished=STEPS[CANCEL_STEP].finished)


def _status_text(state: State, case: CaseDraft) -> str:
    position = ORDER.index(state.step) + 1 if state.step in ORDER else len(ORDER)
    gaps = case.missing()
    text = f"Postmortem #{case.number}" + (f" · {case.title}" if case.title else "")
    text += f" · question {position} of {len(ORDER)} ({label_of(state.step)})."
    if gaps:
        text += " Still missing: " + ", ".join(gaps) + "."
    return text
