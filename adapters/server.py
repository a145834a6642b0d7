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
import traceback
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.ops import routes as ops
from adapters.ops.settings import ServeSettings
from bot.config import Settings
from storage.db import Database

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The web library comes after the chat platforms: with none mounted before it, it runs in local
# mode (tracker webhooks, mounted after it, do not count as a platform).
ROUTE_MODULES = ("adapters.slack", "adapters.teams", "adapters.web", "adapters.trackers")

DATABASE = web.AppKey("database", Database)
MOUNTED: web.AppKey[list[str]] = web.AppKey("mounted")
# Set by a route module that must not be reachable from other machines (the local web library).
LOOPBACK_ONLY: web.AppKey[bool] = web.AppKey("loopback_only")


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


def build_app(*, db: Database, settings: Settings, serve: ServeSettings | None = None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[last_resort])
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
