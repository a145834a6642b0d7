"""The prevention action lifecycle: open -> done | cancelled, snoozed, reassigned.

Small keyword-only service functions. Who may change an action: its owner, the
case lead, and workspace admins. Anyone else is refused and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Mention, Reply, ReplyKind
from bot.parsing import ParseError, parse_snooze
from bot.refs import parse_action_ref
from storage import digests, repo
from storage.db import Database
from storage.models import ActionStatus, Case, Person, PreventionAction


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


async def _apply(session: AsyncSession, found: Located, *, now: dt.datetime, **values: object) -> None:
    """Compare-and-set: change the action only if it is still open and still the owner's we saw.

    Two people pressing Done and Cancel at the same moment: one wins, the other is told.
    """
    action = found.action
    values["updated_at"] = now
    result = await session.exec(
        update(PreventionAction)
        .where(
            col(PreventionAction.id) == action.id,
            col(PreventionAction.status) == ActionStatus.OPEN,
            col(PreventionAction.owner_id) == action.owner_id,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LifecycleError(
            f"{ref(found)} was changed by someone else a moment ago; "
            f"`actions #{found.case.number}` shows where it stands."
        )
    for name, value in values.items():
        set_committed_value(action, name, value)
    assert action.id is not None
    await digests.mark_changed(session, action_id=action.id)  # its digest DMs are redrawn


async def close_action(
    session: AsyncSession, *, actor: Person, found: Located, evidence: str | None, now: dt.datetime
) -> None:
    _require(actor, found, "close")
    evidence = (evidence or "").strip() or None
    if found.case.require_evidence and not evidence:
        raise LifecycleError(
            f"Case #{found.case.number} asks for evidence: `done {ref(found)} <link or note>`."
        )
    if evidence and len(evidence) > 2000:
        raise LifecycleError("Keep the evidence under 2,000 characters (a link is best).")
    await _close(session, found, actor, ActionStatus.DONE, evidence, now=now)


async def cancel_action(
    session: AsyncSession, *, actor: Person, found: Located, reason: str, now: dt.datetime
) -> None:
    _require(actor, found, "cancel")
    reason = reason.strip()
    if not reason:
        raise LifecycleError(f"Say why it is no longer needed: `cancel {ref(found)} <reason>`.")
    if len(reason) > 2000:
        raise LifecycleError("Keep the reason under 2,000 characters.")
    await _close(session, found, actor, ActionStatus.CANCELLED, reason, now=now)


async def _close(
    session: AsyncSession,
    found: Located,
    actor: Person,
    status: ActionStatus,
    note: str | None,
    *,
    now: dt.datetime,
) -> None:
    """Done or cancelled: who, when, and the evidence or the reason in `evidence`."""
    await _apply(
        session,
        found,
        now=now,
        status=status,
        evidence=note,
        closed_by_id=actor.id,
        closed_at=now,
        snoozed_until=None,
    )


async def add_evidence(
    session: AsyncSession, *, actor: Person, found: Located, evidence: str, now: dt.datetime
) -> str:
    """More evidence for an action already done (the dashboard link that came a week later):
    kept beside what was given at closing. Returns the evidence as it now reads."""
    if not may_change(actor, found):
        raise LifecycleError(
            f"Only the owner of {ref(found)}, the case lead or an admin can add evidence to it."
        )
    evidence = evidence.strip()
    if not evidence:
        raise LifecycleError(f"Give the evidence: `evidence {ref(found)} <link or note>`.")
    if found.action.status == ActionStatus.OPEN:
        raise LifecycleError(f"{ref(found)} is still open: close it with `done {ref(found)} {evidence}`.")
    if found.action.status != ActionStatus.DONE:
        raise LifecycleError(f"{ref(found)} is {found.action.status}: evidence belongs to a done action.")
    combined = "\n".join(part for part in (found.action.evidence, evidence) if part)
    if len(combined) > 4000:
        raise LifecycleError("That makes the evidence longer than 4,000 characters; link to a page instead.")
    result = await session.exec(
        update(PreventionAction)
        .where(col(PreventionAction.id) == found.action.id, col(PreventionAction.status) == ActionStatus.DONE)
        .values(evidence=combined, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LifecycleError(f"{ref(found)} was changed by someone else a moment ago.")
    set_committed_value(found.action, "evidence", combined)
    return combined


_FORM_VERBS = {"done", "snooze", "reassign", "cancel"}


async def closed_before_form(db: Database, *, platform: str, tenant: str, value: str) -> Reply | None:
    """A Done/Snooze/Reassign button on an action closed since its message was sent: say so
    before any form opens (and nothing is asked for nothing)."""
    verb, _, rest = value.strip().lstrip("/").partition(" ")
    if verb not in _FORM_VERBS or not rest.strip():
        return None
    try:
        case_number, number = parse_action_ref(rest.split()[0])
    except ParseError:
        return None
    async with db.sessions() as session:
        status = await repo.action_status_by_ref(
            session, platform=platform, tenant=tenant, case_number=case_number, number=number
        )
    if status is None or status == ActionStatus.OPEN:
        return None
    return Reply(
        f"`{case_number}.{number}` is already {status}: there is nothing left to "
        + {"done": "do", "cancel": "cancel", "snooze": "snooze", "reassign": "reassign"}[verb]
        + ".",
        ReplyKind.ERROR,
        ephemeral=True,
    )


async def snooze_action(
    session: AsyncSession, *, actor: Person, found: Located, when: str, now: dt.datetime, today: dt.date
) -> dt.date:
    _require(actor, found, "snooze")
    until = parse_snooze(when, today=today)
    await _apply(session, found, now=now, snoozed_until=until)
    return until


@dataclass(frozen=True)
class Reassigned:
    owner: Person
    previous_user_id: str | None  # the platform user it was taken from (None: it was unassigned)


async def reassign_action(
    session: AsyncSession, *, actor: Person, found: Located, new_owner: Mention, now: dt.datetime
) -> Reassigned:
    _require(actor, found, "reassign")
    tenant_id = found.action.tenant_id
    previous = await user_id_of(session, tenant_id=tenant_id, person_id=found.action.owner_id)
    if new_owner.user_id == previous:
        raise LifecycleError(f"{ref(found)} is already theirs.")
    owner = await repo.person(
        session,
        tenant_id=tenant_id,
        user_id=new_owner.user_id,
        display_name=new_owner.display_name,
        now=now,
    )
    await _apply(session, found, now=now, owner_id=owner.id, assigned_at=now, snoozed_until=None)
    return Reassigned(owner, previous)


async def user_id_of(session: AsyncSession, *, tenant_id: int, person_id: int | None) -> str | None:
    """The platform user id of an owner or a case lead, to tell them something."""
    if person_id is None:
        return None
    people = await repo.people_by_ids(session, tenant_id=tenant_id, ids=[person_id])
    person = people.get(person_id)
    return person.platform_user_id if person else None


async def set_require_evidence(
    session: AsyncSession, *, actor: Person, case: Case, required: bool, now: dt.datetime
) -> None:
    """Only the case lead or an admin decides whether closing its actions needs evidence."""
    if not (actor.is_admin or actor.id == case.lead_id):
        raise LifecycleError(f"Only the lead of case #{case.number} or an admin can change that.")
    if case.require_evidence != required:
        case.require_evidence = required
        case.updated_at = now
        session.add(case)
