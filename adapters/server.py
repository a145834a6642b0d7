"""`casebook serve`: one aiohttp server for every chat platform, plus health, readiness and metrics.

Each module in ROUTE_MODULES has `add_routes(app, *, db, settings)`: it mounts its
routes and lifecycle hooks when its platform is configured, and returns a truthy
value when it did.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging

from aiohttp import web

from adapters.ops import routes as ops
from adapters.ops.settings import ServeSettings
from bot.config import Settings
from storage.db import Database

log = logging.getLogger(__name__)

# The web library comes last: with no chat platform mounted before it, it runs in local mode.
ROUTE_MODULES = ("adapters.slack", "adapters.teams", "adapters.web")

DATABASE = web.AppKey("database", Database)
MOUNTED: web.AppKey[list[str]] = web.AppKey("mounted")
# Set by a route module that must not be reachable from other machines (the local web library).
LOOPBACK_ONLY: web.AppKey[bool] = web.AppKey("loopback_only")


def build_app(*, db: Database, settings: Settings, serve: ServeSettings | None = None) -> web.Application:
    app = web.Application()
    app[DATABASE] = db
    app[MOUNTED] = []
    ops.mount(app, db=db, mounted=app[MOUNTED], serve=serve or ServeSettings.from_env())
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


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.cli import prepare_database

    serve = ServeSettings.from_env()
    host, port = serve.host, serve.port
    db = prepare_database(settings)
    app = build_app(db=db, settings=settings, serve=serve)

    async def close_database(_: web.Application) -> None:
        await db.dispose()

    app.on_cleanup.append(close_database)
    if app.get(LOOPBACK_ONLY) and host not in {"127.0.0.1", "localhost", "::1"}:
        log.info(
            "no chat platform or sign-in configured: listening on 127.0.0.1 only (HOST=%s ignored)", host
        )
        host = "127.0.0.1"
    mounted: list[str] = app[MOUNTED]
    log.info("serving on %s:%d (%s)", host, port, ", ".join(mounted) or "health check only")
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0
