"""Jinja2 (autoescaped) pages: the environment, its filters, and one way to answer with a page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from adapters.web.context import Viewer, session_of, set_session, state
from adapters.web.session import without_flash
from bot.case import fields_in
from bot.parsing import AREA_LABELS, RISK_LABELS, format_duration


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("adapters.web", "templates"),
        autoescape=select_autoescape(["html", "svg"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        day=day,
        duration=duration,
        area=lambda value: AREA_LABELS.get(value or "", value or "—"),
        risk=lambda key: RISK_LABELS.get(key, key),
        plain=plain,
    )
    env.globals["query"] = query
    env.globals["fields_in"] = fields_in  # the written sections a page section shows (bot/case.py)
    return env


def when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    return (value.astimezone(dt.UTC).date() if isinstance(value, dt.datetime) else value).isoformat()


def duration(value: dt.timedelta | None) -> str:
    return format_duration(value) if value is not None else "—"


_MARKS = re.compile(r"\*\*|`|(?<!\w)_(?=\S)|(?<=\S)_(?!\w)")


_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\s]+\)")


def plain(text: str) -> str:
    """A chat reply's Markdown as plain text (escaped by the template like any other text)."""
    return _MARKS.sub("", _LINK.sub(r"\1", text))


def query(params: dict[str, Any], **changes: Any) -> str:
    """The current filters with some changed, as a query string (for pagination links)."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged) if merged else "?"


def render(
    request: web.Request, template: str, *, viewer: Viewer | None, status: int = 200, **context: Any
) -> web.Response:
    web_state = state(request)
    current = session_of(request)
    flash = (current.flash, current.flash_kind) if current.flash else None
    if flash:
        set_session(request, without_flash(current))
    html = web_state.templates.get_template(template).render(
        viewer=viewer,
        csrf=current.csrf,
        flash=flash,
        providers=list(web_state.config.providers.values()),
        local=web_state.config.local,
        path=request.path,
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    titles = {400: "That did not work", 403: "Not allowed", 404: "Not found", 500: "Sorry"}
    return render(
        request, "error.html", viewer=None, status=status, title=titles.get(status, "Error"), message=message
    )
