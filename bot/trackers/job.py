"""The follow-up job `trackers:<mode>[|<next job>]`: one sync pass for the workspace.

No pull here (the clock reconciles), so it stays a handful of calls. Errors never reach
the person: the pass records them and `casebook trackers status` says why.
"""

from __future__ import annotations

import datetime as dt
import logging

from bot.config import Settings
from bot.jobs import JOBS, job
from bot.messages import Reply, ReplyKind
from bot.trackers import registry
from bot.trackers.nudge import KIND, PICK, split
from bot.trackers.sync import SyncReport, sync_pass
from storage import repo
from storage.db import Database

log = logging.getLogger(__name__)


@job(KIND)
async def tracker_job(
    db: Database, tenant_key: str, argument: str, settings: Settings, *, now: dt.datetime
) -> list[Reply]:
    mode, then = split(argument)
    replies = await _sync(db, tenant_key, mode, now=now)
    if then:
        kind, _, rest = then.partition(":")
        handler = JOBS.get(kind)
        if handler is not None:
            replies += await handler(db, tenant_key, rest, settings, now=now)
    return replies


async def _sync(db: Database, tenant_key: str, mode: str, *, now: dt.datetime) -> list[Reply]:
    opener = registry.installed()
    if opener is None:
        return []  # this process has no tracker adapters: the clock's pass will do it
    platform, _, external_id = tenant_key.partition(":")
    async with db.transaction() as session:
        tenant = await repo.tenant(session, platform=platform, external_id=external_id, now=now)
    try:
        async with opener() as trackers:
            report = await sync_pass(db, trackers, now=now, tenant_id=tenant.id, pull=False)
    except Exception:  # the nudge's boundary: the clock's pass will try again
        log.exception("tracker sync nudge for %s failed", tenant_key)
        return []
    return [_summary(report)] if mode == PICK else []


def _summary(report: SyncReport) -> Reply:
    text = (
        f"Tracker sync: {report.count('created')} issue(s) created, {report.count('linked')} linked, "
        f"{report.count('updated')} updated."
    )
    if report.failed:
        text += f" {report.count('failed')} could not be synced yet: `tracker status` says why."
    return Reply(text, ReplyKind.INFO)
