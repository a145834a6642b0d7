"""`casebook remind --now [--dry-run]` and the `casebook clock` process."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.config import Settings
from bot.notify import Notifier
from bot.reminders.config import ReminderSettings
from storage.db import Database

NOT_SENT = {"failed", "uncertain", "gave_up"}


def schema_behind(settings: Settings) -> str | None:
    """Why the database cannot take reminders yet (PostgreSQL is migrated by hand), or None."""
    from alembic.script import ScriptDirectory

    from storage import db as database

    url = settings.database_url or database.DEFAULT_URL
    heads = set(ScriptDirectory.from_config(database.alembic_config(url)).get_heads())
    missing = heads - database.current_revisions(url)
    if missing:
        behind = ", ".join(sorted(missing))
        return f"the database schema is behind ({behind} missing): run `casebook migrate` first"
    return None


def add_commands(sub: Any) -> None:
    remind = sub.add_parser("remind", help="run one reminder sweep now and say what it sent")
    remind.add_argument(
        "--now", action="store_true", help="run the sweep now (what the clock does each tick)"
    )
    remind.add_argument("--dry-run", action="store_true", help="say what is due without claiming or sending")
    remind.set_defaults(handler=run_remind)


def run_remind(args: argparse.Namespace, settings: Settings) -> int:
    if not args.now:
        print(
            "casebook remind: add --now to run a reminder sweep now (with --dry-run to only look); "
            "the `clock` process runs one every minute.",
            file=sys.stderr,
        )
        return 2
    from bot.reminders.sweep import sweep

    async def remind(db: Database, notifiers: Mapping[str, Notifier], reminders: ReminderSettings) -> int:
        report = await sweep(
            db,
            notifiers,
            settings=reminders,
            default_timezone=settings.default_timezone,
            dry_run=args.dry_run,
        )
        print(report.describe())
        if not report.lines:
            print("Nothing due: everyone with open actions has this week's digest, or has them all snoozed.")
        return 1 if any(line.status in NOT_SENT for line in report.lines) else 0

    return _with_notifiers("remind", settings, remind)


def run_clock(args: argparse.Namespace, settings: Settings) -> int:
    from adapters import clock

    async def tick_forever(
        db: Database, notifiers: Mapping[str, Notifier], reminders: ReminderSettings
    ) -> int:
        await clock.run_until_signalled(db, notifiers, settings=settings, reminders=reminders)
        return 0

    return _with_notifiers("clock", settings, tick_forever)


Work = Callable[[Database, Mapping[str, Notifier], ReminderSettings], Awaitable[int]]


def _with_notifiers(command: str, settings: Settings, work: Work) -> int:
    """Settings checked, database ready and current, notifiers open: then `work`."""
    from adapters.cli import prepare_database
    from adapters.notifiers import configured_notifiers

    reminders = ReminderSettings.from_env()
    db = prepare_database(settings)  # no connection is opened before `go`: nothing to close here
    if problem := schema_behind(settings):
        print(f"casebook {command}: {problem}", file=sys.stderr)
        return 2

    async def go() -> int:
        try:
            async with configured_notifiers(db) as notifiers:
                return await work(db, notifiers, reminders)
        finally:
            await db.dispose()

    return asyncio.run(go())
