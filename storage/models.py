"""The tables. Every row that belongs to a team carries its tenant id.

Datetimes are timezone-aware UTC (sqlmodel's UTCDateTime refuses naive values).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def json_column() -> Any:
    return Field(default_factory=list, sa_column=Column(JsonType, nullable=False))


class CaseStatus(StrEnum):
    INTERVIEWING = "interviewing"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class ActionStatus(StrEnum):
    DRAFT = "draft"  # still being written in an interview; never reminded
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Tenant(SQLModel, table=True):
    __tablename__ = "tenants"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_tenant_platform_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    external_id: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=256)
    created_at: dt.datetime


class Person(SQLModel, table=True):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("tenant_id", "platform_user_id", name="uq_person_user"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    platform_user_id: str = Field(max_length=128)
    display_name: str | None = Field(default=None, max_length=256)
    timezone: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, max_length=35)  # `en-US`: how they write dates (0019_locale)
    is_admin: bool = Field(default=False)
    # For a tracker's assignee (0008_trackers): given with `tracker email`, matched by address.
    email: str | None = Field(default=None, max_length=320)
    created_at: dt.datetime
    updated_at: dt.datetime


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("tenant_id", "number", name="uq_case_number"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    number: int
    title: str | None = Field(default=None, max_length=300)
    severity: str | None = Field(default=None, max_length=8)
    area: str | None = Field(default=None, max_length=32, index=True)
    services: list[str] = json_column()
    started_at: dt.datetime | None = None
    detected_at: dt.datetime | None = None
    mitigated_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    symptoms: list[str] = json_column()
    # [{"kind": "hypothesis"|"signal", "text": ..., "cost": ...|None}]
    misjudgments: list[dict[str, Any]] = json_column()
    lucky: list[str] = json_column()  # where we got lucky: what limited the damage (0015_lucky)
    # [{"text": ..., "by": display name}]
    diagnostic_path: list[dict[str, Any]] = json_column()
    root_cause: str | None = Field(default=None, sa_column=Column(Text))
    contributing_factors: list[str] = json_column()
    lead_id: int | None = Field(default=None, foreign_key="people.id")
    status: str = Field(default=CaseStatus.INTERVIEWING, max_length=16, index=True)
    require_evidence: bool = Field(default=False)
    draft_md: str | None = Field(default=None, sa_column=Column(Text))
    draft_method: str | None = Field(default=None, max_length=32)
    draft_meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    drafted_at: dt.datetime | None = None
    # The model's grounded draft (narrative, cleaned sections, blame flags); None until one arrives.
    model_draft: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonType, nullable=True))
    source: str = Field(default="interview", max_length=32)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None = None


class RawAnswer(SQLModel, table=True):
    __tablename__ = "raw_answers"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    question_key: str = Field(max_length=64)
    responder_id: int = Field(foreign_key="people.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    at: dt.datetime


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        # At most one live interview per chat conversation (thread, DM, terminal).
        Index(
            "uq_conversation_active_key",
            "tenant_id",
            "conversation_key",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    platform: str = Field(max_length=32)
    conversation_key: str = Field(max_length=256)
    case_id: int = Field(foreign_key="cases.id", index=True)
    flow: str = Field(default="interview", max_length=32)
    step: str = Field(max_length=64)
    # [[step, action number or null], ...]: where `back` returns to.
    history: list[Any] = json_column()
    current_action: int | None = None
    return_to: str | None = Field(default=None, max_length=64)
    pending: str | None = Field(default=None, max_length=32)
    active: bool = Field(default=True)
    version: int = Field(default=1)
    created_at: dt.datetime
    updated_at: dt.datetime


class PreventionAction(SQLModel, table=True):
    __tablename__ = "prevention_actions"
    __table_args__ = (
        UniqueConstraint("case_id", "number", name="uq_action_number"),
        Index("ix_action_owner_status", "tenant_id", "owner_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    number: int
    description: str = Field(sa_column=Column(Text, nullable=False))
    kind: str | None = Field(default=None, max_length=16)
    owner_id: int | None = Field(default=None, foreign_key="people.id")
    due_date: dt.date | None = None
    status: str = Field(default=ActionStatus.DRAFT, max_length=16)
    snoozed_until: dt.date | None = None
    # Since when the current owner has held it (publication, reassignment, import): the weekly
    # digest waits for the first slot after this, so a new owner is not chased the same day.
    assigned_at: dt.datetime | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="people.id")
    closed_at: dt.datetime | None = None
    evidence: str | None = Field(default=None, sa_column=Column(Text))
    risk_complexity: bool | None = None
    risk_coupling: bool | None = None
    risk_recovery: bool | None = None
    risk_spof: bool | None = None
    risk_diagnosability: bool | None = None
    suggested: bool = Field(default=False)
    # The action's issue in the workspace's tracker, once created (0008_trackers).
    issue_url: str | None = Field(default=None, max_length=512)
    created_at: dt.datetime
    updated_at: dt.datetime


class SuggestionStatus(StrEnum):
    PENDING = "pending"  # waiting for the case lead
    ACCEPTED = "accepted"  # became a prevention action (action_id), owner and due set by a person
    DROPPED = "dropped"
    SUPERSEDED = "superseded"  # a later draft replaced it before anyone decided


class ActionSuggestion(SQLModel, table=True):
    """An action the model proposes; it becomes a real action only when the case lead accepts it."""

    __tablename__ = "action_suggestions"
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_suggestion_number"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    number: int  # shown as <case>.S<number>, e.g. 12.S1
    description: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(max_length=16)
    gap: str | None = Field(default=None, sa_column=Column(Text))  # which gap it closes, and why
    based_on: list[int] = json_column()  # raw_answers ids the model cited
    status: str = Field(default=SuggestionStatus.PENDING, max_length=16)
    model: str | None = Field(default=None, max_length=128)
    prompt_version: str | None = Field(default=None, max_length=64)
    action_id: int | None = Field(default=None, foreign_key="prevention_actions.id")
    decided_by_id: int | None = Field(default=None, foreign_key="people.id")
    decided_at: dt.datetime | None = None
    reason: str | None = Field(default=None, sa_column=Column(Text))
    created_at: dt.datetime


class ClaimedSend(SQLModel):
    """A send claimed before it happens, then marked: the columns every reminder ledger shares.

    The unique key of each ledger (per owner-week, per case-week) is the claim; `status`
    goes claimed -> sent | failed | uncertain | gave_up.
    """

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    week: str = Field(max_length=10)  # ISO week, e.g. 2026-W47
    status: str = Field(default="claimed", max_length=16)
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: dt.datetime
    sent_at: dt.datetime | None = None
    # sa_type, not sa_column: a Column object cannot be shared by the tables inheriting it.
    last_error: str | None = Field(default=None, sa_type=Text)
    action_ids: list[int] = Field(default_factory=list, sa_type=JsonType, nullable=False)
    # Not before this time: backoff after a failed or uncertain attempt (0002_reminders).
    next_attempt_at: dt.datetime | None = None


class ReminderDelivery(ClaimedSend, table=True):
    """One weekly digest per owner and ISO week."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "owner_id", "week", name="uq_delivery_owner_week"),
        Index("ix_delivery_week", "week"),  # the sweep reads this week's rows (0002_reminders)
    )

    owner_id: int = Field(foreign_key="people.id")


