"""trackers: the workspace's tracker, one issue row per action and destination, issue links

`tracker_configs` holds the tracker a workspace picked; `tracker_issues` claims each
create under a unique key before the call and remembers what the tracker last saw;
`prevention_actions.issue_url` is the link shown in chat, digests and exports;
`people.email` matches an owner to a tracker's user for the assignee.

Revision ID: 0008_trackers
Revises: 0012_durable
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008_trackers"
down_revision: str | Sequence[str] | None = "0012_durable"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "tracker_configs",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", _TEXT(length=16), nullable=False),
        sa.Column("target", _TEXT(length=256), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reconciled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["set_by_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "tracker_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("kind", _TEXT(length=16), nullable=False),
        sa.Column("target", _TEXT(length=256), nullable=False),
        sa.Column("marker", _TEXT(length=128), nullable=False),
        sa.Column("state", _TEXT(length=16), nullable=False),
        sa.Column("issue_key", _TEXT(length=256), nullable=True),
        sa.Column("issue_url", _TEXT(length=512), nullable=True),
        sa.Column("lease_token", _TEXT(length=128), nullable=True),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("synced_status", _TEXT(length=16), nullable=True),
        sa.Column("synced_due", sa.Date(), nullable=True),
        sa.Column("synced_owner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["prevention_actions.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "kind", "target", "action_id", name="uq_tracker_issue_action"),
    )
    with op.batch_alter_table("tracker_issues", schema=None) as batch_op:
        batch_op.create_index("ix_tracker_issue_key", ["kind", "issue_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracker_issues_action_id"), ["action_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracker_issues_tenant_id"), ["tenant_id"], unique=False)
    op.add_column("prevention_actions", sa.Column("issue_url", _TEXT(length=512), nullable=True))
    op.add_column("people", sa.Column("email", _TEXT(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("email")
    with op.batch_alter_table("prevention_actions", schema=None) as batch_op:
        batch_op.drop_column("issue_url")
    op.drop_table("tracker_issues")
    op.drop_table("tracker_configs")
