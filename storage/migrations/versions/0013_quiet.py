"""quiet: where each interview question was posted, so that its answer edits it in place

Revision ID: 0013_quiet
Revises: 0010_reports
Create Date: 2026-12-01 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013_quiet"
down_revision: str | Sequence[str] | None = "0010_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "question_messages",
        sa.Column("platform", _text(32), nullable=False),
        sa.Column("conversation_key", _text(512), nullable=False),
        sa.Column("step", _text(64), nullable=False),
        sa.Column("ref", _text(256), nullable=False),
        sa.Column("posted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "conversation_key", "step"),
    )


def downgrade() -> None:
    op.drop_table("question_messages")
