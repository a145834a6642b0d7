"""`casebook clock`: APScheduler only ticks; the database decides what is due.

Every tick runs one reminder sweep (bot.reminders.sweep). Ticks never overlap in
one process (max_instances=1) and missed ticks are merged (coalesce): a sweep
always works out for itself what is due, so nothing depends on a tick happening.
Several clock processes may run at once; their claims keep them from doubling.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
from collections.abc import Mapping

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from adapters.trackers import clock as tracker_clock
from bot.config import Settings
from bot.insights import monthly
from bot.notify import Notifier
from bot.reminders.config import ReminderSettings
from bot.reminders.refresh import refresh_digests
from bot.reminders.sender import Clock
from bot.reminders.sweep import sweep
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger("casebook.clock")


async def tick(
    db: Database,
    notifiers: Mapping[str, Notifier],
    *,
    settings: Settings,
    reminders: ReminderSettings,
    clock: Clock = utcnow,
) -> None:
    try:
        report = await sweep(
            db,
            notifiers,
            settings=reminders,
            default_timezone=settings.default_timezone,
            clock=clock,
            public_url=settings.public_url,
        )
    except Exception:  # the clock's boundary: log it and let the next tick try again
        log.exception("reminder sweep failed; the next tick will try again")
        return
    if report.lines:
        log.info("%s", report.describe())
    await _redraw_digests(db, notifiers, settings=settings, now=clock())
    await _monthly_reports(db, notifiers, now=clock())


async def _redraw_digests(
    db: Database, notifiers: Mapping[str, Notifier], *, settings: Settings, now: dt.datetime
) -> None:
    """Digests whose actions changed elsewhere (the web, another process) are redrawn."""
    try:
        await refresh_digests(
            db, notifiers, now=now, default_timezone=settings.default_timezone, public_url=settings.public_url
        )
    except Exception:  # the clock's boundary, as for reminders
        log.exception("redrawing changed digests failed; the next tick will try again")


async def _monthly_reports(db: Database, notifiers: Mapping[str, Notifier], *, now: dt.datetime) -> None:
    try:
        outcomes = await monthly.sweep(db, notifiers, now=now)
    except Exception:  # the clock's boundary, as for reminders
        log.exception("monthly report sweep failed; the next tick will try again")
        return
    for outcome in outcomes:
        log.info(
            "monthly report %s for %s: %s %s", outcome.month, outcome.tenant, outcome.status, outcome.detail
        )


# How long a stop waits for the sweep or sync already running before it cuts it off.
STOP_GRACE_SECONDS = 20.0


class RunningJobs:
    """The clock's jobs in flight, counted from the scheduler's events. A stop waits for them:
    APScheduler's shutdown cancels a running coroutine job, and a sweep cancelled inside a
    database call can leave its connection checked out and the engine unable to close."""

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        scheduler.add_listener(self._ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def _submitted(self, event: JobEvent) -> None:
        self._running += 1
        self._idle.clear()

    def _ended(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            return  # a missed run was never submitted
        self._running = max(0, self._running - 1)
        if self._running == 0:
            self._idle.set()

    async def finished(self) -> None:
        await self._idle.wait()


async def run(
    db: Database,
    notifiers: Mapping[str, Notifier],
    *,
    settings: Settings,
    reminders: ReminderSettings,
    stop: asyncio.Event,
    clock: Clock = utcnow,
) -> None:
    """Tick until `stop` is set; the first tick runs at once (catching up after downtime)."""
    scheduler = AsyncIOScheduler(timezone=dt.UTC)
    scheduler.add_job(
        tick,
        "interval",
        seconds=reminders.tick_seconds,
        kwargs={
            "db": db,
            "notifiers": notifiers,
            "settings": settings,
            "reminders": reminders,
            "clock": clock,
        },
        id="reminder-sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=utcnow(),
    )
    tracker_clock.schedule(scheduler, db, notifiers, clock=clock)
    running = RunningJobs(scheduler)
    scheduler.start()
    log.info(
        "clock started: a reminder sweep every %gs, digests on %s in each person's timezone",
        reminders.tick_seconds,
        reminders.slot.describe(),
    )
    try:
        await stop.wait()
    finally:
        scheduler.pause()  # no new ticks; the one running finishes
        try:
            async with asyncio.timeout(STOP_GRACE_SECONDS):
                await running.finished()
        except TimeoutError:
            log.warning("clock: a job was still running after %gs; stopping it", STOP_GRACE_SECONDS)
        scheduler.shutdown(wait=False)
        log.info("clock stopped")


async def run_until_signalled(
    db: Database, notifiers: Mapping[str, Notifier], *, settings: Settings, reminders: ReminderSettings
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(db, notifiers, settings=settings, reminders=reminders, stop=stop)
