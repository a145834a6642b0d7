"""The table of interview steps: each step's question, parser, storer and choices.

Parsers turn text into a value or raise ParseError with a reason for the person;
storers put the value into the case. Both are pure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot import parsing
from bot.case import TIMELINE, ActionDraft, CaseDraft, DiagnosticStep, Misjudgment
from bot.interview.state import Context, Parser, Question, State, Step, Storer
from bot.messages import Choice, Mention
from bot.parsing import ParseError
from bot.render import render_case_markdown

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
        full = parsing.example_time(ctx.now.astimezone(ctx.tz))
        hint = f"e.g. `14:05`, `yesterday 23:10`, `25 minutes ago`, `{full}`"
        if point != "started":
            hint += ", or `+12m` (after the previous time)"
        current = case.time(point)
        now_text = f" Currently: {local_time(current, ctx)}." if current else ""
        return f"{prompts[point]} {hint}. Times are read in {ctx.tz_name}.{now_text}"

    return question


def _list_question(prompt: str, attr: str) -> Question:
    def question(case: CaseDraft, state: State, ctx: Context) -> str:
        items = list_items(case, attr)
        so_far = ""
        if items:
            so_far = f"\nSo far ({len(items)}): " + "; ".join(items[-3:])
            so_far += ". Add more, `clear` to start over, or `done`."
        return prompt + so_far

    return question


def list_items(case: CaseDraft, attr: str) -> list[str]:
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
                    f"That puts {point} ({local_time(when, ctx)}) before {earlier} "
                    f"({local_time(other, ctx)}). The timeline must run started → detected → "
                    f"mitigated → resolved. Check the time, or `back` to fix {earlier}."
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


# The cost word alone is matched; what surrounds it is cut without a regex (one pattern with
# `\s*` on both sides of an optional separator backtracked cubically on a long run of spaces).
_COST_WORD = re.compile(r"\b(?:cost|costs|cost us|lost)\b", re.I)


def split_cost(item: str) -> tuple[str, str] | None:
    """`Suspected the CDN — cost: 20 min` -> ("Suspected the CDN", "20 min"); None without a cost."""
    for m in _COST_WORD.finditer(item):
        rest = item[m.end() :]
        if not rest:
            continue
        rest = rest.lstrip()
        if rest.startswith(":") and rest[1:]:
            rest = rest[1:].lstrip()
        cost = rest[:-1] if rest.endswith(")") and len(rest) > 1 else rest
        before = item[: m.start()].rstrip()
        if before.endswith("--"):
            before = before[:-2]
        elif before[-1:] in {"—", "–", ";", ",", "("} or (before.endswith("-") and before[-2:-1].isspace()):
            before = before[:-1]
        return before.strip(), cost.strip()
    return None


def _misjudgment(kind: str) -> Storer:
    def store(case: CaseDraft, state: State, items: list[str], ctx: Context) -> CaseDraft:
        entries = []
        for item in items:
            split = split_cost(item)
            text, cost = split if split else (item, None)
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
            _action_question("When is {action} due? e.g. `{example_due}`, `next friday`, `in 2 weeks`."),
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


# --- texts ---------------------------------------------------------------------------------


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


def local_time(when: dt.datetime, ctx: Context) -> str:
    return when.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M %Z").strip()


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
