"""Failures an operator fixes, run as real processes: one line saying what and how, exit code 2."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_SERVER, _pg_conninfo, _pg_reachable
from tests.test_cli import casebook


def one_line_failure(*args: str, cwd: Path, env: dict[str, str]) -> str:
    result = casebook(*args, cwd=cwd, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    *before, last = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    # A long-running process may have logged its start (INFO) before it failed; nothing else.
    assert all(" INFO " in line for line in before), result.stderr
    return last


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"DATABASE_URL": "mysql://db/casebook"}, "DATABASE_URL uses 'mysql'"),
        ({"DATABASE_URL": "casebook.db"}, "DATABASE_URL is not a database URL"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be text or json"),
        ({"CASEBOOK_SECRET_KEY": "hunter2"}, "CASEBOOK_SECRET_KEY: key 1 is not a Fernet key"),
        ({"PORT": "http"}, "PORT must be a whole number"),
    ],
)
def test_a_bad_setting_is_refused_in_one_line(tmp_path: Path, env: dict[str, str], said: str) -> None:
    line = one_line_failure("serve", cwd=tmp_path, env=env)
    assert line.startswith("casebook") and "configuration error" in line and said in line
    assert "hunter2" not in line  # a secret is never echoed


def test_an_unreachable_database(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://casebook:pw@127.0.0.1:1/casebook"}
    line = one_line_failure("migrate", cwd=tmp_path, env=env)
    assert line.startswith("casebook migrate: cannot reach the database at 127.0.0.1:1/casebook")
    assert "check DATABASE_URL" in line and "pw" not in line


def test_the_traceback_is_there_at_debug(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://casebook@127.0.0.1:1/casebook", "LOG_LEVEL": "debug"}
    result = casebook("migrate", cwd=tmp_path, env=env)
    assert result.returncode == 2 and "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("casebook migrate: cannot reach the database")


def test_an_unwritable_sqlite_path(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/no/such/dir/casebook.db"
    line = one_line_failure("demo", "--database", url, cwd=tmp_path, env={})
    assert line.startswith(
        f"casebook demo: cannot open the SQLite database {tmp_path}/no/such/dir/casebook.db"
    )
    assert "writable" in line


def test_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"PORT": str(port), "HOST": "127.0.0.1", "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}
        line = one_line_failure("serve", cwd=tmp_path, env=env)
    assert line.startswith("casebook serve: cannot listen") and str(port) in line and "set PORT" in line


def test_the_clock_without_a_platform_says_so(tmp_path: Path) -> None:
    line = one_line_failure("clock", cwd=tmp_path, env={"DATABASE_URL": f"sqlite:///{tmp_path}/c.db"})
    assert "no chat platform is configured" in line and "SLACK_BOT_TOKEN" in line


@pytest.fixture
def empty_pg_database() -> Iterator[str]:
    if not _pg_reachable():
        pytest.skip("no PostgreSQL server")
    import psycopg

    name = f"casebook_behind_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_pg_conninfo(PG_SERVER), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(_pg_conninfo(PG_SERVER), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_schema_behind(tmp_path: Path, empty_pg_database: str) -> None:
    heroku_style = empty_pg_database.replace("postgresql+psycopg://", "postgres://")
    line = one_line_failure("serve", cwd=tmp_path, env={"DATABASE_URL": heroku_style})
    assert line.startswith("casebook serve: the database schema is behind") and "casebook migrate" in line
