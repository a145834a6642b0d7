"""Commands about follow-through: `reminders` (the weekly digest slot) and `require-evidence`."""

from __future__ import annotations

from bot import lifecycle, refs
from bot.commands import CommandContext, command, find_case
from bot.config import ConfigError
from bot.messages import Reply, ReplyKind
from bot.parsing import ParseError, parse_clock, parse_weekday, zone
from bot.reminders.config import DEFAULT_SLOT, ReminderSettings
from bot.reminders.schedule import WeeklySlot, next_slot
from storage import repo
from storage.deliveries import schedules

_ON = {"on", "yes", "true", "required", "require"}
_OFF = {"off", "no", "false", "optional"}


@command(
    "require-evidence",
    usage="require-evidence <case> on|off",
    summary="closing this case's actions needs a link or a note (case lead, admins)",
)
async def require_evidence_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    case_text, setting = refs.split_first(args)
    case = await find_case(ctx, case_text)
    word = setting.strip().lower()
    if not word:
        state = "asks" if case.require_evidence else "does not ask"
        return [
            Reply(
                f"Case #{case.number} {state} for evidence when an action is closed. "
                f"`require-evidence {case.number} on|off` changes it.",
                ReplyKind.INFO,
                ephemeral=True,
            )
        ]
    if word not in _ON | _OFF:
        raise ParseError("Say `on` or `off`, e.g. `require-evidence #12 on`.")
    await lifecycle.set_require_evidence(
        turn.session, actor=turn.person, case=case, required=word in _ON, now=turn.inbound.at
    )
    if case.require_evidence:
        text = (
            f"Case #{case.number} now asks for evidence: its actions close with "
            f"`done {case.number}.<n> <link or note>`."
        )
    else:
        text = f"Case #{case.number} no longer asks for evidence to close its actions."
    return [Reply(text, ReplyKind.INFO, case_number=case.number)]


def _default_slot() -> WeeklySlot:
    try:
        return ReminderSettings.from_env().slot
    except ConfigError:
        return DEFAULT_SLOT  # the clock refuses to start on a bad value and says why


@command(
    "reminders",
    usage="reminders [<day> <HH:MM> | default]",
    summary="when the weekly digest comes; admins set the workspace's day and time",
)
async def reminders_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    words = args.strip().lower().split()
    if words:
        if not turn.person.is_admin:
            raise ParseError("Only a workspace admin can change when the weekly digest comes.")
        if words == ["default"]:
            await schedules.clear_schedule(turn.session, tenant_id=turn.tenant_id)
        elif len(words) == 2:
            slot = WeeklySlot(parse_weekday(words[0]), parse_clock(words[1]))
            await schedules.set_schedule(
                turn.session,
                tenant_id=turn.tenant_id,
                weekday=slot.weekday,
                at_time=f"{slot.at:%H:%M}",
                person_id=turn.person.id,
                now=turn.now,
            )
        else:
            raise ParseError("Say a day and a time, e.g. `reminders monday 09:00`, or `reminders default`.")
    return [Reply(await _schedule_text(ctx), ReplyKind.INFO, ephemeral=True)]


async def _schedule_text(ctx: CommandContext) -> str:
    turn = ctx.turn
    own = await schedules.schedule_of(turn.session, tenant_id=turn.tenant_id)
    slot = WeeklySlot(own.weekday, parse_clock(own.at_time)) if own else _default_slot()
    source = "set for this workspace" if own else "the default"
    upcoming = next_slot(turn.inbound.at, zone(turn.tz_name), slot).astimezone(zone(turn.tz_name))
    mine = await repo.open_actions(turn.session, tenant_id=turn.tenant_id, owner_id=turn.person.id)
    today = turn.today
    snoozed = sum(1 for _, a in mine if a.snoozed_until and a.snoozed_until > today)
    if mine:
        count = f"You have {len(mine)} open action(s)" + (f", {snoozed} snoozed" if snoozed else "") + "."
    else:
        count = "You have no open actions, so there is nothing to send you."
    return (
        f"The weekly digest comes on **{slot.describe()}** in each person's own timezone ({source}). "
        f"Yours ({turn.tz_name}): next on {upcoming:%A %Y-%m-%d %H:%M}. {count}"
    )
