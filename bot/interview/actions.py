"""The prevention-action sub-flow: description, owner, due date, kind, risk check, then the next
action, until `done`. Each action can come in one line or by the form; what is missing is asked."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot import parsing
from bot.case import ActionDraft, CaseDraft
from bot.interview.questions import clip, wrap
from bot.interview.state import Context, Question, State, Step, Storer
from bot.messages import Choice, Mention
from bot.parsing import ParseError

if TYPE_CHECKING:
    from bot.interview.table import StepName


def _action_question(prompt: str) -> Question:
    def question(case: CaseDraft, state: State, ctx: Context) -> str:
        action = case.action(state.current_action)
        label = f"action {action.number} ({clip(action.description, 80)})" if action else "action"
        return prompt.format(action=label, example_due=parsing.example_due(ctx.now.astimezone(ctx.tz).date()))

    return question


def _description_question(case: CaseDraft, state: State, ctx: Context) -> str:
    editing = case.action(state.current_action)
    if editing is not None:
        return (
            f"Action {editing.number} reads: {clip(editing.description, 200)}\n"
            "Send a new description, or `skip` to keep it."
        )
    number = case.next_action_number()
    if number == 1:
        return (
            "Now the **prevention plan**. Action 1: what should change so this cannot happen "
            "again, or is caught and contained sooner? One action per message; say `done` when "
            "there are no more. Owner, due date and kind can come in the same line, e.g. "
            "`Alert on conntrack usage @dana by next friday detect`."
        )
    return f"Action {number}: describe the next prevention action, or say `done` if that is all."


def _parse_description(text: str, case: CaseDraft, state: State, ctx: Context) -> Any:
    if ctx.form:
        return _parse_form(ctx.form, ctx)
    value = parsing.nonempty(text, "a description of the action")
    if len(value) > 1000:
        raise ParseError("Keep an action under 1,000 characters; split it into several.")
    return one_line_action(value, ctx) or value


def one_line_action(text: str, ctx: Context) -> ActionDraft | None:
    """`Alert on conntrack usage @alice by 2026-12-15 detect`: the description with its owner,
    due date and kind in one line. Whatever is missing is asked next; no owner, no shortcut."""
    words = text.split()
    kind = None
    if len(words) > 1:
        try:
            kind = parsing.parse_action_kind(words[-1])
            text = " ".join(words[:-1])
        except ParseError:
            kind = None
    due = None
    if m := re.search(r"\s(?:by|due)\s+(?P<when>[^<]+?)\s*$", text, re.I):
        try:
            due = parsing.parse_due_date(m.group("when"), today=ctx.today)
            text = text[: m.start()]
        except ParseError:
            due = None
    owner_token = re.search(r"\s*" + parsing.MENTION_RE.pattern + r"\s*$", text)
    if owner_token is None or owner_token.start() == 0:
        return None
    owner = parsing.parse_owner(owner_token.group(0), mentions=ctx.mentions, sender=ctx.sender)
    description = text[: owner_token.start()].strip()
    return ActionDraft(number=0, description=description, owner=owner, due=due, kind=kind)


def _parse_form(form: dict[str, str], ctx: Context) -> ActionDraft:
    description = parsing.nonempty(form.get("description", ""), "a description of the action")
    owner_raw = form.get("owner", "").strip()
    mention = f"<@{owner_raw}>" if owner_raw and not owner_raw.startswith("<@") else owner_raw
    owner = parsing.parse_owner(mention, mentions=ctx.mentions, sender=ctx.sender)
    due = parsing.parse_due_date(form.get("due", ""), today=ctx.today)
    kind = parsing.parse_action_kind(form["kind"]) if form.get("kind") else "prevent"
    return ActionDraft(number=0, description=description, owner=owner, due=due, kind=kind)


def _store_description(case: CaseDraft, state: State, value: Any, ctx: Context) -> CaseDraft:
    existing = case.action(state.current_action)
    if isinstance(value, ActionDraft):
        number = existing.number if existing else case.next_action_number()
        return case.with_action(replace(value, number=number, risks=existing.risks if existing else None))
    if existing is not None:
        return case.with_action(replace(existing, description=value))
    return case.with_action(ActionDraft(number=case.next_action_number(), description=value))


def _after_description(value: Any, case: CaseDraft, state: State) -> StepName:
    """A form or one line may have given owner, due and kind already: ask what is missing."""
    if not isinstance(value, ActionDraft) or value.owner is None:
        return "action_owner"
    if value.due is None:
        return "action_due"
    return "action_kind" if value.kind is None else "action_risk"


def _drop_unfinished(case: CaseDraft, state: State) -> CaseDraft:
    pending = case.action(state.current_action)
    return case.without_action(pending.number) if pending is not None and not pending.complete else case


def _default_kind(case: CaseDraft, state: State) -> CaseDraft:
    action = case.action(state.current_action)
    return case.with_action(replace(action, kind="prevent")) if action and not action.kind else case


def _field(attr: str) -> Storer:
    def store(case: CaseDraft, state: State, value: Any, ctx: Context) -> CaseDraft:
        action = case.action(state.current_action)
        return case if action is None else case.with_action(replace(action, **{attr: value}))

    return store


def _keeps(attr: str, what: str) -> Any:
    """While an existing action is edited, `skip` keeps the field's current value, and says so."""

    def kept(case: CaseDraft, state: State) -> str | None:
        action = case.action(state.current_action)
        value = getattr(action, attr) if action else None
        if action is None or value is None:
            return None
        shown = ""
        if isinstance(value, Mention):
            shown = f" ({value.display_name or value.user_id})"
        elif isinstance(value, dt.date):
            shown = f" ({value.isoformat()})"
        elif attr == "kind":
            shown = f" ({value})"
        return f"Kept {what}{shown}."

    return kept


