"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import alembic_config, current_revisions, sync_url
from storage.migrations_filter import include_object


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            # include_object leaves out what models cannot describe (full-text shadow tables).
            context = MigrationContext.configure(conn, opts={"include_object": include_object})
            diff = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_the_database_is_at_the_newest_revision(db_url: str) -> None:
    heads = set(ScriptDirectory.from_config(alembic_config(db_url)).get_heads())
    assert current_revisions(db_url) == heads


def test_the_migrations_form_one_line(db_url: str) -> None:
    # Two heads would upgrade in an order alembic chooses; a merge of branches relinks them.
    heads = ScriptDirectory.from_config(alembic_config(db_url)).get_heads()
    assert len(heads) == 1, f"migration heads: {sorted(heads)}"
