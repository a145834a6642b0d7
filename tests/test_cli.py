"""The `casebook` command, run as a person would: a real process, a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def casebook(
    *args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "MICROSOFT_"))
    }
    environment.pop("DATABASE_URL", None)
    environment["PYTHONPATH"] = str(ROOT)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_demo_runs_a_full_case_on_sqlite_with_no_credentials(tmp_path: Path) -> None:
    result = casebook("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for heading in (
        "## Summary",
        "## Timeline",
        "## Symptoms",
        "## Misjudgment risks",
        "## Diagnostic path",
        "## Root cause",
        "## Prevention plan",
        "## Risk check",
    ):
        assert heading in out
    assert "Case #1 is published" in out
    assert "Open prevention actions, per owner:" in out and "@bob:" in out
    # Its own file, named first, whatever DATABASE_URL says; the team's database is untouched.
    assert (tmp_path / "casebook-demo.db").exists() and not (tmp_path / "casebook.db").exists()
    assert "Demo database: sqlite:///casebook-demo.db" in result.stdout
    team = tmp_path / "team.db"
    again = casebook("demo", cwd=tmp_path, env={"DATABASE_URL": f"sqlite:///{team}"})
    assert again.returncode == 0 and "Case #1 is published" in again.stdout and not team.exists()

    demo_db = {"DATABASE_URL": "sqlite:///casebook-demo.db"}
    md = casebook("export", "1", cwd=tmp_path, env=demo_db)
    assert md.returncode == 0 and md.stdout.startswith("# Case #1: Checkout 502s")
    js = casebook("export", "#1", "--format", "json", cwd=tmp_path, env=demo_db)
    data = json.loads(js.stdout)
    assert data["severity"] == "SEV2" and len(data["actions"]) == 3
    assert data["minutes"]["to_detect"] == 9.0
    missing = casebook("export", "42", cwd=tmp_path, env=demo_db)
    assert missing.returncode == 1 and "no case #42" in missing.stderr


def test_console_reads_answers_from_a_pipe(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "postmortem Disk full on logs-1",
            "SEV3",
            "storage",
            "logging",
            "2 hours ago",
            "+5m",
            "+30m",
            "+45m",
            "Log shipping lagged",
            "done",
            "skip",
            "skip",
            "skip",
            "df -h showed 100% on /var",
            "done",
            "Log rotation was disabled by a config change",
            "skip",
            "Re-enable rotation with a size cap",
            "me",
            "in 1 week",
            "prevent",
            "none",
            "done",
            "confirm",
            "yes",
            "actions",
            "done 1.1 https://example.org/pr/3",
            "actions",
        ]
    )
    result = casebook("console", "--user", "dana", cwd=tmp_path, stdin=script + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "What should we call this incident?" not in out  # the title came with the command
    assert "How severe was it?" in out
    assert "Case #1 is published" in out
    assert "✅ `1.1` is done" in out
    assert out.rstrip().endswith("You have no open prevention actions. 🎉")


def test_console_refuses_bad_answers_and_keeps_the_question(tmp_path: Path) -> None:
    result = casebook("console", "--user", "dana", cwd=tmp_path, stdin="postmortem X\nSEV7\nSEV1\n")
    assert "⚠ Severity is one of SEV1" in result.stdout
    assert "Which capability area" in result.stdout


def test_bad_configuration_is_explained(tmp_path: Path) -> None:
    result = casebook("console", cwd=tmp_path, stdin="", env={"DATABASE_URL": "mysql://x@localhost/db"})
    assert result.returncode != 0 and "supports sqlite and postgresql" in result.stderr
    result = casebook("demo", cwd=tmp_path, env={"CASEBOOK_TIMEZONE": "Mars/Olympus"})
    assert result.returncode != 0 and "IANA timezone" in result.stderr
    result = casebook("console", "--timezone", "Mars/Olympus", cwd=tmp_path, stdin="postmortem X\n")
    assert result.returncode != 0 and "--timezone='Mars/Olympus' is not an IANA timezone" in result.stderr
    assert not list(tmp_path.glob("*.db")) or "Postmortem" not in result.stdout


def test_migrate_on_a_fresh_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = casebook("migrate", cwd=tmp_path, env={"DATABASE_URL": url})
    assert result.returncode == 0 and "up to date" in result.stdout


def test_every_process_refuses_a_postgresql_schema_that_is_behind(tmp_path: Path) -> None:
    import uuid

    import psycopg
    import pytest
    from alembic import command

    from storage.db import alembic_config
    from tests.conftest import PG_SERVER, _pg_conninfo, _pg_reachable

    if not _pg_reachable():
        pytest.skip("no PostgreSQL server reachable")
    name = f"casebook_behind_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_pg_conninfo(PG_SERVER), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        command.upgrade(alembic_config(url), "0001_core")
        for args in (("export", "1"), ("serve",), ("remind", "--now", "--dry-run")):
            result = casebook(*args, cwd=tmp_path, env={"DATABASE_URL": url})
            assert result.returncode != 0, args
            assert "schema is behind" in result.stderr and "casebook migrate" in result.stderr
            assert "Traceback" not in result.stderr
    finally:
        with psycopg.connect(_pg_conninfo(PG_SERVER), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_where_we_got_lucky_in_the_console_export_import_and_search(tmp_path: Path) -> None:
    """Asked after the misleading signals, stored, exported (JSON and Markdown), imported into
    another database, and found by similar-case search."""
    script = "\n".join(
        [
            "postmortem Resolver outage on dns-1",
            "SEV2",
            "network",
            "dns",
            "2 hours ago",
            "+5m",
            "+30m",
            "+45m",
            "Lookups failed for internal names",
            "done",
            "skip",
            "skip",
            "The stale resolver cache kept answering for the payment hosts",
            "done",
            "dig showed SERVFAIL from the primary resolver",
            "done",
            "An expired zone signing key",
            "skip",
            "done",
            "confirm",
            "yes",
            "similar stale resolver cache",
        ]
    )
    result = casebook("console", "--user", "dana", cwd=tmp_path, stdin=script + "\n")
    assert result.returncode == 0, result.stderr
    assert "**Where did we get lucky?**" in result.stdout
    assert "Case #1 is published" in result.stdout
    md = casebook("export", "1", cwd=tmp_path)
    assert "**Where we got lucky**\n- The stale resolver cache kept answering" in md.stdout
    js = casebook("export", "1", "--format", "json", cwd=tmp_path)
    data = json.loads(js.stdout)
    assert data["lucky"] == ["The stale resolver cache kept answering for the payment hosts"]
    assert data["diagnostic_path"][0]["text"] == "dig showed SERVFAIL from the primary resolver"

    other = tmp_path / "other"
    other.mkdir()
    (other / "case.json").write_text(json.dumps({**data, "id": "dns-1"}), encoding="utf-8")
    imported = casebook("import", "case.json", cwd=other)
    assert imported.returncode == 0, imported.stderr
    again = json.loads(casebook("export", "1", "--format", "json", cwd=other).stdout)
    assert again["lucky"] == data["lucky"]
    found = casebook("console", "--user", "dana", cwd=other, stdin="similar stale resolver cache kept\n")
    assert "Resolver outage on dns-1" in found.stdout, found.stdout
