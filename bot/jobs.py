"""Follow-up jobs: slow work that runs after the platform has been acknowledged.

A Reply's `followup` names a job as "<kind>:<argument>". Adapters call
`run_followup` after sending the replies and send back what it returns, in the
same conversation. Modules register kinds with `@job("kind")`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot import observe
from bot.config import Settings
from bot.messages import Reply, ReplyKind
from storage.db import Database

log = logging.getLogger(__name__)


class JobHandler(Protocol):
    """A job kind's work. `now` is the job's one moment (its run's clock), for every write."""

    def __call__(
        self, db: Database, tenant_key: str, argument: str, settings: Settings, /, *, now: dt.datetime
    ) -> Awaitable[list[Reply]]: ...


JOBS: dict[str, JobHandler] = {}


def job(kind: str) -> Callable[[JobHandler], JobHandler]:
    def register(handler: JobHandler) -> JobHandler:
        JOBS[kind] = handler
        return handler

    return register


async def run_followup(
    db: Database,
    key: str,
    *,
    platform: str,
    tenant: str,
    now: dt.datetime,
    settings: Settings | None = None,
) -> list[Reply]:
    """Run the job named by `key` for a tenant; a failure becomes a short note, never a crash."""
    kind, _, argument = key.partition(":")
    handler = JOBS.get(kind)
    if handler is None:
        log.error("unknown follow-up job %r", key)
        return []
    try:
        replies = await handler(
            db, f"{platform}:{tenant}", argument, settings or Settings.from_env(), now=now
        )
    except Exception:  # one boundary for background work: log it, tell the people, move on
        log.exception("follow-up job %r failed", key)
        observe.count("followup_job", kind=kind, outcome="failed")
        return [Reply("A background step failed; the case itself is saved.", ReplyKind.ERROR)]
    observe.count("followup_job", kind=kind, outcome="done")
    return replies


def register_all() -> None:
    # Each module registers its job kinds on import (after `job` above exists): "draft",
    # "ledger-chart" and "trackers". Listed here so that a process running follow-ups knows them all.
    from bot import drafting  # noqa: F401
    from bot.capture import mapping as _capture  # noqa: F401  ("account": a free-text account)
    from bot.capture import reading as _reading  # noqa: F401  ("history": a channel's history)
    from bot.commands import insights  # noqa: F401
    from bot.trackers import job as _trackers  # noqa: F401  ("trackers": a tracker sync nudge)


register_all()
