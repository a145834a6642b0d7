"""The `casebook` command: the composition root that wires adapters to the core."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings
from storage import db as database

log = logging.getLogger("casebook")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casebook",
        description="Casebook: incident interviews, clinical cases and prevention follow-through.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    console = sub.add_parser("console", help="run the interview and commands in this terminal")
    console.add_argument("--user", default=None, help="who you are (default: $USER)")
    console.add_argument("--timezone", default=None, help="your IANA timezone (default: CASEBOOK_TIMEZONE)")
    sub.add_parser("demo", help="run a complete example interview and print the case")
    sub.add_parser("migrate", help="upgrade the database schema to the newest revision")
    export = sub.add_parser("export", help="print a case as Markdown or JSON")
    export.add_argument("case", help="case number, e.g. 12 or #12")
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument("--output", "-o", default=None, help="write to this file instead of stdout")
    _tenant_options(export)
    sub.add_parser("serve", help="run the web process (Slack, Teams, health check)")
    sub.add_parser("clock", help="run the reminder scheduler")
    return parser


def _tenant_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--platform", default="console", help="tenant platform (console, slack, teams)")
    parser.add_argument("--tenant", default="local", help="workspace / tenant id on that platform")


def prepare_database(settings: Settings) -> database.Database:
    """Connect; SQLite is upgraded on start, PostgreSQL must be migrated explicitly."""
    url = settings.database_url or database.DEFAULT_URL
    if database.is_sqlite(database.async_url(url)):
        database.migrate(url)
    return database.connect(url)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        sys.exit(f"casebook: configuration error: {error}")
    logging.basicConfig(
        level=getattr(logging, settings.log_level, logging.INFO)
        if args.command in {"serve", "clock"}
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        _parser().print_help()
        sys.exit(2)
    try:
        sys.exit(_run(args, settings))
    except database.DatabaseURLError as error:
        sys.exit(f"casebook: {error}")
    except KeyboardInterrupt:
        sys.exit(130)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        database.migrate(settings.database_url)
        print("Database schema is up to date.")
        return 0
    if args.command in {"serve", "clock"}:
        print(
            f"casebook {args.command}: not configured yet. This process arrives with the Slack, "
            "Teams and reminder work; use `casebook console` or `casebook demo` meanwhile.",
            file=sys.stderr,
        )
        return 2
    db = prepare_database(settings)
    return asyncio.run(_with_db(db, args, settings))


async def _with_db(db: database.Database, args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.command == "console":
            import getpass

            from adapters.console import session

            user = args.user or getpass.getuser() or "me"
            return await session.run(
                db, settings, user=user, timezone=args.timezone or settings.default_timezone
            )
        if args.command == "demo":
            from adapters.console import demo

            return await demo.run(db, settings)
        if args.command == "export":
            from adapters.console import export

            return await export.run(db, args)
        raise AssertionError(args.command)
    finally:
        await db.dispose()
