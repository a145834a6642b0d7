"""The capability map and value ledger pages, with their SVG charts and CSV downloads."""

from __future__ import annotations

import csv
import io

from aiohttp import web

from adapters.web import charts, params
from adapters.web.context import BadInput, now, state, viewer
from adapters.web.render import render
from bot.insights import ledger_report
from bot.insights.capability_map import CapabilityMap, label
from bot.insights.ledger import Ledger, parse_window
from bot.insights.reports import build_ledger, build_map
from bot.parsing import AREAS, ParseError


async def _map(request: web.Request, area: str | None) -> CapabilityMap:
    who = await viewer(request)
    async with state(request).db.sessions() as session:
        return await build_map(session, tenant_id=who.tenant_id, area=area)


async def map_page(request: web.Request) -> web.Response:
    area = params.area(request.query)
    found = await _map(request, area)
    return render(
        request,
        "map.html",
        viewer=await viewer(request),
        found=found,
        area=area,
        areas=AREAS,
        chart=charts.map_chart(found),
        label=label,
    )


async def map_csv(request: web.Request) -> web.Response:
    found = await _map(request, params.area(request.query))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["area", "section", "text", "count", "cases"])
    sections = (
        "symptoms",
        "first_checks",
        "revealing_steps",
        "misleading_signals",
        "wrong_leads",
        "root_causes",
    )
    for item in found.areas:
        writer.writerow([item.area, "cases", "", len(item.cases), " ".join(map(str, item.cases))])
        for section in sections:
            for entry in getattr(item, section):
                writer.writerow(
                    [item.area, section, entry.text, entry.count, " ".join(map(str, entry.cases))]
                )
    return _csv(out.getvalue(), "capability-map.csv")


async def _ledger(request: web.Request) -> tuple[Ledger, str]:
    who = await viewer(request)
    window_text = params.text(request.query, "window", limit=40) or ""
    today = now().date()
    try:
        window = parse_window(window_text, today=today)
    except (ParseError, ValueError) as error:  # ValueError: a date the calendar cannot hold
        raise BadInput(str(error)) from error
    async with state(request).db.sessions() as session:
        built = await build_ledger(session, tenant_id=who.tenant_id, window=window, today=today)
    return built, window_text


async def ledger_page(request: web.Request) -> web.Response:
    built, window_text = await _ledger(request)
    return render(
        request,
        "ledger.html",
        viewer=await viewer(request),
        ledger=built,
        window=window_text,
        charts=charts.ledger_charts(built),
        rows=ledger_report.csv_rows(built),
        minutes=ledger_report.minutes,
        percent=ledger_report.percent,
        label=label,
    )


async def ledger_csv(request: web.Request) -> web.Response:
    built, _ = await _ledger(request)
    first, last = built.window.periods[0].label, built.window.periods[-1].label
    return _csv(ledger_report.to_csv(built), f"ledger-{first}-to-{last}.csv")


def _csv(text: str, filename: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
