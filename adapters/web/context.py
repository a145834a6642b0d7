"""What every page handler shares: the app's state, who is looking, and the friendly errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from jinja2 import Environment

from adapters.console.session import PLATFORM as LOCAL_PLATFORM
from adapters.console.session import TENANT as LOCAL_TENANT
from adapters.web.config import WebConfig
from adapters.web.session import Session, new_session
from bot.config import Settings
from storage import library, repo
from storage.db import Database
from storage.models import Person, Tenant


class PageError(Exception):
    """A request the library answers with a friendly page (or JSON on the API) and no change."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(PageError):
    status = 400


class NotFound(PageError):
    status = 404


class Forbidden(PageError):
    status = 403


@dataclass
class WebState:
    db: Database
    settings: Settings
    config: WebConfig
    templates: Environment
    oidc: dict[str, Any] = field(default_factory=dict)  # provider name -> adapters.web.oidc.Client


WEB = web.AppKey("casebook_web", WebState)
SESSION_KEY: web.RequestKey[Session | None] = web.RequestKey("casebook_session")


@dataclass(frozen=True)
class Viewer:
    tenant: Tenant
    person: Person
    local: bool

    @property
    def tenant_id(self) -> int:
        assert self.tenant.id is not None
        return self.tenant.id

    @property
    def name(self) -> str:
        return self.person.display_name or self.person.platform_user_id


def state(request: web.Request) -> WebState:
    return request.app[WEB]


def session_of(request: web.Request) -> Session:
    found: Session | None = request.get(SESSION_KEY)
    if found is None:
        found = new_session(hours=state(request).config.session_hours)
        request[SESSION_KEY] = found
    return found


def set_session(request: web.Request, session: Session) -> None:
    request[SESSION_KEY] = session


def now() -> dt.datetime:
    """A request's one reading of the clock (the adapter boundary takes it, the core is given it)."""
    return dt.datetime.now(dt.UTC)


class SignInNeeded(Exception):
    """No valid session: pages redirect to the sign-in page, the API answers 401."""


async def viewer(request: web.Request) -> Viewer:
    """The signed-in person (or, in local mode, the local console's admin)."""
    web_state = state(request)
    if web_state.config.local:
        async with web_state.db.transaction() as session:
            moment = now()
            tenant = await repo.tenant(session, platform=LOCAL_PLATFORM, external_id=LOCAL_TENANT, now=moment)
            assert tenant.id is not None
            user = web_state.config.local_user
            person = await repo.person(
                session, tenant_id=tenant.id, user_id=user, display_name=user, is_admin=True, now=moment
            )
        return Viewer(tenant, person, local=True)
    current = request.get(SESSION_KEY)
    if current is None or not current.signed_in:
        raise SignInNeeded()
    async with web_state.db.sessions() as session:
        found = await session.get(Tenant, current.tenant_id)
        someone = await library.person(session, tenant_id=current.tenant_id, person_id=current.person_id)
    if found is None or someone is None:
        raise SignInNeeded()
    return Viewer(found, someone, local=False)
