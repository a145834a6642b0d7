"""The capture commands: `clip` (what a message shortcut or message action submits) and
`account` outside an interview (where to paste it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from bot.capture.clip import SECTIONS, Clip, added, added_reply, mark_amended
from bot.commands import CommandContext, command, find_case
from bot.messages import Reply, ReplyKind
from bot.parsing import ParseError
from bot.store import load_case, save_draft
from storage import repo
from storage.models import CaseStatus


@command(
    "clip",
    usage="clip (the “Add to postmortem” shortcut on a message)",
    summary="add a chat message to a case (symptom, diagnostic step, signal, timeline point, root cause)",
)
async def clip_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    form = turn.inbound.form or {}
    if not form.get("case"):
        raise ParseError(
            "Use the “Add to postmortem” shortcut on a message (Slack: ⋯ → More message shortcuts)."
        )
    case = await find_case(ctx, form["case"])
    section = form.get("section", "")
    if section not in SECTIONS:
        raise ParseError("Pick a section: " + ", ".join(SECTIONS.values()) + ".")
    if case.status == CaseStatus.CANCELLED:
        raise ParseError(f"Case #{case.number} was cancelled; nothing can be added to it.")
    clip = _clip_of(form, fallback=turn.inbound.at)
    if clip.author_name is None:  # the adapter resolved the author's name among the mentions
        name = next((m.display_name for m in turn.inbound.mentions if m.user_id == clip.author_id), None)
        clip = replace(clip, author_name=name)
    assert case.id is not None
    loaded = await load_case(turn.session, tenant_id=turn.tenant_id, case=case)
    updated = added(loaded.draft, section, clip)
    now = turn.inbound.at
    await save_draft(turn.session, tenant_id=turn.tenant_id, loaded=loaded, draft=updated, now=now)
    author = await repo.person(
        turn.session,
        tenant_id=turn.tenant_id,
        user_id=clip.author_id,
        display_name=clip.author_name,
        now=now,
    )
    raw = clip.text + (f"\n\n{clip.link}" if clip.link else "")
    await repo.add_raw_answer(
        turn.session,
        tenant_id=turn.tenant_id,
        case_id=case.id,
        question_key=f"clip:{section}",
        responder_id=author.id or 0,
        text=raw,
        at=clip.at,
    )
    published = case.status == CaseStatus.PUBLISHED
    if published:
        mark_amended(
            case,
            updated,
            section=section,
            link=clip.link,
            now=now,
            tz_name=loaded.lead_timezone or turn.tz_name,
        )
        turn.session.add(case)
    return [added_reply(case.number, section, clip, published=published)]


def _clip_of(form: dict[str, str], *, fallback: dt.datetime) -> Clip:
    try:
        at = dt.datetime.fromisoformat(form["at"]) if form.get("at") else fallback
    except ValueError as error:
        raise ParseError("That message's time could not be read.") from error
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return Clip(
        text=form.get("text", ""),
        author_id=form.get("author") or "unknown",
        author_name=form.get("author_name") or None,
        at=at,
        link=form.get("link") or None,
    )


@command(
    "account",
    usage="account <your written account>",
    summary="paste a whole account into the running interview",
)
async def account_command(ctx: CommandContext, args: str) -> list[Reply]:
    return [
        Reply(
            "Paste your account in the thread (or chat) where the postmortem interview runs: "
            "`account` on the first line, then labelled sections (Symptoms:, Root cause:, Timeline:, …).",
            ReplyKind.INFO,
            ephemeral=True,
        )
    ]
