"""The one review message of what a channel's history proposed, and what the lead does with it.

The proposal is kept on the case (`extra["history"]`, one entry a reading, numbered) until the
case lead (or an admin) accepts all of it, accepts the lines they ticked, edits a line, or
drops it: `history accept|edit|drop <case> <reading> …`, which is what the message's buttons
send. Accepted lines go into the case's sections (a timeline point into its field, unless one
is already set or it breaks the order of the timeline; symptoms; diagnostic steps with their
author) and each one is kept as a raw answer with its author, time and link.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.capture.clip import mark_amended, with_point
from bot.capture.history import MAX_TEXT, Candidate, Proposal
from bot.case import CaseDraft, DiagnosticStep
from bot.commands import CommandContext, command, find_case
from bot.messages import Choice, Reply
from bot.parsing import ParseError, zone
from bot.render import when_text
from bot.store import load_case, save_draft
from storage import repo
from storage.db import Database
from storage.models import Case, CaseStatus

if TYPE_CHECKING:
    from bot.capture.reading import History

KEY = "history"  # in Case.extra
PICKED = "{picked}"  # a Choice value the adapter fills with the ticked lines (Reply.picks)
HEADINGS = {
    "timeline": "Timeline",
    "symptom": "Candidate symptoms",
    "diagnostic": "Candidate diagnostic steps",
}


def _dump(candidate: Candidate) -> dict[str, Any]:
    return {**dataclasses.asdict(candidate), "at": candidate.at.isoformat()}


def _load(data: dict[str, Any]) -> Candidate:
    return Candidate(**{**data, "at": dt.datetime.fromisoformat(data["at"])})


def read_summary(history: History, tz: dt.tzinfo) -> str:
    """What was read, and what was not: a cut is always said, with its figures."""
    since = when_text(history.since, tz)
    read = len(history.messages)
    text = f"read {read:,} message(s) since {since}"
    if history.not_read:
        more = f"{history.not_read:,}" + ("" if history.counted_all else " or more")
        text = f"read the first {read:,} messages since {since} (the limit is {history.limit:,})"
        text += f"; {more} more not read"
    if history.skipped:
        text += f"; left out {history.skipped:,} bot message(s), joins and other channel events"
    return text


async def open_review(
    db: Database,
    *,
    platform: str,
    tenant: str,
    number: int,
    history: History,
    proposal: Proposal,
    default_timezone: str,
    now: dt.datetime,
) -> list[Reply]:
    """Keep the proposal on the case and return the review message (nothing enters the case)."""
    async with db.transaction() as session:
        found = await repo.tenant(session, platform=platform, external_id=tenant, now=now)
        assert found.id is not None
        case = await repo.case_by_number(session, tenant_id=found.id, number=number)
        if case is None:
            return []
        loaded = await load_case(session, tenant_id=found.id, case=case)
        tz = zone(loaded.lead_timezone or default_timezone)
        reviews = list(case.extra.get(KEY, []))
        reading = len(reviews) + 1
        summary = read_summary(history, tz)
        reviews.append(
            {
                "n": reading,
                "status": "open",
                "channel": history.channel.name,
                "summary": summary,
                "candidates": [_dump(c) for c in proposal.candidates],
            }
        )
        case.extra = {**case.extra, KEY: reviews}
        session.add(case)
    return [review_reply(number, reading, history.channel.name, summary, proposal, tz)]


def review_reply(
    number: int, reading: int, channel: str, summary: str, proposal: Proposal, tz: dt.tzinfo
) -> Reply:
    head = f"📋 **From #{channel}** for case #{number}: {summary}."
    if not proposal.candidates:
        return Reply(head + " I found nothing to propose.", case_number=number)
    lines = [head, "Nothing goes into the case until its lead accepts it.", ""]
    kind = ""
    for index, candidate in enumerate(proposal.candidates, start=1):
        if candidate.kind != kind:
            kind = candidate.kind
            lines.append(f"**{HEADINGS[kind]}**")
        lines.append(f"{index}. {_line(candidate, tz)}")
    left = [
        f"{proposal.symptoms_left_out} more candidate symptom(s)" if proposal.symptoms_left_out else "",
        f"{proposal.steps_left_out} more candidate step(s)" if proposal.steps_left_out else "",
    ]
    if any(left):
        lines.append(" and ".join(p for p in left if p) + " not shown (add them with “Add to postmortem”).")
    lines.append(
        f"To change a line before accepting it: `history edit {number} {reading} <line> <new text>`."
    )
    base = f"/history accept {number} {reading}"
    return Reply(
        "\n".join(lines),
        case_number=number,
        choices=(
            Choice("Accept all", f"{base} all", style="primary"),
            Choice("Accept selected", f"{base} {PICKED}"),
            Choice("Drop", f"/history drop {number} {reading}", style="danger"),
        ),
        picks=tuple(
            Choice(f"{i}. {c.label}: {c.text}"[:75], str(i))
            for i, c in enumerate(proposal.candidates, start=1)
        ),
    )


def _line(candidate: Candidate, tz: dt.tzinfo) -> str:
    local = candidate.at.astimezone(tz).strftime("%H:%M")
    what = candidate.label + (f" → {candidate.point}" if candidate.point else "")
    prefix = f"{what} · {local} · " if candidate.kind == "timeline" else f"{local} · "
    text = candidate.text if len(candidate.text) <= 200 else candidate.text[:199] + "…"
    link = f" ([message]({candidate.link}))" if candidate.link else ""
    return f"{prefix}{candidate.author}: {text}{link}"


# --- what the lead does with it -----------------------------------------------------------


@command(
    "history",
    usage="history accept|edit|drop <case> <reading> …",
    summary="accept (all, or lines 1,3), edit a line of, or drop what a channel's history proposed",
)
async def history_command(ctx: CommandContext, args: str) -> list[Reply]:
    words = args.split(maxsplit=3)
    if len(words) < 3 or words[0].lower() not in {"accept", "edit", "drop"}:
        raise ParseError(
            "Use the buttons of the review message, or `history accept <case> <reading> all|1,3`, "
            "`history edit <case> <reading> <line> <new text>`, `history drop <case> <reading>`."
        )
    verb, rest = words[0].lower(), (words[3] if len(words) > 3 else "")
    case = await find_case(ctx, words[1])
    turn = ctx.turn
    if not (turn.person.is_admin or case.lead_id == turn.person.id):
        raise ParseError(f"Only the lead of case #{case.number} or an admin can decide what goes into it.")
    reviews = list(case.extra.get(KEY, []))
    review = next((r for r in reviews if str(r["n"]) == words[2]), None)
    if review is None:
        raise ParseError(f"Case #{case.number} has no channel reading {words[2]}.")
    if review["status"] != "open":
        raise ParseError(f"That reading of #{review['channel']} was already {review['status']}.")
    candidates = [_load(c) for c in review["candidates"]]
    if verb == "edit":
        return _edit(case, reviews, review, candidates, rest)
    now = turn.inbound.at
    if verb == "drop":
        _settle(case, reviews, review, status="dropped", by=turn.person.platform_user_id, now=now)
        turn.session.add(case)
        return [Reply(f"Dropped what #{review['channel']} proposed: nothing was added to #{case.number}.")]
    chosen = _chosen(rest, len(candidates))
    return await _accept(ctx, case, reviews, review, [candidates[i - 1] for i in chosen])


def _chosen(text: str, count: int) -> list[int]:
    if text.strip().lower() == "all":
        return list(range(1, count + 1))
    raw = [part.strip() for part in text.replace(" ", ",").split(",") if part.strip()]
    if not raw or PICKED in text:
        raise ParseError("Tick the lines to accept first (or press Accept all).")
    try:
        numbers = sorted({int(part) for part in raw})
    except ValueError as error:
        raise ParseError("Name the lines by their numbers, e.g. `1,3,4`, or say `all`.") from error
    if numbers[0] < 1 or numbers[-1] > count:
        raise ParseError(f"The lines are numbered 1 to {count}.")
    return numbers


def _edit(
    case: Case, reviews: list[dict[str, Any]], review: dict[str, Any], candidates: list[Candidate], rest: str
) -> list[Reply]:
    line, _, text = rest.partition(" ")
    text = " ".join(text.split())
    if not line.isdigit() or not 1 <= int(line) <= len(candidates) or not text:
        raise ParseError(f"Say which line (1 to {len(candidates)}) and its new text.")
    if len(text) > MAX_TEXT:
        raise ParseError(f"Keep a line under {MAX_TEXT} characters.")
    index = int(line) - 1
    candidates[index] = replace(candidates[index], text=text)
    _save(case, reviews, {**review, "candidates": [_dump(c) for c in candidates]})
    return [Reply(f"Line {line} now reads: {text}. Accept it from the review message when ready.")]


def _save(case: Case, reviews: list[dict[str, Any]], review: dict[str, Any]) -> None:
    case.extra = {**case.extra, KEY: [review if r["n"] == review["n"] else r for r in reviews]}


def _settle(
    case: Case,
    reviews: list[dict[str, Any]],
    review: dict[str, Any],
    *,
    status: str,
    by: str,
    now: dt.datetime,
) -> None:
    _save(case, reviews, {**review, "status": status, "by": by, "at": now.isoformat()})


async def _accept(
    ctx: CommandContext,
    case: Case,
    reviews: list[dict[str, Any]],
    review: dict[str, Any],
    accepted: list[Candidate],
) -> list[Reply]:
    turn = ctx.turn
    assert case.id is not None
    loaded = await load_case(turn.session, tenant_id=turn.tenant_id, case=case)
    tz_name = loaded.lead_timezone or turn.tz_name
    draft, notes, problems = apply_candidates(loaded.draft, accepted, tz=zone(tz_name))
    now = turn.inbound.at
    await save_draft(turn.session, tenant_id=turn.tenant_id, loaded=loaded, draft=draft, now=now)
    for candidate in accepted:
        author = await repo.person(
            turn.session,
            tenant_id=turn.tenant_id,
            user_id=candidate.author_id,
            display_name=candidate.author_name,
            now=now,
        )
        await repo.add_raw_answer(
            turn.session,
            tenant_id=turn.tenant_id,
            case_id=case.id,
            question_key=f"history:{candidate.kind}",
            responder_id=author.id or 0,
            text=f"{candidate.label}: {candidate.text}" + (f"\n\n{candidate.link}" if candidate.link else ""),
            at=candidate.at,
        )
    _settle(case, reviews, review, status="accepted", by=turn.person.platform_user_id, now=now)
    if case.status == CaseStatus.PUBLISHED:
        mark_amended(case, draft, section="history", link=None, now=now, tz_name=tz_name)
    turn.session.add(case)
    text = f"Added to #{case.number} from #{review['channel']}: " + (", ".join(notes) or "nothing new") + "."
    if problems:
        text += " Not taken: " + "; ".join(problems) + "."
    return [Reply(text, case_number=case.number)]


def apply_candidates(
    case: CaseDraft, accepted: list[Candidate], *, tz: dt.tzinfo
) -> tuple[CaseDraft, list[str], list[str]]:
    """The case with the accepted lines; what went in; what did not, and why."""
    points: list[str] = []
    problems: list[str] = []
    symptoms, steps, kept = 0, 0, 0
    for candidate in accepted:
        if candidate.kind == "symptom" and candidate.text not in case.symptoms:
            case = replace(case, symptoms=(*case.symptoms, candidate.text))
            symptoms += 1
        elif candidate.kind == "diagnostic":
            step = DiagnosticStep(candidate.text, candidate.author)
            case = replace(case, diagnostic_path=(*case.diagnostic_path, step))
            steps += 1
        elif candidate.kind == "timeline" and candidate.point:
            point = candidate.point
            given = case.time(point)
            if given is not None:
                problems.append(f"{point} (kept the time already given, {when_text(given, tz)})")
                continue
            try:
                case = with_point(case, point, candidate.at)
                points.append(point)
            except ParseError as error:
                problems.append(f"{point} ({str(error).rstrip('.')})")
        else:
            kept += 1  # a point of the timeline with no field (the first human message): its raw answer
    notes = [f"timeline ({', '.join(points)})"] if points else []
    notes += [f"{symptoms} symptom(s)"] if symptoms else []
    notes += [f"{steps} diagnostic step(s)"] if steps else []
    notes += [f"{kept} timeline note(s) kept with the raw answers"] if kept else []
    return case, notes, problems