class ReminderEscalation(ClaimedSend, table=True):
    """An action two weeks overdue is posted once a week in its case's thread (or to the lead)."""

    __tablename__ = "reminder_escalations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "case_id", "week", name="uq_escalation_case_week"),
        Index("ix_escalation_week", "week"),
    )

    case_id: int = Field(foreign_key="cases.id")
    target: str | None = Field(default=None, max_length=300)  # "thread:<key>" or "lead:<user id>"


class ReminderSchedule(SQLModel, table=True):
    """A tenant's own digest slot, overriding REMINDER_DAY / REMINDER_TIME."""

    __tablename__ = "reminder_schedules"

    tenant_id: int = Field(foreign_key="tenants.id", primary_key=True)
    weekday: int  # 0 = Monday ... 6 = Sunday
    at_time: str = Field(max_length=5)  # "HH:MM", local to each person
    updated_by_id: int | None = Field(default=None, foreign_key="people.id")
    updated_at: dt.datetime


class ProcessedEvent(SQLModel, table=True):
    """Inbound event ids already applied: chat platforms retry, we apply once."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("tenant_id", "event_id", name="uq_event"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id")
    event_id: str = Field(max_length=256)
    at: dt.datetime


class ConversationRef(SQLModel, table=True):
    """How to speak in a conversation again later, unprompted (reminders, follow-ups).

    `reference` is the platform's own serialized address (on Teams, a Bot Framework
    ConversationReference); storage keeps it opaque.
    """

    __tablename__ = "conversation_refs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation_id", name="uq_conversation_ref"),
        Index("ix_conversation_ref_user", "tenant_id", "scope", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    platform: str = Field(max_length=32)
    conversation_id: str = Field(max_length=512)
    scope: str = Field(max_length=16)  # personal | channel | groupChat
    user_id: str | None = Field(default=None, max_length=128)  # personal: the person on the other side
    team_id: str | None = Field(default=None, max_length=256)
    service_url: str = Field(max_length=512)
    reference: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    created_at: dt.datetime
    updated_at: dt.datetime


class UserAlias(SQLModel, table=True):
    """Another id a platform knows a person by (on Teams: the Entra object id behind a
    `29:` user id), so a pick from the directory resolves to the person."""

    __tablename__ = "user_aliases"
    __table_args__ = (UniqueConstraint("tenant_id", "alias", name="uq_user_alias"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    alias: str = Field(max_length=128)
    user_id: str = Field(max_length=128)
    display_name: str | None = Field(default=None, max_length=256)
    updated_at: dt.datetime


class CaseImport(SQLModel, table=True):
    """A case loaded by `casebook import`: its key in the source, so a re-import updates it."""

    __tablename__ = "case_imports"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id", name="uq_case_import_key"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    external_id: str = Field(max_length=256)
    source_format: str = Field(max_length=32)  # "casebook" | "cloud"
    digest: str = Field(max_length=64)  # sha256 of the validated record: unchanged means skip
    imported_at: dt.datetime
    updated_at: dt.datetime


class ApiToken(SQLModel, table=True):
    """A bearer token for the read API of one tenant. Only its SHA-256 is kept (0009_web)."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    hint: str = Field(max_length=12)  # the token's first characters, so people can tell tokens apart
    created_by_id: int | None = Field(default=None, foreign_key="people.id")
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None


