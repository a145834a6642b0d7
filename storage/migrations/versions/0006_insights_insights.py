"""insights: case imports, and the full-text index of cases for similar-case search

The index is kept in sync by the database itself (triggers on `cases`), so every
write path (interview, import, edits from other features) updates it without the
application having to remember. SQLite: an FTS5 table `case_search` whose rowid is
the case id. PostgreSQL: a table `case_search(case_id, tenant_id, published, document
tsvector)` with a GIN index, filled by a trigger function. Neither has a model:
storage/migrations/env.py keeps autogenerate away from them. A later SQLite migration that
*recreates* `cases` (batch mode) drops its triggers and must create them again, as
`_create_sqlite_triggers()` does here (tests/test_insights_schema.py checks they exist at head).

Revision ID: 0006_insights
Revises: 0005_llm
Create Date: 2026-11-20 22:04:39.900453
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# --- SQLite: FTS5 ----------------------------------------------------------------------------

_SQLITE_TEXT = """
    coalesce({r}.title, ''),
    (SELECT coalesce(group_concat(value, ' . '), '') FROM json_each({r}.symptoms)),
    (SELECT coalesce(group_concat(json_extract(value, '$.text'), ' . '), '')
       FROM json_each({r}.misjudgments) WHERE json_extract(value, '$.kind') = 'signal'),
    (SELECT coalesce(group_concat(json_extract(value, '$.text'), ' . '), '')
       FROM json_each({r}.diagnostic_path)),
    coalesce({r}.root_cause, '') || ' . ' ||
      (SELECT coalesce(group_concat(value, ' . '), '') FROM json_each({r}.contributing_factors)),
    (SELECT coalesce(group_concat(value, ' , '), '') FROM json_each({r}.services))
"""
_SQLITE_INSERT = (
    "INSERT INTO case_search (rowid, title, symptoms, signals, diagnosis, cause, services) "
    "SELECT {r}.id, " + _SQLITE_TEXT
)
_INDEXED_COLUMNS = (
    "title, symptoms, misjudgments, diagnostic_path, root_cause, contributing_factors, services"
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS case_search_after_insert",
    "DROP TRIGGER IF EXISTS case_search_after_update",
    "DROP TRIGGER IF EXISTS case_search_after_delete",
    "DROP TABLE IF EXISTS case_search",
)


def _create_sqlite_triggers() -> None:
    new_row = _SQLITE_INSERT.format(r="new")
    op.execute(f"CREATE TRIGGER case_search_after_insert AFTER INSERT ON cases BEGIN {new_row}; END")
    op.execute(
        f"CREATE TRIGGER case_search_after_update AFTER UPDATE OF {_INDEXED_COLUMNS} ON cases BEGIN "
        f"DELETE FROM case_search WHERE rowid = old.id; {new_row}; END"
    )
    op.execute(
        "CREATE TRIGGER case_search_after_delete AFTER DELETE ON cases BEGIN "
        "DELETE FROM case_search WHERE rowid = old.id; END"
    )


def _create_sqlite_index() -> None:
    # Porter stemming: "timeouts" finds "timed out"'s neighbours "timeout", "errors" finds "error".
    op.execute(
        "CREATE VIRTUAL TABLE case_search USING fts5("
        "title, symptoms, signals, diagnosis, cause, services, "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    _create_sqlite_triggers()
    op.execute(_SQLITE_INSERT.format(r="cases") + " FROM cases")


# --- PostgreSQL: tsvector + GIN ------------------------------------------------------------------

# Weights: A symptoms, B title and services, C misleading signals and diagnosis, D root cause.
_PG_DOCUMENT = """
CREATE FUNCTION case_search_document(c cases) RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT
    setweight(jsonb_to_tsvector('english', c.symptoms, '["string"]'), 'A') ||
    setweight(to_tsvector('english', coalesce(c.title, '')), 'B') ||
    setweight(jsonb_to_tsvector('english', c.services, '["string"]'), 'B') ||
    setweight(jsonb_to_tsvector('english',
      jsonb_path_query_array(c.misjudgments, '$[*] ? (@.kind == "signal").text'), '["string"]'), 'C') ||
    setweight(jsonb_to_tsvector('english',
      jsonb_path_query_array(c.diagnostic_path, '$[*].text'), '["string"]'), 'C') ||
    setweight(to_tsvector('english', coalesce(c.root_cause, '')), 'D') ||
    setweight(jsonb_to_tsvector('english', c.contributing_factors, '["string"]'), 'D')
$$
"""
_PG_REFRESH = """
CREATE FUNCTION case_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO case_search (case_id, tenant_id, published, document)
  VALUES (NEW.id, NEW.tenant_id, NEW.status = 'published', case_search_document(NEW))
  ON CONFLICT (case_id) DO UPDATE
    SET tenant_id = EXCLUDED.tenant_id, published = EXCLUDED.published, document = EXCLUDED.document;
  RETURN NULL;
END
$$
"""
PG_DROP = (
    "DROP TRIGGER IF EXISTS case_search_refresh ON cases",
    "DROP FUNCTION IF EXISTS case_search_refresh()",
    "DROP TABLE IF EXISTS case_search",
    "DROP FUNCTION IF EXISTS case_search_document(cases)",
)


def _create_postgres_index() -> None:
    op.execute(
        "CREATE TABLE case_search ("
        "case_id integer PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE, "
        "tenant_id integer NOT NULL, "
        # The status, copied so a lookup filters and ranks in this table alone.
        "published boolean NOT NULL, "
        "document tsvector NOT NULL)"
    )
    op.execute("CREATE INDEX case_search_document_gin ON case_search USING gin (document)")
    op.execute("CREATE INDEX case_search_tenant ON case_search (tenant_id, published)")
    op.execute(_PG_DOCUMENT)
    op.execute(_PG_REFRESH)
    op.execute(
        f"CREATE TRIGGER case_search_refresh AFTER INSERT OR UPDATE OF {_INDEXED_COLUMNS}, tenant_id, status "
        "ON cases FOR EACH ROW EXECUTE FUNCTION case_search_refresh()"
    )
    op.execute(
        "INSERT INTO case_search (case_id, tenant_id, published, document) "
        "SELECT c.id, c.tenant_id, c.status = 'published', case_search_document(c) FROM cases c"
    )


revision: str = "0006_insights"
down_revision: str | Sequence[str] | None = "0005_llm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "case_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("source_format", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("imported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
        sa.UniqueConstraint("tenant_id", "external_id", name="uq_case_import_key"),
    )
    with op.batch_alter_table("case_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_imports_tenant_id"), ["tenant_id"], unique=False)

    # ### end Alembic commands ###
    if op.get_bind().dialect.name == "postgresql":
        _create_postgres_index()
    else:
        _create_sqlite_index()


def downgrade() -> None:
    for statement in PG_DROP if op.get_bind().dialect.name == "postgresql" else SQLITE_DROP:
        op.execute(statement)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("case_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_imports_tenant_id"))

    op.drop_table("case_imports")
    # ### end Alembic commands ###