def _parse_owner(text: str, case: CaseDraft, state: State, ctx: Context) -> Mention:
    return parsing.parse_owner(text, mentions=ctx.mentions, sender=ctx.sender)


def _parse_due(text: str, case: CaseDraft, state: State, ctx: Context) -> dt.date:
    return parsing.parse_due_date(text, today=ctx.today)


_SKIP = Choice("Skip", "skip")

# The sub-flow's table: it starts at `action_description` and loops back there after the risk
# check; `done` at the description leaves it for the review.
ACTION_FLOW: tuple[Step, ...] = (
    Step(
        "action_description",
        _description_question,
        _after_description,
        _parse_description,
        _store_description,
        choices=(Choice("No more actions", "done"),),
        help="Good actions are specific and checkable: 'Alert when pool usage > 80% for "
        "5 min', not 'improve monitoring'. Each gets an owner and a due date next.",
        ends_loop_at="review",
        tidy=_drop_unfinished,
        done_note="no more",
        in_action=True,
        opens_action=True,
        keeps=_keeps("description", "the description"),
        form="action",
    ),
    Step(
        "action_owner",
        _action_question("Who owns {action}? Mention them (@name), or say `me`."),
        "action_due",
        _parse_owner,
        _field("owner"),
        skippable=False,
        help="One accountable owner; they get the weekly reminder until it's closed.",
        in_action=True,
        keeps=_keeps("owner", "the owner"),
    ),
    Step(
        "action_due",
        _action_question("When is {action} due? e.g. `{example_due}`, `next friday`, `in 2 weeks`."),
        "action_kind",
        _parse_due,
        _field("due"),
        skippable=False,
        help="Today or later, within two years.",
        echo=lambda value, ctx, typed: f"Due {value.strftime('%a %Y-%m-%d')}.",
        in_action=True,
        keeps=_keeps("due", "the due date"),
    ),
    Step(
        "action_kind",
        _action_question(
            "What kind of action is {action}? **prevent** (stops it happening), **detect** "
            "(catches it sooner), **mitigate** (limits the damage), **process** (how we work)."
        ),
        "action_risk",
        wrap(parsing.parse_action_kind),
        _field("kind"),
        choices=tuple(Choice(k, k) for k in parsing.ACTION_KINDS),
        help="Skipping counts it as `prevent`.",
        tidy=_default_kind,
        echo=lambda value, ctx, typed: f"Kind: {value}.",
        in_action=True,
        keeps=_keeps("kind", "the kind"),
    ),
    Step(
        "action_risk",
        _action_question(
            "Risk check for {action}. Does it add complexity to the system (**complexity**)? "
            "Does it couple parts more tightly (**coupling**)? Does it make recovery harder "
            "(**recovery**)? Does it add a single point of failure (**spof**)? Does it make "
            "the system harder to diagnose (**diagnosability**)? Reply with the words that "
            "apply, e.g. `coupling, spof`, or `none`; five yes/no in that order work too."
        ),
        "action_description",
        wrap(parsing.parse_risks),
        _field("risks"),
        choices=(Choice("None of these", "none"), _SKIP),
        help="A fix can add new ways to fail. Flagged risks show on the case beside the "
        "action, so reviewers can weigh them.",
        in_action=True,
        closes_action=True,
        keeps=_keeps("risks", "the risk check"),
    ),
)
FIRST_ACTION_STEP: StepName = ACTION_FLOW[0].key
LAST_ACTION_STEP: StepName = ACTION_FLOW[-1].key
