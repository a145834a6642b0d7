"""The operations endpoints and middlewares on the web app."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.ops import health, metrics
from adapters.ops.logs import REQUEST_ID
from adapters.ops.settings import ServeSettings
from storage.db import Database


def mount(app: web.Application, *, db: Database, mounted: list[str], serve: ServeSettings) -> None:
    """/healthz, /readyz, /metrics (when allowed), request ids and request metrics."""
    app.middlewares.append(tag_request)
    health.mount(app, db=db, mounted=mounted)
    metrics.mount(app, db=db, serve=serve)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def tag_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request id for this request's lines (a caller's X-Request-Id when it sends one)."""
    given = request.headers.get("X-Request-Id", "").strip()[:64]
    token = REQUEST_ID.set(given or uuid.uuid4().hex[:16])
    try:
        return await handler(request)
    finally:
        REQUEST_ID.reset(token)
