"""Sending replies into a turn: names for mentions, cards, and what a failed send means."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence

import aiohttp
import requests
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ErrorResponseException

from adapters.teams import cards
from adapters.teams.tenancy import tenant_session
from bot.messages import Reply
from bot.notify import SendResult
from bot.parsing import MENTION_RE
from storage import reach
from storage.db import Database


async def names_for(
    db: Database, *, tenant: str, replies: Iterable[Reply], known: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """Display names for every `<@id>` the replies mention (what the turn knows, then the people table)."""
    names = {uid: name for uid, name in (known or {}).items() if name}
    wanted = {uid for r in replies for uid, _ in MENTION_RE.findall(_all_text(r))} - set(names)
    if wanted:
        async with tenant_session(db, tenant) as (session, tenant_id):
            names |= await reach.display_names(session, tenant_id=tenant_id, user_ids=wanted)
    return names


def _all_text(reply: Reply) -> str:
    return "\n".join([reply.text, *(s.body for s in reply.sections), *(i.text for i in reply.items)])


def render_all(replies: Sequence[Reply], names: Mapping[str, str]) -> list[Activity]:
    return [activity for reply in replies for activity in cards.render(reply, names=names)]


async def send(context: TurnContext, activities: Sequence[Activity]) -> str | None:
    """Send; the id of the first activity posted (a card that may be updated later), if any."""
    if not activities:
        return None
    responses = await context.send_activities(list(activities))
    first = responses[0] if responses else None
    return first.id if first is not None and first.id else None


# What a connector call can fail with: the service's answer, the network, or the token.
SEND_ERRORS = (
    ErrorResponseException,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    ConnectionError,
    requests.RequestException,
    PermissionError,
)


def failure(error: BaseException) -> SendResult:
    """A failed connector call as the reminder sweep needs it: worth retrying, or not."""
    if isinstance(error, PermissionError):
        return SendResult(
            ok=False,
            error=f"no Bot Framework token ({error}): check MICROSOFT_APP_ID/PASSWORD/TENANT_ID",
        )
    if isinstance(error, ErrorResponseException):
        status, retry_after = _status(error)
        text = f"Bot Framework answered {status}: {error}"
        if status == 429 or (status is not None and status >= 500):
            return SendResult(ok=False, retryable=True, error=text, retry_after=retry_after)
        return SendResult(ok=False, retryable=False, error=text)
    return SendResult(ok=False, retryable=True, error=f"Bot Framework unreachable: {error!r}")


def _status(error: ErrorResponseException) -> tuple[int | None, float | None]:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        retry_after = float(raw) if raw is not None else None
    except ValueError:
        retry_after = None
    return (int(status) if status is not None else None), retry_after
