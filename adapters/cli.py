"""The `casebook` command: the composition root that wires adapters to the core.

Each module in SUBCOMMAND_MODULES adds its subcommands with `add_commands(sub)`,
setting `handler(args, settings) -> int` on each parser.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings
from storage import db as database

log = logging.getLogger("casebook")

SUBCOMMAND_MODULES = (
    "adapters.console.commands",
    "adapters.processes",
    "adapters.teams.commands",
    "adapters.reminders_cli",
    "adapters.console.insights",
    "adapters.trackers.cli",
)

LONG_RUNNING = {"serve", "clock"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casebook",
        description="Casebook: incident interviews, clinical cases and prevention follow-through.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def tenant_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--platform", default="console", help="tenant platform (console, slack, teams)")
    parser.add_argument("--tenant", default="local", help="workspace / tenant id on that platform")


def prepare_database(settings: Settings) -> database.Database:
    """Connect; SQLite is upgraded on start, PostgreSQL is migrated with `casebook migrate`
    and refused (with the reason) while it is behind the code."""
    url = settings.database_url or database.DEFAULT_URL
    if database.is_sqlite(database.async_url(url)):
        database.migrate(url)
    else:
        database.check_schema(url)
    return database.connect(url)


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        sys.exit(2)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        sys.exit(f"casebook: configuration error: {error}")
    level = (
        getattr(logging, settings.log_level, logging.INFO)
        if args.command in LONG_RUNNING
        else logging.WARNING
    )
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic narrates every plugin and step at INFO; storage.db says the one line that matters.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        sys.exit(args.handler(args, settings))
    except (database.DatabaseURLError, ConfigError) as error:
        sys.exit(f"casebook: {error}")
    except database.SchemaBehind as error:
        sys.exit(f"casebook {args.command}: {error}")
    except KeyboardInterrupt:
        sys.exit(130)
