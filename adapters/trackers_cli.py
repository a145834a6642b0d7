"""`casebook tracker <github|jira|linear> TARGET | off` and `casebook trackers sync|status`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the commands import what they need when they run: `--help` stays fast
    from bot.config import Settings
    from storage.db import Database


def add_commands(sub: Any) -> None:
    from adapters.cli import tenant_options

    pick = sub.add_parser("tracker", help="the tracker a workspace's prevention actions go to")
    pick.add_argument("kind", nargs="?", choices=["github", "jira", "linear", "off"])
    pick.add_argument(
        "target", nargs="?", default="", help="owner/repo, a Jira project key, a Linear team key"
    )
    tenant_options(pick)
    pick.set_defaults(handler=run_tracker)
    many = sub.add_parser("trackers", help="sync with the trackers now, or say what is not synced")
    many.add_argument("what", choices=["sync", "status"])
    many.set_defaults(handler=run_trackers)


def _database(settings: Settings) -> Database:
    from adapters.cli import prepare_database

    return prepare_database(settings)


def run_tracker(args: argparse.Namespace, settings: Settings) -> int:
    from bot.parsing import ParseError
    from bot.trackers.commands import describe_tracker, pick_tracker, tracker_off
    from storage import repo

    async def go(db: Database) -> int:
        now = dt.datetime.now(dt.UTC)
        async with db.transaction() as session:
            tenant = await repo.tenant(session, platform=args.platform, external_id=args.tenant, now=now)
            assert tenant.id is not None
            try:
                if args.kind is None:
                    said = await describe_tracker(session, tenant_id=tenant.id)
                elif args.kind == "off":
                    said = await tracker_off(session, tenant_id=tenant.id)
                else:
                    said = await pick_tracker(
                        session,
                        tenant_id=tenant.id,
                        kind=args.kind,
                        target=args.target,
                        person_id=None,
                        now=now,
                    )
            except ParseError as error:
                print(f"casebook tracker: {error}", file=sys.stderr)
                return 2
        print(said)
        if args.kind not in {None, "off"}:
            print("`casebook trackers sync` (or the clock) creates the issues.")
        return 0

    return _run(settings, go)


def run_trackers(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.trackers.config import TrackerSettings
    from bot.trackers.status import describe, tracker_status
    from bot.trackers.sync import sync_pass

    trackers_settings = TrackerSettings.from_env()

    async def go(db: Database) -> int:
        from adapters.notifiers import configured_notifiers
        from adapters.trackers import open_trackers

        now = dt.datetime.now(dt.UTC)
        if args.what == "status":
            async with db.transaction() as session:
                statuses = await tracker_status(session, available=trackers_settings.kinds, now=now)
            print(describe(statuses))
            return 1 if any(s.problems for s in statuses) else 0
        if not trackers_settings.kinds:
            print(
                "No tracker credentials in the environment (GITHUB_TOKEN, JIRA_*, LINEAR_API_KEY).",
                file=sys.stderr,
            )
            return 2
        async with open_trackers(trackers_settings) as trackers, configured_notifiers(db) as notifiers:
            report = await sync_pass(
                db, trackers, now=now, settings=trackers_settings.sync(), notifiers=notifiers
            )
        print(report.describe())
        return 1 if report.failed else 0

    return _run(settings, go)


def _run(settings: Settings, work: Any) -> int:
    db = _database(settings)

    async def go() -> int:
        try:
            return int(await work(db))
        finally:
            await db.dispose()

    return asyncio.run(go())
