"""Follow-up jobs in the terminal: run each one the replies name, after they are printed.

A chat adapter acknowledges the platform first and runs follow-ups in the
background; a terminal has nothing to acknowledge, so it runs them in turn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from adapters.console.render import render
from bot.config import Settings
from bot.jobs import run_followup
from bot.messages import Reply
from storage.db import Database


async def run_followups(
    db: Database,
    replies: Sequence[Reply],
    *,
    platform: str,
    tenant: str,
    settings: Settings,
    now: dt.datetime,
    out: Callable[[str], None],
    prefix: str = "",
) -> list[Reply]:
    """Run the follow-ups of `replies`, print what they return, and return it."""
    produced: list[Reply] = []
    for reply in replies:
        if not reply.followup:
            continue
        out(f"{prefix}(working on `{reply.followup}` in the background…)")
        for extra in await run_followup(
            db, reply.followup, platform=platform, tenant=tenant, now=now, settings=settings
        ):
            out(prefix + render(extra).replace("\n", "\n" + " " * len(prefix)))
            produced.append(extra)
    return produced
