"""Operator commands: `casebook backup`, `secret-key`, `rotate-secrets`, `healthcheck`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings

PG_DUMP_HINT = (
    "PostgreSQL is backed up with its own tools, while Casebook runs: "
    'pg_dump --format=custom --file=casebook.dump "$PGURL" (PGURL is DATABASE_URL without '
    '"+psycopg"); restore into an empty database with pg_restore --dbname="$PGURL" casebook.dump.'
)


def add_commands(sub: Any) -> None:
    backup = sub.add_parser(
        "backup", help="copy the SQLite database while Casebook runs (PostgreSQL: says how with pg_dump)"
    )
    backup.add_argument("-o", "--output", default=None, help="the copy (default: casebook-<time>.db)")
    backup.set_defaults(handler=run_backup)
    key = sub.add_parser("secret-key", help="print a new key for CASEBOOK_SECRET_KEY")
    key.set_defaults(handler=run_secret_key)
    rotate = sub.add_parser(
        "rotate-secrets", help="seal every stored secret with the first key of CASEBOOK_SECRET_KEY"
    )
    rotate.set_defaults(handler=run_rotate)
    probe = sub.add_parser(
        "healthcheck", help="ask this host's `casebook serve` for /healthz (the container's HEALTHCHECK)"
    )
    probe.add_argument("--path", default="/healthz", help="/healthz (alive) or /readyz (ready)")
    probe.set_defaults(handler=run_healthcheck)


def run_backup(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as dt

    from storage import db as database
    from storage.backup import BackupError, backup_sqlite

    url = database.async_url(settings.database_url or database.DEFAULT_URL)
    if not database.is_sqlite(url):
        print(f"casebook backup: {PG_DUMP_HINT}", file=sys.stderr)
        return 2
    started = dt.datetime.now(dt.UTC)
    target = Path(args.output or f"casebook-{started:%Y%m%dT%H%M%SZ}.db")
    try:
        pages = backup_sqlite(url, target)
    except BackupError as error:
        print(f"casebook backup: {error}", file=sys.stderr)
        return 2
    print(f"wrote {target} ({pages} pages, a consistent copy taken while the database stayed in use)")
    return 0


def run_healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    """0 when the local server answers 200 on PORT; 1 otherwise (what HEALTHCHECK expects)."""
    import urllib.error
    import urllib.request

    from adapters.ops.settings import ServeSettings

    port = ServeSettings.from_env().port
    url = f"http://127.0.0.1:{port}{args.path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            print(f"{url}: {response.status}")
            return 0
    except urllib.error.HTTPError as error:
        print(f"{url}: {error.code} {error.read().decode(errors='replace')[:500]}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as error:
        print(f"{url}: no answer ({error})", file=sys.stderr)
    return 1


def run_secret_key(args: argparse.Namespace, settings: Settings) -> int:
    from storage.secrets import new_key

    print(new_key())
    return 0


def run_rotate(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from adapters.cli import prepare_database
    from storage.secrets import reseal_all

    if settings.secret_keys is None:
        print("casebook rotate-secrets: set CASEBOOK_SECRET_KEY first (newest key first)", file=sys.stderr)
        return 2
    db = prepare_database(settings)

    async def rotate() -> int:
        try:
            return await reseal_all(
                db, settings.secret_keys.get_secret_value() if settings.secret_keys else ""
            )
        finally:
            await db.dispose()

    count = asyncio.run(rotate())
    print(f"sealed {count} stored secret(s) with the newest key; older keys may now be removed")
    return 0
