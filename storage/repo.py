"""Queries. Every function takes the tenant it works in; none crosses tenants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, func, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import (
    ActionStatus,
    Case,
    CaseImport,
    Conversation,
    Person,
    PreventionAction,
    ProcessedEvent,
    RawAnswer,
    Tenant,
)
from storage.tables import table_of

Row = TypeVar("Row", bound=SQLModel)


class StaleConversation(RuntimeError):
    """Another message moved this conversation on first; apply again from fresh state."""


def insert_for(dialect: str) -> Any:
    """The dialect's INSERT, for ON CONFLICT DO NOTHING (both databases support it)."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _insert(session: AsyncSession) -> Any:
    return insert_for(session.get_bind().dialect.name)


async def first_or_insert(
    session: AsyncSession, query: SelectOfScalar[Row], model: type[Row], **values: Any
) -> Row:
    """The row `query` finds, inserted from `values` first when there is none. ON CONFLICT DO
    NOTHING: two first sightings at once insert one row, and both get it."""
    found = (await session.exec(query)).first()
    if found is not None:
        return found
    await session.exec(_insert(session)(model).values(**values).on_conflict_do_nothing())
    return (await session.exec(query)).one()


async def tenant(
    session: AsyncSession, *, platform: str, external_id: str, now: dt.datetime, name: str | None = None
) -> Tenant:
    """The tenant with this external id, created at `now` on first sight."""
    query = select(Tenant).where(Tenant.platform == platform, Tenant.external_id == external_id)
    found = await first_or_insert(
        session, query, Tenant, platform=platform, external_id=external_id, name=name, created_at=now
    )
    if name and found.name != name:
        found.name = name
        session.add(found)
    return found


async def person(
    session: AsyncSession,
    *,
    tenant_id: int,
    user_id: str,
    now: dt.datetime,
    display_name: str | None = None,
    timezone: str | None = None,
    is_admin: bool | None = None,
    locale: str | None = None,
) -> Person:
    """The person with this platform id, created on first sight; names, zones and admin
    rights refreshed from what the platform says at `now` (None: not said, left as is)."""
    query = select(Person).where(Person.tenant_id == tenant_id, Person.platform_user_id == user_id)
    found = await first_or_insert(
        session,
        query,
        Person,
        tenant_id=tenant_id,
        platform_user_id=user_id,
        display_name=display_name,
        timezone=timezone,
        locale=locale,
        is_admin=bool(is_admin),
        created_at=now,
        updated_at=now,
    )
    refresh_person(
        session,
        found,
        display_name=display_name,
        timezone=timezone,
        is_admin=is_admin,
        now=now,
        locale=locale,
    )
    return found


def refresh_person(
    session: AsyncSession,
    found: Person,
    *,
    display_name: str | None,
    timezone: str | None,
    is_admin: bool | None,
    now: dt.datetime,
    locale: str | None = None,
) -> None:
    """What the platform says of a person now, written only where it differs (None: not said)."""
    changed = False
    if display_name and found.display_name != display_name:
        found.display_name, changed = display_name, True
    if timezone and found.timezone != timezone:
        found.timezone, changed = timezone, True
    if is_admin is not None and found.is_admin != is_admin:
        found.is_admin, changed = is_admin, True
    if locale and found.locale != locale:
        found.locale, changed = locale, True
    if changed:
        found.updated_at = now
        session.add(found)


async def people_by_ids(session: AsyncSession, *, tenant_id: int, ids: Sequence[int]) -> dict[int, Person]:
    if not ids:
        return {}
    rows = await session.exec(
        select(Person).where(Person.tenant_id == tenant_id, col(Person.id).in_(set(ids)))
    )
    return {p.id: p for p in rows if p.id is not None}


async def record_event(session: AsyncSession, *, tenant_id: int, event_id: str, now: dt.datetime) -> bool:
    """True the first time an event id is seen in this tenant, False for a retry."""
    connection = await session.connection()
    values = {"tenant_id": tenant_id, "event_id": event_id, "at": now}
    return (
        await connection.execute(_record_event_statement(connection.dialect.name), values)
    ).first() is not None


@cache
def _record_event_statement(dialect: str) -> Any:
    # RETURNING, not rowcount: psycopg reports rowcount -1 here, which read as "new" every time.
    table = table_of(ProcessedEvent)
    return insert_for(dialect)(table).on_conflict_do_nothing().returning(table.c.id)


async def next_case_number(session: AsyncSession, *, tenant_id: int) -> int:
    """The tenant's next case number. On PostgreSQL the tenant's row is locked until commit
    first, so writers opening cases at once queue here: guessing the same number and retrying
    on the unique key failed a burst of 50 starts in one workspace (after 8 tries, "send it
    again"). SQLite has one writer anyway."""
    if session.get_bind().dialect.name == "postgresql":
        # NO KEY UPDATE: it queues case openers without waiting on the key-share locks that
        # this turn's own inserts (processed events, people) hold on the same row.
        await session.exec(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update(key_share=True))
    current = (await session.exec(select(func.max(Case.number)).where(Case.tenant_id == tenant_id))).one()
    return int(current or 0) + 1


