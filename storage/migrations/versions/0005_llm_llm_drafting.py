"""LLM drafting: the model's grounded draft on cases, and the actions it suggests.

Revision ID: 0005_llm
Revises: 0004_teams
Create Date: 2026-11-20 22:05:05.743973
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_llm"
down_revision: str | Sequence[str] | None = "0004_teams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("gap", sa.Text(), nullable=True),
        sa.Column(
            "based_on",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("prompt_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["prevention_actions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["people.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "number", name="uq_suggestion_number"),
    )
    with op.batch_alter_table("action_suggestions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_suggestions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_suggestions_tenant_id"), ["tenant_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "model_draft",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("model_draft")

    with op.batch_alter_table("action_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_suggestions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_action_suggestions_case_id"))

    op.drop_table("action_suggestions")
