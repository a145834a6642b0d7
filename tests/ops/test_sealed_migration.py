"""Migration 0014_sealed: Slack token columns wide enough for a sealed long token, and the
plaintext tokens of older rows sealed when CASEBOOK_SECRET_KEY is set (and opened again on
downgrade), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from storage.db import alembic_config, migrate, sync_url
from storage.secrets import Sealer, is_sealed, new_key

KEY = new_key()
PLAIN = "xoxb-plaintext-written-before-sealing"
LONG = "xoxe.xoxb-1-" + "a" * 180  # a rotating token: sealed, well over 200 characters


def _add_bot(engine: sa.Engine, token: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO slack_bots (client_id, app_id, team_id, bot_token, is_enterprise_install,"
                " installed_at) VALUES ('1111.2222', 'A1', 'T1', :token, false, :at)"
            ),
            {"token": token, "at": dt.datetime(2026, 11, 20, 12, 0)},
        )


def _tokens(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return [r[0] for r in connection.execute(sa.text("SELECT bot_token FROM slack_bots ORDER BY id"))]


def test_upgrade_seals_plaintext_and_fits_a_long_sealed_token(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sa.create_engine(sync_url(db_url))
    try:
        command.downgrade(alembic_config(db_url), "0013_quiet")
        _add_bot(engine, PLAIN)
        monkeypatch.setenv("CASEBOOK_SECRET_KEY", KEY)
        migrate(db_url)
        [sealed] = _tokens(engine)
        assert is_sealed(sealed) and Sealer.from_keys(KEY).open(sealed) == PLAIN

        long_sealed = Sealer.from_keys(KEY).seal(LONG)
        assert long_sealed is not None and len(long_sealed) > 300
        _add_bot(engine, long_sealed)  # varchar(200) refused this on PostgreSQL
        assert _tokens(engine)[1] == long_sealed

        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM slack_bots WHERE bot_token = :t"), {"t": long_sealed})
        command.downgrade(alembic_config(db_url), "0013_quiet")
        assert _tokens(engine) == [PLAIN]  # opened again: an older release reads it
    finally:
        migrate(db_url)
        engine.dispose()


def test_without_a_key_rows_are_left_as_they_are(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = sa.create_engine(sync_url(db_url))
    try:
        command.downgrade(alembic_config(db_url), "0013_quiet")
        _add_bot(engine, PLAIN)
        monkeypatch.delenv("CASEBOOK_SECRET_KEY", raising=False)
        migrate(db_url)
        assert _tokens(engine) == [PLAIN]
    finally:
        migrate(db_url)
        engine.dispose()
