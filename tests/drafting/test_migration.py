"""Revision 0005_llm goes up and down cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect

from storage.db import alembic_config, migrate


def test_0005_llm_upgrades_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    engine = create_engine(url)
    try:
        assert "action_suggestions" in inspect(engine).get_table_names()
        assert "model_draft" in {c["name"] for c in inspect(engine).get_columns("cases")}

        command.downgrade(alembic_config(url), "0001_core")
        assert "action_suggestions" not in inspect(engine).get_table_names()
        assert "model_draft" not in {c["name"] for c in inspect(engine).get_columns("cases")}

        migrate(url)
        assert "action_suggestions" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
