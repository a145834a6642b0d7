"""The monthly report, posted by the clock to the channel an admin chose (`report #channel monthly`).

From the 1st of a month (UTC), the clock's sweep sends each tenant the report of the month
before: new cases, repeats, overdue actions by owner, the ledger's six-month trend, and its
chart. It goes as a new post in the chosen channel (the notifier's `ChannelPoster`: Slack
chat.postMessage with the chart uploaded, Teams a proactive post in a channel the bot is in),
or into the conversation `report here` was said in. Each (tenant, channel, month) is claimed
in `monthly_reports` before the send, so it goes once; a failed send is tried again on a later
tick if the platform says it is worth it, an uncertain one never (it may have been posted).
A month that ended before the channel was chosen is not reported. Time is an input: the
sweep's `now`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.insights import chart, ledger, ledger_report
from bot.insights.reports import build_ledger
from bot.messages import Attachment, Reply, ReplyKind
from bot.notify import ChannelPoster, ConversationPoster, Notifier, SendResult
from storage import history, reports
from storage.db import Database
from storage.repo import people_by_ids

log = logging.getLogger(__name__)


def reported_month(now: dt.datetime) -> ledger.Period:
    """The last whole month before `now` (UTC)."""
    first = now.astimezone(dt.UTC).date().replace(day=1)
    return ledger.containing(first - dt.timedelta(days=1), "month")


async def report_replies(
    session: AsyncSession, *, tenant_id: int, month: ledger.Period, today: dt.date
) -> list[Reply]:
    window = ledger.parse_window(f"month {month.label} 6", today=today)
    built = await build_ledger(session, tenant_id=tenant_id, window=window, today=today)
    figures = built.periods[-1]
    actions = await history.actions_of_published_cases(session, tenant_id=tenant_id)
    overdue = [a for _, a in actions if a.status == "open" and a.due_date is not None and a.due_date < today]
    people = await people_by_ids(
        session, tenant_id=tenant_id, ids=[a.owner_id for a in overdue if a.owner_id]
    )
    by_owner: dict[str, int] = {}
    for action in overdue:
        owner = people.get(action.owner_id or 0)
        name = f"@{owner.display_name or owner.platform_user_id}" if owner else "no owner"
        by_owner[name] = by_owner.get(name, 0) + 1
    lines = [
        f"**Casebook monthly report — {month.label}**",
        f"- New cases: {len(figures.incidents)}"
        + (f" ({', '.join(f'#{n}' for n in figures.incidents[:12])})" if figures.incidents else ""),
        f"- Repeats: {len(figures.repeats)}"
        + (
            f" ({', '.join(f'#{a} after #{b}' for a, b in sorted(figures.repeats.items())[:8])})"
            if figures.repeats
            else ""
        ),
        f"- Overdue actions: {len(overdue)}"
        + (
            f" — {', '.join(f'{k} {v}' for k, v in sorted(by_owner.items(), key=lambda kv: (-kv[1], kv[0])))}"
            if overdue
            else ""
        ),
        "",
        ledger_report.markdown(built),
    ]
    png = await asyncio.to_thread(chart.render_png, built)
    return [
        Reply("\n".join(lines), ReplyKind.INFO),
        Reply(
            f"Value ledger chart to {month.label}.",
            ReplyKind.INFO,
            attachment=Attachment(
                f"ledger-{month.label}.png", f"Value ledger chart to {month.label}", "image/png", data=png
            ),
        ),
    ]


@dataclass(frozen=True)
class Outcome:
    tenant: str
    month: str
    status: str  # sent | failed | uncertain | skipped
    detail: str = ""


async def sweep(db: Database, notifiers: Mapping[str, Notifier], *, now: dt.datetime) -> list[Outcome]:
    """Send every due monthly report once; what became of each."""
    month = reported_month(now)
    month_end = dt.datetime.combine(month.end, dt.time(), tzinfo=dt.UTC)
    async with db.transaction() as session:
        targets = [d for d in await reports.destinations(session) if d.chosen_at < month_end]
    outcomes: list[Outcome] = []
    for target in targets:
        poster = notifiers.get(target.platform)
        channel = _channel_of(target.conversation_key)
        if not isinstance(poster, ChannelPoster if channel else ConversationPoster):
            continue
        async with db.transaction() as session:
            claimed = await reports.claim(session, destination=target, month=month.label, now=now)
        if claimed is None:
            continue
        outcomes.append(await _send(db, poster, target, claimed, month, now))
    return outcomes


def _channel_of(conversation_key: str) -> str | None:
    """`report #channel monthly` stores "channel:<id or name>"; `report here` a conversation key."""
    kind, _, channel = conversation_key.partition(":")
    return channel if kind == "channel" and channel else None


async def _post(poster: Notifier, target: reports.Destination, replies: list[Reply]) -> SendResult:
    channel = _channel_of(target.conversation_key)
    if channel is not None and isinstance(poster, ChannelPoster):
        return await poster.post_to_channel(tenant=target.tenant, channel=channel, replies=replies)
    assert isinstance(poster, ConversationPoster)
    return await poster.post_in_conversation(
        tenant=target.tenant, conversation_key=target.conversation_key, replies=replies
    )


async def _send(
    db: Database,
    poster: Notifier,
    target: reports.Destination,
    claimed: int,
    month: ledger.Period,
    now: dt.datetime,
) -> Outcome:
    async with db.transaction() as session:
        replies = await report_replies(session, tenant_id=target.tenant_id, month=month, today=now.date())
    result = await _post(poster, target, replies)
    # A refusal that will not change (the platform cannot post there) is not retried every tick.
    status = (
        "sent"
        if result.ok
        else "uncertain"
        if result.uncertain
        else "failed"
        if result.retryable
        else "refused"
    )
    async with db.transaction() as session:
        await reports.record(session, report_id=claimed, status=status, now=now, error=result.error)
    if status != "sent":
        log.warning(
            "monthly report %s for %s not sent (%s): %s", month.label, target.tenant, status, result.error
        )
    return Outcome(target.tenant, month.label, status, result.error or "")
