"""The review sub-flow: the draft shown whole, edits of any section or action, the confirmation
and publication. Its functions decide (a `Go` or a `Stay`); the machine carries the decision out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, TypeAlias

from bot import parsing
from bot.case import CaseDraft
from bot.interview.actions import FIRST_ACTION_STEP
from bot.interview.state import Commands, Context, Decision, Go, State, Stay, Step
from bot.messages import Choice
from bot.parsing import ParseError

if TYPE_CHECKING:
    from bot.interview.table import StepName
from bot.render import render_case_markdown

REVIEW: StepName = "review"
CONFIRM: StepName = "confirm"
PUBLISHED: StepName = "published"
CANCELLED: StepName = "cancelled"

Sections: TypeAlias = "Mapping[str, tuple[StepName, StepName]]"


def sections_text(sections: Sections) -> str:
    return (
        "What would you like to change? `edit <section>`: "
        + ", ".join(f"`{name}`" for name in sorted(sections))
        + "; or `edit action N`, `delete action N`, `add action`."
    )


def edit_help(sections: Sections) -> str:
    return " Here also `edit <section>` (" + ", ".join(sorted(sections)) + "), `edit action N`, `add action`."


def _edits(sections: Sections, after_action: StepName) -> Commands:
    back_after_action = f"{REVIEW}|{after_action}"

    def edits(state: State, case: CaseDraft, word: str, ctx: Context) -> Decision | None:
        return _edit(sections, back_after_action, state, case, word)

    return edits


def _edit(
    sections: Sections, back_after_action: str, state: State, case: CaseDraft, word: str
) -> Decision | None:
    """`edit`, `edit <section>`, `edit action N`, `delete action N`, `add action`."""
    if not (word == "edit" or word.startswith(("edit ", "delete action")) or word == "add action"):
        return None
    if word == "edit":
        return Stay(sections_text(sections))
    if m := re.fullmatch(r"delete action\s+#?(\d+)", word):
        number = int(m.group(1))
        if case.action(number) is None:
            raise ParseError(f"There is no action {number}.")
        remaining = case.without_action(number)
        return Go(
            REVIEW,
            state=replace(state, pending=None),
            case=remaining,
            note=f"Deleted action {number}.",
            accepted=True,
            returning=True,
        )
    if word.startswith("delete action"):
        raise ParseError("Say `delete action N`, e.g. `delete action 2`.")
    if word == "add action":
        return Go(FIRST_ACTION_STEP, state=replace(state, current_action=None, return_to=back_after_action))
    target = word.removeprefix("edit ").strip()
    if m := re.fullmatch(r"action\s+#?(\d+)", target):
        number = int(m.group(1))
        if case.action(number) is None:
            raise ParseError(f"There is no action {number}.")
        editing = replace(state, return_to=back_after_action, current_action=number)
        return Go(FIRST_ACTION_STEP, state=editing)
    if target in {"actions", "action"}:
        raise ParseError("Say `edit action N` for one action, or `add action` for a new one.")
    if target not in sections:
        raise ParseError(
            f"I can't edit {target!r}. Sections: " + ", ".join(sorted(sections)) + ", or `edit action N`."
        )
    first, last = sections[target]
    return Go(first, state=replace(state, return_to=f"{REVIEW}|{last}"))


def _review(state: State, case: CaseDraft, word: str, ctx: Context) -> Decision:
    if word in {"confirm", "ok", "yes", "looks good", "lgtm", "publish"}:
        return Go(CONFIRM)
    raise ParseError(
        "Reply `confirm` to publish, `edit <section>` to change something (e.g. `edit timeline`), "
        "`edit action N`, or `add action`."
    )


def _confirm(state: State, case: CaseDraft, word: str, ctx: Context) -> Decision:
    if not parsing.parse_yes_no(word):
        return Go(REVIEW)
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
    return Go(PUBLISHED, state=replace(state, pending=None), case=published, accepted=True)


def cancelled(case: CaseDraft) -> CaseDraft:
    """The answers stay, the draft actions are dropped."""
    return replace(
        case, status="cancelled", actions=tuple(replace(a, status="cancelled") for a in case.actions)
    )


def _review_text(case: CaseDraft, state: State, ctx: Context) -> str:
    gaps = case.missing()
    text = "Here is the draft. Reply `confirm` to publish it, or `edit <section>` to change something.\n\n"
    text += render_case_markdown(case, ctx.tz, mentions=True)
    if gaps:
        text += "\n\n**Still missing:** " + ", ".join(gaps) + "."
    return text


def _confirm_text(case: CaseDraft, state: State, ctx: Context) -> str:
    owners = sorted({a.owner.display_name or a.owner.user_id for a in case.actions if a.owner})
    if case.actions:
        return (
            f"Publish case #{case.number} and open {len(case.actions)} prevention action(s)? "
            f"Their owners ({', '.join(owners)}) will get a weekly reminder until each is closed."
        )
    return f"Publish case #{case.number}? It has no prevention actions."


def _ended(case: CaseDraft, state: State, ctx: Context) -> str:
    return f"Postmortem #{case.number} is {case.status}."


def flow(sections: Sections, *, after_action: StepName) -> tuple[Step, ...]:
    """The review's rows of the table, and the terminal states; `edit` reaches `sections`, and
    an edited action returns here after `after_action`."""
    edits = _edits(sections, after_action)
    return (
        Step(
            REVIEW,
            _review_text,
            CONFIRM,
            skippable=False,
            choices=(Choice("Confirm", "confirm", "primary"), Choice("Add an action", "add action")),
            react=_review,
            commands=edits,
        ),
        Step(
            CONFIRM,
            _confirm_text,
            PUBLISHED,
            skippable=False,
            choices=(Choice("Yes, publish", "yes", "primary"), Choice("Not yet", "no")),
            react=_confirm,
            commands=edits,
        ),
        # The terminal states: nothing is asked there, nothing leads on.
        Step(PUBLISHED, _ended, PUBLISHED, skippable=False, finished="published"),
        Step(CANCELLED, _ended, CANCELLED, skippable=False, finished="cancelled"),
    )
