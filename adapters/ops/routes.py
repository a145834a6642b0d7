"""The operations endpoints and middlewares on the web app."""

from __future__ import annotations

from aiohttp import web

from adapters.ops import health, logs, metrics
from adapters.ops.settings import ServeSettings
from storage.db import Database


def mount(app: web.Application, *, db: Database, mounted: list[str], serve: ServeSettings) -> None:
    """/healthz, /readyz, /metrics (when allowed), request ids and request metrics."""
    app.middlewares.append(logs.tag_request)
    health.mount(app, db=db, mounted=mounted)
    metrics.mount(app, db=db, serve=serve)
