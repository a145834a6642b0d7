"""A pasted account as one interview turn: its sections go into the case through the
interview's own parsers and storers (so a time is read, refused or ordered exactly as when it
is asked), the lead is told in one message what was taken, and the next question is the first
one still missing.

`account_outcome` is pure: the service calls it before the interview's own transition and
saves what it returns the same way (the raw account is kept with who wrote it, and when).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import interview
from bot.capture.account import Account, account_text, parse_account, timeline_line
from bot.case import TIMELINE, CaseDraft
from bot.interview import STEPS, Context, Outcome, State
from bot.messages import Reply, ReplyKind
from bot.parsing import ParseError, check_length
from storage.models import RawAnswer

MAX_ITEM = 1000
MAPPING_JOB = "account"  # bot.capture.mapping's follow-up job
# The sections as people read them, in the interview's order.
NAMES = {
    "title": "title",
    "severity": "severity",
    "area": "area",
    "services": "services",
    "symptoms": "symptoms",
    "hypotheses": "wrong hypotheses",
    "signals": "misleading signals",
    "lucky": "where we got lucky",
    "diagnostic_path": "diagnostic path",
    "root_cause": "root cause",
    "contributing_factors": "contributing factors",
}
COLLECTED = frozenset(
    {"symptoms", "hypotheses", "signals", "lucky", "diagnostic_path", "contributing_factors"}
)
USAGE = (
    "Paste your account after the word `account`, with labelled sections, e.g.\n"
    "`account`\n`Symptoms:`\n`- 502s on checkout`\n`Root cause: conntrack table full on the LB nodes`\n"
    "Labels: Title, Severity, Services, Timeline, Symptoms, Wrong hypotheses, Misleading signals, "
    "Where we got lucky, Diagnostic path, Root cause, Contributing factors, Actions."
)


@dataclass(frozen=True)
class Taken:
    case: CaseDraft
    notes: tuple[str, ...] = ()  # what went in: "symptoms (3)", "timeline (started, detected)"
    problems: tuple[str, ...] = ()  # what could not: "severity (…reason…)"


def take(account: Account, case: CaseDraft, ctx: Context) -> Taken:
    """Every labelled section the case can hold, through the interview's own parsers."""
    taken = Taken(case)
    for section in account.labelled:
        lines = account.lines(section)
        if section == "timeline":
            taken = _timeline(taken, lines, ctx)
        elif section == "actions":
            taken = _actions(taken, lines, ctx)
        elif section in TIMELINE:
            taken = _timeline(taken, tuple(f"{line} ({section})" for line in lines), ctx)
        else:
            taken = _section(taken, section, lines, ctx)
    return taken


def _section(taken: Taken, key: str, lines: tuple[str, ...], ctx: Context) -> Taken:
    step_key = interview.step_name(key)
    step, name, case = STEPS[step_key], NAMES[key], taken.case
    if key not in COLLECTED and key in _filled(case):
        return replace(taken, problems=(*taken.problems, f"{name} (kept the one already given)"))
    try:
        if key in COLLECTED:
            too_long = next((line for line in lines if len(line) > MAX_ITEM), None)
            if too_long is not None:
                raise ParseError("keep each entry under 1,000 characters")
            value: object = list(lines)
        else:
            value = step.parse(lines[0], case, State(step=step_key), ctx)
    except ParseError as error:
        return replace(taken, problems=(*taken.problems, f"{name} ({_reason(error)})"))
    updated = step.store(case, State(step=step_key), value, ctx)
    note = f"{name} ({len(lines)})" if key in COLLECTED else name
    return replace(taken, case=updated, notes=(*taken.notes, note))


def _filled(case: CaseDraft) -> set[str]:
    values = {
        "title": case.title,
        "severity": case.severity,
        "area": case.area,
        "services": case.services,
        "root_cause": case.root_cause,
    }
    return {key for key, value in values.items() if value}


def _timeline(taken: Taken, lines: tuple[str, ...], ctx: Context) -> Taken:
    case, points, problems, unnamed = taken.case, [], list(taken.problems), 0
    for line in lines:
        read = timeline_line(line)
        if read is None or read.point is None:
            unnamed += 1
            continue
        if case.time(read.point) is not None:
            continue  # the first line naming a point is the one that counts
        try:
            point = interview.step_name(read.point)
            when = STEPS[point].parse(read.when, case, State(step=point), ctx)
        except ParseError as error:
            problems.append(f"{read.point} time `{read.when}` ({_reason(error)})")
            continue
        case = case.with_time(read.point, when)
        points.append(read.point)
    notes = list(taken.notes)
    if points:
        notes.append("timeline (" + ", ".join(points) + ")")
    if unnamed:
        problems.append(
            f"{unnamed} timeline line(s) with no time or no started/detected/mitigated/resolved word "
            "(kept in the raw account)"
        )
    return Taken(case, tuple(notes), tuple(problems))


