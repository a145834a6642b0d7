"""The read API, /api/v1: cases, a case, actions, the ledger; JSON, paginated.

A tenant's bearer token (admins create them on /settings/tokens) says whose data; in the
embedded local mode no token is needed, as for the pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from adapters.web import params
from adapters.web.context import BadInput, NotFound, SignInNeeded, now, state, viewer
from adapters.web.openapi import document
from adapters.web.views import case_filters
from bot.insights import ledger_report
from bot.insights.ledger import parse_window
from bot.insights.reports import build_ledger
from bot.parsing import ParseError
from bot.render import case_json
from bot.store import load_case
from storage import api_tokens, library, repo
from storage.models import Case


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_get("/api/v1/cases", cases)
    app.router.add_get("/api/v1/cases/{number}", one_case)
    app.router.add_get("/api/v1/actions", actions)
    app.router.add_get("/api/v1/ledger", ledger)


# Web forms send their empty fields (`lead=`); API clients that send an empty number or choice
# made a mistake, and are told so.
NOT_EMPTY = ("page", "per_page", "lead", "status", "severity", "area", "overdue")


def check_not_empty(request: web.Request) -> None:
    for name in NOT_EMPTY:
        if name in request.query and not request.query[name].strip():
            raise BadInput(f"`{name}` is empty; leave it out or give it a value.")


async def tenant_id_of(request: web.Request) -> int:
    check_not_empty(request)
    if state(request).config.local:
        return (await viewer(request)).tenant_id
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SignInNeeded()
    async with state(request).db.sessions() as session:
        found = await api_tokens.tenant_of(session, token=token.strip())
    if found is None:
        raise SignInNeeded()
    return found


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _page(found: library.Page[Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": items,
        "page": found.page,
        "per_page": found.per_page,
        "total": found.total,
        "pages": found.pages,
    }


def _case_summary(case: Case, open_actions: int) -> dict[str, Any]:
    return {
        "number": case.number,
        "title": case.title,
        "severity": case.severity,
        "area": case.area,
        "services": list(case.services or ()),
        "status": case.status,
        "started": _iso(case.started_at),
        "resolved": _iso(case.resolved_at),
        "published": _iso(case.published_at),
        "open_actions": open_actions,
    }


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document(local=state(request).config.local))


async def cases(request: web.Request) -> web.Response:
    tenant_id = await tenant_id_of(request)
    filters = case_filters(request)
    page, per_page = params.paging(request.query)
    async with state(request).db.sessions() as session:
        found = await library.list_cases(
            session, tenant_id=tenant_id, filters=filters, page=page, per_page=per_page
        )
    return web.json_response(_page(found, [_case_summary(r.case, r.open_actions) for r in found.rows]))


async def one_case(request: web.Request) -> web.Response:
    tenant_id = await tenant_id_of(request)
    raw = request.match_info["number"].lstrip("#")
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound("There is no such case.")
    async with state(request).db.sessions() as session:
        case = await repo.case_by_number(session, tenant_id=tenant_id, number=int(raw))
        if case is None:
            raise NotFound(f"There is no case #{raw}.")
        loaded = await load_case(session, tenant_id=tenant_id, case=case)
    body = case_json(loaded.draft)
    body["published"] = _iso(case.published_at)
    return web.json_response(body)


async def actions(request: web.Request) -> web.Response:
    tenant_id = await tenant_id_of(request)
    query = request.query
    today = now().date()
    overdue = params.text(query, "overdue", limit=5)
    if overdue not in {None, "true", "false"}:
        raise BadInput("`overdue` is true or false.")
    page, per_page = params.paging(query)
    owner = params.text(query, "owner", limit=128)
    async with state(request).db.sessions() as session:
        owner_id = None
        if owner is not None:
            person = await library.person_by_user_id(session, tenant_id=tenant_id, user_id=owner)
            owner_id = person.id if person else -1  # nobody by that id: an empty page, not an error
        filters = library.ActionFilters(
            status=params.action_status(query),
            owner_id=owner_id,
            area=params.area(query),
            overdue_on=today if overdue == "true" else None,
        )
        found = await library.list_actions(
            session, tenant_id=tenant_id, filters=filters, page=page, per_page=per_page
        )
    items = [
        {
            "ref": f"{r.case.number}.{r.action.number}",
            "case": r.case.number,
            "description": r.action.description,
            "owner": {"user_id": r.owner.platform_user_id, "name": r.owner.display_name} if r.owner else None,
            "due": _iso(r.action.due_date),
            "kind": r.action.kind,
            "status": r.action.status,
            "area": r.case.area,
            "overdue": bool(r.action.status == "open" and r.action.due_date and r.action.due_date < today),
            "snoozed_until": _iso(r.action.snoozed_until),
            "closed_at": _iso(r.action.closed_at),
            "evidence": r.action.evidence,
        }
        for r in found.rows
    ]
    return web.json_response(_page(found, items))


async def ledger(request: web.Request) -> web.Response:
    tenant_id = await tenant_id_of(request)
    today = now().date()
    try:
        window = parse_window(params.text(request.query, "window", limit=40) or "", today=today)
    except (ParseError, ValueError) as error:  # ValueError: a date the calendar cannot hold
        raise BadInput(str(error)) from error
    async with state(request).db.sessions() as session:
        built = await build_ledger(session, tenant_id=tenant_id, window=window, today=today)
    return web.json_response(ledger_report.as_json(built))
