"""Commands about prevention actions: actions, done, snooze, reassign (and cancel)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from bot import lifecycle, refs
from bot.commands import CommandContext, command, find_case
from bot.messages import Choice, ListItem, Mention, Reply, ReplyKind
from bot.parsing import ParseError, parse_owner
from bot.store import load_case
from bot.trackers.nudge import nudged
from storage import repo
from storage.models import Case, Person, PreventionAction


def action_item(
    case: Case, action: PreventionAction, *, today: dt.date, owner: str | None = None
) -> ListItem:
    return action_list_item(
        case_number=case.number,
        case_title=case.title,
        number=action.number,
        description=action.description,
        due=action.due_date,
        snoozed_until=action.snoozed_until,
        today=today,
        owner=owner,
        issue_url=action.issue_url,
    )


def action_list_item(
    *,
    case_number: int,
    case_title: str | None,
    number: int,
    description: str,
    due: dt.date | None,
    snoozed_until: dt.date | None,
    today: dt.date,
    owner: str | None = None,
    issue_url: str | None = None,
    case_url: str | None = None,
) -> ListItem:
    """One action with its Done / Snooze a week / Reassign buttons (listings, digests, escalations);
    `case_url` links its case to the case's page in the web library."""
    ref = f"{case_number}.{number}"
    flag = ""
    if due and due < today:
        flag = f" ⚠ **overdue** since {due.isoformat()}"
    elif due:
        flag = f" (due {due.isoformat()})"
    if snoozed_until and snoozed_until > today:
        flag += f", snoozed until {snoozed_until.isoformat()}"
    who = f" · {owner}" if owner else ""
    issue = f" · [issue]({issue_url})" if issue_url else ""
    case = f"[case #{case_number}]({case_url})" if case_url else f"case #{case_number}"
    text = f"`{ref}` {description}{flag}{who}{issue} · {case} {case_title or ''}".rstrip()
    return ListItem(
        text,
        choices=(
            Choice("Done", f"/done {ref}", "primary", form="done"),
            Choice("Snooze a week", f"/snooze {ref} 1w"),
            Choice("Reassign", f"/reassign {ref}", form="reassign"),
        ),
        ref=ref,
    )


@command("actions", usage="actions [<case>|all]", summary="your open actions, a case's, or everyone's")
async def actions_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    today = turn.today
    target = args.strip().lower()
    if target in {"", "mine", "my"}:
        rows = await repo.open_actions(turn.session, tenant_id=turn.tenant_id, owner_id=turn.person.id)
        if not rows:
            return [Reply("You have no open prevention actions. 🎉", ReplyKind.LIST, ephemeral=True)]
        items = tuple(action_item(c, a, today=today) for c, a in rows)
        return [Reply(f"**Your open actions** ({len(rows)})", ReplyKind.LIST, ephemeral=True, items=items)]
    if target == "all":
        rows = await repo.open_actions(turn.session, tenant_id=turn.tenant_id)
        people = await repo.people_by_ids(
            turn.session, tenant_id=turn.tenant_id, ids=[a.owner_id for _, a in rows if a.owner_id]
        )
        items = tuple(
            action_item(c, a, today=today, owner=_name(people.get(a.owner_id or 0))) for c, a in rows[:100]
        )
        return [Reply(f"**Open actions** ({len(rows)})", ReplyKind.LIST, ephemeral=True, items=items)]
    case = await find_case(ctx, target)
    loaded = await load_case(turn.session, tenant_id=turn.tenant_id, case=case)
    lines = [f"**Actions of case #{case.number}** {case.title or ''}"]
    for a in loaded.actions:
        owner = _name(loaded.people.get(a.owner_id or 0))
        lines.append(
            f"- `{case.number}.{a.number}` {a.description} · {owner} · due {a.due_date or '?'} · {a.status}"
            + (f" · [issue]({a.issue_url})" if a.issue_url else "")
        )
    if not loaded.actions:
        lines.append("_no actions_")
    return [Reply("\n".join(lines), ReplyKind.LIST, ephemeral=True)]


def _name(person: Person | None) -> str:
    if person is None:
        return "unassigned"
    return f"@{person.display_name or person.platform_user_id}"


async def _locate(ctx: CommandContext, ref_text: str) -> lifecycle.Located:
    case_number, number = refs.parse_action_ref(ref_text)
    return await lifecycle.locate(
        ctx.turn.session, tenant_id=ctx.turn.tenant_id, case_number=case_number, number=number
    )


def _form(ctx: CommandContext, name: str) -> str:
    form = ctx.turn.inbound.form or {}
    return (form.get(name) or "").strip()


def _actor_name(ctx: CommandContext) -> str:
    return ctx.turn.person.display_name or ctx.turn.person.platform_user_id


End = Callable[[lifecycle.Located, str], Awaitable[None]]


async def _end(ctx: CommandContext, args: str, *, note_field: str, end: End) -> tuple[lifecycle.Located, str]:
    """Find the action `args` names and end it (done, cancelled) with its note: typed after the
    ref, or given in the form the DM's button opened. A refusal is a ParseError."""
    ref_text, note = refs.split_first(args)
    note = note or _form(ctx, note_field)
    found = await _locate(ctx, ref_text)
    await end(found, note)
    return found, note


