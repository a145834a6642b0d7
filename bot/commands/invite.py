"""`invite [<case>] @person …`: ask people for their own view of a case, by DM."""

from __future__ import annotations

from bot import invite, refs
from bot.commands import CommandContext, command, find_case
from bot.messages import Mention, Reply
from bot.parsing import MENTION_RE, ParseError


@command(
    "invite",
    usage="invite [<case>] @person …",
    summary="ask people for their own view of a case, in a DM",
)
async def invite_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    first, _ = refs.split_first(args)
    invitees = _invitees(args, turn.inbound.mentions)
    if first and not MENTION_RE.match(first):
        case = await find_case(ctx, first)
    else:
        case = await invite.default_case(turn)
    return await invite.invite(turn, case=case, invitees=invitees)


def _invitees(args: str, mentions: tuple[Mention, ...]) -> list[Mention]:
    found = MENTION_RE.findall(args)
    ids = list(dict.fromkeys(user_id for user_id, _ in found))
    if not ids:
        raise ParseError("Mention who to invite, e.g. `invite #12 @dana @lee`.")
    if len(ids) > invite.MAX_INVITEES:
        raise ParseError(f"Invite at most {invite.MAX_INVITEES} people at a time.")
    names = {m.user_id: m.display_name for m in mentions}
    labels = {user_id: label for user_id, label in found if label}
    return [Mention(user_id, names.get(user_id) or labels.get(user_id)) for user_id in ids]
