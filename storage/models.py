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
    created_at: dt.datetime = Field(default_factory=utcnow)


class Person(SQLModel, table=True):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("tenant_id", "platform_user_id", name="uq_person_user"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    platform_user_id: str = Field(max_length=128)
    display_name: str | None = Field(default=None, max_length=256)
    timezone: str | None = Field(default=None, max_length=64)
    is_admin: bool = Field(default=False)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


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
    source: str = Field(default="interview", max_length=32)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    published_at: dt.datetime | None = None


class RawAnswer(SQLModel, table=True):
    __tablename__ = "raw_answers"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    question_key: str = Field(max_length=64)
    responder_id: int = Field(foreign_key="people.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    at: dt.datetime = Field(default_factory=utcnow)


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
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


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
    closed_by_id: int | None = Field(default=None, foreign_key="people.id")
    closed_at: dt.datetime | None = None
    evidence: str | None = Field(default=None, sa_column=Column(Text))
    risk_complexity: bool | None = None
    risk_coupling: bool | None = None
    risk_recovery: bool | None = None
    risk_spof: bool | None = None
    risk_diagnosability: bool | None = None
    suggested: bool = Field(default=False)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class ReminderDelivery(SQLModel, table=True):
    """One weekly digest per owner and ISO week; the unique key is the claim."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (UniqueConstraint("tenant_id", "owner_id", "week", name="uq_delivery_owner_week"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    owner_id: int = Field(foreign_key="people.id")
    week: str = Field(max_length=10)  # ISO week, e.g. 2026-W47
    status: str = Field(default="claimed", max_length=16)  # claimed | sent | failed
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    action_ids: list[int] = json_column()


class ProcessedEvent(SQLModel, table=True):
    """Inbound event ids already applied: chat platforms retry, we apply once."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("tenant_id", "event_id", name="uq_event"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id")
    event_id: str = Field(max_length=256)
    at: dt.datetime = Field(default_factory=utcnow)


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
    imported_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
