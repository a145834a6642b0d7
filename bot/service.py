"""Apply one inbound message: one transaction, then the replies.

The order matters: deduplicate by event id, load the conversation, advance the
state machine, save the answers and the new state, commit, and only then return
replies for the adapter to send. A crash anywhere before the commit leaves the
database as it was; the next message resumes where the interview stood.

A run (`handle_run`) is several messages of one conversation in one transaction: while
each answer stays on its question (a burst of list lines), the next goes on from the rows
the last one left, and the case and the conversation are written once, at the run's end.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import interview, invite, links, observe, render
from bot.capture.intake import account_outcome, with_account_answer
from bot.capture.reading import with_history_followup
from bot.commands import CommandContext, dispatch, parse_command
from bot.config import Settings
from bot.drafting import followup_key
from bot.insights import similar
from bot.messages import Inbound, InboundKind, Reply, ReplyKind
from bot.publish import publication_replies
from bot.store import Answer, load_case, save_turn, state_of
from bot.trackers.nudge import nudge
from bot.turn import Carry, Turn, begin_turn, interview_context
from storage import repo
from storage.db import Database
from storage.models import Case, Conversation

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Writes that belong to the turn's transaction but not to the core: the outbox rows of the
# replies, the inbox row marked applied. Called with the turn's session and its replies.
Record = Callable[[AsyncSession, list[Reply]], Awaitable[None]]
# Writes of a run's transaction after its messages, with how many were applied.
Finish = Callable[[AsyncSession, int], Awaitable[None]]


async def handle(
    db: Database, inbound: Inbound, *, settings: Settings | None = None, record: Record | None = None
) -> list[Reply]:
    """The one entry point every adapter calls. `record` runs in the same transaction."""
    records = [record] if record is not None else None
    return (await handle_run(db, [inbound], settings=settings, records=records))[0]


async def handle_run(
    db: Database,
    inbounds: Sequence[Inbound],
    *,
    settings: Settings | None = None,
    records: Sequence[Record] | None = None,
    finish: Finish | None = None,
    more: Callable[[], bool] = lambda: True,
) -> list[list[Reply]]:
    """Apply messages of one conversation in order, in one transaction: the first, then each
    next one while the previous turn left its interview on the same question (a burst of list
    lines) and `more()` says go on; they read the turn once and share a begin and a commit.
    Returns the replies of those applied (at least the first); the rest are the caller's to
    apply again. `records[i]` runs in the transaction after message i, `finish` before its
    commit, with the number applied."""
    settings = settings or Settings.from_env()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            applied: list[list[Reply]] = []
            async with db.transaction() as session:
                carry = Carry()
                for index, inbound in enumerate(inbounds):
                    if applied:
                        # SQLite's statements run on the loop without yielding: a request
                        # arriving mid-run is let in here, and `more()` sees it waiting.
                        await asyncio.sleep(0)
                        if not (carry.goes_on and more()):
                            break
                    replies = await _apply(session, inbound, settings, carry)
                    replies = links.with_case_links(replies, settings.public_url)
                    if records is not None:
                        await records[index](session, replies)
                    applied.append(replies)
                await carry.save(session)
                if finish is not None:
                    await finish(session, len(applied))
            for inbound, replies in zip(inbounds, applied, strict=False):
                if any(reply.kind == ReplyKind.ERROR for reply in replies):
                    observe.count("refusal", platform=inbound.platform)
            return applied
        except repo.StaleConversation:
            log.info(
                "conversation %s changed under us; applying again (attempt %d)",
                inbounds[0].conversation_key,
                attempt,
            )
            await asyncio.sleep(random.uniform(0, 0.01 * attempt))
        except IntegrityError as error:
            # Two messages claimed the same unique slot at once (the next case number of a
            # tenant, the one live interview of a thread): the loser applies again from fresh
            # rows, after a short random pause so that several losers do not collide again.
            log.info("a concurrent write won (%s); applying again (attempt %d)", error.orig, attempt)
            await asyncio.sleep(random.uniform(0, 0.02 * attempt))
    replies = [CROWDED]
    if records is not None or finish is not None:
        async with db.transaction() as session:
            if records is not None:
                await records[0](session, replies)
            if finish is not None:
                await finish(session, 1)
    return [replies]


CROWDED = Reply(
    "Several answers arrived at the same moment and yours could not be applied. Please send it again.",
    ReplyKind.ERROR,
    ephemeral=True,
)


async def _apply(session: AsyncSession, inbound: Inbound, settings: Settings, carry: Carry) -> list[Reply]:
    # The one read (who, where, which case), unless the run's previous turn left it.
    turn = await begin_turn(session, inbound, settings, carry=carry)
    if inbound.event_id and not await repo.record_event(
        session, tenant_id=turn.tenant_id, event_id=inbound.event_id, now=turn.now
    ):
        log.info("event %s already applied; ignoring the retry", inbound.event_id)
        return []

    text = inbound.text.strip()
    is_command = inbound.kind == InboundKind.COMMAND or text.startswith("/")
    conversation = turn.conversation
    if not is_command and conversation is not None:
        if turn.inbound.step and turn.inbound.step != conversation.step:
            return [stale_press(conversation.step)]
        if conversation.flow != invite.FLOW:
            return await interview_turn(turn, conversation)
    await carry.save(session)  # anything else may read the rows the run's turns left unsaved
    if not is_command:
        if conversation is not None:
            return await invite.responder_turn(turn, conversation)
        if inbound.step:
            return [ENDED_PRESS]  # a question's button, pressed after its interview ended
        if not inbound.direct and inbound.kind == InboundKind.MESSAGE:
            return []  # chatter in a channel or thread that is not an interview
    return await dispatch(CommandContext(turn=turn, start=start_interview), parse_command(text))


ENDED_PRESS = Reply(
    "That button belongs to a question that's already answered, and the interview has ended: "
    "this conversation is over, so its buttons no longer do anything.",
    ReplyKind.ERROR,
    ephemeral=True,
)


def stale_press(current_step: str) -> Reply:
    return Reply(
        "That button belongs to a question that has already been answered; "
        f"the conversation is now at {interview.label_of(current_step)}.",
        ReplyKind.ERROR,
        ephemeral=True,
        step=current_step,
    )


async def has_active_conversation(db: Database, *, platform: str, tenant: str, key: str) -> bool:
    """Read-only: is an interview (or a responder's DM) running under this key?

    Adapters ask before handing over a message from a busy channel, so ordinary
    chatter costs one query and leaves no row behind.
    """
    async with db.sessions() as session:
        return await repo.conversation_is_active(session, platform=platform, tenant=tenant, key=key)


async def interview_turn(turn: Turn, conversation: Conversation) -> list[Reply]:
    """Load (the turn read the conversation and its case; here its actions), decide with the
    pure transition, save once. Only then the reads that shape the replies."""
    observe.count("interview_turn", platform=turn.inbound.platform)  # a retried turn counts again
    session = turn.session
    case = turn.case
    if case is None:  # the case row is gone: nothing to resume
        conversation.active = False
        await repo.save_conversation(
            session, conversation, expected_version=conversation.version, now=turn.now
        )
        return [Reply("This interview's case no longer exists.", ReplyKind.ERROR)]
    loaded = turn.carried_case or await load_case(
        session, tenant_id=turn.tenant_id, case=case, known=(turn.person, turn.lead)
    )
    state = state_of(conversation)
    ctx = interview_context(turn, case, case_timezone=loaded.lead_timezone)
    outcome = account_outcome(state, loaded.draft, turn.inbound.text, ctx) or interview.advance(
        state, loaded.draft, turn.inbound.text, ctx
    )
    if outcome.state == state and outcome.case == loaded.draft and not outcome.accepted:
        turn.carry.keep(turn, loaded)
        return list(outcome.replies)  # help, status, a refused answer: nothing to write

    published = outcome.finished == "published"
    # An answer that stays on its question leaves the case and the conversation to the end of
    # its run; any other writes them now, after what the run's earlier answers left.
    stays = outcome.state.step == state.step and not outcome.finished
    if not stays:
        await turn.carry.save(session)
    answer = await save_turn(
        session,
        loaded=loaded,
        conversation=conversation,
        outcome=outcome,
        answer=Answer(state.step, turn.person.id or 0, _raw_text(turn.inbound)) if outcome.accepted else None,
        published_md=render.render_case_markdown(outcome.case, tz=ctx.tz) if published else None,
        now=turn.now,
        unsaved=turn.carry.unsaved_for(case, conversation, turn.now) if stays else None,
    )
    if stays:
        turn.carry.keep(turn, loaded.after(outcome.case))
    replies = await with_account_answer(session, list(outcome.replies), answer)
    if similar.leaves_symptoms(state.step, outcome.state.step):
        # Past cases like this one, just before the next question.
        replies[-1:-1] = await similar.suggestions_for(
            session, tenant_id=turn.tenant_id, case_id=case.id, draft=outcome.case
        )
    if published:
        then = await nudge(session, tenant_id=turn.tenant_id, then=followup_key(outcome.case.number))
        replies += publication_replies(outcome.case, followup=then, tz=ctx.tz)
    return replies


def _raw_text(inbound: Inbound) -> str:
    if inbound.form:
        return "\n".join(f"{k}: {v}" for k, v in sorted(inbound.form.items()))
    return inbound.text


async def start_interview(turn: Turn, title: str | None) -> list[Reply]:
    """Open a case and its interview in the inbound's conversation."""
    session = turn.session
    if turn.conversation is not None:  # read with the turn: the live conversation under this key
        number = turn.case.number if turn.case else "?"
        return [
            Reply(
                f"A postmortem (#{number}) is already being written here. Answer its current "
                "question, or `cancel` it first.",
                ReplyKind.ERROR,
                ephemeral=True,
            )
        ]
    number = await repo.next_case_number(session, tenant_id=turn.tenant_id)
    now = turn.now
    case = Case(
        tenant_id=turn.tenant_id,
        number=number,
        title=title or None,
        lead_id=turn.person.id,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    await session.flush()
    assert case.id is not None
    loaded = await load_case(session, tenant_id=turn.tenant_id, case=case, known=(turn.person,))
    outcome = interview.start(loaded.draft, interview_context(turn, case, case_timezone=loaded.lead_timezone))
    session.add(
        Conversation(
            tenant_id=turn.tenant_id,
            platform=turn.inbound.platform,
            conversation_key=turn.inbound.conversation_key,
            case_id=case.id,
            step=outcome.state.step,
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    log.info(
        "case #%d opened by %s in %s",
        number,
        turn.person.platform_user_id,
        turn.inbound.conversation_key,
    )
    return with_history_followup(list(outcome.replies), turn=turn, number=number)
