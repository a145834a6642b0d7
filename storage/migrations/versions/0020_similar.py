"""similar: a narrow index that tells a search hit's tenant and status without reading the case

SQLite's similar-case ranking joins every full-text hit to `cases` for its tenant and status.
A case row is a few kilobytes of JSON (overflow pages), so each of those lookups read far more
than two small columns: this covering index answers them from a few hundred kilobytes.
PostgreSQL keeps tenant and status in `case_search` itself and needs nothing here. The index
has no model (storage.search.UNMODELLED_PREFIXES: its name starts with `case_search`).

Revision ID: 0020_similar
Revises: 0015_lucky
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020_similar"
down_revision: str | Sequence[str] | None = "0015_lucky"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "case_search_scope"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON cases (id, tenant_id, status)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
