"""One inbound message, resolved inside its transaction: who, where, when, in which zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import interview, parsing
from bot.config import Settings
from bot.messages import Inbound, InboundKind, Mention
from bot.parsing import zone
from storage import repo
from storage.models import Case, Person, Tenant


async def resolve_person(
    session: AsyncSession,
    *,
    platform: str,
    tenant: str,
    user_id: str,
    display_name: str | None = None,
    timezone: str | None = None,
    is_admin: bool = False,
    tenant_name: str | None = None,
    locale: str | None = None,
) -> tuple[Tenant, Person]:
    """The tenant and the person speaking, created on first sight and refreshed from what the
    platform says now (admin rights included: a demotion applies too)."""
    found = await repo.tenant(session, platform=platform, external_id=tenant, name=tenant_name)
    assert found.id is not None
    person = await repo.person(
        session,
        tenant_id=found.id,
        user_id=user_id,
        display_name=display_name,
        timezone=timezone,
        is_admin=is_admin,
        locale=parsing.locale_tag(locale),
    )
    return found, person


@dataclass
class Turn:
    """What one inbound message resolved to, inside its transaction."""

    session: AsyncSession
    inbound: Inbound
    tenant: Tenant
    person: Person
    settings: Settings

    @property
    def tenant_id(self) -> int:
        assert self.tenant.id is not None
        return self.tenant.id

    @property
    def tz_name(self) -> str:
        return self.person.timezone or self.inbound.user_timezone or self.settings.default_timezone

    @property
    def locale(self) -> str | None:
        """How the speaker writes dates: refreshed on the person row from what the platform says
        now (`resolve_person`), else what it said before."""
        return self.person.locale

    @property
    def today(self) -> dt.date:
        """The speaker's date now, in their own timezone (due dates and snoozes are local)."""
        return self.inbound.at.astimezone(zone(self.tz_name)).date()


async def begin_turn(session: AsyncSession, inbound: Inbound, settings: Settings) -> Turn:
    tenant, person = await resolve_person(
        session,
        platform=inbound.platform,
        tenant=inbound.tenant,
        user_id=inbound.user_id,
        display_name=inbound.user_name,
        timezone=inbound.user_timezone,
        is_admin=inbound.user_is_admin,
        tenant_name=inbound.tenant_name,
        locale=inbound.user_locale,
    )
    return Turn(session, inbound, tenant, person, settings)


def interview_context(
    turn: Turn, case: Case | None = None, *, case_timezone: str | None = None
) -> interview.Context:
    """What the interview needs to know of this message. Without a case (a responder's DM),
    nobody manages anything from here. Times are read and shown in `case_timezone` (the
    lead's) when known, so every responder sees the one timeline the draft will show."""
    sender = Mention(user_id=turn.person.platform_user_id, display_name=turn.person.display_name)
    may_manage = case is not None and (turn.person.is_admin or case.lead_id == turn.person.id)
    tz_name = case_timezone or turn.tz_name
    return interview.Context(
        now=turn.inbound.at,
        tz=zone(tz_name),
        tz_name=tz_name,
        sender=sender,
        mentions=turn.inbound.mentions,
        may_manage=may_manage,
        max_chars=turn.settings.max_answer_chars,
        form=turn.inbound.form if turn.inbound.kind == InboundKind.FORM else None,
        month_first=parsing.month_first(turn.locale),
    )
