"""core: prevention_actions.assigned_at, since when the current owner holds an action

The reminder sweep used the earliest `updated_at` as "owned since", which any edit (or a
re-import) moved. Backfilled from `updated_at`, the best guess the old rows have.

Revision ID: 0007_core
Revises: 0006_insights
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007_core"
down_revision: str | Sequence[str] | None = "0006_insights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prevention_actions") as batch:
        batch.add_column(sa.Column("assigned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE prevention_actions SET assigned_at = updated_at "
        "WHERE owner_id IS NOT NULL AND status <> 'draft'"
    )


def downgrade() -> None:
    with op.batch_alter_table("prevention_actions") as batch:
        batch.drop_column("assigned_at")
