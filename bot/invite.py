"""Invited responders: each gives their own view of a case, in a direct message.

`invite [<case>] @a @b` opens, for every invitee, a short conversation of flow
"responder" keyed by their direct-message key (`dm_key`). Three questions: what
they saw, what they checked, what misled them. Each answer is merged into the
case at once, under their name, while the interview is still running; once the
case is published or cancelled the answer is only kept with the raw answers and
the case lead is told. Platform-neutral: adapters deliver the `to_user` replies
by DM and send the invitee's DM messages with `conversation_key=dm_key(user)`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot import interview
from bot.case import CaseDraft
from bot.messages import Choice, Mention, Reply, ReplyKind
from bot.parsing import ParseError, check_length, nonempty, split_items
from bot.store import load_case, save_draft
from bot.turn import interview_context
from storage import repo
from storage.models import Case, CaseStatus, Conversation, Person

if TYPE_CHECKING:
    from bot.turn import Turn

FLOW = "responder"
MAX_INVITEES = 10


def dm_key(user_id: str) -> str:
    """The conversation key of a person's direct messages with the bot, on any platform."""
    return f"dm:{user_id}"


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    merges_into: interview.StepName  # the interview step whose parser and storer take the answer
    noun: str  # what one entry is called in the lead's summary


QUESTIONS: tuple[Question, ...] = (
    Question(
        "saw",
        "What did **you** see? User impact, alerts, dashboards, error messages. One message; "
        "a bulleted list becomes several entries.",
        "symptoms",
        "observation",
    ),
    Question(
        "checked",
        "What did you **check**, in order, and what did each check show? e.g. `Checked the "
        "pgbouncer pools: 400 clients waiting`.",
        "diagnostic_path",
        "diagnostic step",
    ),
    Question(
        "misled",
        "What **misled** you, or nearly made it worse, and what did it cost? e.g. `The DB CPU "
        "alarm pointed at the database — cost: 10 min`.",
        "signals",
        "misleading signal",
    ),
)
BY_KEY = {q.key: q for q in QUESTIONS}
KEYS = tuple(BY_KEY)
CONTROLS = "`skip`, `back`, `help`, `stop`"
_STOP = {"stop", "cancel", "quit", "done", "finish", "that's all"}


def question_reply(case: Case, key: str, *, intro: str = "") -> Reply:
    position = KEYS.index(key) + 1
    text = f"{intro}**{position}/{len(QUESTIONS)}** {BY_KEY[key].text}"
    return Reply(
        text,
        ReplyKind.QUESTION,
        choices=(Choice("Skip", "skip"), Choice("Stop here", "stop")),
        case_number=case.number,
        step=key,
    )


def _next(key: str) -> str | None:
    index = KEYS.index(key) + 1
    return KEYS[index] if index < len(KEYS) else None


def _previous(key: str) -> str | None:
    index = KEYS.index(key)
    return KEYS[index - 1] if index > 0 else None


def _name(person: Person) -> str:
    return f"@{person.display_name}" if person.display_name else f"<@{person.platform_user_id}>"


# --- the command -------------------------------------------------------------------------


async def invite(turn: Turn, *, case: Case, invitees: list[Mention]) -> list[Reply]:
    """Open a responder conversation for each invitee; refuses those who are busy."""
    if case.status != CaseStatus.INTERVIEWING:
        return [
            Reply(
                f"Case #{case.number} is {case.status}; invitations are for cases still being written.",
                ReplyKind.ERROR,
                ephemeral=True,
            )
        ]
    invited: list[str] = []
    refused: list[str] = []
    replies: list[Reply] = []
    inviter = _name(turn.person)
    title = f": {case.title}" if case.title else ""
    intro = (
        f"👋 {inviter} asked for **your view** of postmortem **#{case.number}**{title}. "
        f"Three short questions; your answers go into the case under your name. {CONTROLS} "
        "work at every question.\n\n"
    )
    for mention in invitees:
        person = await repo.person(
            turn.session,
            tenant_id=turn.tenant_id,
            user_id=mention.user_id,
            display_name=mention.display_name,
            now=turn.now,
        )
        busy = await repo.active_conversation(
            turn.session, tenant_id=turn.tenant_id, key=dm_key(mention.user_id)
        )
        if busy is not None:
            reason = "already invited" if busy.case_id == case.id else "busy answering another case"
            refused.append(f"{_name(person)} ({reason})")
            continue
        assert case.id is not None
        turn.session.add(
            Conversation(
                tenant_id=turn.tenant_id,
                platform=turn.inbound.platform,
                conversation_key=dm_key(mention.user_id),
                case_id=case.id,
                flow=FLOW,
                step=KEYS[0],
                created_at=turn.now,
                updated_at=turn.now,
            )
        )
        invited.append(_name(person))
        question = question_reply(case, KEYS[0], intro=intro)
        replies.append(replace(question, to_user=mention.user_id))
    await turn.session.flush()
    summary = []
    if invited:
        summary.append(f"Invited {', '.join(invited)} to give their view of case #{case.number} by DM.")
    if refused:
        summary.append("Not invited: " + ", ".join(refused) + ".")
    kind = ReplyKind.INFO if invited else ReplyKind.ERROR
    return [Reply(" ".join(summary), kind, ephemeral=True, case_number=case.number), *replies]


