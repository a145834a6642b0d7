"""The pages about cases: the list (search, filters, pages), a case, its downloads, a person."""

from __future__ import annotations

import json

from aiohttp import web

from adapters.web import params
from adapters.web.context import NotFound, Viewer, now, state, viewer
from adapters.web.render import render
from bot.insights.similar import find_similar, query_of
from bot.parsing import AREAS, SEVERITIES
from bot.render import case_json, render_case_markdown
from bot.store import LoadedCase, load_case
from storage import library, repo
from storage.models import CaseStatus


def case_filters(request: web.Request) -> library.CaseFilters:
    query = request.query
    since, until = params.period(query)
    return library.CaseFilters(
        query=params.text(query, "q", limit=500) or "",
        status=params.case_status(query),
        severity=params.severity(query),
        area=params.area(query),
        service=params.text(query, "service", limit=100),
        since=since,
        until=until,
        lead_id=params.number(query, "lead", default=None),
    )


async def cases_page(request: web.Request) -> web.Response:
    who = await viewer(request)
    filters = case_filters(request)
    page, per_page = params.paging(request.query)
    async with state(request).db.sessions() as session:
        found = await library.list_cases(
            session, tenant_id=who.tenant_id, filters=filters, page=page, per_page=per_page
        )
        people = await library.people(session, tenant_id=who.tenant_id)
        services = await library.distinct_services(session, tenant_id=who.tenant_id)
    return render(
        request,
        "cases.html",
        viewer=who,
        found=found,
        filters=filters,
        current=dict(request.query),
        people=people,
        services=services,
        statuses=[s.value for s in CaseStatus],
        severities=SEVERITIES,
        areas=AREAS,
    )


async def _loaded(request: web.Request, who: Viewer) -> LoadedCase:
    number = _case_number(request)
    async with state(request).db.sessions() as session:
        case = await repo.case_by_number(session, tenant_id=who.tenant_id, number=number)
        if case is None:
            raise NotFound(f"There is no case #{number} here.")
        return await load_case(session, tenant_id=who.tenant_id, case=case)


def _case_number(request: web.Request) -> int:
    raw = request.match_info["number"]
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound("There is no such case here.")
    return int(raw)


async def case_page(request: web.Request) -> web.Response:
    who = await viewer(request)
    loaded = await _loaded(request, who)
    case = loaded.row
    assert case.id is not None
    async with state(request).db.sessions() as session:
        answers = await repo.raw_answers(session, tenant_id=who.tenant_id, case_id=case.id)
        authors = await library.answer_authors(session, tenant_id=who.tenant_id, answers=answers)
        similar = await find_similar(
            session, tenant_id=who.tenant_id, text=query_of(loaded.draft), exclude_case_id=case.id
        )
        people = await library.people(session, tenant_id=who.tenant_id)
    return render(
        request,
        "case.html",
        viewer=who,
        case=case,
        draft=loaded.draft,
        actions=loaded.actions,
        owners=loaded.people,
        answers=answers,
        authors=authors,
        similar=similar,
        people=people,
        today=now().date(),
    )


async def case_markdown(request: web.Request) -> web.Response:
    loaded = await _loaded(request, await viewer(request))
    return _download(render_case_markdown(loaded.draft), f"case-{loaded.row.number}.md", "text/markdown")


async def case_download_json(request: web.Request) -> web.Response:
    loaded = await _loaded(request, await viewer(request))
    text = json.dumps(case_json(loaded.draft), indent=2, ensure_ascii=False) + "\n"
    return _download(text, f"case-{loaded.row.number}.json", "application/json")


def _download(text: str, filename: str, mime: str) -> web.Response:
    return web.Response(
        text=text,
        content_type=mime,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def person_page(request: web.Request) -> web.Response:
    """A person's cases (led, answered in, owning an action of), open actions, and own ledger."""
    who = await viewer(request)
    raw = request.match_info["person_id"]
    person_id = int(raw) if raw.isdigit() and len(raw) < 10 else 0
    today = now().date()
    async with state(request).db.sessions() as session:
        person = await library.person(session, tenant_id=who.tenant_id, person_id=person_id)
        if person is None or person.id is None:
            raise NotFound("There is no such person here.")
        cases = await repo.recent_cases_of(session, tenant_id=who.tenant_id, person_id=person.id, limit=50)
        actions = await library.list_actions(
            session,
            tenant_id=who.tenant_id,
            filters=library.ActionFilters(owner_id=person.id),
            page=1,
            per_page=100,
        )
        figures = await library.person_figures(
            session, tenant_id=who.tenant_id, person_id=person.id, today=today
        )
    return render(
        request,
        "person.html",
        viewer=who,
        person=person,
        cases=cases,
        actions=actions,
        figures=figures,
        today=today,
    )


async def me_page(request: web.Request) -> web.Response:
    who = await viewer(request)
    raise web.HTTPSeeOther(f"/people/{who.person.id}")
