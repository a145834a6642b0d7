"""Admins create and revoke their tenant's read-API tokens here; a new token is shown once."""

from __future__ import annotations

from aiohttp import web

from adapters.web.actions import check_csrf
from adapters.web.context import (
    BadInput,
    Forbidden,
    NotFound,
    Viewer,
    now,
    session_of,
    set_session,
    state,
    viewer,
)
from adapters.web.render import render
from adapters.web.session import with_flash
from storage import api_tokens


async def _admin(request: web.Request) -> Viewer:
    who = await viewer(request)
    if not who.person.is_admin:
        raise Forbidden("Only workspace admins manage API tokens.")
    return who


async def tokens_page(request: web.Request, *, created: str | None = None) -> web.Response:
    who = await _admin(request)
    async with state(request).db.sessions() as session:
        rows = await api_tokens.of_tenant(session, tenant_id=who.tenant_id)
    return render(request, "tokens.html", viewer=who, tokens=rows, created=created)


async def create_token(request: web.Request) -> web.Response:
    values = await check_csrf(request)
    who = await _admin(request)
    name = values.get("name", "").strip()
    if not name or len(name) > 100:
        raise BadInput("Give the token a name of 1 to 100 characters (what will use it).")
    async with state(request).db.transaction() as session:
        _, token = await api_tokens.create(
            session, tenant_id=who.tenant_id, name=name, created_by_id=who.person.id, now=now()
        )
    # Shown in this one answer, never again: only its hash is kept.
    return await tokens_page(request, created=token)


async def revoke_token(request: web.Request) -> web.Response:
    await check_csrf(request)
    who = await _admin(request)
    raw = request.match_info["token_id"]
    if not raw.isdigit():
        raise NotFound("There is no such token.")
    async with state(request).db.transaction() as session:
        revoked = await api_tokens.revoke(session, tenant_id=who.tenant_id, token_id=int(raw), now=now())
    if not revoked:
        raise NotFound("There is no such live token.")
    set_session(request, with_flash(session_of(request), "The token is revoked."))
    raise web.HTTPSeeOther("/settings/tokens")
