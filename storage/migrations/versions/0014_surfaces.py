"""surfaces: digest messages kept for editing in place; monthly reports claimed per channel

Revision ID: 0014_surfaces
Revises: 0014_sealed
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014_surfaces"
down_revision: str | Sequence[str] | None = "0014_sealed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "digest_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("delivery_key", _text(128), nullable=False),
        sa.Column("ref", _text(512), nullable=False),
        sa.Column("posted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_key", name="uq_digest_message_key"),
    )
    op.create_index("ix_digest_message_tenant_posted", "digest_messages", ["tenant_id", "posted_at"])
    op.create_table(
        "digest_message_actions",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["prevention_actions.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["digest_messages.id"]),
        sa.PrimaryKeyConstraint("message_id", "action_id"),
    )
    op.create_index("ix_digest_message_action", "digest_message_actions", ["action_id"])
    with op.batch_alter_table("monthly_reports", schema=None) as batch_op:
        batch_op.drop_constraint("uq_monthly_report_month", type_="unique")
        batch_op.create_unique_constraint(
            "uq_monthly_report_channel_month", ["tenant_id", "conversation_key", "month"]
        )


def downgrade() -> None:
    with op.batch_alter_table("monthly_reports", schema=None) as batch_op:
        batch_op.drop_constraint("uq_monthly_report_channel_month", type_="unique")
        batch_op.create_unique_constraint("uq_monthly_report_month", ["tenant_id", "month"])
    op.drop_index("ix_digest_message_action", table_name="digest_message_actions")
    op.drop_table("digest_message_actions")
    op.drop_index("ix_digest_message_tenant_posted", table_name="digest_messages")
    op.drop_table("digest_messages")
