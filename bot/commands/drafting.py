"""Commands about drafts: redraft, suggestions, suggestion accept|drop."""

from __future__ import annotations

from bot import refs
from bot.commands import CommandContext, command, find_case
from bot.config import ConfigError
from bot.drafting import enabled_in_env, suggestions
from bot.drafting.config import DraftingConfig
from bot.drafting.job import suggestion_item
from bot.drafting.store import draft_reply, refresh_draft_md, suggestion_ref
from bot.messages import Choice, Mention, Reply, ReplyKind
from bot.parsing import ParseError, parse_due_date, parse_owner
from bot.trackers.nudge import nudged
from storage import suggestions as suggestion_rows
from storage.models import Case, CaseStatus, SuggestionStatus


async def _published_case(ctx: CommandContext, args: str) -> Case:
    first, _ = refs.split_first(args)
    case = await find_case(ctx, first)
    if case.status != CaseStatus.PUBLISHED:
        raise ParseError(
            f"Case #{case.number} is {case.status}; drafts and suggestions come once it is published."
        )
    return case


@command("redraft", usage="redraft <case>", summary="draft a published case again (case lead or admin)")
async def redraft_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    case = await _published_case(ctx, args)
    if not suggestions.may_decide(turn.person, case):
        raise ParseError(f"Only the lead of case #{case.number} or an admin can redraft it.")
    if not enabled_in_env():
        rendered = await refresh_draft_md(turn.session, tenant_id=turn.tenant_id, case=case)
        intro = (
            "No model is configured (set `OPENAI_API_KEY` or `OPENAI_BASE_URL`), so the draft was "
            "rebuilt from the stored case."
        )
        return [draft_reply(case, rendered, intro=intro)]
    try:
        model = DraftingConfig.from_env().model
    except ConfigError as error:
        raise ParseError(f"Drafting is misconfigured: {error}") from error
    return [
        Reply(
            f"✍️ Redrafting case #{case.number} with {model}. The new draft follows here shortly; "
            "the current one stands meanwhile.",
            ReplyKind.INFO,
            case_number=case.number,
            followup=f"draft:{case.number}",
        )
    ]


@command("suggestions", usage="suggestions <case>", summary="the actions the model suggested for a case")
async def suggestions_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    case = await _published_case(ctx, args)
    assert case.id is not None
    found = await suggestion_rows.of_case(turn.session, tenant_id=turn.tenant_id, case_id=case.id)
    pending = [s for s in found if s.status == SuggestionStatus.PENDING]
    decided = [s for s in found if s.status in (SuggestionStatus.ACCEPTED, SuggestionStatus.DROPPED)]
    lines = [f"**Suggested actions of case #{case.number}**"]
    if not pending:
        lines.append("_none waiting for a decision_")
    for s in decided:
        lines.append(f"- `{suggestion_ref(case.number, s.number)}` {s.description} · {s.status}")
    items = tuple(suggestion_item(case.number, s) for s in pending)
    return [Reply("\n".join(lines), ReplyKind.LIST, ephemeral=True, case_number=case.number, items=items)]


def _accept_args(ctx: CommandContext, rest: str) -> tuple[str, str]:
    form = ctx.turn.inbound.form or {}
    if form.get("owner") or form.get("due"):
        owner = form.get("owner", "").strip()
        return (f"<@{owner}>" if owner and not owner.startswith("<@") else owner), form.get("due", "").strip()
    owner, due = refs.split_first(rest)
    return owner, due


@command(
    "suggestion",
    usage="suggestion accept <ref> @owner <due> | suggestion drop <ref> [reason]",
    summary="accept a suggested action (with owner and due date) or drop it (case lead or admin)",
)
async def suggestion_command(ctx: CommandContext, args: str) -> list[Reply]:
    verb, rest = refs.split_first(args)
    verb = verb.lower()
    if verb in {"accept", "drop"}:
        ref_text, rest = refs.split_first(rest)
        if verb == "accept":  # a new action of a published case: its issue follows
            return await nudged(
                ctx.turn.session, tenant_id=ctx.turn.tenant_id, replies=await _accept(ctx, ref_text, rest)
            )
        return await _drop(ctx, ref_text, rest)
    raise ParseError("Say `suggestion accept 12.S1 @owner <due>` or `suggestion drop 12.S1 [reason]`.")


async def _accept(ctx: CommandContext, ref_text: str, rest: str) -> list[Reply]:
    turn = ctx.turn
    owner_text, due_text = _accept_args(ctx, rest)
    sender = Mention(turn.person.platform_user_id, turn.person.display_name)
    today = turn.today
    found = await suggestions.locate(turn.session, tenant_id=turn.tenant_id, ref_text=ref_text)
    if not owner_text or not due_text:
        return [
            Reply(
                f"Accepting {found.ref} makes it an action, so it needs an owner and a due date: "
                f"`suggestion accept {found.ref} @owner <due>`.",
                ReplyKind.ERROR,
                ephemeral=True,
                choices=(
                    Choice("Accept…", f"/suggestion accept {found.ref}", "primary", form="accept_suggestion"),
                ),
            )
        ]
    owner = parse_owner(owner_text, mentions=turn.inbound.mentions, sender=sender)
    due = parse_due_date(due_text, today=today)
    action, owner_row = await suggestions.accept(
        turn.session,
        actor=turn.person,
        tenant_id=turn.tenant_id,
        found=found,
        owner=owner,
        due=due,
        now=turn.inbound.at,
    )
    ref = f"{found.case.number}.{action.number}"
    who = f"@{owner_row.display_name or owner_row.platform_user_id}"
    replies = [
        Reply(
            f"✅ {found.ref} is now action `{ref}`: {action.description} — owner {who}, "
            f"due {due.isoformat()}, {action.kind}.",
            ReplyKind.INFO,
            case_number=found.case.number,
        )
    ]
    if owner_row.platform_user_id != turn.person.platform_user_id:
        replies.append(
            Reply(
                f"You own a new prevention action from case #{found.case.number} "
                f"{found.case.title or ''}: `{ref}` {action.description} (due {due.isoformat()}). "
                "I'll remind you weekly until it's done.",
                ReplyKind.NOTICE,
                to_user=owner_row.platform_user_id,
                case_number=found.case.number,
            )
        )
    return replies


async def _drop(ctx: CommandContext, ref_text: str, reason: str) -> list[Reply]:
    turn = ctx.turn
    found = await suggestions.locate(turn.session, tenant_id=turn.tenant_id, ref_text=ref_text)
    await suggestions.drop(
        turn.session, actor=turn.person, tenant_id=turn.tenant_id, found=found, reason=reason, now=turn.now
    )
    because = f" ({reason.strip()})" if reason.strip() else ""
    return [Reply(f"🗑 {found.ref} dropped{because}.", ReplyKind.INFO, case_number=found.case.number)]
