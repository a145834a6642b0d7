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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.jobs import run_followup
from bot.messages import Attachment, Choice, Inbound, ListItem, Reply, ReplyKind, Section
from bot.service import Record, handle_run
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
) -> Written:
    """Every reply as a row, and every follow-up a reply names as a job row after them."""
    return _written(
        replies, await outbox.add_rows(session, reply_rows(inbound, replies, place, inbox_id=inbox_id))
    )


def reply_rows(
    inbound: Inbound,
    replies: list[Reply],
    place: dict[str, Any],
    *,
    inbox_id: int | None = None,
    key: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The outbox rows' columns of `replies`, then of their jobs, under `key` (default: the
    inbound's conversation); `details` (one per reply) complete each reply's place."""
    common: dict[str, Any] = {
        "platform": inbound.platform,
        "tenant": inbound.tenant,
        "conversation_key": key or inbound.conversation_key,
        "at": inbound.at,
        "inbox_id": inbox_id,
    }
    extras = details or [{}] * len(replies)
    payloads = [
        {"reply": reply_payload(r), "place": {**place, **extra}}
        for r, extra in zip(replies, extras, strict=True)
    ]
    jobs = [{"job": r.followup, "place": place} for r in replies if r.followup]
    return [outbox.row_values(kind=outbox.REPLY, payload=p, **common) for p in payloads] + [
        outbox.row_values(kind=outbox.JOB, payload=j, **common) for j in jobs
    ]


def _written(replies: list[Reply], entries: list[OutboxEntry]) -> Written:
    return Written(
        replies,
        [e for e in entries if e.kind == outbox.REPLY],
        [e for e in entries if e.kind == outbox.JOB],
    )


@dataclass(frozen=True)
class Applying:
    """An inbox row on its way into the core: the message, its row, where its replies go
    (`place`, under `key`: the inbox row's conversation, which for a start is the channel it
    was typed in), and the adapter's `locate` for each reply's own place details."""

    inbound: Inbound
    inbox_id: int
    place: dict[str, Any]
    key: str | None = None
    locate: Locate | None = None


async def apply_run(
    db: Database, items: Sequence[Applying], *, settings: Settings, more: Callable[[], bool] = lambda: True
) -> list[Written]:
    """Apply inbox rows of one conversation in order: each answer, its replies as outbox rows
    and its row marked applied commit together, or none of them does. Several go in one
    transaction while they stay on one question (`handle_run`); one Written per row applied,
    at least the first; the rest are the caller's to apply again."""
    staged: dict[int, tuple[list[Reply], list[dict[str, Any]] | None]] = {}
    written: list[Written] = []

    def recorder(item: Applying, index: int) -> Record:
        async def record(session: AsyncSession, replies: list[Reply]) -> None:
            staged[index] = (
                replies,
                [await item.locate(session, r) for r in replies] if item.locate else None,
            )

        return record

    async def finish(session: AsyncSession, applied: int) -> None:
        """The run's outbox rows in one statement and its inbox rows marked in one more. A
        transaction applied again writes its rows again: the last ones count."""
        values = [
            reply_rows(
                item.inbound,
                staged[index][0],
                item.place,
                inbox_id=item.inbox_id,
                key=item.key,
                details=staged[index][1],
            )
            for index, item in enumerate(items[:applied])
        ]
        entries = iter(await outbox.add_rows(session, [row for rows in values for row in rows]))
        written[:] = [
            _written(staged[index][0], [next(entries) for _ in rows]) for index, rows in enumerate(values)
        ]
        await inbox.mark_all_applied(session, [(item.inbox_id, item.inbound.at) for item in items[:applied]])

    try:
        await handle_run(
            db,
            [item.inbound for item in items],
            settings=settings,
            records=[recorder(item, index) for index, item in enumerate(items)],
            finish=finish,
            more=more,
        )
    except inbox.AlreadyApplied:
        if len(items) > 1:  # one of them: apply the first alone, the caller goes on from there
            return await apply_run(db, items[:1], settings=settings)
        log.info("inbox row %s was applied by another process", items[0].inbox_id)
        return [Written()]
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
