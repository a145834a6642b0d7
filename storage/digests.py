"""Digest messages as posted, so that a change to one of their actions edits them in place.

A digest's row names where it landed (the notifier's `ref`) and which actions it lists. A change
to one of them (Done, Snooze, Reassign, Cancel; from chat, a button or the web) marks the row
`stale` in the change's own transaction; a redraw takes the mark off first (compare-and-set),
so a change that lands while it draws marks it again for the next pass.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import delete, insert, select, true, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.deliveries.sql import execute, table
from storage.deliveries.workload import ActionRow, action_columns
from storage.models import Case, DigestMessage, DigestMessageAction, Person, PreventionAction, Tenant


class StaleDigest(NamedTuple):
    id: int
    platform: str
    tenant: str  # the platform's tenant id
    owner_user_id: str
    owner_timezone: str | None
    delivery_key: str
    ref: str


class ListedAction(NamedTuple):
    """One action of a digest as it stands now."""

    row: ActionRow
    status: str
    owner_user_id: str | None
    owner_name: str | None


async def remember(
    session: AsyncSession,
    *,
    tenant_id: int,
    owner_id: int,
    delivery_key: str,
    ref: str,
    action_ids: Sequence[int],
    at: dt.datetime,
) -> None:
    """Keep where a digest landed and what it lists (a resend that landed replaces the row)."""
    m, i = table(DigestMessage).c, table(DigestMessageAction).c
    found = (await execute(session, select(m.id).where(m.delivery_key == delivery_key))).scalar()
    if found is None:
        inserted = await execute(
            session,
            insert(table(DigestMessage))
            .values(
                tenant_id=tenant_id,
                owner_id=owner_id,
                delivery_key=delivery_key,
                ref=ref,
                posted_at=at,
                stale=False,
            )
            .returning(m.id),
        )
        message_id = int(inserted.scalar_one())
    else:
        message_id = int(found)
        await execute(
            session,
            update(table(DigestMessage)).where(m.id == message_id).values(ref=ref, posted_at=at, stale=False),
        )
        await execute(session, delete(table(DigestMessageAction)).where(i.message_id == message_id))
    rows = [
        {"message_id": message_id, "action_id": action_id, "position": position}
        for position, action_id in enumerate(dict.fromkeys(action_ids))
    ]
    if rows:
        await execute(session, insert(table(DigestMessageAction)), rows)


async def mark_changed(session: AsyncSession, *, action_id: int) -> None:
    """An action changed: every digest message listing it is to be redrawn."""
    m, i = table(DigestMessage).c, table(DigestMessageAction).c
    listing = select(i.message_id).where(i.action_id == action_id)
    await execute(session, update(table(DigestMessage)).where(m.id.in_(listing)).values(stale=True))


async def stale(
    session: AsyncSession,
    *,
    posted_since: dt.datetime,
    platform: str | None = None,
    tenant: str | None = None,
) -> list[StaleDigest]:
    """Digests posted since then with an action changed since they were drawn."""
    m, t, p = table(DigestMessage).c, table(Tenant).c, table(Person).c
    query = (
        select(m.id, t.platform, t.external_id, p.platform_user_id, p.timezone, m.delivery_key, m.ref)
        .join(table(Tenant), t.id == m.tenant_id)
        .join(table(Person), p.id == m.owner_id)
        .where(m.stale == true(), m.posted_at >= posted_since)
        .order_by(m.id)
    )
    if platform is not None:
        query = query.where(t.platform == platform)
    if tenant is not None:
        query = query.where(t.external_id == tenant)
    return [StaleDigest(*row) for row in await execute(session, query)]


async def listed(session: AsyncSession, *, message_ids: Sequence[int]) -> dict[int, list[ListedAction]]:
    """The actions of each message, in the order it lists them, as they stand now."""
    if not message_ids:
        return {}
    i, a, c = table(DigestMessageAction).c, table(PreventionAction).c, table(Case).c
    owner = table(Person).alias("owner")
    query = (
        select(
            i.message_id,
            *action_columns(),
            a.status,
            owner.c.platform_user_id,
            owner.c.display_name,
        )
        .join(table(PreventionAction), a.id == i.action_id)
        .join(table(Case), c.id == a.case_id)
        .outerjoin(owner, owner.c.id == a.owner_id)
        .where(i.message_id.in_(list(message_ids)))
        .order_by(i.message_id, i.position)
    )
    found: dict[int, list[ListedAction]] = defaultdict(list)
    for message_id, *columns in await execute(session, query):
        *action, status, user_id, name = columns
        found[message_id].append(ListedAction(ActionRow(*action), str(status), user_id, name))
    return dict(found)


async def take(session: AsyncSession, *, message_id: int) -> bool:
    """Take the redraw of a stale message: False when another process took it first."""
    m = table(DigestMessage).c
    result = await execute(
        session,
        update(table(DigestMessage)).where(m.id == message_id, m.stale == true()).values(stale=False),
    )
    return bool(result.rowcount == 1)


async def give_back(session: AsyncSession, *, message_id: int) -> None:
    """A redraw that failed for a reason worth retrying: the next pass tries again."""
    m = table(DigestMessage).c
    await execute(session, update(table(DigestMessage)).where(m.id == message_id).values(stale=True))
