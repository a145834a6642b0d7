"""Start-up failures an operator can fix, said in one line (the traceback goes to DEBUG).

`explain` turns a known failure into its sentence, or returns None for anything else (a bug,
which keeps its traceback).
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Any


def explain(error: BaseException, *, database_url: str | None) -> str | None:
    from bot.config import ConfigError
    from storage import db as database

    if isinstance(error, ConfigError | database.DatabaseURLError):
        return f"configuration error: {error}"
    if isinstance(error, database.SchemaBehind):
        return str(error)
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return (
            f"cannot listen: {error.strerror or error}. Another process is using that port: stop it, "
            "or set PORT (or METRICS_PORT) to a free one."
        )
    return _database_problem(error, database_url or database.DEFAULT_URL)


def _database_problem(error: BaseException, url: str) -> str | None:
    from sqlalchemy.exc import ArgumentError, DBAPIError

    if isinstance(error, ArgumentError):
        return (
            f"configuration error: DATABASE_URL is not a database URL ({error}); e.g. sqlite:///casebook.db"
        )
    if not isinstance(error, DBAPIError):
        return None
    where = _where(url)
    original: Any = error.orig
    if isinstance(original, sqlite3.OperationalError):
        return (
            f"cannot open the SQLite database {where} ({original}): its directory must exist and be "
            "writable by this user; fix the path in DATABASE_URL or the directory's permissions."
        )
    reason = str(original).strip().splitlines()[-1] if str(original).strip() else type(original).__name__
    return (
        f"cannot reach the database at {where} ({reason[:200]}): check DATABASE_URL (host, port, user, "
        "password, database name) and that the server is running."
    )


def _where(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database or ":memory:")
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"