async def case_by_number(session: AsyncSession, *, tenant_id: int, number: int) -> Case | None:
    return (
        await session.exec(select(Case).where(Case.tenant_id == tenant_id, Case.number == number))
    ).first()


async def case_by_id(
    session: AsyncSession, *, tenant_id: int, case_id: int, lock: bool = False
) -> Case | None:
    """`lock` queues concurrent writers of the same case on PostgreSQL (row lock until commit);
    SQLite has one writer anyway."""
    query = select(Case).where(Case.tenant_id == tenant_id, Case.id == case_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def actions_with_owners(
    session: AsyncSession, *, tenant_id: int, case_id: int
) -> list[tuple[PreventionAction, Person | None]]:
    """A case's actions in order, each with its owner: one statement."""
    params = {"tenant_id": tenant_id, "case_id": case_id}
    rows = await session.exec(_actions_with_owners_query(), params=params)
    return [(action, owner) for action, owner in rows]


@cache
def _actions_with_owners_query() -> Any:
    return (
        select(PreventionAction, Person)
        .outerjoin(Person, col(Person.id) == PreventionAction.owner_id)
        .where(
            col(PreventionAction.tenant_id) == bindparam("tenant_id"),
            col(PreventionAction.case_id) == bindparam("case_id"),
        )
        .order_by(col(PreventionAction.number))
    )


async def actions_of_case(session: AsyncSession, *, tenant_id: int, case_id: int) -> list[PreventionAction]:
    rows = await session.exec(
        select(PreventionAction)
        .where(PreventionAction.tenant_id == tenant_id, PreventionAction.case_id == case_id)
        .order_by(col(PreventionAction.number))
    )
    return list(rows)


async def delete_actions_of_case(session: AsyncSession, *, tenant_id: int, case_id: int) -> None:
    """Every action of a case (a re-import replaces them all)."""
    await session.exec(
        delete(PreventionAction).where(
            col(PreventionAction.tenant_id) == tenant_id, col(PreventionAction.case_id) == case_id
        )
    )


async def imports_by_key(
    session: AsyncSession, *, tenant_id: int, keys: Sequence[str]
) -> dict[str, CaseImport]:
    """The imported records already known, by their key in the source."""
    rows = await session.exec(
        select(CaseImport).where(CaseImport.tenant_id == tenant_id, col(CaseImport.external_id).in_(keys))
    )
    return {row.external_id: row for row in rows}


async def action_status_by_ref(
    session: AsyncSession, *, platform: str, tenant: str, case_number: int, number: int
) -> str | None:
    """An action's status by the tenant's external id: a read, no tenant row created."""
    found = (
        await session.exec(
            select(PreventionAction.status)
            .join(Case, col(PreventionAction.case_id) == col(Case.id))
            .join(Tenant, col(Tenant.id) == col(Case.tenant_id))
            .where(
                Tenant.platform == platform,
                Tenant.external_id == tenant,
                Case.number == case_number,
                PreventionAction.number == number,
            )
        )
    ).first()
    return str(found) if found is not None else None


async def action_by_ref(
    session: AsyncSession, *, tenant_id: int, case_number: int, number: int
) -> tuple[Case, PreventionAction] | None:
    row = (
        await session.exec(
            select(Case, PreventionAction)
            .join(PreventionAction, col(PreventionAction.case_id) == col(Case.id))
            .where(
                Case.tenant_id == tenant_id,
                Case.number == case_number,
                PreventionAction.number == number,
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def open_actions(
    session: AsyncSession, *, tenant_id: int, owner_id: int | None = None
) -> list[tuple[Case, PreventionAction]]:
    """Open actions (snoozed included), by due date; one owner's, or the whole tenant's."""
    query = (
        select(Case, PreventionAction)
        .join(PreventionAction, col(PreventionAction.case_id) == col(Case.id))
        .where(
            PreventionAction.tenant_id == tenant_id,
            PreventionAction.status == ActionStatus.OPEN,
        )
        .order_by(col(PreventionAction.due_date), col(Case.number), col(PreventionAction.number))
    )
    if owner_id is not None:
        query = query.where(PreventionAction.owner_id == owner_id)
    return [(c, a) for c, a in await session.exec(query)]


async def recent_cases_of(session: AsyncSession, *, tenant_id: int, person_id: int, limit: int) -> list[Case]:
    """Cases the person led, answered in, or owns an action of: most recently touched first."""
    answered = select(RawAnswer.case_id).where(
        RawAnswer.tenant_id == tenant_id, RawAnswer.responder_id == person_id
    )
    owned = select(PreventionAction.case_id).where(
        PreventionAction.tenant_id == tenant_id, PreventionAction.owner_id == person_id
    )
    query = (
        select(Case)
        .where(
            Case.tenant_id == tenant_id,
            or_(
                col(Case.lead_id) == person_id,
                col(Case.id).in_(answered),
                col(Case.id).in_(owned),
            ),
        )
        .order_by(col(Case.updated_at).desc(), col(Case.number).desc())
        .limit(limit)
    )
    return list(await session.exec(query))


async def open_action_counts(session: AsyncSession, *, tenant_id: int, case_ids: list[int]) -> dict[int, int]:
    if not case_ids:
        return {}
    rows = await session.exec(
        select(PreventionAction.case_id, func.count())
        .where(
            PreventionAction.tenant_id == tenant_id,
            PreventionAction.status == ActionStatus.OPEN,
            col(PreventionAction.case_id).in_(case_ids),
        )
        .group_by(col(PreventionAction.case_id))
    )
    return {case_id: int(count) for case_id, count in rows}


async def cases(
    session: AsyncSession,
    *,
    tenant_id: int,
    statuses: Sequence[str] | None = None,
    limit: int = 50,
) -> list[Case]:
    query = select(Case).where(Case.tenant_id == tenant_id)
    if statuses:
        query = query.where(col(Case.status).in_(statuses))
    return list(await session.exec(query.order_by(col(Case.number).desc()).limit(limit)))


async def active_conversation(
    session: AsyncSession, *, tenant_id: int, key: str, lock: bool = False
) -> Conversation | None:
    """The live interview in a conversation. `lock` queues concurrent answers to it on
    PostgreSQL (row lock until commit); SQLite serialises writers and relies on the version check."""
    query = select(Conversation).where(
        Conversation.tenant_id == tenant_id,
        Conversation.conversation_key == key,
        col(Conversation.active).is_(True),
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def active_conversation_for_case(
    session: AsyncSession, *, tenant_id: int, case_id: int
) -> Conversation | None:
    return (
        await session.exec(
            select(Conversation).where(
                Conversation.tenant_id == tenant_id,
                Conversation.case_id == case_id,
                col(Conversation.active).is_(True),
                Conversation.flow == "interview",
            )
        )
    ).first()


async def save_conversation(
    session: AsyncSession, conversation: Conversation, *, expected_version: int, now: dt.datetime
) -> None:
    """Compare-and-set on the version: two answers racing on one thread cannot both win."""
    values = {
        "step": conversation.step,
        "history": conversation.history,
        "current_action": conversation.current_action,
        "return_to": conversation.return_to,
        "pending": conversation.pending,
        "active": conversation.active,
        "version": expected_version + 1,
        "updated_at": now,
        "the_id": conversation.id,
        "expected_version": expected_version,
    }
    connection = await session.connection()
    result = await connection.execute(_save_conversation_statement(), values)
    if result.rowcount != 1:
        raise StaleConversation(f"conversation {conversation.id} moved past version {expected_version}")
    # As stored: the next turn of the same transaction may go on from this object.
    set_committed_value(conversation, "version", expected_version + 1)


@cache
def _save_conversation_statement() -> Any:
    """Built once (every answer runs it); the SET columns come from the parameters."""
    table = table_of(Conversation)
    return update(table).where(
        table.c.id == bindparam("the_id"), table.c.version == bindparam("expected_version")
    )


async def add_raw_answer(
    session: AsyncSession,
    *,
    tenant_id: int,
    case_id: int,
    question_key: str,
    responder_id: int,
    text: str,
    at: dt.datetime,
) -> RawAnswer:
    """The answer's row, inserted at once (a Core statement: every answer writes one), with its id."""
    row = RawAnswer(
        tenant_id=tenant_id,
        case_id=case_id,
        question_key=question_key,
        responder_id=responder_id,
        text=text,
        at=at,
    )
    connection = await session.connection()
    values = row.model_dump(exclude={"id"})
    row.id = (await connection.execute(_add_raw_answer_statement(), values)).scalar_one()
    return row


@cache
def _add_raw_answer_statement() -> Any:
    table = table_of(RawAnswer)
    return insert(table).returning(table.c.id)


async def raw_answers(session: AsyncSession, *, tenant_id: int, case_id: int) -> list[RawAnswer]:
    return list(
        await session.exec(
            select(RawAnswer)
            .where(RawAnswer.tenant_id == tenant_id, RawAnswer.case_id == case_id)
            .order_by(col(RawAnswer.at), col(RawAnswer.id))
        )
    )


async def conversation_is_active(session: AsyncSession, *, platform: str, tenant: str, key: str) -> bool:
    """One indexed read by the tenant's external id: no tenant row is created for a lookup."""
    found = (
        await session.exec(
            select(Conversation.id)
            .join(Tenant, col(Tenant.id) == col(Conversation.tenant_id))
            .where(
                Tenant.platform == platform,
                Tenant.external_id == tenant,
                Conversation.conversation_key == key,
                col(Conversation.active).is_(True),
            )
            .limit(1)
        )
    ).first()
    return found is not None
