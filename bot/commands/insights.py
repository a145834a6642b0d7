"""Commands about what the cases teach: similar, map, ledger."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from bot.commands import CommandContext, command, find_case
from bot.config import Settings
from bot.insights import chart, ledger_report, monthly
from bot.insights import person as person_ledger
from bot.insights.capability_map import render as render_map
from bot.insights.ledger import parse_window
from bot.insights.reports import build_ledger, build_map, build_person_ledger
from bot.insights.similar import clip, find_similar, query_of, similar_reply
from bot.jobs import job
from bot.messages import Attachment, Reply, ReplyKind
from bot.parsing import MENTION_RE, ParseError, parse_area
from bot.store import draft_from_rows
from storage import repo, reports
from storage.db import Database

_CASE_ONLY = re.compile(r"^(?:case\s*)?#\d{1,9}$", re.IGNORECASE)


@command(
    "similar",
    usage="similar <symptoms> | similar #<case>",
    summary="past cases with similar symptoms: their first diagnostic steps and root cause",
)
async def similar_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    text, exclude, about = args.strip(), None, None
    if not text:
        raise ParseError(
            "Describe what you see, e.g. `similar 502s at checkout, db pool exhausted`, or `similar #12`."
        )
    if _CASE_ONLY.match(text):
        case = await find_case(ctx, text)
        text = query_of(draft_from_rows(case, [], {}))
        exclude, about = case.id, f"case #{case.number}"
    found = await find_similar(turn.session, tenant_id=turn.tenant_id, text=text, exclude_case_id=exclude)
    subject = about or f"“{clip(text, 60)}”"
    if not found:
        return [Reply(f"No past case resembles {subject} yet.", ReplyKind.INFO, ephemeral=True)]
    return [similar_reply(found, intro=f"**Past cases like {subject}:**")]


@command(
    "map",
    usage="map [area]",
    summary="the capability map: per area, symptoms, first checks, misleading signals, causes",
)
async def map_command(ctx: CommandContext, args: str) -> list[Reply]:
    area = parse_area(args) if args.strip() else None
    found = await build_map(ctx.turn.session, tenant_id=ctx.turn.tenant_id, area=area)
    return [Reply(render_map(found, detailed=area is not None), ReplyKind.INFO)]


@command(
    "ledger",
    usage="ledger [month|quarter] [YYYY-MM|YYYY-Qn] [N] [csv] | ledger @person",
    summary="the value ledger: detection and resolution times, repeats, follow-through, with a chart",
)
async def ledger_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    today = turn.inbound.at.astimezone(dt.UTC).date()
    if mention := MENTION_RE.search(args):
        return await _person_ledger(ctx, mention.group(1), mention.group(2), today)
    words = args.split()
    with_csv = "csv" in (w.lower() for w in words)
    window_text = " ".join(w for w in words if w.lower() != "csv")
    window = parse_window(window_text, today=today)
    built = await build_ledger(turn.session, tenant_id=turn.tenant_id, window=window, today=today)
    attachment = None
    if with_csv:
        name = f"ledger-{window.periods[0].label}-to-{window.periods[-1].label}.csv"
        attachment = Attachment(name, ledger_report.to_csv(built), "text/csv")
    # The chart takes a moment to draw: it follows once the platform has been answered.
    return [
        Reply(
            ledger_report.markdown(built),
            ReplyKind.INFO,
            attachment=attachment,
            followup=f"ledger-chart:{today.isoformat()} {window_text}".strip(),
        )
    ]


async def _person_ledger(ctx: CommandContext, user_id: str, label: str | None, today: dt.date) -> list[Reply]:
    turn = ctx.turn
    name = next(
        (m.display_name for m in turn.inbound.mentions if m.user_id == user_id and m.display_name), label
    )
    found = await build_person_ledger(turn.session, tenant_id=turn.tenant_id, who=user_id, today=today)
    if found is None:
        raise ParseError(f"@{name or user_id} has no cases, steps or actions in this casebook yet.")
    return [Reply(person_ledger.markdown(found), ReplyKind.INFO)]


_CHANNEL = re.compile(r"^(?:<#([A-Za-z0-9_.:@-]+)(?:\|([^>]*))?>|#([\w.-]+)|(here))$", re.IGNORECASE)


@command(
    "report",
    usage="report #channel monthly | report here monthly | report off",
    summary="post the monthly report (cases, repeats, overdue actions, the ledger, its chart) "
    "to a channel (admins)",
)
async def report_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    if not turn.person.is_admin:
        raise ParseError("Only a workspace admin can choose where the monthly report goes.")
    words = args.split()
    if [w.lower() for w in words] == ["off"]:
        stopped = await reports.stop_reports(turn.session, tenant_id=turn.tenant_id)
        return [
            Reply(
                "The monthly report is off." if stopped else "No monthly report was set up.", ReplyKind.INFO
            )
        ]
    match = _CHANNEL.match(words[0]) if len(words) == 2 and words[1].lower() == "monthly" else None
    if match is None:
        raise ParseError(
            "Say where and how often: `report #incidents monthly`, `report here monthly` or `report off`."
        )
    channel_id, shown, name, here = match.groups()
    key = turn.inbound.conversation_key if here else f"channel:{channel_id or name}"
    now = turn.inbound.at
    await reports.choose_channel(
        turn.session, tenant_id=turn.tenant_id, conversation_key=key, person_id=turn.person.id, now=now
    )
    first = monthly.reported_month(now + dt.timedelta(days=32 - now.day))
    where = "here" if here else f"#{shown or name or channel_id}"
    return [
        Reply(
            f"The monthly report will be posted {where}: the first, on {first.end.isoformat()}, "
            f"covers {first.label}.",
            ReplyKind.INFO,
        )
    ]


@job("ledger-chart")
async def ledger_chart_job(
    db: Database, tenant_key: str, argument: str, settings: Settings, *, now: dt.datetime
) -> list[Reply]:
    """Draw the ledger's chart: `argument` is "<as-of date> <window words>"."""
    platform, _, external_id = tenant_key.partition(":")
    as_of, _, window_text = argument.partition(" ")
    today = dt.date.fromisoformat(as_of)
    window = parse_window(window_text, today=today)
    async with db.transaction() as session:
        tenant = await repo.tenant(session, platform=platform, external_id=external_id, now=now)
        assert tenant.id is not None
        built = await build_ledger(session, tenant_id=tenant.id, window=window, today=today)
    png = await asyncio.to_thread(chart.render_png, built)
    first, last = window.periods[0].label, window.periods[-1].label
    return [
        Reply(
            f"Value ledger chart, {first} to {last}.",
            ReplyKind.INFO,
            attachment=Attachment(
                f"ledger-{first}-to-{last}.png",
                f"Value ledger chart, {first} to {last}: incidents by severity, median times, "
                "repeats and follow-through",
                "image/png",
                data=png,
            ),
        )
    ]
