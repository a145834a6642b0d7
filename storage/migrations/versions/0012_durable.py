"""durable: the inbox (messages acknowledged, then applied) and the outbox (replies and jobs
decided in the same transaction as the answer, delivered from there)

Revision ID: 0012_durable
Revises: 0009_web
Create Date: 2026-12-01 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_durable"
down_revision: str | Sequence[str] | None = "0009_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", _text(32), nullable=False),
        sa.Column("tenant", _text(128), nullable=False),
        sa.Column("event_key", _text(256), nullable=False),
        sa.Column("conversation_key", _text(512), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        _time("received_at", nullable=False),
        _time("applied_at"),
        _time("prelude_claimed_at"),
        sa.Column("prelude_result", _text(256), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "tenant", "event_key", name="uq_inbox_event"),
    )
    op.create_index("ix_inbox_pending", "inbox", ["platform", "applied_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", _text(32), nullable=False),
        sa.Column("tenant", _text(128), nullable=False),
        sa.Column("conversation_key", _text(512), nullable=False),
        sa.Column("inbox_id", sa.Integer(), nullable=True),
        sa.Column("kind", _text(16), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        _time("created_at", nullable=False),
        _time("claimed_at"),
        _time("settled_at"),
        sa.Column("outcome", _text(16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["platform", "settled_at"])
    op.create_index(op.f("ix_outbox_inbox_id"), "outbox", ["inbox_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_inbox_id"), table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_inbox_pending", table_name="inbox")
    op.drop_table("inbox")
