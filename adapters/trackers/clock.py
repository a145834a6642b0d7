"""The clock's tracker pass: one sync (creates, pushes, the reconciling pull) every tick."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from adapters.trackers.config import TrackerSettings
from bot.notify import Notifier
from bot.reminders.sender import Clock
from bot.trackers.sync import sync_pass
from storage.db import Database

log = logging.getLogger("casebook.clock")


async def tick(
    db: Database, notifiers: Mapping[str, Notifier], *, settings: TrackerSettings, clock: Clock
) -> None:
    from adapters.trackers import open_trackers

    try:
        async with open_trackers(settings) as trackers:
            report = await sync_pass(db, trackers, now=clock(), settings=settings.sync(), notifiers=notifiers)
    except Exception:  # the clock's boundary: the next tick tries again
        log.exception("tracker sync failed; the next tick will try again")
        return
    if report.lines:
        log.info("%s", report.describe())


def schedule(
    scheduler: AsyncIOScheduler, db: Database, notifiers: Mapping[str, Notifier], *, clock: Clock
) -> None:
    """Add the tracker pass to the clock, when this process has tracker credentials."""
    settings = TrackerSettings.from_env()
    if not settings.kinds:
        log.info("no tracker credentials: the clock does not sync trackers")
        return
    scheduler.add_job(
        tick,
        "interval",
        seconds=settings.sync_seconds,
        kwargs={"db": db, "notifiers": notifiers, "settings": settings, "clock": clock},
        id="tracker-sync",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=clock(),
    )
    log.info("clock: a tracker sync every %ds (%s)", settings.sync_seconds, ", ".join(settings.kinds))
