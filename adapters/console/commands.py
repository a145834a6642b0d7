"""Console subcommands: console, demo, migrate, export."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by the commands that run: `--help` stays fast
    from bot.config import Settings
    from storage.db import Database


def add_commands(sub: Any) -> None:
    from adapters.cli import tenant_options

    console = sub.add_parser("console", help="run the interview and commands in this terminal")
    console.add_argument("--user", default=None, help="who you are (default: your login name)")
    console.add_argument("--timezone", default=None, help="your IANA timezone (default: CASEBOOK_TIMEZONE)")
    console.set_defaults(handler=run_console)
    demo = sub.add_parser("demo", help="run a complete example interview and print the case")
    demo.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help=f"run on this database URL (default: a fresh {DEMO_FILE} here, never DATABASE_URL)",
    )
    demo.add_argument("--web", action="store_true", help="then serve the case library on the demo's database")
    demo.set_defaults(handler=run_demo)
    migrate = sub.add_parser("migrate", help="upgrade the database schema to the newest revision")
    migrate.set_defaults(handler=run_migrate)
    export = sub.add_parser("export", help="print a case as Markdown or JSON")
    export.add_argument("case", help="case number, e.g. 12 or #12")
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument("--output", "-o", default=None, help="write to this file instead of stdout")
    tenant_options(export)
    export.set_defaults(handler=run_export)


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from storage import db as database

    database.migrate(settings.database_url)
    print("Database schema is up to date.")
    return 0


def with_database(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    """Run `work` on a prepared database (SQLite is migrated on start), then close it."""
    from adapters.cli import prepare_database

    db = prepare_database(settings)

    async def go() -> int:
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


def run_console(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.console import session
    from bot.config import checked_zone

    user = args.user or _login() or "me"
    timezone = (
        checked_zone(args.timezone, source="--timezone") if args.timezone else settings.default_timezone
    )
    return with_database(settings, lambda db: session.run(db, settings, user=user, timezone=timezone))


# The demo's own file: its made-up people and cases never land in the team's database.
DEMO_FILE = "casebook-demo.db"


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.console import demo

    if args.database:
        url = args.database
    else:
        Path(DEMO_FILE).unlink(missing_ok=True)  # each demo starts from case #1
        url = f"sqlite:///{DEMO_FILE}"
    print(f"Demo database: {_shown(url)} (the demo never writes to DATABASE_URL).\n", flush=True)
    demo_settings = settings.model_copy(update={"database_url": url})
    code = with_database(demo_settings, lambda db: demo.run(db, demo_settings))
    if code != 0 or not args.web:
        return code
    from adapters.ops.settings import ServeSettings
    from adapters.server import run_serve

    port = ServeSettings.from_env().port
    print(f"\nThe case library of this demo: http://127.0.0.1:{port}/  (Ctrl-C stops it)", flush=True)
    return run_serve(args, demo_settings)


def _shown(url: str) -> str:
    """The URL without its password, for a log line."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.console import export

    return with_database(settings, lambda db: export.run(db, args))


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
