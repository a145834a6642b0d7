"""A person's own page (Slack App Home, a Teams personal tab): what they owe, what they worked on.

Platform-neutral: the adapter renders `Home` with its own widgets; every button is a
`Choice` whose value runs a command, exactly as if typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.commands.actions import action_item
from bot.messages import ListItem
from bot.parsing import zone
from bot.turn import resolve_person
from storage import repo
from storage.db import Database
from storage.models import Case, CaseStatus

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
        tenant, person = await resolve_person(
            session,
            platform=viewer.platform,
            tenant=viewer.tenant,
            user_id=viewer.user_id,
            display_name=viewer.display_name,
            timezone=viewer.timezone,
            is_admin=viewer.is_admin,
            now=now,
        )
        assert tenant.id is not None
        assert person.id is not None
        today = now.astimezone(zone(person.timezone or viewer.timezone or default_timezone)).date()
        rows = await repo.open_actions(session, tenant_id=tenant.id, owner_id=person.id)
        cases = await repo.recent_cases_of(
            session, tenant_id=tenant.id, person_id=person.id, limit=RECENT_CASES
        )
        still_open = await repo.open_action_counts(
            session, tenant_id=tenant.id, case_ids=[c.id for c in cases if c.id]
        )
    lines = [_case_line(case, still_open.get(case.id or 0, 0)) for case in cases]
    return Home(
        actions=tuple(action_item(case, action, today=today) for case, action in rows),
        recent_cases=tuple(lines),
        open_count=len(rows),
        overdue_count=sum(1 for _, a in rows if a.due_date is not None and a.due_date < today),
    )


def _case_line(case: Case, open_actions: int) -> str:
    state = {
        CaseStatus.INTERVIEWING: "interview in progress",
        CaseStatus.PUBLISHED: f"published, {open_actions} open action(s)",
        CaseStatus.CANCELLED: "cancelled",
    }.get(CaseStatus(case.status), case.status)
    return f"**#{case.number}** {case.title or 'untitled'} · {case.severity or 'no severity'} · {state}"
