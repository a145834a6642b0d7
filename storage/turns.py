"""What every interview answer reads and writes at once, as statements built once: the
turn's rows in one read, and the case's changed columns in one write."""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, update
from sqlalchemy import select as select_many
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, Conversation, Person, Tenant
from storage.tables import table_of


class TurnRows(NamedTuple):
    """What one inbound message needs, read at once (None: not there)."""

    tenant: Tenant | None
    person: Person | None
    conversation: Conversation | None
    case: Case | None
    lead: Person | None


async def turn_rows(
    session: AsyncSession, *, platform: str, external_id: str, user_id: str, key: str
) -> TurnRows:
    """One statement for a turn: the tenant, the speaker, the live conversation under `key`,
    its case and the case's lead. The conversation comes detached: it is written only by
    `save_conversation`'s compare-and-set, never by a flush of the object."""
    params = {"platform": platform, "external_id": external_id, "user_id": user_id, "key": key}
    row = (await session.exec(_turn_rows_query(), params=params)).first()
    if row is None:
        return TurnRows(None, None, None, None, None)
    found = TurnRows(*row)
    if found.conversation is not None:
        session.expunge(found.conversation)
    return found


@cache
def _turn_rows_query() -> Any:
    """Built once, with bound parameters: every answer runs it, and building a five-entity
    join (and its cache key) cost more than running it."""
    lead = aliased(Person)
    return (
        # sqlalchemy's select: sqlmodel's is typed for up to four entities
        select_many(Tenant, Person, Conversation, Case, lead)
        .select_from(Tenant)
        .outerjoin(
            Person,
            and_(col(Person.tenant_id) == Tenant.id, col(Person.platform_user_id) == bindparam("user_id")),
        )
        .outerjoin(
            Conversation,
            and_(
                col(Conversation.tenant_id) == Tenant.id,
                col(Conversation.conversation_key) == bindparam("key"),
                col(Conversation.active).is_(True),
            ),
        )
        .outerjoin(Case, and_(col(Case.id) == Conversation.case_id, col(Case.tenant_id) == Tenant.id))
        .outerjoin(lead, col(lead.id) == Case.lead_id)
        .where(
            col(Tenant.platform) == bindparam("platform"), col(Tenant.external_id) == bindparam("external_id")
        )
    )


async def update_case(session: AsyncSession, case: Case, values: dict[str, Any]) -> None:
    """Write `values` to the case's row at once, and to the loaded row as its stored state (a
    Core statement: nearly every answer changes its case, and the unit of work's flush of one
    row cost more than the statement)."""
    connection = await session.connection()
    await connection.execute(_update_case_statement(), {**values, "the_id": case.id})
    stage_case(case, values)


def stage_case(case: Case, values: dict[str, Any]) -> None:
    """`values` on the loaded row as if stored, unwritten: `update_case` writes them later
    in the same transaction (a run of answers writes its case once)."""
    for name, value in values.items():
        set_committed_value(case, name, value)


@cache
def _update_case_statement() -> Any:
    """The SET columns come from the parameters."""
    table = table_of(Case)
    return update(table).where(table.c.id == bindparam("the_id"))
