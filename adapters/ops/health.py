"""Liveness (`/healthz`: the process serves) and readiness (`/readyz`: it can do its work).

Readiness checks that the database answers, that its schema is at the code's head, and that
every configured platform works (Slack: `auth.test` with the bot token; a Socket Mode
connection. Teams: the app's credentials exchanged for a Bot Framework token at its token
endpoint). A 503 lists what is missing, so a probe's log says what to fix.
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
# A Bot Framework token is trusted until shortly before it expires, then asked for again.
TOKEN_MARGIN_SECONDS = 60
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
# What the token endpoint's error codes mean for the person setting Casebook up.
TOKEN_ERRORS = {
    "invalid_client": "check MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (a client secret may have expired)",
    "unauthorized_client": "check MICROSOFT_APP_ID: the tenant has no such app registration",
    "invalid_request": "check MICROSOFT_APP_TENANT_ID and MICROSOFT_APP_ID",
}


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
        self.teams_token = BotFrameworkToken()

    async def problems(self, app: web.Application, mounted: list[str]) -> list[str]:
        found = []
        for platform in mounted:
            if self.ok_until.get(platform, 0.0) > time.monotonic():
                continue
            if platform == "teams":
                problem, good_for = await self.teams_token.problem(app)
            else:
                check = CHECKS.get(platform)
                problem, good_for = (await check(app) if check else None), PLATFORM_CACHE_SECONDS
            if problem is None:
                self.ok_until[platform] = time.monotonic() + good_for
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


class BotFrameworkToken:
    """Teams works when the app's id, secret and tenant buy a Bot Framework token (OAuth client
    credentials at the token endpoint). A token is good for its lifetime, so it is asked for
    once per lifetime, not on every probe."""

    async def problem(self, app: web.Application) -> tuple[str | None, float]:
        from adapters.teams.routes import TEAMS

        teams = app[TEAMS].teams
        if not teams.authenticated:
            return None, PLATFORM_CACHE_SECONDS  # development mode: there is nothing to prove
        form = {
            "grant_type": "client_credentials",
            "client_id": teams.app_id or "",
            "client_secret": teams.app_password or "",
            "scope": BOT_FRAMEWORK_SCOPE,
        }
        try:
            async with (
                asyncio.timeout(TIMEOUT_SECONDS),
                aiohttp.ClientSession() as http,
                http.post(teams.token_endpoint, data=form) as response,
            ):
                answer = await _json_or_empty(response)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.debug("readiness: the Bot Framework token endpoint did not answer", exc_info=error)
            return f"teams: the token endpoint did not answer ({type(error).__name__})", 0.0
        if response.status != 200 or not answer.get("access_token"):
            return _refusal(response.status, answer), 0.0
        lifetime = _seconds(answer.get("expires_in"))
        return None, max(lifetime - TOKEN_MARGIN_SECONDS, PLATFORM_CACHE_SECONDS)


async def _json_or_empty(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        answer = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return answer if isinstance(answer, dict) else {}


def _refusal(status: int, answer: dict[str, Any]) -> str:
    code = str(answer.get("error") or f"HTTP {status}")
    # Entra's descriptions start with their AADSTS number, the part worth searching for.
    described = str(answer.get("error_description") or "").split(":", 1)[0].strip()
    what = f"{code}, {described}" if described.startswith("AADSTS") else code
    fix = TOKEN_ERRORS.get(code, "check MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID")
    return f"teams: the token endpoint refused the bot's credentials ({what}): {fix}"


def _seconds(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


CHECKS: dict[str, Check] = {"slack": slack_ready}


def mount(app: web.Application, *, db: Database, mounted: list[str]) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz_handler(db, mounted))
