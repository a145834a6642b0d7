"""The actions page, and its forms: close with evidence, snooze, reassign, cancel with a reason.

A form becomes the same command a person would type in chat (`done 12.3`, with the form's
values), handed to bot.service.handle as the signed-in person: the permission rules, the
compare-and-set and the notices are the core's, never re-implemented here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from aiohttp import web

from adapters.web import params
from adapters.web.context import (
    SESSION_KEY,
    BadInput,
    Forbidden,
    Viewer,
    now,
    session_of,
    set_session,
    state,
    viewer,
)
from adapters.web.render import plain, render
from adapters.web.session import CSRF_FIELD, csrf_ok, with_flash
from bot.messages import Inbound, InboundKind, Mention, Reply, ReplyKind
from bot.notify import Notifier
from bot.parsing import AREAS
from bot.service import handle
from storage import library

log = logging.getLogger(__name__)

_REF = re.compile(r"^(\d{1,9})\.(\d{1,4})$")
# The chat command each form is, and the form field the command reads its note or value from.
VERBS = {"done": "evidence", "snooze": "until", "reassign": "owner", "cancel": "reason"}


async def actions_page(request: web.Request) -> web.Response:
    who = await viewer(request)
    query = request.query
    today = now().date()
    overdue = params.text(query, "overdue", limit=5) in {"1", "yes", "true", "on"}
    filters = library.ActionFilters(
        status=params.action_status(query),
        owner_id=params.number(query, "owner", default=None),
        area=params.area(query),
        overdue_on=today if overdue else None,
    )
    page, per_page = params.paging(query)
    async with state(request).db.sessions() as session:
        found = await library.list_actions(
            session, tenant_id=who.tenant_id, filters=filters, page=page, per_page=per_page
        )
        summary = await library.open_summary(session, tenant_id=who.tenant_id, today=today)
        people = await library.people(session, tenant_id=who.tenant_id)
    return render(
        request,
        "actions.html",
        viewer=who,
        found=found,
        summary=summary,
        people=people,
        areas=AREAS,
        filters=filters,
        overdue=overdue,
        current=dict(query),
        today=today,
    )


def _safe_next(value: str | None) -> str:
    """Back where the form was, on this site only."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/actions"


async def check_csrf(request: web.Request) -> dict[str, str]:
    form = await request.post()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not csrf_ok(request.get(SESSION_KEY), values.get(CSRF_FIELD)):
        raise Forbidden("This form has expired or did not come from Casebook. Reload the page and try again.")
    return values


def inbound_for(
    who: Viewer, *, text: str, form: dict[str, str], mentions: tuple[Mention, ...] = ()
) -> Inbound:
    """A web form as the signed-in person's own command, in their web 'conversation'."""
    person = who.person
    return Inbound(
        platform=who.tenant.platform,
        tenant=who.tenant.external_id,
        conversation_key=f"web:{person.id}",
        user_id=person.platform_user_id,
        user_name=person.display_name,
        user_is_admin=person.is_admin,  # as the bots last saw it: the web neither grants nor takes rights
        text=text,
        kind=InboundKind.FORM,
        form=form,
        mentions=mentions,
        direct=True,
        at=now(),
    )


async def action_form(request: web.Request) -> web.Response:
    values = await check_csrf(request)
    who = await viewer(request)
    ref, verb = request.match_info["ref"], request.match_info["verb"]
    if not _REF.match(ref) or verb not in VERBS:
        raise BadInput("That is not an action of this casebook.")
    field = VERBS[verb]
    value = values.get(field, "").strip()
    mentions: tuple[Mention, ...] = ()
    if verb == "reassign":
        mentions = await _owner_mention(request, who, value)
        # The command reads the form's owner as a platform user id, as a chat form's user picker
        # gives it; the page's picker gives our person id.
        value = mentions[0].user_id
    web_state = state(request)
    replies = await handle(
        web_state.db,
        inbound_for(who, text=f"/{verb} {ref}", form={field: value}, mentions=mentions),
        settings=web_state.settings,
    )
    mine = [r for r in replies if r.to_user is None]
    notices = [r for r in replies if r.to_user is not None]
    if notices:
        await _deliver(request, who, notices)
    message = " ".join(plain(r.text) for r in mine) or "Done."
    kind = "error" if any(r.kind == ReplyKind.ERROR for r in mine) else "info"
    set_session(request, with_flash(session_of(request), message, kind))
    log.info("web: %s %s by %s: %s", verb, ref, who.person.platform_user_id, kind)
    raise web.HTTPSeeOther(_safe_next(values.get("next")))


async def _owner_mention(request: web.Request, who: Viewer, value: str) -> tuple[Mention, ...]:
    if not value.isdigit():
        raise BadInput("Choose who takes the action over.")
    async with state(request).db.sessions() as session:
        person = await library.person(session, tenant_id=who.tenant_id, person_id=int(value))
    if person is None:
        raise BadInput("That person is not in this casebook.")
    return (Mention(person.platform_user_id, person.display_name),)


async def _deliver(request: web.Request, who: Viewer, notices: list[Reply]) -> None:
    """Tell the other people concerned (the new owner, the case lead) by DM, as chat would."""
    notifiers = request.app.get(NOTIFIERS)
    notifier = (notifiers or {}).get(who.tenant.platform)
    if notifier is None:
        log.info("web: no notifier for %s; %d notice(s) not sent", who.tenant.platform, len(notices))
        return
    for reply in notices:
        assert reply.to_user is not None
        try:
            await notifier.send_direct(tenant=who.tenant.external_id, user_id=reply.to_user, replies=[reply])
        except Exception:  # a notice that cannot go out must not undo the change that was made
            log.exception("web: could not tell %s about a change", reply.to_user)


NOTIFIERS: web.AppKey[Mapping[str, Notifier]] = web.AppKey("casebook_web_notifiers")
