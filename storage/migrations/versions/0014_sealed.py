"""sealed: room for sealed Slack tokens, and the plaintext ones sealed when a key is configured

A sealed token is about 1.4 times its plaintext plus 64 characters: a long rotating token no
longer fits slack_sdk's String(200) columns once sealed, so they become Text. With
CASEBOOK_SECRET_KEY set, rows written before sealing was turned on are sealed here (the
newest key); without it they stay as they are (and are read as before).

Revision ID: 0014_sealed
Revises: 0013_quiet
Create Date: 2026-12-02 01:40:00
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.secrets import SEALED_COLUMNS, Sealer

revision: str = "0014_sealed"
down_revision: str | Sequence[str] | None = "0013_quiet"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _retype(to: sa.types.TypeEngine, was: sa.types.TypeEngine) -> None:  # type: ignore[type-arg]
    for table, columns in SEALED_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=to, existing_type=was, existing_nullable=True)


def _rewrite(change: str) -> None:
    """Every stored secret passed through the configured keys (`seal` or `open`)."""
    keys = (os.environ.get("CASEBOOK_SECRET_KEY") or "").strip()
    if not keys:
        return
    sealer = Sealer.from_keys(keys)
    transform = sealer.seal if change == "seal" else sealer.open
    connection = op.get_bind()
    for table, columns in SEALED_COLUMNS.items():
        rows = connection.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM {table}")).all()
        for row in rows:
            values = {column: transform(getattr(row, column)) for column in columns}
            if any(values[c] != getattr(row, c) for c in columns):
                assignments = ", ".join(f"{c} = :{c}" for c in columns)
                connection.execute(
                    sa.text(f"UPDATE {table} SET {assignments} WHERE id = :id"), {**values, "id": row.id}
                )


def upgrade() -> None:
    _retype(sa.Text(), sa.String(length=200))
    _rewrite("seal")


def downgrade() -> None:
    _rewrite("open")  # plaintext fits the narrower columns again
    _retype(sa.String(length=200), sa.Text())
