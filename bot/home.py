"""A person's own page (Slack App Home, a Teams personal tab): what they owe, what they worked on.

Platform-neutral: the adapter renders `Home` with its own widgets; every button is a
`Choice` whose value runs a command, exactly as if typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands.actions import action_item
from bot.messages import ListItem
from bot.parsing import zone
from storage import repo
from storage.db import Database
from storage.models import ActionStatus, Case, CaseStatus, PreventionAction, RawAnswer

RECENT_CASES = 8


@dataclass(frozen=True)
class Home:
    actions: tuple[ListItem, ...]
    recent_cases: tuple[str, ...]  # one Markdown line per case, most recent first
    open_count: int
    overdue_count: int


@dataclass(frozen=True)
class Viewer:
    platform: str
    tenant: str
    user_id: str
    display_name: str | None = None
    timezone: str | None = None
    is_admin: bool = False


async def load_home(db: Database, viewer: Viewer, *, now: dt.datetime, default_timezone: str = "UTC") -> Home:
    async with db.transaction() as session:
        tenant = await repo.tenant(session, platform=viewer.platform, external_id=viewer.tenant)
        assert tenant.id is not None
        person = await repo.person(
            session,
            tenant_id=tenant.id,
            user_id=viewer.user_id,
            display_name=viewer.display_name,
            timezone=viewer.timezone,
            is_admin=viewer.is_admin or None,
        )
        assert person.id is not None
        today = now.astimezone(zone(person.timezone or viewer.timezone or default_timezone)).date()
        rows = await repo.open_actions(session, tenant_id=tenant.id, owner_id=person.id)
        cases = await _recent_cases(session, tenant_id=tenant.id, person_id=person.id)
        still_open = await _open_counts(session, tenant_id=tenant.id, case_ids=[c.id for c in cases if c.id])
    lines = [_case_line(case, still_open.get(case.id or 0, 0)) for case in cases]
    return Home(
        actions=tuple(action_item(case, action, today=today) for case, action in rows),
        recent_cases=tuple(lines),
        open_count=len(rows),
        overdue_count=sum(1 for _, a in rows if a.due_date is not None and a.due_date < today),
    )


async def _recent_cases(session: AsyncSession, *, tenant_id: int, person_id: int) -> list[Case]:
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
        .limit(RECENT_CASES)
    )
    return list(await session.exec(query))


async def _open_counts(session: AsyncSession, *, tenant_id: int, case_ids: list[int]) -> dict[int, int]:
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


def _case_line(case: Case, open_actions: int) -> str:
    state = {
        CaseStatus.INTERVIEWING: "interview in progress",
        CaseStatus.PUBLISHED: f"published, {open_actions} open action(s)",
        CaseStatus.CANCELLED: "cancelled",
    }.get(CaseStatus(case.status), case.status)
    return f"**#{case.number}** {case.title or 'untitled'} · {case.severity or 'no severity'} · {state}"
