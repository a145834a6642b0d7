"""Liveness (`/healthz`: the process serves) and readiness (`/readyz`: it can do its work).

Readiness checks that the database answers, that its schema is at the code's head, and that
every configured platform works (Slack: `auth.test` with the bot token; a Socket Mode
connection). A 503 lists what is missing, so a probe's log says what to fix.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from storage import db as database
from storage.db import Database

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3
# A platform that answered is not asked again for this long (probes come every few seconds).
PLATFORM_CACHE_SECONDS = 30

Check = Callable[[web.Application], Awaitable[str | None]]  # None: fine; else what is missing


async def healthz(request: web.Request) -> web.Response:
    """Alive: restarting would not help with anything this process could report."""
    return web.json_response({"status": "ok"})


def readyz_handler(db: Database, mounted: list[str]) -> Callable[[web.Request], Awaitable[web.Response]]:
    schema = SchemaCheck(db.url)
    platforms = PlatformChecks()

    async def readyz(request: web.Request) -> web.Response:
        problems: list[str] = []
        reachable = await _database_answers(db)
        if reachable is not None:
            problems.append(reachable)
        else:
            behind = await schema.problem()
            if behind is not None:
                problems.append(behind)
        problems += await platforms.problems(request.app, mounted)
        body: dict[str, Any] = {"database": db.dialect, "platforms": mounted}
        if problems:
            log.warning("not ready: %s", "; ".join(problems))
            return web.json_response({"status": "unavailable", **body, "missing": problems}, status=503)
        return web.json_response({"status": "ok", **body})

    return readyz


async def _database_answers(db: Database) -> str | None:
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS), db.sessions() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        log.debug("readiness: the database did not answer", exc_info=error)
        return f"the database does not answer ({type(error).__name__})"
    return None


class SchemaCheck:
    """At head once means at head until a deploy: only a schema found behind is asked again."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.current = False

    async def problem(self) -> str | None:
        if self.current:
            return None
        try:
            await asyncio.to_thread(database.check_schema, self.url)
        except database.SchemaBehind as behind:
            return str(behind)
        except (SQLAlchemyError, OSError) as error:
            return f"the schema could not be read ({type(error).__name__})"
        self.current = True
        return None


class PlatformChecks:
    def __init__(self) -> None:
        self.ok_until: dict[str, float] = {}

    async def problems(self, app: web.Application, mounted: list[str]) -> list[str]:
        found = []
        for platform in mounted:
            if self.ok_until.get(platform, 0.0) > time.monotonic():
                continue
            check = CHECKS.get(platform)
            problem = await check(app) if check is not None else None
            if problem is None:
                self.ok_until[platform] = time.monotonic() + PLATFORM_CACHE_SECONDS
            else:
                found.append(problem)
        return found


async def slack_ready(app: web.Application) -> str | None:
    from slack_sdk.errors import SlackApiError

    from adapters.slack.app import SLACK

    service = app[SLACK]
    if service.slack.socket_mode and service.socket is None:
        return "slack: the Socket Mode connection is not open"
    if service.single is None:
        return None  # OAuth: each workspace's token is checked when it is used
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            response = await service.bolt.client.auth_test(token=service.single.token)
    except SlackApiError as error:
        return f"slack: auth.test refused SLACK_BOT_TOKEN ({error.response.get('error')})"
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        return f"slack: the Web API did not answer auth.test ({type(error).__name__})"
    return None if response.get("ok") else "slack: auth.test did not succeed"


CHECKS: dict[str, Check] = {"slack": slack_ready}


def mount(app: web.Application, *, db: Database, mounted: list[str]) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz_handler(db, mounted))
