"""Where the bot can speak again: stored conversation references and user aliases."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import select

from storage import reach, repo
from storage.db import Database
from storage.models import ConversationRef, UserAlias
from tests.teams.activities import BOB, CAROL, NOW, TENANT

MINUTE = dt.timedelta(minutes=1)


async def _tenant_id(db: Database) -> int:
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="teams", external_id=TENANT)
        assert tenant.id is not None
        return tenant.id


async def _save_ref(
    db: Database, tenant_id: int, *, now: dt.datetime = NOW, **changes: object
) -> ConversationRef:
    values: dict[str, object] = {
        "scope": "personal",
        "service_url": "https://smba.example/emea/",
        "reference": {"conversation": {"id": "a:1"}},
        "user_id": BOB.id,
        **changes,
    }
    async with db.transaction() as session:
        return await reach.save_conversation_ref(
            session,
            tenant_id=tenant_id,
            platform="teams",
            conversation_id="a:1",
            now=now,
            **values,  # type: ignore[arg-type]
        )


async def test_a_reference_is_stored_once_and_refreshed_only_where_it_changed(db: Database) -> None:
    tenant_id = await _tenant_id(db)
    first = await _save_ref(db, tenant_id, team_id="team-1")
    same = await _save_ref(db, tenant_id, now=NOW + MINUTE, team_id=None)  # what a turn does not know is kept
    assert same.updated_at == first.updated_at and same.team_id == "team-1"
    moved = await _save_ref(db, tenant_id, now=NOW + 2 * MINUTE, service_url="https://smba.example/amer/")
    assert (moved.id, moved.service_url, moved.team_id) == (first.id, "https://smba.example/amer/", "team-1")
    assert moved.updated_at == NOW + 2 * MINUTE
    async with db.transaction() as session:
        assert len((await session.exec(select(ConversationRef))).all()) == 1
        await reach.forget_conversation(session, tenant_id=tenant_id, conversation_id="a:1")
    async with db.transaction() as session:
        assert await reach.personal_ref(session, tenant_id=tenant_id, user_id=BOB.id) is None


async def test_two_first_sightings_at_once_store_one_row(db: Database) -> None:
    tenant_id = await _tenant_id(db)
    refs = await asyncio.gather(*(_save_ref(db, tenant_id) for _ in range(4)))
    assert len({r.id for r in refs}) == 1
    async with db.transaction() as session:
        assert len((await session.exec(select(ConversationRef))).all()) == 1


async def test_an_alias_follows_the_person_it_names_now(db: Database) -> None:
    tenant_id = await _tenant_id(db)
    async with db.transaction() as session:
        await reach.save_alias(
            session, now=NOW, tenant_id=tenant_id, alias=BOB.aad, user_id=BOB.id, display_name="Bob Smith"
        )
    async with db.transaction() as session:
        await reach.save_alias(
            session, now=NOW, tenant_id=tenant_id, alias=BOB.aad, user_id=CAROL.id, display_name=None
        )
    async with db.transaction() as session:
        alias = await reach.user_by_alias(session, tenant_id=tenant_id, alias=BOB.aad)
        assert alias is not None and (alias.user_id, alias.display_name) == (CAROL.id, "Bob Smith")
        assert len((await session.exec(select(UserAlias))).all()) == 1
