"""Commands about cases: help, list, show, export, cancel (an interview)."""

from __future__ import annotations

import json

from bot import interview, refs
from bot.commands import CommandContext, command, find_case, help_text
from bot.commands.actions import action_item, cancel_action_command
from bot.messages import Attachment, Reply, ReplyKind
from bot.parsing import ParseError
from bot.publish import case_reply, markdown_reply
from bot.render import case_json, render_case_markdown
from bot.store import load_case, save_draft, set_state, state_of
from storage import repo
from storage.models import Case, CaseStatus


@command("help", usage="help", summary="this list")
async def help_command(ctx: CommandContext, args: str) -> list[Reply]:
    return [Reply(help_text(), ReplyKind.INFO, ephemeral=True)]


@command("list", usage="list", summary="open cases, and your open actions")
async def list_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    open_cases = await repo.cases(
        turn.session,
        tenant_id=turn.tenant_id,
        statuses=[CaseStatus.INTERVIEWING, CaseStatus.PUBLISHED],
    )
    open_rows = await repo.open_actions(turn.session, tenant_id=turn.tenant_id)
    open_by_case: dict[int, int] = {}
    for case, _ in open_rows:
        open_by_case[case.number] = open_by_case.get(case.number, 0) + 1
    lines = ["**Open cases**"]
    shown = [c for c in open_cases if c.status == CaseStatus.INTERVIEWING or c.number in open_by_case]
    for case in shown[:25]:
        state = (
            "interview in progress"
            if case.status == CaseStatus.INTERVIEWING
            else (f"{open_by_case[case.number]} open action(s)")
        )
        lines.append(
            f"- #{case.number} {case.title or 'untitled'} ({case.severity or 'no severity'}, {state})"
        )
    if not shown:
        lines.append("_none: every case is closed out_")
    mine = await repo.open_actions(turn.session, tenant_id=turn.tenant_id, owner_id=turn.person.id)
    lines.append("\n**Your open actions**" if mine else "\n_You have no open actions._")
    today = turn.inbound.at.date()
    items = tuple(action_item(case, action, today=today) for case, action in mine)
    return [Reply("\n".join(lines), ReplyKind.LIST, ephemeral=True, items=items)]


async def _case(ctx: CommandContext, args: str) -> Case:
    return await find_case(ctx, args.split()[0] if args.split() else "")


@command("show", usage="show <case>", summary="a case, as drafted so far")
async def show_command(ctx: CommandContext, args: str) -> list[Reply]:
    case = await _case(ctx, args)
    loaded = await load_case(ctx.turn.session, tenant_id=ctx.turn.tenant_id, case=case)
    reply = case_reply(loaded.draft)
    if case.draft_md and case.status == CaseStatus.PUBLISHED:  # as drafted (by a model, perhaps)
        reply = markdown_reply(case.number, case.title, case.draft_md, reply.sections)
    return [reply]


@command("export", usage="export <case> [md|json]", summary="a case as a Markdown or JSON file")
async def export_command(ctx: CommandContext, args: str) -> list[Reply]:
    case = await _case(ctx, args)
    fmt = (args.split()[1].lower() if len(args.split()) > 1 else "md").lstrip(".")
    if fmt not in {"md", "markdown", "json"}:
        raise ParseError("Export as `md` or `json`.")
    loaded = await load_case(ctx.turn.session, tenant_id=ctx.turn.tenant_id, case=case)
    if fmt == "json":
        content = json.dumps(case_json(loaded.draft), indent=2, ensure_ascii=False)
        attachment = Attachment(f"case-{case.number}.json", content, "application/json")
    else:
        content = render_case_markdown(loaded.draft)
        attachment = Attachment(f"case-{case.number}.md", content)
    return [
        Reply(
            f"Case #{case.number} exported as {attachment.filename}.",
            ReplyKind.INFO,
            attachment=attachment,
        )
    ]


@command(
    "cancel",
    usage="cancel <case> | cancel <action> <reason>",
    summary="cancel an interview, or an action",
)
async def cancel_command(ctx: CommandContext, args: str) -> list[Reply]:
    first, _ = refs.split_first(args)
    if refs.is_action_ref(first):
        return await cancel_action_command(ctx, args)
    if not first:
        return [
            Reply(
                "Cancel what? `cancel #12` stops an interview; `cancel 12.3 <reason>` an action.",
                ReplyKind.ERROR,
                ephemeral=True,
            )
        ]
    case = await _case(ctx, first)
    turn = ctx.turn
    if case.status != CaseStatus.INTERVIEWING:
        return [
            Reply(
                f"Case #{case.number} is {case.status}; only an interview in progress can be cancelled.",
                ReplyKind.ERROR,
                ephemeral=True,
            )
        ]
    if not (turn.person.is_admin or case.lead_id == turn.person.id):
        return [
            Reply(
                "Only the case lead or an admin can cancel this interview.",
                ReplyKind.ERROR,
                ephemeral=True,
            )
        ]
    assert case.id is not None
    conversation = await repo.active_conversation_for_case(
        turn.session, tenant_id=turn.tenant_id, case_id=case.id
    )
    loaded = await load_case(turn.session, tenant_id=turn.tenant_id, case=case)
    state = state_of(conversation) if conversation else interview.State(step="title")
    outcome = interview.cancel(state, loaded.draft)
    await save_draft(
        turn.session, tenant_id=turn.tenant_id, loaded=loaded, draft=outcome.case, now=turn.inbound.at
    )
    if conversation is not None:
        conversation.active = False
        set_state(conversation, outcome.state)
        await repo.save_conversation(
            turn.session, conversation, expected_version=conversation.version, now=turn.now
        )
    return list(outcome.replies)
