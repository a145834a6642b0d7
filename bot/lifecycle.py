"""The prevention action lifecycle: open -> done | cancelled, snoozed, reassigned.

Small keyword-only service functions. Who may change an action: its owner, the
case lead, and workspace admins. Anyone else is refused and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Mention
from bot.parsing import ParseError, parse_snooze
from storage import repo
from storage.models import ActionStatus, Case, Person, PreventionAction, utcnow


class LifecycleError(ParseError):
    """A refused change: not allowed, or not possible in the action's state."""


@dataclass(frozen=True)
class Located:
    case: Case
    action: PreventionAction


async def locate(session: AsyncSession, *, tenant_id: int, case_number: int, number: int) -> Located:
    found = await repo.action_by_ref(session, tenant_id=tenant_id, case_number=case_number, number=number)
    if found is None or found[1].status == ActionStatus.DRAFT:
        raise LifecycleError(f"There is no action {case_number}.{number}.")
    return Located(*found)


def may_change(actor: Person, found: Located) -> bool:
    return actor.is_admin or actor.id in {found.action.owner_id, found.case.lead_id}


def _require(actor: Person, found: Located, verb: str) -> None:
    if not may_change(actor, found):
        raise LifecycleError(f"Only the owner of {ref(found)}, the case lead or an admin can {verb} it.")
    if found.action.status != ActionStatus.OPEN:
        raise LifecycleError(f"{ref(found)} is already {found.action.status}.")


def ref(found: Located) -> str:
    return f"{found.case.number}.{found.action.number}"


def _touch(session: AsyncSession, action: PreventionAction) -> None:
    action.updated_at = utcnow()
    session.add(action)


async def close_action(session: AsyncSession, *, actor: Person, found: Located, evidence: str | None) -> None:
    _require(actor, found, "close")
    evidence = (evidence or "").strip() or None
    if found.case.require_evidence and not evidence:
        raise LifecycleError(
            f"Case #{found.case.number} asks for evidence: `done {ref(found)} <link or note>`."
        )
    if evidence and len(evidence) > 2000:
        raise LifecycleError("Keep the evidence under 2,000 characters (a link is best).")
    action = found.action
    action.status = ActionStatus.DONE
    action.evidence = evidence
    action.closed_by_id = actor.id
    action.closed_at = utcnow()
    action.snoozed_until = None
    _touch(session, action)


async def cancel_action(session: AsyncSession, *, actor: Person, found: Located, reason: str) -> None:
    _require(actor, found, "cancel")
    reason = reason.strip()
    if not reason:
        raise LifecycleError(f"Say why it is no longer needed: `cancel {ref(found)} <reason>`.")
    if len(reason) > 2000:
        raise LifecycleError("Keep the reason under 2,000 characters.")
    action = found.action
    action.status = ActionStatus.CANCELLED
    action.evidence = reason
    action.closed_by_id = actor.id
    action.closed_at = utcnow()
    _touch(session, action)


async def snooze_action(
    session: AsyncSession, *, actor: Person, found: Located, when: str, today: dt.date
) -> dt.date:
    _require(actor, found, "snooze")
    until = parse_snooze(when, today=today)
    found.action.snoozed_until = until
    _touch(session, found.action)
    return until


async def reassign_action(
    session: AsyncSession, *, actor: Person, found: Located, new_owner: Mention, tenant_id: int
) -> Person:
    _require(actor, found, "reassign")
    owner = await repo.person(
        session, tenant_id=tenant_id, user_id=new_owner.user_id, display_name=new_owner.display_name
    )
    if owner.id == found.action.owner_id:
        raise LifecycleError(f"{ref(found)} is already theirs.")
    found.action.owner_id = owner.id
    found.action.snoozed_until = None
    _touch(session, found.action)
    return owner
