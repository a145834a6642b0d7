"""Which notifier serves each platform, for the processes that send on their own (the clock)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from adapters.console.notifier import ConsoleNotifier
from bot.notify import Notifier
from storage.db import Database

log = logging.getLogger(__name__)


@asynccontextmanager
async def configured_notifiers(db: Database) -> AsyncIterator[Mapping[str, Notifier]]:
    """Console always; Slack when configured (one workspace, or OAuth installs); Teams when
    MICROSOFT_APP_ID (or the development flag) is set. Closed on exit."""
    from adapters.slack.notifier import slack_notifier
    from adapters.teams import notifier_from_env

    notifiers: dict[str, Notifier] = {"console": ConsoleNotifier()}
    closers: list[Callable[[], Awaitable[None]]] = []
    slack = slack_notifier(db=db)
    if slack is not None:
        notifiers["slack"] = slack
        closers.append(slack.aclose)
    else:
        log.info("Slack is not configured: Slack workspaces get no reminders from this process")
    teams = notifier_from_env(db=db)
    if teams is not None:
        notifiers["teams"] = teams
    else:
        log.info("Teams is not configured: Teams tenants get no reminders from this process")
    try:
        yield notifiers
    finally:
        for close in closers:
            await close()