async def default_case(turn: Turn) -> Case:
    """The case being written in this conversation, else the caller's one open interview."""
    here = await repo.active_conversation(
        turn.session, tenant_id=turn.tenant_id, key=turn.inbound.conversation_key
    )
    if here is not None and here.flow != FLOW:
        found = await repo.case_by_id(turn.session, tenant_id=turn.tenant_id, case_id=here.case_id)
        if found is not None:
            return found
    open_cases = await repo.cases(turn.session, tenant_id=turn.tenant_id, statuses=[CaseStatus.INTERVIEWING])
    mine = [c for c in open_cases if c.lead_id == turn.person.id]
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise ParseError("Which case? e.g. `invite #12 @dana @lee` (you lead no interview in progress).")
    numbers = ", ".join(f"#{c.number}" for c in mine[:5])
    raise ParseError(
        f"You lead several interviews ({numbers}): name one, e.g. `invite #{mine[0].number} @dana`."
    )


# --- the responder's conversation ---------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """What one DM message does to a responder conversation (pure: no I/O)."""

    next_step: str | None  # None: the conversation is over
    items: tuple[str, ...] = ()  # entries to merge for the current step
    note: str | None = None  # said before the next question
    refused: str | None = None  # nothing changes; say this


def decide(step: str, text: str, *, max_chars: int) -> Move:
    word = " ".join(text.strip().lower().rstrip(".!").split())
    if word in _STOP:
        return Move(next_step=None)
    if word == "skip":
        return Move(next_step=_next(step))
    if word == "back":
        previous = _previous(step)
        if previous is None:
            return Move(next_step=step, refused="This is the first question; there is nothing to go back to.")
        return Move(next_step=previous, note="Back one question; a new answer is added to the earlier one.")
    if word == "help":
        return Move(
            next_step=step,
            note=f"Answer in your own words; {CONTROLS}. Your answers are merged into the case "
            "under your name, so the team sees who saw what.",
        )
    try:
        check_length(text, max_chars)
        items = split_items(nonempty(text))
    except ParseError as error:
        return Move(next_step=step, refused=str(error))
    if any(len(item) > 1000 for item in items):
        return Move(next_step=step, refused="Keep each entry under 1,000 characters; split longer ones.")
    return Move(next_step=_next(step), items=tuple(items))


def merge(case: CaseDraft, step: str, items: tuple[str, ...], ctx: interview.Context) -> CaseDraft:
    """Add one answer to the draft through the interview's own parsers and storers."""
    target = interview.STEPS[BY_KEY[step].merges_into]
    name = ctx.sender.display_name or ctx.sender.user_id
    # A diagnostic step records its author itself; the other entries carry the name in front.
    entries = list(items) if step == "checked" else [f"@{name}: {item}" for item in items]
    state = interview.State(step=target.key)
    return target.store(case, state, entries, ctx)


