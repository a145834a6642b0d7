"""POST /api/messages: the one door Teams knocks on, and this adapter's error boundary.

In order: parse the body (400), authenticate the Bot Framework token (401; 503 if
the signing keys cannot be fetched), check the tenant (403), run the turn (500 on
an unexpected failure, after telling the people in the chat), answer, and only
then start the turn's follow-up jobs in the background.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes
from msrest.exceptions import DeserializationError

from adapters.bodies import Malformed
from adapters.conveyor import Conveyor
from adapters.teams import delivery, payloads
from adapters.teams.auth import KeysUnavailable, Unauthenticated, authenticate, build_adapter
from adapters.teams.bot import FOLLOWUPS, CasebookTeamsBot, TurnWork
from adapters.teams.config import TeamsSettings
from adapters.teams.inbound import PLATFORM, TEAMS_CHANNEL, TenantMismatch, tenant_of
from adapters.teams.notifier import TeamsNotifier
from adapters.work import Work
from bot.config import Settings
from bot.messages import Reply, ReplyKind
from bot.outbox import Written, reply_from
from storage.db import Database
from storage.models import InboxEntry, OutboxEntry

log = logging.getLogger(__name__)

APOLOGY = (
    "Something went wrong on my side while handling your last message; the error is logged. "
    "Check with `status` (or `actions`) whether it was applied before sending it again."
)


DRAIN_SECONDS = 30.0  # how long shutdown waits for follow-ups still running


@dataclass
class TeamsRuntime:
    db: Database
    settings: Settings
    teams: TeamsSettings
    adapter: CloudAdapter
    bot: CasebookTeamsBot
    notifier: TeamsNotifier
    background: Work = field(default_factory=lambda: Work("teams"))
    conveyor: Conveyor = field(init=False)

    def __post_init__(self) -> None:
        self.conveyor = Conveyor(
            platform=PLATFORM,
            db=self.db,
            settings=self.settings,
            spawn=self.background.spawn,
            apply=_no_inbox,
            send=self._send_row,
            after=_nothing_after,
        )

    async def recover(self, _app: web.Application | None = None) -> None:
        """Replies and jobs the last process left unsent or unfinished (Teams answers are applied
        before the 200, so there is no inbox to finish)."""
        await self.conveyor.recover()

    async def _send_row(self, row: OutboxEntry) -> str:
        """A reply left in the outbox (a job's result, or one a crash cut off), sent proactively."""
        activity = Activity().deserialize(row.payload["place"]["activity"])
        reply = reply_from(row.payload["reply"])

        async def post(context: TurnContext) -> None:
            await self.bot.deliver(context, row.tenant, [reply])

        return "sent" if await _proactively(self, activity, post) else "failed"

    async def close(self, _app: web.Application | None = None) -> None:
        await self.background.drain(DRAIN_SECONDS)


async def _no_inbox(entries: list[InboxEntry], _more: Callable[[], bool]) -> list[Written]:
    raise RuntimeError(f"Teams has no inbox rows (row {entries[0].id})")


async def _nothing_after(entry: InboxEntry, replies: list[Reply]) -> None:
    return None


TEAMS: web.AppKey[TeamsRuntime] = web.AppKey("casebook.teams", TeamsRuntime)


def build_runtime(*, db: Database, settings: Settings, teams: TeamsSettings) -> TeamsRuntime:
    adapter = build_adapter(teams)
    notifier = TeamsNotifier(adapter=adapter, db=db, teams=teams)
    bot = CasebookTeamsBot(db=db, settings=settings, teams=teams, notifier=notifier)
    return TeamsRuntime(db, settings, teams, adapter, bot, notifier)


def add_routes(
    app: web.Application, *, db: Database, settings: Settings, teams: TeamsSettings | None = None
) -> TeamsRuntime | None:
    """Mount POST /api/messages when Teams is configured (MICROSOFT_APP_ID, or the dev flag)."""
    teams = teams or TeamsSettings.from_env()
    if not teams.enabled:
        log.info("Teams is off: set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID")
        return None
    runtime = build_runtime(db=db, settings=settings, teams=teams)
    app[TEAMS] = runtime
    app.router.add_post("/api/messages", messages)
    app.on_startup.append(runtime.recover)
    app.on_cleanup.append(runtime.close)
    log.info(
        "Teams is on at /api/messages (%s; tenants %s)",
        "tokens checked" if teams.authenticated else "UNAUTHENTICATED development mode",
        ", ".join(sorted(teams.tenants)),
    )
    return runtime


async def messages(request: web.Request) -> web.StreamResponse:
    runtime = request.app[TEAMS]
    activity = await _read_activity(request)
    try:
        auth = await authenticate(runtime.adapter, activity, request.headers.get("Authorization", ""))
    except Unauthenticated as error:
        log.warning(
            "refused a Teams request from %s: no valid Bot Framework token (%s)", request.remote, error
        )
        raise web.HTTPUnauthorized(text="invalid or missing Bot Framework token") from error
    except KeysUnavailable as error:
        log.error("cannot fetch the Bot Framework signing keys: %s", error)
        raise web.HTTPServiceUnavailable(text="cannot verify tokens right now") from error
    _check_origin(runtime.teams, activity)

    work: list[TurnWork] = []

    async def logic(context: TurnContext) -> None:
        await runtime.bot.on_turn(context)
        if FOLLOWUPS in context.turn_state:
            work.append(context.turn_state[FOLLOWUPS])

    try:
        invoke = await runtime.adapter.process_activity(auth, activity, logic)
    except Exception:  # the adapter's one boundary: log it, tell the chat, answer 500
        log.exception(
            "Teams %s activity %s in %s failed",
            activity.type,
            activity.id,
            activity.conversation.id if activity.conversation else "?",
        )
        if activity.type == ActivityTypes.message:
            await _apologize(runtime, activity)
        raise web.HTTPInternalServerError(text="the bot failed to handle this activity") from None
    for item in work:  # the turn's job rows, run (and their replies sent) by the conveyor
        runtime.conveyor.kick(item.tenant, item.conversation_key)
    if invoke is not None:
        return web.json_response(invoke.body, status=invoke.status)
    return web.Response(status=200)


async def _read_activity(request: web.Request) -> Activity:
    if "application/json" not in request.headers.get("Content-Type", ""):
        raise web.HTTPUnsupportedMediaType(text="expected application/json")
    try:
        body = payloads.read_activity(await request.read())
    except Malformed as error:
        log.warning("refused a malformed Teams activity from %s: %s", request.remote, error)
        raise web.HTTPBadRequest(text="not a Bot Framework activity") from None
    try:
        activity = Activity().deserialize(body)
    except (DeserializationError, ValueError, TypeError, AttributeError) as error:
        raise web.HTTPBadRequest(text="not a Bot Framework activity") from error
    if not activity.type:
        raise web.HTTPBadRequest(text="the activity has no type")
    return activity


def _check_origin(teams: TeamsSettings, activity: Activity) -> None:
    """Teams only (another Bot Framework channel, such as Web Chat, lets its clients write
    channelData), and only the configured tenants."""
    if activity.channel_id != TEAMS_CHANNEL:
        log.warning(
            "refused activity %s from the %r channel: only Teams is served", activity.id, activity.channel_id
        )
        raise web.HTTPForbidden(text="only Microsoft Teams is served here")
    try:
        tenant = tenant_of(activity)
    except TenantMismatch as error:
        log.warning("refused Teams activity %s: %s", activity.id, error)
        raise web.HTTPForbidden(text="tenant mismatch") from error
    if tenant is None or tenant not in teams.tenants:
        log.warning(
            "refused Teams activity %s from tenant %s "
            "(not in MICROSOFT_APP_TENANT_ID or TEAMS_ALLOWED_TENANTS)",
            activity.id,
            tenant or "(none)",
        )
        raise web.HTTPForbidden(text="this tenant is not served here")


async def _apologize(runtime: TeamsRuntime, activity: Activity) -> None:
    async def say(context: TurnContext) -> None:
        await delivery.send(context, delivery.render_all([Reply(APOLOGY, ReplyKind.ERROR)], {}))

    await _proactively(runtime, activity, say)


async def _proactively(
    runtime: TeamsRuntime, activity: Activity, logic: Callable[[TurnContext], Awaitable[None]]
) -> bool:
    """Speak again in the activity's conversation (its reply chain, on a channel)."""
    reference = TurnContext.get_conversation_reference(activity)
    try:
        await runtime.adapter.continue_conversation(reference, logic, runtime.teams.app_id or "")
    except delivery.SEND_ERRORS as error:
        log.error("could not post to Teams conversation %s: %s", reference.conversation.id, error)
        return False
    return True
