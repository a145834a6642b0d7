"""The operator commands as a person runs them: --version, backup, secret-key, healthcheck."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

from cryptography.fernet import Fernet

from tests.test_cli import casebook


def test_version() -> None:
    result = casebook("--version", cwd=Path.cwd())
    assert result.returncode == 0 and result.stdout.strip() == "casebook 0.1.0"


def test_backup_copies_a_live_sqlite_database(tmp_path: Path) -> None:
    # The demo keeps to its own file unless told otherwise: here, the default database.
    assert casebook("demo", "--database", "sqlite:///casebook.db", cwd=tmp_path).returncode == 0
    copy = tmp_path / "copy.db"
    result = casebook("backup", "-o", str(copy), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {copy}")
    with sqlite3.connect(copy) as connection:
        [(title,)] = connection.execute("SELECT title FROM cases").fetchall()
    assert title.startswith("Checkout 502s")  # the demo's case
    again = casebook("backup", "-o", str(copy), cwd=tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr  # never overwrites


def test_backup_of_postgresql_says_how(tmp_path: Path) -> None:
    result = casebook("backup", cwd=tmp_path, env={"DATABASE_URL": "postgres://u@db.internal/casebook"})
    assert (
        result.returncode == 2
        and "pg_dump --format=custom" in result.stderr
        and "pg_restore" in result.stderr
    )


def test_secret_key_prints_a_usable_key(tmp_path: Path) -> None:
    key = casebook("secret-key", cwd=tmp_path).stdout.strip()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_healthcheck_fails_when_nothing_answers(tmp_path: Path) -> None:
    port = free_port()
    result = casebook("healthcheck", cwd=tmp_path, env={"PORT": str(port)})
    assert result.returncode == 1 and f"http://127.0.0.1:{port}/healthz: no answer" in result.stderr


def test_oauth_without_a_secret_key_is_refused(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "s",
        "SLACK_SIGNING_SECRET": "x",
        "PORT": str(free_port()),
    }
    result = casebook("serve", cwd=tmp_path, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "casebook serve: configuration error: Slack OAuth stores each workspace's bot token"
    )
    assert "set CASEBOOK_SECRET_KEY" in last
