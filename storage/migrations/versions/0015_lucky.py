"""lucky: the case's "where we got lucky" (what limited the damage), and it in similar-case search

A JSON list column like the other written sections. The full-text index (0006_insights) takes
it in the misleading-signals group (SQLite FTS5 column `signals`, PostgreSQL weight C), as
bot/case.py FIELDS says (search="C"); the triggers are created again to watch the column.

Revision ID: 0015_lucky
Revises: 0019_locale
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0015_lucky"
down_revision: str | Sequence[str] | None = "0019_locale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SIGNALS = {
    False: """(SELECT coalesce(group_concat(json_extract(value, '$.text'), ' . '), '')
       FROM json_each({r}.misjudgments) WHERE json_extract(value, '$.kind') = 'signal')""",
    True: """((SELECT coalesce(group_concat(json_extract(value, '$.text'), ' . '), '')
       FROM json_each({r}.misjudgments) WHERE json_extract(value, '$.kind') = 'signal') || ' . ' ||
      (SELECT coalesce(group_concat(value, ' . '), '') FROM json_each({r}.lucky)))""",
}


def _sqlite_insert(lucky: bool) -> str:
    return (
        "INSERT INTO case_search (rowid, title, symptoms, signals, diagnosis, cause, services) "
        "SELECT {r}.id, coalesce({r}.title, ''), "
        "(SELECT coalesce(group_concat(value, ' . '), '') FROM json_each({r}.symptoms)), "
        + _SIGNALS[lucky]
        + ", (SELECT coalesce(group_concat(json_extract(value, '$.text'), ' . '), '') "
        "FROM json_each({r}.diagnostic_path)), "
        "coalesce({r}.root_cause, '') || ' . ' || "
        "(SELECT coalesce(group_concat(value, ' . '), '') FROM json_each({r}.contributing_factors)), "
        "(SELECT coalesce(group_concat(value, ' , '), '') FROM json_each({r}.services))"
    )


def _columns(lucky: bool) -> str:
    base = "title, symptoms, misjudgments, diagnostic_path, root_cause, contributing_factors, services"
    return base + (", lucky" if lucky else "")


def _sqlite_triggers(lucky: bool) -> None:
    op.execute("DROP TRIGGER IF EXISTS case_search_after_insert")
    op.execute("DROP TRIGGER IF EXISTS case_search_after_update")
    new_row = _sqlite_insert(lucky).format(r="new")
    op.execute(f"CREATE TRIGGER case_search_after_insert AFTER INSERT ON cases BEGIN {new_row}; END")
    op.execute(
        f"CREATE TRIGGER case_search_after_update AFTER UPDATE OF {_columns(lucky)} ON cases BEGIN "
        f"DELETE FROM case_search WHERE rowid = old.id; {new_row}; END"
    )


def _pg_document(lucky: bool) -> str:
    extra = "    setweight(jsonb_to_tsvector('english', c.lucky, '[\"string\"]'), 'C') ||\n" if lucky else ""
    return f"""
CREATE OR REPLACE FUNCTION case_search_document(c cases) RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT
    setweight(jsonb_to_tsvector('english', c.symptoms, '["string"]'), 'A') ||
    setweight(to_tsvector('english', coalesce(c.title, '')), 'B') ||
    setweight(jsonb_to_tsvector('english', c.services, '["string"]'), 'B') ||
    setweight(jsonb_to_tsvector('english',
      jsonb_path_query_array(c.misjudgments, '$[*] ? (@.kind == "signal").text'), '["string"]'), 'C') ||
{extra}    setweight(jsonb_to_tsvector('english',
      jsonb_path_query_array(c.diagnostic_path, '$[*].text'), '["string"]'), 'C') ||
    setweight(to_tsvector('english', coalesce(c.root_cause, '')), 'D') ||
    setweight(jsonb_to_tsvector('english', c.contributing_factors, '["string"]'), 'D')
$$
"""


def _pg_trigger(lucky: bool) -> None:
    op.execute("DROP TRIGGER IF EXISTS case_search_refresh ON cases")
    op.execute(_pg_document(lucky))
    op.execute(
        f"CREATE TRIGGER case_search_refresh AFTER INSERT OR UPDATE OF {_columns(lucky)}, tenant_id, status "
        "ON cases FOR EACH ROW EXECUTE FUNCTION case_search_refresh()"
    )


def _reindex(lucky: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_trigger(lucky)
        op.execute(
            "UPDATE case_search s SET document = case_search_document(c) FROM cases c WHERE c.id = s.case_id"
        )
    else:
        _sqlite_triggers(lucky)
        op.execute("DELETE FROM case_search")
        op.execute(_sqlite_insert(lucky).format(r="cases") + " FROM cases")


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("lucky", _JSON, nullable=False, server_default="[]"))
    _reindex(lucky=True)


def downgrade() -> None:
    _reindex(lucky=False)  # the triggers first: SQLite refuses to drop a column they name
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("lucky")
    if op.get_bind().dialect.name != "postgresql":
        _sqlite_triggers(lucky=False)  # a batch recreation of `cases` dropped them
