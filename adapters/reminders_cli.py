"""`casebook remind --now [--dry-run]` and the `casebook clock` process."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by the commands that run: `--help` stays fast
    from bot.config import Settings
    from bot.notify import Notifier
    from bot.reminders.config import ReminderSettings
    from storage.db import Database

NOT_SENT = {"failed", "uncertain", "gave_up"}


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
    from storage.models import utcnow

    async def remind(db: Database, notifiers: Mapping[str, Notifier], reminders: ReminderSettings) -> int:
        report = await sweep(
            db,
            notifiers,
            settings=reminders,
            default_timezone=settings.default_timezone,
            clock=utcnow,  # the command line's clock: the sweep reads it once per run
            dry_run=args.dry_run,
            public_url=settings.public_url,
        )
        print(report.describe())
        if not report.lines:
            print(report.quiet or "Nothing due.")
        return 1 if any(line.status in NOT_SENT for line in report.lines) else 0

    return _with_notifiers(settings, remind)


def run_clock(args: argparse.Namespace, settings: Settings) -> int:
    from adapters import clock
    from adapters.ops.settings import ServeSettings

    serve = ServeSettings.from_env()
    if serve.metrics_port is not None:  # the clock's own counters (reminders by outcome)
        from prometheus_client import start_http_server

        from adapters.ops import metrics

        metrics.install()
        start_http_server(serve.metrics_port, addr=serve.host)

    async def tick_forever(
        db: Database, notifiers: Mapping[str, Notifier], reminders: ReminderSettings
    ) -> int:
        if not set(notifiers) - {"console"}:
            print(
                "casebook clock: no chat platform is configured, so there is nobody to remind: set "
                "SLACK_BOT_TOKEN (or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET) or MICROSOFT_APP_ID, "
                "MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID (`casebook remind --now` works "
                "without one).",
                file=sys.stderr,
            )
            return 2
        await clock.run_until_signalled(db, notifiers, settings=settings, reminders=reminders)
        return 0

    return _with_notifiers(settings, tick_forever)


Work = Callable[["Database", Mapping[str, "Notifier"], "ReminderSettings"], Awaitable[int]]


def _with_notifiers(settings: Settings, work: Work) -> int:
    """Settings checked, database ready and current, notifiers open: then `work`."""
    from adapters.cli import prepare_database
    from adapters.notifiers import configured_notifiers
    from bot.reminders.config import ReminderSettings

    reminders = ReminderSettings.from_env()
    # Upgrades SQLite; refuses a PostgreSQL schema behind the code (SchemaBehind, said by the CLI).
    db = prepare_database(settings)  # no connection is opened before `go`: nothing to close here

    async def go() -> int:
        try:
            async with configured_notifiers(db) as notifiers:
                return await work(db, notifiers, reminders)
        finally:
            await db.dispose()

    return asyncio.run(go())
