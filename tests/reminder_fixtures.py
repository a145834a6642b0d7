"""Test helpers for reminders: a recording notifier, a settable clock, seeded actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.messages import Reply
from bot.notify import SendResult
from storage import repo
from storage.db import Database
from storage.models import ActionStatus, Case, CaseStatus, Person, PreventionAction


@dataclass(frozen=True)
class Sent:
    tenant: str
    user_id: str
    replies: tuple[Reply, ...]
    at: dt.datetime

    @property
    def refs(self) -> list[str]:
        return [item.ref or "" for reply in self.replies for item in reply.items]


@dataclass
class RecordingNotifier:
    """Records every direct message; can be told to answer with a given result."""

    platform: str = "console"
    sent: list[Sent] = field(default_factory=list)
    posts: list[tuple[str, str, tuple[Reply, ...]]] = field(default_factory=list)
    results: list[SendResult] = field(default_factory=list)  # consumed first, then ok
    clock: FakeClock | None = None
    lost_when_uncertain: bool = False  # an uncertain send did not land after all
    advance_per_send: dt.timedelta | None = None  # a slow platform: time passes on each send
    attempts: int = 0

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        import asyncio

        await asyncio.sleep(0)  # let concurrent sweeps interleave here, as a network call would
        self.attempts += 1
        result = self.results.pop(0) if self.results else SendResult(ok=True)
        if result.ok or (result.uncertain and not self.lost_when_uncertain):
            at = self.clock.now() if self.clock else MONDAY  # a chosen time, never the wall clock
            self.sent.append(Sent(tenant, user_id, tuple(replies), at))
        if self.clock is not None and self.advance_per_send is not None:
            self.clock.current += self.advance_per_send
        return result

    def to(self, user_id: str) -> list[Sent]:
        return [s for s in self.sent if s.user_id == user_id]


@dataclass
class PostingNotifier(RecordingNotifier):
    """Also posts into conversations (threads)."""

    async def post_in_conversation(
        self, *, tenant: str, conversation_key: str, replies: Sequence[Reply]
    ) -> SendResult:
        self.posts.append((tenant, conversation_key, tuple(replies)))
        return SendResult(ok=True)


@dataclass
class CheckingNotifier(RecordingNotifier):
    """Can tell whether a delivery key was posted (as Slack can from message metadata)."""

    async def was_delivered(
        self, *, tenant: str, user_id: str, delivery_key: str, since: dt.datetime
    ) -> bool | None:
        return any(
            r.delivery_key == delivery_key for s in self.sent if s.user_id == user_id for r in s.replies
        )


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        return self.current

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **kwargs: float) -> dt.datetime:
        self.current += dt.timedelta(**kwargs)
        return self.current


# A fixed Monday: every test builds its times from it, whatever day the suite runs on.
MONDAY = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)  # 00:00 UTC
SEEDED_AT = MONDAY - dt.timedelta(days=2)  # the Saturday before: due from MONDAY's slot on


@dataclass
class Seeded:
    tenant_id: int
    case: Case
    lead: Person
    people: dict[str, Person]
    actions: list[PreventionAction]


async def seed_case(
    db: Database,
    *,
    platform: str = "console",
    tenant: str = "T1",
    number: int = 1,
    owners: Sequence[tuple[str, dt.date | None]] = (("bob", dt.date(2026, 12, 1)),),
    timezones: dict[str, str] | None = None,
    lead: str = "alice",
    thread: str | None = None,
    since: dt.datetime = SEEDED_AT,
) -> Seeded:
    """A published case whose actions are open since `since`, owned by `owners` (user id, due date)."""
    timezones = timezones or {}
    async with db.transaction() as session:
        t = await repo.tenant(session, now=since, platform=platform, external_id=tenant)
        assert t.id is not None
        people: dict[str, Person] = {}
        for user in {lead, *(o for o, _ in owners)}:
            people[user] = await repo.person(
                session,
                now=since,
                tenant_id=t.id,
                user_id=user,
                display_name=user.capitalize(),
                timezone=timezones.get(user),
            )
        case = Case(
            tenant_id=t.id,
            number=number,
            title=f"Incident {number}",
            lead_id=people[lead].id,
            status=CaseStatus.PUBLISHED,
            published_at=since,
            created_at=since,
            updated_at=since,
        )
        session.add(case)
        await session.flush()
        assert case.id is not None
        actions = []
        for i, (owner, due) in enumerate(owners, start=1):
            action = PreventionAction(
                tenant_id=t.id,
                case_id=case.id,
                number=i,
                description=f"Action {number}.{i} for {owner}",
                owner_id=people[owner].id,
                due_date=due,
                status=ActionStatus.OPEN,
                kind="prevent",
                created_at=since,
                updated_at=since,
                assigned_at=since,
            )
            session.add(action)
            actions.append(action)
        if thread:
            from storage.models import Conversation

            session.add(
                Conversation(
                    tenant_id=t.id,
                    platform=platform,
                    conversation_key=thread,
                    case_id=case.id,
                    step="done",
                    active=False,
                    created_at=since,
                    updated_at=since,
                )
            )
        await session.flush()
        return Seeded(t.id, case, people[lead], people, actions)


class Crash(BaseException):
    """The process dies mid-sweep (not an Exception: nothing in the sweep may swallow it)."""


@dataclass
class CrashingNotifier(CheckingNotifier):
    """The process dies on the next send: before it reaches the platform, or just after (`lands`)."""

    crash_next: bool = True
    lands: bool = False

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        if not self.crash_next:
            return await super().send_direct(tenant=tenant, user_id=user_id, replies=replies)
        self.crash_next = False
        if self.lands:
            await super().send_direct(tenant=tenant, user_id=user_id, replies=replies)
        raise Crash


@dataclass
class BlindCrashingNotifier(RecordingNotifier):
    """Dies just after the platform took the next message, and cannot look in DM history
    (Teams, the console, Slack without im:history)."""

    crash_next: bool = True

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        result = await super().send_direct(tenant=tenant, user_id=user_id, replies=replies)
        if self.crash_next:
            self.crash_next = False
            raise Crash
        return result


async def delivery_rows(db: Database, table: str = "reminder_deliveries") -> list[dict[str, object]]:
    from sqlalchemy import text

    async with db.transaction() as session:
        result = await session.exec(text(f"SELECT * FROM {table} ORDER BY id"))  # type: ignore[call-overload]
        return [dict(row._mapping) for row in result]


async def press(
    db: Database,
    value: str,
    *,
    user: str,
    at: dt.datetime,
    tenant: str = "T1",
    platform: str = "console",
    form: dict[str, str] | None = None,
    admin: bool = False,
) -> list[Reply]:
    """Press a button in a DM: what an adapter sends when `value` comes back."""
    import uuid

    from bot.config import Settings
    from bot.messages import Inbound, InboundKind
    from bot.service import handle

    inbound = Inbound(
        platform=platform,
        tenant=tenant,
        conversation_key=f"dm-{user}",
        user_id=user,
        user_name=user.capitalize(),
        user_is_admin=admin,
        direct=True,
        kind=InboundKind.FORM if form is not None else InboundKind.ACTION,
        text=value,
        form=form,
        event_id=f"ev-{uuid.uuid4().hex}",
        at=at,
    )
    return await handle(db, inbound, settings=Settings())