class InboxEntry(SQLModel, table=True):
    """A message a platform was told we have: written before the acknowledgement, applied after.

    `event_key` is the platform's id for the delivery, so a retry or redelivery lands on the same
    row. `prelude_*` is a step some messages need before they can be applied (Slack's `start`
    posts the thread's root first): claimed before the send, its result (the root's ts) kept.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "tenant", "event_key", name="uq_inbox_event"),
        Index("ix_inbox_pending", "platform", "applied_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    tenant: str = Field(max_length=128)
    event_key: str = Field(max_length=256)
    conversation_key: str = Field(max_length=512)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    received_at: dt.datetime
    applied_at: dt.datetime | None = None
    prelude_claimed_at: dt.datetime | None = None
    prelude_result: str | None = Field(default=None, max_length=256)


class OutboxEntry(SQLModel, table=True):
    """Something the core decided to send (kind "reply") or to run later (kind "job"), written in
    the transaction that decided it. A reply is claimed just before the send and settled after:
    a claimed, unsettled reply found after a crash may have landed, so it is never sent again."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "platform", "settled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    tenant: str = Field(max_length=128)
    conversation_key: str = Field(max_length=512)
    inbox_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=16)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    created_at: dt.datetime
    claimed_at: dt.datetime | None = None
    settled_at: dt.datetime | None = None
    outcome: str | None = Field(default=None, max_length=16)


class TrackerConfig(SQLModel, table=True):
    """The tracker a workspace picked (`tracker github owner/repo`): one per tenant."""

    __tablename__ = "tracker_configs"

    tenant_id: int = Field(foreign_key="tenants.id", primary_key=True)
    kind: str = Field(max_length=16)  # github | jira | linear
    target: str = Field(max_length=256)  # owner/repo | project key | team key
    set_by_id: int | None = Field(default=None, foreign_key="people.id")
    set_at: dt.datetime
    # Closed issues were pulled up to this time (the reconciliation that catches missed webhooks).
    reconciled_at: dt.datetime | None = None


