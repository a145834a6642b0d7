"""`tracker …` in chat: pick the workspace's tracker (admins), say your tracker email, see status.

The same service functions serve `casebook tracker …` on the command line.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import CommandContext, command
from bot.messages import Reply, ReplyKind
from bot.parsing import ParseError
from bot.trackers import registry, targets
from bot.trackers.nudge import PICK, nudge
from bot.trackers.port import KINDS, LABELS
from bot.trackers.status import describe, tracker_status
from storage import trackers as store
from storage.models import Person

USAGE = "tracker [github owner/repo | jira KEY | linear TEAM | off | status | email <address>]"
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


async def pick_tracker(
    session: AsyncSession, *, tenant_id: int, kind: str, target: str, person_id: int | None, now: dt.datetime
) -> str:
    """Set the workspace's tracker; the confirmation. A ParseError for a bad name."""
    value = targets.check(kind, target)
    await store.set_config(
        session, tenant_id=tenant_id, kind=kind, target=value, person_id=person_id, now=now
    )
    return (
        f"Prevention actions of this workspace now go to {LABELS[kind]} `{value}`: each open action of a "
        "published case gets one issue, and closing either side closes the other."
    )


async def tracker_off(session: AsyncSession, *, tenant_id: int) -> str:
    if await store.clear_config(session, tenant_id=tenant_id):
        return "No tracker any more: existing issues stay where they are, and new actions get none."
    return "This workspace has no tracker."


async def describe_tracker(session: AsyncSession, *, tenant_id: int) -> str:
    config = await store.config_of(session, tenant_id=tenant_id)
    if config is None:
        return f"This workspace has no tracker. `{USAGE}`"
    return f"This workspace's tracker is {LABELS.get(config.kind, config.kind)} `{config.target}`. `{USAGE}`"


def _set_email(session: AsyncSession, person: Person, address: str, now: dt.datetime) -> str:
    if address.lower() in {"off", "none", "-"}:
        person.email = None
        said = "I no longer match you to a tracker user."
    elif _EMAIL.fullmatch(address) and len(address) <= 320:
        person.email = address
        said = f"Your tracker email is {address}: issues of your actions are assigned to that user."
    else:
        raise ParseError(
            "Give an email address, e.g. `tracker email dana@example.com` (or `tracker email off`)."
        )
    person.updated_at = now
    session.add(person)
    return said


@command("tracker", usage=USAGE, summary="the issue tracker prevention actions go to (admins pick it)")
async def tracker_command(ctx: CommandContext, args: str) -> list[Reply]:
    turn = ctx.turn
    words = args.split()
    head = words[0].lower() if words else ""
    if not head:
        return [
            Reply(
                await describe_tracker(turn.session, tenant_id=turn.tenant_id), ReplyKind.INFO, ephemeral=True
            )
        ]
    if head == "email":
        said = _set_email(turn.session, turn.person, " ".join(words[1:]).strip(), turn.inbound.at)
        return [Reply(said, ReplyKind.INFO, ephemeral=True)]
    if head == "status":
        opener = registry.installed()
        statuses = await tracker_status(
            turn.session, available=KINDS if opener else (), now=turn.inbound.at, tenant_id=turn.tenant_id
        )
        return [Reply(describe(statuses), ReplyKind.INFO, ephemeral=True)]
    if head not in {*KINDS, "off"}:
        raise ParseError(f"`{USAGE}`")
    if not turn.person.is_admin:
        raise ParseError("Only a workspace admin can choose the tracker.")
    if head == "off":
        return [Reply(await tracker_off(turn.session, tenant_id=turn.tenant_id), ReplyKind.INFO)]
    said = await pick_tracker(
        turn.session,
        tenant_id=turn.tenant_id,
        kind=head,
        target=" ".join(words[1:]),
        person_id=turn.person.id,
        now=turn.inbound.at,
    )
    followup = await nudge(turn.session, tenant_id=turn.tenant_id, mode=PICK)
    return [Reply(said, ReplyKind.INFO, followup=followup)]
