"""Accepting and dropping the model's suggested actions: the case lead decides, a person sets owner and date.

An accepted suggestion becomes an ordinary open prevention action (marked
`suggested` for the record) with the owner and due date the lead gave; from
then on reminders, done, snooze and reassign treat it like any other action.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.drafting.store import refresh_draft_md, suggestion_ref
from bot.messages import Mention
from bot.parsing import ParseError
from storage import repo
from storage import suggestions as rows
from storage.models import ActionStatus, ActionSuggestion, Case, Person, PreventionAction, SuggestionStatus

_REF = re.compile(r"^#?(\d{1,9})\.s(\d{1,4})$", re.IGNORECASE)


class SuggestionError(ParseError):
    """A refused decision: not allowed, or already decided. Nothing changed."""


@dataclass(frozen=True)
class Found:
    case: Case
    suggestion: ActionSuggestion

    @property
    def ref(self) -> str:
        return suggestion_ref(self.case.number, self.suggestion.number)


def parse_suggestion_ref(text: str) -> tuple[int, int]:
    m = _REF.match(text.strip())
    if not m:
        raise SuggestionError(
            "Name a suggestion as case.S-number, e.g. `12.S1`; `suggestions #12` lists them."
        )
    return int(m.group(1)), int(m.group(2))


async def locate(session: AsyncSession, *, tenant_id: int, ref_text: str) -> Found:
    case_number, number = parse_suggestion_ref(ref_text)
    found = await rows.by_ref(session, tenant_id=tenant_id, case_number=case_number, number=number)
    if found is None:
        raise SuggestionError(f"There is no suggestion {case_number}.S{number}.")
    return Found(*found)


def may_decide(actor: Person, case: Case) -> bool:
    return actor.is_admin or (case.lead_id is not None and case.lead_id == actor.id)


def _require_pending(actor: Person, found: Found) -> None:
    if not may_decide(actor, found.case):
        raise SuggestionError(
            f"Only the lead of case #{found.case.number} or an admin can decide on {found.ref}."
        )
    status = found.suggestion.status
    if status == SuggestionStatus.SUPERSEDED:
        raise SuggestionError(
            f"{found.ref} was replaced by a later draft; `suggestions #{found.case.number}`."
        )
    if status != SuggestionStatus.PENDING:
        raise SuggestionError(f"{found.ref} is already {status}.")


async def accept(
    session: AsyncSession,
    *,
    actor: Person,
    tenant_id: int,
    found: Found,
    owner: Mention,
    due: dt.date,
    now: dt.datetime,
) -> tuple[PreventionAction, Person]:
    _require_pending(actor, found)
    if not await rows.decide(
        session, found.suggestion, status=SuggestionStatus.ACCEPTED, by_id=actor.id, now=now
    ):
        raise SuggestionError(f"{found.ref} was decided by someone else a moment ago.")
    owner_row = await repo.person(
        session, tenant_id=tenant_id, user_id=owner.user_id, display_name=owner.display_name, now=now
    )
    case = found.case
    assert case.id is not None
    action = PreventionAction(
        tenant_id=tenant_id,
        case_id=case.id,
        number=await rows.next_action_number(session, case_id=case.id),
        description=found.suggestion.description,
        kind=found.suggestion.kind,
        owner_id=owner_row.id,
        due_date=due,
        status=ActionStatus.OPEN,
        assigned_at=now,
        suggested=True,
        created_at=now,
        updated_at=now,
    )
    session.add(action)
    try:
        await session.flush()
    except IntegrityError as error:
        # Another action took this number in a concurrent transaction: apply the message again.
        raise repo.StaleConversation(f"action number of case #{case.number} taken") from error
    found.suggestion.action_id = action.id
    found.suggestion.status = SuggestionStatus.ACCEPTED
    session.add(found.suggestion)
    await refresh_draft_md(session, tenant_id=tenant_id, case=case)
    return action, owner_row


async def drop(
    session: AsyncSession,
    *,
    actor: Person,
    tenant_id: int,
    found: Found,
    reason: str | None,
    now: dt.datetime,
) -> None:
    _require_pending(actor, found)
    reason = (reason or "").strip()[:2000] or None
    if not await rows.decide(
        session, found.suggestion, status=SuggestionStatus.DROPPED, by_id=actor.id, reason=reason, now=now
    ):
        raise SuggestionError(f"{found.ref} was decided by someone else a moment ago.")
    found.suggestion.status = SuggestionStatus.DROPPED
    await refresh_draft_md(session, tenant_id=tenant_id, case=found.case)