class TrackerIssue(SQLModel, table=True):
    """One action's issue in one tracker destination: the create is claimed here before the call.

    `state` goes claimed -> linked, or claimed -> failed -> claimed ... (retried with backoff).
    `synced_*` is the action as the tracker last saw it; a difference is pushed.
    """

    __tablename__ = "tracker_issues"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "target", "action_id", name="uq_tracker_issue_action"),
        Index("ix_tracker_issue_key", "kind", "issue_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    action_id: int = Field(foreign_key="prevention_actions.id", index=True)
    kind: str = Field(max_length=16)
    target: str = Field(max_length=256)
    marker: str = Field(max_length=128)  # written in the issue; a retry looks it up before creating
    state: str = Field(max_length=16)
    issue_key: str | None = Field(default=None, max_length=256)
    issue_url: str | None = Field(default=None, max_length=512)
    lease_token: str | None = Field(default=None, max_length=128)
    lease_until: dt.datetime | None = None
    attempts: int = Field(default=0)
    next_attempt_at: dt.datetime | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    synced_status: str | None = Field(default=None, max_length=16)
    synced_due: dt.date | None = None
    synced_owner_id: int | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class ReportChannel(SQLModel, table=True):
    """Where a tenant's monthly report goes, as an admin chose (`report #channel monthly`)."""

    __tablename__ = "report_channels"
    __table_args__ = (UniqueConstraint("tenant_id", "cadence", name="uq_report_channel_cadence"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    cadence: str = Field(max_length=16)  # "monthly"
    conversation_key: str = Field(max_length=256)
    chosen_by_id: int | None = Field(default=None, foreign_key="people.id")
    chosen_at: dt.datetime


class MonthlyReport(SQLModel, table=True):
    """One monthly report of a tenant, claimed before it is sent: unique per (tenant, channel,
    month), so two clocks never post it twice and a channel chosen mid-month still gets its own."""

    __tablename__ = "monthly_reports"
    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation_key", "month", name="uq_monthly_report_channel_month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    month: str = Field(max_length=7)  # YYYY-MM, the month reported on
    conversation_key: str = Field(max_length=256)
    status: str = Field(max_length=16)  # new | claimed | sent | failed (retried) | refused | uncertain
    claimed_at: dt.datetime
    sent_at: dt.datetime | None = None
    last_error: str | None = Field(default=None, sa_type=Text)


class QuestionMessage(SQLModel, table=True):
    """The platform message that asks a conversation's current question of one step (Slack: its
    ts), so that the answer can edit it in place into a one-line record, even after a restart."""

    __tablename__ = "question_messages"

    platform: str = Field(primary_key=True, max_length=32)
    conversation_key: str = Field(primary_key=True, max_length=512)
    step: str = Field(primary_key=True, max_length=64)
    ref: str = Field(max_length=256)
    posted_at: dt.datetime


class DigestMessage(SQLModel, table=True):
    """A weekly digest as it was posted (Slack "channel:ts", Teams "conversation|activity"), so that
    a later Done / Snooze / Reassign of one of its actions edits it in place (0014_surfaces)."""

    __tablename__ = "digest_messages"
    __table_args__ = (
        UniqueConstraint("delivery_key", name="uq_digest_message_key"),
        Index("ix_digest_message_tenant_posted", "tenant_id", "posted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id")
    owner_id: int = Field(foreign_key="people.id")
    delivery_key: str = Field(max_length=128)
    ref: str = Field(max_length=512)
    posted_at: dt.datetime
    # One of its actions changed since it was drawn: set in the change's own transaction, so a
    # change is never missed whatever order concurrent turns commit in.
    stale: bool = False


class DigestMessageAction(SQLModel, table=True):
    """Which actions a digest message lists, in order: a change to one finds its messages."""

    __tablename__ = "digest_message_actions"
    __table_args__ = (Index("ix_digest_message_action", "action_id"),)

    message_id: int = Field(foreign_key="digest_messages.id", primary_key=True)
    action_id: int = Field(foreign_key="prevention_actions.id", primary_key=True)
    position: int
