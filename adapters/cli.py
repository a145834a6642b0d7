"""The `casebook` command: the composition root that wires adapters to the core.

Each module in SUBCOMMAND_MODULES adds its subcommands with `add_commands(sub)`,
setting `handler(args, settings) -> int` on each parser. Those modules import only
argparse at the top: `casebook --help` and every command start without loading what
they do not use (platform SDKs, SQLAlchemy, matplotlib; tests/test_startup.py checks it).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from storage import db as database

log = logging.getLogger("casebook")

SUBCOMMAND_MODULES = (
    "adapters.console.commands",
    "adapters.processes",
    "adapters.teams.commands",
    "adapters.reminders_cli",
    "adapters.console.insights",
    "adapters.ops.commands",
    "adapters.trackers_cli",
)

LONG_RUNNING = {"serve", "clock"}
USAGE_ERROR = 2  # the exit code of every failure an operator fixes (a setting, the database, a port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casebook",
        description="Casebook: incident interviews, clinical cases and prevention follow-through.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def tenant_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--platform", default="console", help="tenant platform (console, slack, teams)")
    parser.add_argument("--tenant", default="local", help="workspace / tenant id on that platform")


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("casebook")
    except PackageNotFoundError:
        return "unknown (not installed)"


def prepare_database(settings: Settings) -> database.Database:
    """Connect; SQLite is upgraded on start, PostgreSQL is migrated with `casebook migrate`
    and refused (with the reason) while it is behind the code."""
    from storage import db as database

    url = settings.database_url or database.DEFAULT_URL
    if database.is_sqlite(database.async_url(url)):
        database.migrate(url)
    else:
        database.check_schema(url)
    return database.connect(url)


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"casebook {version()}")
        sys.exit(0)
    if args.command is None:
        parser.print_help()
        sys.exit(USAGE_ERROR)
    sys.exit(run(args))


def run(args: argparse.Namespace) -> int:
    from adapters.failures import explain
    from adapters.ops.logs import configure
    from bot.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"casebook: configuration error: {error}", file=sys.stderr)
        return USAGE_ERROR
    level = getattr(logging, settings.log_level)
    configure(
        level=level if args.command in LONG_RUNNING or level == logging.DEBUG else logging.WARNING,
        fmt=settings.log_format,
    )
    try:
        return int(args.handler(args, settings))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the command line's one boundary: known failures get one line
        # A command given its own database (`demo --database URL`) failed on that one.
        message = explain(error, database_url=getattr(args, "database", None) or settings.database_url)
        if message is None:
            raise
        log.debug("casebook %s failed", args.command, exc_info=error)
        print(f"casebook {args.command}: {message}", file=sys.stderr)
        return USAGE_ERROR
