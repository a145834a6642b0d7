"""`casebook backup` for SQLite: sqlite3's online backup API, a consistent copy while in use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The copy could not be made; the message says why."""


def backup_sqlite(url: str, target: Path) -> int:
    """Copy the database at `url` to `target` (which must not exist); the number of pages copied."""
    source_path = make_url(url).database
    if not source_path or source_path == ":memory:" or not Path(source_path).is_file():
        raise BackupError(f"there is no SQLite database file at {source_path or ':memory:'} to back up")
    if target.exists():
        raise BackupError(f"{target} exists already; name another file with -o")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
    except sqlite3.Error as error:
        source.close()
        raise BackupError(f"cannot write {target} ({error})") from None
    try:
        with copy:
            source.backup(copy)
        return int(copy.execute("PRAGMA page_count").fetchone()[0])
    except sqlite3.Error as error:
        raise BackupError(f"the copy failed ({error})") from None
    finally:
        copy.close()
        source.close()
