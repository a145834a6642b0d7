"""Nudges: after a publish, an action change or a tracker pick, a sync pass for that workspace
runs as a follow-up job (bot.jobs) once the platform has been answered. The clock's pass
does the same work anyway; a nudge only makes it prompt.

The job key is `trackers:<mode>` and may carry the follow-up it rides along with
(`trackers:|draft:12`): a reply has one follow-up slot, and the draft keeps its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Reply
from storage import trackers as store

KIND = "trackers"
PICK = "pick"  # the job answers with what it created, for the admin who picked the tracker


async def nudge(
    session: AsyncSession, *, tenant_id: int, then: str | None = None, mode: str = ""
) -> str | None:
    """The follow-up key that syncs the tenant (then runs `then`), or `then` when it has no tracker."""
    if await store.config_of(session, tenant_id=tenant_id) is None:
        return then
    return f"{KIND}:{mode}" + (f"|{then}" if then else "")


async def nudged(session: AsyncSession, *, tenant_id: int, replies: Sequence[Reply]) -> list[Reply]:
    """The replies, the first one carrying a sync nudge when the tenant has a tracker."""
    out = list(replies)
    if out:
        key = await nudge(session, tenant_id=tenant_id, then=out[0].followup)
        out[0] = replace(out[0], followup=key)
    return out


def split(argument: str) -> tuple[str, str | None]:
    """`pick|draft:12` -> ("pick", "draft:12")."""
    mode, _, then = argument.partition("|")
    return mode, then or None
