"""One inbound message, resolved inside its transaction: who, where, when, in which zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import interview, parsing
from bot.config import Settings
from bot.messages import Inbound, InboundKind, Mention
from bot.parsing import zone
from bot.store import LoadedCase, Unsaved
from storage import repo, turns
from storage.models import Case, Conversation, Person, Tenant


async def resolve_person(
    session: AsyncSession,
    *,
    platform: str,
    tenant: str,
    user_id: str,
    now: dt.datetime,
    display_name: str | None = None,
    timezone: str | None = None,
    is_admin: bool = False,
    tenant_name: str | None = None,
    locale: str | None = None,
) -> tuple[Tenant, Person]:
    """The tenant and the person speaking, created on first sight and refreshed from what the
    platform says now (admin rights included: a demotion applies too)."""
    found = await repo.tenant(session, platform=platform, external_id=tenant, name=tenant_name, now=now)
    assert found.id is not None
    person = await repo.person(
        session,
        tenant_id=found.id,
        user_id=user_id,
        display_name=display_name,
        timezone=timezone,
        is_admin=is_admin,
        now=now,
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
    # The live conversation under the inbound's key, its case and the case's lead, read with
    # the speaker (None: no interview or responder DM runs there). Detached: saved by CAS only.
    conversation: Conversation | None = None
    case: Case | None = None
    lead: Person | None = None
    carry: Carry = field(default_factory=lambda: Carry())
    carried_case: LoadedCase | None = None  # the case as the run's previous turn left it

    @property
    def tenant_id(self) -> int:
        assert self.tenant.id is not None
        return self.tenant.id

    @property
    def now(self) -> dt.datetime:
        """The turn's one moment (the adapter stamped it on arrival): every write takes it."""
        return self.inbound.at

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


@dataclass
class Carry:
    """What one turn of a run leaves the next, in the same transaction: its rows as it left
    them, its case when the actions did not change, and the writes it left for later
    (`unsaved`). Only an interview turn that stays on its question leaves rows; the next turn
    takes them (or reads afresh, after `save`), so a run goes on only while each turn keeps
    them."""

    rows: turns.TurnRows | None = None
    case: LoadedCase | None = None
    unsaved: Unsaved | None = None

    @property
    def goes_on(self) -> bool:
        return self.rows is not None

    def keep(self, turn: Turn, case: LoadedCase | None) -> None:
        self.rows = turns.TurnRows(turn.tenant, turn.person, turn.conversation, turn.case, turn.lead)
        self.case = case

    def unsaved_for(self, case: Case, conversation: Conversation, now: dt.datetime) -> Unsaved:
        """The writes this run's turns leave for its end (started by the first of them)."""
        if self.unsaved is None:
            self.unsaved = Unsaved(case, conversation, conversation.version, now)
        return self.unsaved

    async def save(self, session: AsyncSession) -> None:
        """Write what the run's turns left: before anything reads the rows afresh, and at the
        run's end."""
        unsaved, self.unsaved = self.unsaved, None
        if unsaved is not None:
            await unsaved.save(session)

    async def take(
        self, session: AsyncSession, inbound: Inbound
    ) -> tuple[turns.TurnRows | None, LoadedCase | None]:
        """The rows left for `inbound`: only its own speaker's, in its own conversation."""
        rows, case = self.rows, self.case
        self.rows, self.case = None, None
        usable = (
            rows is not None
            and rows.person is not None
            and rows.conversation is not None
            and rows.conversation.conversation_key == inbound.conversation_key
            and rows.person.platform_user_id == inbound.user_id
        )
        if not usable:
            await self.save(session)
            return None, None
        return rows, case


async def begin_turn(
    session: AsyncSession, inbound: Inbound, settings: Settings, *, carry: Carry | None = None
) -> Turn:
    """Load what the turn needs in one read: tenant, speaker, live conversation, case, lead
    (none when the run's previous turn left them in `carry`). A first sight (no tenant or no
    person yet) creates them, then reads again."""
    carry = carry or Carry()
    rows, case = await carry.take(session, inbound)
    if rows is None:
        rows = await _turn_rows(session, inbound)
    if rows.tenant is None or rows.person is None:
        await resolve_person(
            session,
            platform=inbound.platform,
            tenant=inbound.tenant,
            user_id=inbound.user_id,
            display_name=inbound.user_name,
            timezone=inbound.user_timezone,
            is_admin=inbound.user_is_admin,
            tenant_name=inbound.tenant_name,
            locale=inbound.user_locale,
            now=inbound.at,
        )
        rows = await _turn_rows(session, inbound)
        assert rows.tenant is not None and rows.person is not None
    else:
        _refresh(session, rows.tenant, rows.person, inbound)
    return Turn(
        session,
        inbound,
        rows.tenant,
        rows.person,
        settings,
        rows.conversation,
        rows.case,
        rows.lead,
        carry=carry,
        carried_case=case,
    )


async def _turn_rows(session: AsyncSession, inbound: Inbound) -> turns.TurnRows:
    return await turns.turn_rows(
        session,
        platform=inbound.platform,
        external_id=inbound.tenant,
        user_id=inbound.user_id,
        key=inbound.conversation_key,
    )


def _refresh(session: AsyncSession, tenant: Tenant, person: Person, inbound: Inbound) -> None:
    """What the platform says now of the workspace and the speaker (admin rights included)."""
    if inbound.tenant_name and tenant.name != inbound.tenant_name:
        tenant.name = inbound.tenant_name
        session.add(tenant)
    repo.refresh_person(
        session,
        person,
        display_name=inbound.user_name,
        timezone=inbound.user_timezone,
        is_admin=inbound.user_is_admin,
        now=inbound.at,
        locale=parsing.locale_tag(inbound.user_locale),
    )


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