async def _ended(
    ctx: CommandContext, found: lifecycle.Located, *, said: str, lead_notice: str
) -> list[Reply]:
    """The actor's answer, and a notice to the case lead unless the lead did it."""
    replies = [Reply(said, ReplyKind.INFO, case_number=found.case.number)]
    if found.case.lead_id != ctx.turn.person.id:
        lead = await lifecycle.user_id_of(
            ctx.turn.session, tenant_id=ctx.turn.tenant_id, person_id=found.case.lead_id
        )
        if lead is not None:
            replies.append(Reply(lead_notice, ReplyKind.NOTICE, to_user=lead, case_number=found.case.number))
    return await nudged(ctx.turn.session, tenant_id=ctx.turn.tenant_id, replies=replies)


@command("done", usage="done <action> [evidence]", summary="close an action, with a link or a note")
async def done_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn

    async def close(found: lifecycle.Located, evidence: str) -> None:
        await lifecycle.close_action(
            turn.session, actor=turn.person, found=found, evidence=evidence, now=turn.inbound.at
        )

    found, evidence = await _end(ctx, args, note_field="evidence", end=close)
    ref = lifecycle.ref(found)
    said = f"✅ `{ref}` is done: {found.action.description}" + (f"\nEvidence: {evidence}" if evidence else "")
    notice = f"`{ref}` of case #{found.case.number} was closed by @{_actor_name(ctx)}."
    return await _ended(ctx, found, said=said, lead_notice=notice)


@command("evidence", usage="evidence <action> <link or note>", summary="add evidence to a done action")
async def evidence_command(ctx: CommandContext, args: str) -> list[Reply]:
    ref_text, evidence = refs.split_first(args)
    found = await _locate(ctx, ref_text)
    await lifecycle.add_evidence(
        ctx.turn.session, actor=ctx.turn.person, found=found, evidence=evidence, now=ctx.turn.inbound.at
    )
    return [Reply(f"📎 Evidence added to `{lifecycle.ref(found)}`: {evidence.strip()}", ReplyKind.INFO)]


async def cancel_action_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn

    async def cancel(found: lifecycle.Located, reason: str) -> None:
        await lifecycle.cancel_action(
            turn.session, actor=turn.person, found=found, reason=reason, now=turn.inbound.at
        )

    found, reason = await _end(ctx, args, note_field="reason", end=cancel)
    ref = lifecycle.ref(found)
    notice = f"`{ref}` of case #{found.case.number} was cancelled by @{_actor_name(ctx)}: {reason}"
    return await _ended(ctx, found, said=f"`{ref}` cancelled: {reason}", lead_notice=notice)


@command("snooze", usage="snooze <action> <when>", summary="pause reminders for an action (e.g. `1w`)")
async def snooze_command(ctx: CommandContext, args: str) -> list[Reply]:
    ref_text, when = refs.split_first(args)
    when = when or _form(ctx, "until")
    turn = ctx.turn
    today = turn.today
    found = await _locate(ctx, ref_text)
    until = await lifecycle.snooze_action(
        turn.session, actor=turn.person, found=found, when=when, now=turn.inbound.at, today=today
    )
    said = Reply(
        f"😴 `{lifecycle.ref(found)}` snoozed until {until.isoformat()}.", ReplyKind.INFO, ephemeral=True
    )
    return await nudged(turn.session, tenant_id=turn.tenant_id, replies=[said])


@command("reassign", usage="reassign <action> @person", summary="give an action to someone else")
async def reassign_command(ctx: CommandContext, args: str) -> list[Reply]:
    ref_text, who = refs.split_first(args)
    turn = ctx.turn
    if not who and _form(ctx, "owner"):
        who = f"<@{_form(ctx, 'owner')}>"
    sender = Mention(turn.person.platform_user_id, turn.person.display_name)
    found = await _locate(ctx, ref_text)
    if not who.strip():
        raise ParseError(
            f"Reassign `{lifecycle.ref(found)}` to whom? `reassign {lifecycle.ref(found)} @person`"
        )
    new_owner = parse_owner(who, mentions=turn.inbound.mentions, sender=sender)
    moved = await lifecycle.reassign_action(
        turn.session, actor=turn.person, found=found, new_owner=new_owner, now=turn.inbound.at
    )
    ref = lifecycle.ref(found)
    due = found.action.due_date.isoformat() if found.action.due_date else "no due date"
    by = _actor_name(ctx)
    owner = moved.owner
    replies = [
        Reply(
            f"`{ref}` now belongs to @{owner.display_name or owner.platform_user_id}.",
            ReplyKind.INFO,
        )
    ]
    if owner.platform_user_id != turn.person.platform_user_id:
        replies.append(
            Reply(
                f"@{by} handed you prevention action `{ref}` from case #{found.case.number} "
                f"{found.case.title or ''}: {found.action.description} (due {due}). "
                "You'll get it in your weekly reminder until it's done.",
                ReplyKind.NOTICE,
                to_user=owner.platform_user_id,
                case_number=found.case.number,
            )
        )
    previous = moved.previous_user_id
    if previous and previous not in {turn.person.platform_user_id, owner.platform_user_id}:
        replies.append(
            Reply(
                f"@{by} moved prevention action `{ref}` from you to "
                f"@{owner.display_name or owner.platform_user_id}; it leaves your weekly reminder.",
                ReplyKind.NOTICE,
                to_user=previous,
                case_number=found.case.number,
            )
        )
    return await nudged(turn.session, tenant_id=turn.tenant_id, replies=replies)
