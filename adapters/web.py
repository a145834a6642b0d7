"""`casebook serve`: one aiohttp server for every chat platform, plus a health check.

Each module in ROUTE_MODULES has `add_routes(app, *, db, settings)`: it mounts its
routes and lifecycle hooks when its platform is configured, and returns a truthy
value when it did.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import os
import traceback
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings
from storage.db import Database

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ROUTE_MODULES = ("adapters.slack", "adapters.teams")

DATABASE = web.AppKey("database", Database)
MOUNTED: web.AppKey[list[str]] = web.AppKey("mounted")
HEALTH_TIMEOUT_SECONDS = 3
MAX_BODY_BYTES = 1024 * 1024  # a larger body gets 413 before any handler reads it


@web.middleware
async def last_resort(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The server's one boundary for what no adapter expected: one ERROR line, and the answer each
    platform expects (Slack: a bare 200, so it does not retry into the same failure; others:
    a 500 without details). Malformed input never gets here: the adapters refuse it first."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as error:
        frame = traceback.extract_tb(error.__traceback__)[-1]
        log.error(
            "unexpected %r answering %s %s (at %s:%d)",
            error,
            request.method,
            request.path,
            frame.filename.rsplit("/", 2)[-1],
            frame.lineno,
        )
        if request.path.startswith("/slack/"):
            return web.Response(status=200)
        return web.json_response({"error": "internal error"}, status=500)


def build_app(*, db: Database, settings: Settings) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[last_resort])
    app[DATABASE] = db
    app[MOUNTED] = []
    app.router.add_get("/healthz", healthz)
    for name in ROUTE_MODULES:
        if importlib.import_module(name).add_routes(app, db=db, settings=settings):
            app[MOUNTED].append(name.rsplit(".", 1)[-1])
    app.on_startup.append(_freeze_startup_objects)
    return app


async def _freeze_startup_objects(_: web.Application) -> None:
    """Keep what startup built (modules, tables, compiled queries) out of the garbage collector's
    full passes: those passes otherwise stall every request now and then (the p99 of acks).
    Once per process: a second app in the same process (tests) has nothing new worth it."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers; 503 (with the reason) when it does not."""
    db = request.app[DATABASE]
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), db.sessions() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        log.warning("health check: the database did not answer: %r", error)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": db.dialect, "platforms": request.app[MOUNTED]})


def listen_address() -> tuple[str, int]:
    raw = os.environ.get("PORT", "").strip() or "3000"
    try:
        port = int(raw)
    except ValueError as exc:
        raise ConfigError(f"PORT must be a port number, not {raw!r}") from exc
    if not 0 < port < 65536:
        raise ConfigError(f"PORT must be between 1 and 65535, not {port}")
    return os.environ.get("HOST", "").strip() or "0.0.0.0", port


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.cli import prepare_database

    host, port = listen_address()
    db = prepare_database(settings)
    app = build_app(db=db, settings=settings)

    async def close_database(_: web.Application) -> None:
        await db.dispose()

    app.on_cleanup.append(close_database)
    mounted: list[str] = app[MOUNTED]
    log.info("serving on %s:%d (%s)", host, port, ", ".join(mounted) or "health check only")
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0
