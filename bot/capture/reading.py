"""Reading a channel's history for a case: the port an adapter implements, and the follow-up
job `history:<request>` that reads through it, sorts what it read (`bot.capture.history`)
and posts the one review message (`bot.capture.review`). Nothing is added to the case here.

The job runs after the platform was acknowledged (an interview's start, `postmortem from
#channel`), so a long channel never delays an answer. A platform without a reader registered
in PORTS (Teams: its channel messages need Microsoft Graph, which Casebook does not use)
says so when asked, and stays quiet at an interview's start.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from bot.capture.history import ChannelMessage, propose
from bot.capture.review import open_review
from bot.commands import CommandContext, command, find_case
from bot.config import Settings
from bot.jobs import job
from bot.messages import Reply, ReplyKind
from bot.parsing import ParseError, parse_when, zone
from bot.render import when_text
from storage import capture as queries
from storage import repo
from storage.db import Database
from storage.models import Case

if TYPE_CHECKING:
    from bot.turn import Turn

log = logging.getLogger(__name__)

LIMIT = 2000  # messages read at most (threads' replies included); the rest is counted and said
KIND = "history"
SLACK_ONLY = "Reading a channel's history works on Slack only (on Teams it would need Microsoft Graph)."


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    created: dt.datetime | None = None


@dataclass(frozen=True)
class History:
    channel: Channel
    since: dt.datetime
    messages: tuple[ChannelMessage, ...]
    limit: int
    not_read: int = 0  # messages past the limit, counted
    counted_all: bool = True  # False: counting the rest stopped too, so `not_read` is a floor
    skipped: int = 0  # bots' and integrations' noise, joins, other subtypes left out
    calls: int = 0  # Web API calls it took


class HistoryUnavailable(Exception):
    """The channel cannot be read (unknown, not a member, a missing scope): says why, for people."""


class HistoryPort(Protocol):
    async def incident_channel(self, *, tenant: str, place: str) -> Channel | None:
        """The channel of a conversation key when it is an incident channel, else None."""
        ...

    async def channel(self, *, tenant: str, ref: str, user: str) -> Channel:
        """The channel a person named (`#name`, an id), if that person may read it here."""
        ...

    async def read(self, *, tenant: str, channel: Channel, since: dt.datetime, limit: int) -> History:
        """Its messages since `since`, oldest first, at most `limit` of them."""
        ...


PORTS: dict[str, HistoryPort] = {}


def register_port(platform: str, port: HistoryPort) -> None:
    PORTS[platform] = port


@dataclass(frozen=True)
class Request:
    """What the job is asked: read `ref` (a place, or a channel as typed) for case `number`."""

    number: int
    ref: str
    user: str
    since: dt.datetime | None = None
    auto: bool = False  # at an interview's start: only an incident channel, and quietly

    def key(self) -> str:
        since = self.since.isoformat() if self.since else ""
        return f"{KIND}:{self.number}|{'auto' if self.auto else 'asked'}|{self.user}|{self.ref}|{since}"

    @classmethod
    def parse(cls, argument: str) -> Request:
        number, mode, user, ref, since = argument.split("|", 4)
        return cls(
            number=int(number),
            ref=ref,
            user=user,
            since=dt.datetime.fromisoformat(since) if since else None,
            auto=mode == "auto",
        )


def with_history_followup(replies: list[Reply], *, turn: Turn, number: int) -> list[Reply]:
    """An interview's start, with the reading of its channel queued after its last reply
    (on a platform that can read one, outside a DM)."""
    inbound = turn.inbound
    if inbound.direct or inbound.platform not in PORTS or not replies or replies[-1].followup:
        return replies
    request = Request(number=number, ref=inbound.conversation_key, user=inbound.user_id, auto=True)
    return [*replies[:-1], replace(replies[-1], followup=request.key())]


@job(KIND)
async def history_job(
    db: Database, tenant_key: str, argument: str, settings: Settings, *, now: dt.datetime
) -> list[Reply]:
    platform, _, tenant = tenant_key.partition(":")
    request = Request.parse(argument)
    port = PORTS.get(platform)
    if port is None:
        return [] if request.auto else [Reply(SLACK_ONLY, ReplyKind.ERROR)]
    try:
        if request.auto:
            found = await port.incident_channel(tenant=tenant, place=request.ref)
            if found is None:
                return []
            channel = found
        else:
            channel = await port.channel(tenant=tenant, ref=request.ref, user=request.user)
        since = request.since or channel.created or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        history = await port.read(tenant=tenant, channel=channel, since=since, limit=LIMIT)
    except HistoryUnavailable as error:
        log.info("the history of %s for case #%d could not be read: %s", request.ref, request.number, error)
        return [] if request.auto else [Reply(str(error), ReplyKind.ERROR)]
    log.info(
        "read %d message(s) of #%s for case #%d in %d call(s); %d not read, %d skipped",
        len(history.messages),
        channel.name,
        request.number,
        history.calls,
        history.not_read,
        history.skipped,
    )
    proposal = propose(history.messages)
    if request.auto and not proposal.candidates:
        return []
    return await open_review(
        db,
        platform=platform,
        tenant=tenant,
        number=request.number,
        history=history,
        proposal=proposal,
        default_timezone=settings.default_timezone,
        now=now,
    )


# --- `postmortem from #channel [since <time>] [for #case]` ------------------------------------

_FROM = re.compile(r"^(?P<ref>\S+)(?:\s+since\s+(?P<since>.+?))?(?:\s+for\s+(?P<case>#?\d+))?\s*$", re.I)


@command(
    "from",
    usage="from #channel [since <time>] [for #case]",
    summary="read a channel's messages and propose timeline, symptoms and diagnostic steps for review",
)
async def from_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    match = _FROM.match(args.strip()[:300])
    if match is None:
        raise ParseError(
            "Name the channel: `postmortem from #incident-42 since 21:40` (`since` is optional)."
        )
    if turn.inbound.platform not in PORTS:
        raise ParseError(SLACK_ONLY)
    case = await find_case(ctx, match["case"]) if match["case"] else await _case_here(ctx)
    if not (turn.person.is_admin or case.lead_id == turn.person.id):
        raise ParseError(f"Only the lead of case #{case.number} or an admin can read a channel into it.")
    since = None
    if match["since"]:
        since = parse_when(match["since"], now=turn.inbound.at, tz=zone(turn.tz_name))
    elif case.started_at is not None:
        since = case.started_at
    request = Request(number=case.number, ref=match["ref"], user=turn.person.platform_user_id, since=since)
    said = f"Reading {match['ref']} for case #{case.number}" + (
        f" since {when_text(since, zone(turn.tz_name))}" if since else " from its start"
    )
    said += f" (at most {LIMIT:,} messages); I'll post what I find here for you to review."
    return [Reply(said, ReplyKind.INFO, followup=request.key(), case_number=case.number)]


async def _case_here(ctx: CommandContext) -> Case:
    """The case whose interview runs (else ran last) here, else the latest case."""
    turn = ctx.turn
    key = turn.inbound.conversation_key
    case_id = await queries.case_of_place(turn.session, tenant_id=turn.tenant_id, place=key)
    if case_id is not None:
        case = await repo.case_by_id(turn.session, tenant_id=turn.tenant_id, case_id=case_id)
    else:
        latest = await queries.recent_cases(turn.session, tenant_id=turn.tenant_id, limit=1)
        case = latest[0] if latest else None
    if case is None:
        raise ParseError("There is no case yet: start one with `postmortem <title>`, then read the channel.")
    return case
