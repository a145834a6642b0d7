"""Mapping between the interview's immutable values and the storage rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.case import FIELDS, ActionDraft, CaseDraft, DiagnosticStep, Misjudgment
from bot.interview import Outcome, State, step_name
from bot.messages import Mention
from storage import repo, turns
from storage.models import ActionStatus, Case, Conversation, Person, PreventionAction, RawAnswer


@dataclass
class LoadedCase:
    row: Case
    actions: list[PreventionAction]
    people: dict[int, Person]
    draft: CaseDraft

    @property
    def lead_timezone(self) -> str | None:
        """The zone the case's times are asked, confirmed and drafted in: its lead's."""
        lead = self.people.get(self.row.lead_id) if self.row.lead_id else None
        return lead.timezone if lead else None

    def after(self, draft: CaseDraft) -> LoadedCase | None:
        """The case as a turn that saved `draft` left it, for the next turn in the transaction,
        drawn from its rows as a fresh read would be; None when its actions changed (an added
        row gets its id at the next flush: read them again)."""
        if draft.actions != self.draft.actions:
            return None
        drawn = draft_from_rows(self.row, self.actions, self.people)
        return LoadedCase(self.row, self.actions, self.people, drawn)


def mention_of(person: Person | None) -> Mention | None:
    if person is None:
        return None
    return Mention(user_id=person.platform_user_id, display_name=person.display_name)


def _risks(action: PreventionAction) -> dict[str, bool] | None:
    values = {
        "complexity": action.risk_complexity,
        "coupling": action.risk_coupling,
        "recovery": action.risk_recovery,
        "spof": action.risk_spof,
        "diagnosability": action.risk_diagnosability,
    }
    if all(v is None for v in values.values()):
        return None
    return {k: bool(v) for k, v in values.items()}


def draft_from_rows(case: Case, actions: list[PreventionAction], people: dict[int, Person]) -> CaseDraft:
    return CaseDraft(
        number=case.number,
        title=case.title,
        severity=case.severity,
        area=case.area,
        services=tuple(case.services or ()),
        started=case.started_at,
        detected=case.detected_at,
        mitigated=case.mitigated_at,
        resolved=case.resolved_at,
        misjudgments=tuple(
            Misjudgment(kind=m.get("kind", "hypothesis"), text=m.get("text", ""), cost=m.get("cost"))
            for m in case.misjudgments or ()
        ),
        diagnostic_path=tuple(
            DiagnosticStep(text=s.get("text", ""), by=s.get("by")) for s in case.diagnostic_path or ()
        ),
        # The written sections: one column each, named as the field (bot/case.py FIELDS).
        **{field.key: field.from_row(getattr(case, field.key)) for field in FIELDS},
        actions=tuple(
            ActionDraft(
                number=a.number,
                description=a.description,
                owner=mention_of(people.get(a.owner_id)) if a.owner_id else None,
                due=a.due_date,
                kind=a.kind,
                risks=_risks(a),
                status=a.status,
                issue_url=a.issue_url,
            )
            for a in actions
        ),
        lead=mention_of(people.get(case.lead_id)) if case.lead_id else None,
        status=case.status,
        created_at=case.created_at,
    )


async def load_case(
    session: AsyncSession, *, tenant_id: int, case: Case, known: Iterable[Person | None] = ()
) -> LoadedCase:
    """The case's actions with their owners in one read; the lead too unless `known` has them
    (a turn already read the speaker and the lead)."""
    assert case.id is not None
    rows = await repo.actions_with_owners(session, tenant_id=tenant_id, case_id=case.id)
    actions = [action for action, _ in rows]
    people = {p.id: p for p in (*known, *(owner for _, owner in rows)) if p is not None and p.id is not None}
    if case.lead_id and case.lead_id not in people:
        people |= await repo.people_by_ids(session, tenant_id=tenant_id, ids=[case.lead_id])
    return LoadedCase(case, actions, people, draft_from_rows(case, actions, people))


@dataclass
class Unsaved:
    """What a run's answers left for its end, in the same transaction: the case's changed
    columns, and the conversation's state as one compare-and-set against the version the run
    read (the loaded rows already show both)."""

    case: Case
    conversation: Conversation
    expected_version: int
    now: dt.datetime
    values: dict[str, Any] = field(default_factory=dict)

    async def save(self, session: AsyncSession) -> None:
        if self.values:
            await turns.update_case(session, self.case, self.values)
        await repo.save_conversation(
            session, self.conversation, expected_version=self.expected_version, now=self.now
        )


async def save_draft(
    session: AsyncSession,
    *,
    tenant_id: int,
    loaded: LoadedCase,
    draft: CaseDraft,
    now: dt.datetime,
    unsaved: Unsaved | None = None,
) -> None:
    """Write the interview's view of the case back to its rows (only what changed), at `now`;
    the case's own columns into `unsaved` when given."""
    row = loaded.row
    assert row.id is not None
    fields = {
        "title": draft.title,
        "severity": draft.severity,
        "area": draft.area,
        "services": list(draft.services),
        "started_at": draft.started,
        "detected_at": draft.detected,
        "mitigated_at": draft.mitigated,
        "resolved_at": draft.resolved,
        "misjudgments": [{"kind": m.kind, "text": m.text, "cost": m.cost} for m in draft.misjudgments],
        "diagnostic_path": [{"text": s.text, "by": s.by} for s in draft.diagnostic_path],
        **{field.key: field.to_row(field.value(draft)) for field in FIELDS},
        "status": draft.status,
    }
    changed = {name: value for name, value in fields.items() if getattr(row, name) != value}
    if changed and unsaved is not None:
        turns.stage_case(row, {**changed, "updated_at": now})
        unsaved.values |= {**changed, "updated_at": now}
    elif changed:
        await turns.update_case(session, row, {**changed, "updated_at": now})

    by_number = {a.number: a for a in loaded.actions}
    wanted = {a.number for a in draft.actions}
    for number, stale in by_number.items():
        if number not in wanted:
            await session.delete(stale)
    for action in draft.actions:
        owner_id = None
        if action.owner is not None:
            owner_id = await _owner_id(session, tenant_id, loaded, action.owner, now=now)
        values: dict[str, Any] = {
            "description": action.description,
            "kind": action.kind,
            "owner_id": owner_id,
            "due_date": action.due,
            "status": action.status,
            **risk_columns(action.risks),
        }
        existing = by_number.get(action.number)
        if existing is None:
            session.add(
                PreventionAction(
                    tenant_id=tenant_id,
                    case_id=row.id,
                    number=action.number,
                    assigned_at=_assigned_at(None, values, now),
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            continue
        if any(getattr(existing, k) != v for k, v in values.items()):
            existing.assigned_at = _assigned_at(existing, values, now)
            for k, v in values.items():
                setattr(existing, k, v)
            existing.updated_at = now
            session.add(existing)


async def _owner_id(
    session: AsyncSession, tenant_id: int, loaded: LoadedCase, owner: Mention, *, now: dt.datetime
) -> int | None:
    """The owner's row id: from the people the case was loaded with when they are known as
    named, else found or created (and their name refreshed)."""
    for person in loaded.people.values():
        same_name = owner.display_name is None or owner.display_name == person.display_name
        if person.platform_user_id == owner.user_id and same_name:
            return person.id
    found = await repo.person(
        session, tenant_id=tenant_id, user_id=owner.user_id, display_name=owner.display_name, now=now
    )
    loaded.people[found.id or 0] = found
    return found.id


def _assigned_at(
    existing: PreventionAction | None, values: dict[str, Any], now: dt.datetime
) -> dt.datetime | None:
    """An action becomes its owner's when it opens with an owner (publication) or changes hands
    while open; any other edit keeps the moment it became theirs."""
    live = values["status"] == ActionStatus.OPEN and values["owner_id"] is not None
    if not live:
        return None
    if existing is None or existing.status != ActionStatus.OPEN or existing.owner_id != values["owner_id"]:
        return now
    return existing.assigned_at or now


def risk_columns(risks: dict[str, bool] | None) -> dict[str, bool | None]:
    """The five risk-check columns of an action (None: not checked)."""
    keys = ("complexity", "coupling", "recovery", "spof", "diagnosability")
    return {f"risk_{k}": (risks.get(k) if risks is not None else None) for k in keys}


@dataclass(frozen=True)
class Answer:
    """The raw text of an accepted answer, kept beside the case as it was given."""

    question_key: str
    responder_id: int
    text: str


async def save_turn(
    session: AsyncSession,
    *,
    loaded: LoadedCase,
    conversation: Conversation,
    outcome: Outcome,
    answer: Answer | None,
    published_md: str | None,
    now: dt.datetime,
    unsaved: Unsaved | None = None,
) -> RawAnswer | None:
    """Write what one interview turn decided, at `now`: the raw answer, the case's fields, a
    publication, and the conversation's new state last, by compare-and-set (a turn that lost
    the race raises StaleConversation and the whole transaction is applied again); with
    `unsaved`, the case's columns and the conversation are left to it (a run's later turn
    goes on from the loaded rows). Returns the raw answer's row, for follow-ups that must
    name it."""
    case = loaded.row
    assert case.id is not None
    row = None
    if answer is not None:
        row = await repo.add_raw_answer(
            session,
            tenant_id=case.tenant_id,
            case_id=case.id,
            question_key=answer.question_key,
            responder_id=answer.responder_id,
            text=answer.text,
            at=now,
        )
    await save_draft(
        session, tenant_id=case.tenant_id, loaded=loaded, draft=outcome.case, now=now, unsaved=unsaved
    )
    if published_md is not None:
        case.published_at = now
        case.draft_md = published_md
        case.draft_method = "template"
        case.drafted_at = now
        session.add(case)
    if outcome.finished:
        conversation.active = False
    set_state(conversation, outcome.state)
    if unsaved is not None:
        unsaved.now = now
    else:
        await repo.save_conversation(session, conversation, expected_version=conversation.version, now=now)
    return row


def local_today(now: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return now.astimezone(tz).date()


def state_of(conversation: Conversation) -> State:
    """Where a stored interview stands."""
    return State(
        step=step_name(conversation.step),
        history=tuple((step_name(step), action) for step, action in conversation.history),
        current_action=conversation.current_action,
        return_to=conversation.return_to,
        pending=conversation.pending,
    )


def set_state(conversation: Conversation, state: State) -> None:
    """Record where the interview now stands (saved by repo.save_conversation)."""
    conversation.step = state.step
    conversation.history = [list(entry) for entry in state.history]
    conversation.current_action = state.current_action
    conversation.return_to = state.return_to
    conversation.pending = state.pending
