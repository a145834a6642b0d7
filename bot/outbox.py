"""Replies and follow-up jobs as outbox rows: written in the answer's transaction, so a reply
the core decided on is never lost with the process that decided it.

A row's payload is the reply (or the job's key) and `place`, the adapter's own description of
where it goes (a Slack target, a Teams conversation reference), which the core only carries.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.jobs import run_followup
from bot.messages import Attachment, Choice, Inbound, ListItem, Reply, ReplyKind, Section
from bot.service import handle
from storage import inbox, outbox
from storage.db import Database
from storage.models import OutboxEntry

log = logging.getLogger(__name__)
# The adapter's own details of one reply's place, looked up in the answer's transaction (e.g.
# which message a record line replaces): merged into that reply's `place`.
Locate = Callable[[AsyncSession, Reply], Awaitable[dict[str, Any]]]


def reply_payload(reply: Reply) -> dict[str, Any]:
    data = dataclasses.asdict(reply)
    if reply.attachment is not None and reply.attachment.data is not None:
        data["attachment"]["data"] = base64.b64encode(reply.attachment.data).decode()
    return data


def reply_from(data: dict[str, Any]) -> Reply:
    fields = dict(data)
    attachment = fields.get("attachment")
    if attachment is not None:
        raw = attachment.get("data")
        fields["attachment"] = Attachment(**{**attachment, "data": base64.b64decode(raw) if raw else None})
    fields["kind"] = ReplyKind(fields["kind"])
    fields["choices"] = tuple(Choice(**c) for c in fields.get("choices") or ())
    fields["picks"] = tuple(Choice(**c) for c in fields.get("picks") or ())
    fields["sections"] = tuple(Section(**s) for s in fields.get("sections") or ())
    fields["items"] = tuple(
        ListItem(text=i["text"], choices=tuple(Choice(**c) for c in i["choices"]), ref=i.get("ref"))
        for i in fields.get("items") or ()
    )
    return Reply(**fields)


@dataclass
class Written:
    """What one transaction put in the outbox (ids once flushed): the reply rows to deliver in
    order, and the job rows to run; `replies` are the core's replies themselves."""

    replies: list[Reply] = field(default_factory=list)
    rows: list[OutboxEntry] = field(default_factory=list)
    jobs: list[OutboxEntry] = field(default_factory=list)


async def write_replies(
    session: AsyncSession,
    *,
    inbound: Inbound,
    replies: list[Reply],
    place: dict[str, Any],
    inbox_id: int | None = None,
    key: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> Written:
    """Every reply as a row, and every follow-up a reply names as a job row after them;
    `details` (one per reply) complete each reply's place."""
    common: dict[str, Any] = {
        "platform": inbound.platform,
        "tenant": inbound.tenant,
        "conversation_key": key or inbound.conversation_key,
        "at": inbound.at,
        "inbox_id": inbox_id,
    }
    rows = await outbox.add(
        session,
        kind=outbox.REPLY,
        payloads=[
            {"reply": reply_payload(r), "place": {**place, **extra}}
            for r, extra in zip(replies, details or [{}] * len(replies), strict=True)
        ],
        **common,
    )
    jobs = [{"job": r.followup, "place": place} for r in replies if r.followup]
    return Written(replies, rows, await outbox.add(session, kind=outbox.JOB, payloads=jobs, **common))


async def apply_received(
    db: Database,
    inbound: Inbound,
    *,
    inbox_id: int,
    place: dict[str, Any],
    settings: Settings,
    key: str | None = None,
    locate: Locate | None = None,
) -> Written:
    """Apply an inbox row: the answer, its replies as outbox rows and the row marked applied
    commit together, or none of them does. The rows go under `key`, the inbox row's
    conversation (a start's replies go out in the order of the channel it was typed in)."""
    written = Written()

    async def record(session: AsyncSession, replies: list[Reply]) -> None:
        nonlocal written  # a transaction applied again writes its rows again: the last ones count
        details = [await locate(session, r) for r in replies] if locate else None
        written = await write_replies(
            session,
            inbound=inbound,
            replies=replies,
            place=place,
            inbox_id=inbox_id,
            key=key,
            details=details,
        )
        await inbox.mark_applied(session, entry_id=inbox_id, at=inbound.at)

    try:
        replies = await handle(db, inbound, settings=settings, record=record)
    except inbox.AlreadyApplied:
        log.info("inbox row %s was applied by another process", inbox_id)
        return Written()
    written.replies = replies
    return written


async def settle_without_applying(
    db: Database, inbound: Inbound, *, inbox_id: int, place: dict[str, Any], replies: list[Reply]
) -> Written:
    """An inbox row that cannot be applied (its prelude failed): its replies say so, once."""
    try:
        async with db.transaction() as session:
            written = await write_replies(
                session, inbound=inbound, replies=replies, place=place, inbox_id=inbox_id
            )
            await inbox.mark_applied(session, entry_id=inbox_id, at=inbound.at)
    except inbox.AlreadyApplied:
        return Written()
    return written


async def run_job(db: Database, row: OutboxEntry, *, now: dt.datetime, settings: Settings) -> bool:
    """Run a job row this process claims; its replies become reply rows in the commit that
    settles it. False when another process has it. A crash before that commit leaves the job
    claimed and unsettled, and `outbox.settle_interrupted` lets the next process run it again."""
    assert row.id is not None
    async with db.transaction() as session:
        if not await outbox.claim(session, entry_id=row.id, at=now):
            return False
    results = await run_followup(
        db, str(row.payload["job"]), platform=row.platform, tenant=row.tenant, now=now, settings=settings
    )
    async with db.transaction() as session:
        await outbox.add(
            session,
            platform=row.platform,
            tenant=row.tenant,
            conversation_key=row.conversation_key,
            kind=outbox.REPLY,
            payloads=[{"reply": reply_payload(r), "place": row.payload["place"]} for r in results],
            at=now,
            inbox_id=row.inbox_id,
        )
        await outbox.settle(session, entry_id=row.id, at=now, outcome="done")
    return True