async def responder_turn(turn: Turn, conversation: Conversation) -> list[Reply]:
    session = turn.session
    case = await repo.case_by_id(session, tenant_id=turn.tenant_id, case_id=conversation.case_id)
    if case is None:
        conversation.active = False
        await repo.save_conversation(
            session, conversation, expected_version=conversation.version, now=turn.now
        )
        return [Reply("The case you were invited to no longer exists.", ReplyKind.ERROR)]
    move = decide(conversation.step, turn.inbound.text, max_chars=turn.settings.max_answer_chars)
    if move.refused:
        refusal = Reply(move.refused, ReplyKind.ERROR, case_number=case.number, step=conversation.step)
        return [refusal, question_reply(case, conversation.step)]
    replies: list[Reply] = []
    if move.items:
        replies += await _apply_answer(turn, case, conversation.step, move.items)
    if move.note:
        replies.append(Reply(move.note, ReplyKind.INFO, case_number=case.number))
    still_open = case.status == CaseStatus.INTERVIEWING
    if move.next_step is None or not still_open:
        conversation.active = False
        replies += await _finish(turn, case)
    else:
        conversation.step = move.next_step
        replies.append(question_reply(case, move.next_step))
    await repo.save_conversation(session, conversation, expected_version=conversation.version, now=turn.now)
    return replies


async def _apply_answer(turn: Turn, case: Case, step: str, items: tuple[str, ...]) -> list[Reply]:
    session = turn.session
    assert case.id is not None
    await repo.add_raw_answer(
        session,
        tenant_id=turn.tenant_id,
        case_id=case.id,
        question_key=f"{FLOW}:{step}",
        responder_id=turn.person.id or 0,
        text=turn.inbound.text,
        at=turn.inbound.at,
    )
    if case.status != CaseStatus.INTERVIEWING:
        late = f"{_name(turn.person)} sent a late answer for case #{case.number} ({BY_KEY[step].noun}s): "
        notice = await _tell_lead(turn, case, late + turn.inbound.text[:500])
        return [
            Reply(
                f"Case #{case.number} is already {case.status}, so your answer is kept with its raw "
                "answers rather than merged; its lead has been told.",
                ReplyKind.INFO,
                case_number=case.number,
            ),
            *notice,
        ]
    loaded = await load_case(session, tenant_id=turn.tenant_id, case=case)
    merged = merge(loaded.draft, step, items, interview_context(turn))
    await save_draft(session, tenant_id=turn.tenant_id, loaded=loaded, draft=merged, now=turn.inbound.at)
    await _bump_interview(turn, case)
    noun = BY_KEY[step].noun + ("s" if len(items) != 1 else "")
    return [
        Reply(f"Added {len(items)} {noun} to case #{case.number}.", ReplyKind.INFO, case_number=case.number)
    ]


async def _bump_interview(turn: Turn, case: Case) -> None:
    """Move the interview's version on, so a thread answer racing this merge is applied again
    from fresh rows instead of writing back a list without our entries (and vice versa)."""
    assert case.id is not None
    running = await repo.active_conversation_for_case(turn.session, tenant_id=turn.tenant_id, case_id=case.id)
    if running is not None:
        await repo.save_conversation(turn.session, running, expected_version=running.version, now=turn.now)


async def _finish(turn: Turn, case: Case) -> list[Reply]:
    assert case.id is not None
    answers = [
        a
        for a in await repo.raw_answers(turn.session, tenant_id=turn.tenant_id, case_id=case.id)
        if a.responder_id == turn.person.id and a.question_key.startswith(f"{FLOW}:")
    ]
    merged = bool(answers) and case.status == CaseStatus.INTERVIEWING
    replies = [
        Reply(
            f"Thank you. That's all for case #{case.number}"
            + (": your view is part of the case now." if merged else "."),
            ReplyKind.INFO,
            case_number=case.number,
        )
    ]
    if merged:
        answered = sorted({BY_KEY[a.question_key.split(":", 1)[1]].noun + "s" for a in answers})
        text = f"{_name(turn.person)} added their view to case #{case.number} ({', '.join(answered)})."
        replies += await _tell_lead(turn, case, text)
    return replies


async def _tell_lead(turn: Turn, case: Case, text: str) -> list[Reply]:
    """A notice for the case lead, unless the lead is the one speaking."""
    if case.lead_id is None or case.lead_id == turn.person.id:
        return []
    people = await repo.people_by_ids(turn.session, tenant_id=turn.tenant_id, ids=[case.lead_id])
    lead = people.get(case.lead_id)
    if lead is None:
        return []
    return [Reply(text, ReplyKind.NOTICE, to_user=lead.platform_user_id, case_number=case.number)]
