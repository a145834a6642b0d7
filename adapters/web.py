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

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings
from storage.db import Database

log = logging.getLogger(__name__)

ROUTE_MODULES = ("adapters.slack", "adapters.teams", "adapters.trackers")

DATABASE = web.AppKey("database", Database)
MOUNTED: web.AppKey[list[str]] = web.AppKey("mounted")
HEALTH_TIMEOUT_SECONDS = 3


def build_app(*, db: Database, settings: Settings) -> web.Application:
    app = web.Application()
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
