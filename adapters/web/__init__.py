"""The web case library and its read API: one more adapter, mounted by `casebook serve`.

With no chat platform and no sign-in provider configured it runs in the embedded local mode:
the console's tenant, no sign-in, and the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from adapters.server import LOOPBACK_ONLY, MOUNTED
from adapters.web import config as web_config
from adapters.web.actions import NOTIFIERS
from adapters.web.context import WEB, WebState
from adapters.web.middleware import library_middleware
from adapters.web.render import environment
from adapters.web.routes import add_library_routes
from bot.config import Settings
from storage.db import Database

log = logging.getLogger(__name__)


def add_routes(app: web.Application, *, db: Database, settings: Settings) -> bool:
    config = web_config.load(platforms_mounted=bool(app[MOUNTED]), public_url=settings.public_url)
    app[WEB] = WebState(db=db, settings=settings, config=config, templates=environment())
    app[LOOPBACK_ONLY] = config.local
    app.middlewares.append(library_middleware)
    add_library_routes(app)
    app.cleanup_ctx.append(_notifiers)
    if config.local:
        log.info("web library: local mode (console tenant, no sign-in, 127.0.0.1 only)")
    else:
        log.info("web library: sign-in with %s", ", ".join(config.providers) or "no provider configured")
    return True


async def _notifiers(app: web.Application) -> AsyncIterator[None]:
    """The chat notifiers that tell people about changes made from the web (a new owner, the lead)."""
    from adapters.notifiers import configured_notifiers

    async with configured_notifiers(app[WEB].db) as notifiers:
        app[NOTIFIERS] = notifiers
        yield


__all__ = ["add_routes"]