def _actions(taken: Taken, lines: tuple[str, ...], ctx: Context) -> Taken:
    step, case, added, problems = STEPS["action_description"], taken.case, 0, list(taken.problems)
    for line in lines:
        state = State(step="action_description")
        try:
            value = step.parse(line, case, state, ctx)
        except ParseError as error:
            problems.append(f"action `{line[:60]}` ({_reason(error)})")
            continue
        case = step.store(case, state, value, ctx)
        added += 1
    if not added:
        return replace(taken, problems=tuple(problems))
    unowned = [str(a.number) for a in case.actions if not a.complete]
    note = f"{added} action(s)"
    if unowned:
        note += (
            " (owner or due date still needed for " + ", ".join(unowned) + ": `edit action N` at the review)"
        )
    return Taken(case, (*taken.notes, note), tuple(problems))


def _reason(error: ParseError) -> str:
    return str(error).rstrip(".").split(". ")[0]


def account_outcome(state: State, case: CaseDraft, text: str, ctx: Context) -> Outcome | None:
    """The turn of a message that is an account; None when it is an ordinary answer."""
    if ctx.form or state.pending or state.step not in STEPS:
        return None
    written = account_text(text, state.step)
    if written is None:
        return None
    try:
        check_length(text, ctx.max_chars)
    except ParseError as error:
        return _refused(state, case, str(error))
    if not written:
        return _refused(state, case, USAGE)
    from bot.drafting.config import enabled_in_env  # (here: bot.drafting loads the job registry)

    account = parse_account(written)
    taken = take(account, case, ctx)
    mapped = account.free_text and enabled_in_env()
    if not taken.notes and not mapped:
        hint = "I found no labelled section I could use in that account. " if account.sections else ""
        return _refused(state, case, hint + USAGE)
    target = _next(state, taken.case)
    moved = State(
        step=target,
        history=(*state.history, (state.step, state.current_action))[-200:],
        return_to=None,
    )
    summary = _summary(taken, free=account.free_text, mapped=bool(mapped), sender=ctx.sender.user_id)
    record = Reply(
        summary,
        records_step=state.step,
        step=state.step,
        case_number=case.number,
        followup=f"{MAPPING_JOB}:{case.number}" if mapped else None,
    )
    return Outcome(moved, taken.case, (record, interview.ask(taken.case, moved, ctx)), accepted=True)


def _next(state: State, case: CaseDraft) -> interview.StepName:
    if state.step in {"review", "confirm"} or state.return_to:
        return "review"
    if state.step in interview.ACTION_STEPS:
        return state.step
    visited = [step for step, _ in state.history]
    return interview.first_unanswered(case, start=state.step, visited=visited)


def _summary(taken: Taken, *, free: str, mapped: bool, sender: str) -> str:
    text = f"✓ Account from <@{sender}>"
    text += ": took " + ", ".join(taken.notes) + "." if taken.notes else "."
    if taken.problems:
        text += " Not taken: " + "; ".join(taken.problems) + "."
    if free and mapped:
        text += " The unlabelled text goes to the model, grounded in what you wrote; I'll say what it adds."
    elif free:
        text += " The unlabelled text is kept as written (label its sections to have them taken)."
    text += " I'll ask only for what is still missing; `edit <section>` at the review changes anything."
    return text


def _refused(state: State, case: CaseDraft, message: str) -> Outcome:
    reply = Reply(message, ReplyKind.ERROR, ephemeral=True, case_number=case.number, step=state.step)
    return Outcome(state, case, (reply,))


async def with_account_answer(
    session: AsyncSession, replies: list[Reply], answer: RawAnswer | None
) -> list[Reply]:
    """The `account:<case>` follow-up names the raw answer it maps (`account:<case>:<answer id>`),
    so the job reads exactly that account, whatever was said after it."""
    if answer is None or not any(r.followup and r.followup.startswith(f"{MAPPING_JOB}:") for r in replies):
        return replies
    await session.flush()
    return [
        replace(r, followup=f"{r.followup}:{answer.id}")
        if r.followup and r.followup.startswith(f"{MAPPING_JOB}:")
        else r
        for r in replies
    ]
