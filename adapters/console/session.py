"""Run the core over standard input: a terminal or a pipe alike."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
from collections.abc import Callable
from typing import TextIO

from adapters.console.followups import run_followups
from adapters.console.render import render
from bot.config import Settings
from bot.messages import Inbound, InboundKind, Mention, Reply
from bot.service import handle
from storage.db import Database

PLATFORM = "console"
TENANT = "local"
_HANDLE = re.compile(r"(?<![<\w])@([A-Za-z][\w.\-]{0,63})")


def inbound_for(
    line: str,
    *,
    user: str,
    timezone: str | None = None,
    at: dt.datetime | None = None,
    conversation_key: str | None = None,
) -> Inbound:
    """A typed line becomes an Inbound; `@name` becomes the mention `<@name>`."""
    mentions = tuple(Mention(name, name) for name in dict.fromkeys(_HANDLE.findall(line)))
    text = _HANDLE.sub(lambda m: f"<@{m.group(1)}>", line)
    return Inbound(
        platform=PLATFORM,
        tenant=TENANT,
        conversation_key=conversation_key or f"console:{user}",
        user_id=user,
        user_name=user,
        user_timezone=timezone,
        user_is_admin=True,  # the local terminal is its own workspace's admin
        direct=True,
        kind=InboundKind.MESSAGE,
        text=text,
        mentions=mentions,
        at=at or dt.datetime.now(dt.UTC),
    )


async def run(
    db: Database,
    settings: Settings,
    *,
    user: str,
    timezone: str | None,
    stdin: TextIO = sys.stdin,
    out: Callable[[str], None] = print,
) -> int:
    interactive = stdin.isatty()
    out(
        f"Casebook console as @{user}. Type `postmortem <title>` to start, `help` for commands, "
        "Ctrl-D to quit. During an interview, start a command with / (e.g. `/actions`)."
    )
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            sys.stdout.write("> ")
            sys.stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            return 0
        line = line.rstrip("\n")
        if not line.strip():
            continue
        inbound = inbound_for(line, user=user, timezone=timezone)
        replies: list[Reply] = await handle(db, inbound, settings=settings)
        for reply in replies:
            out(render(reply))
            out("")
        followups = await run_followups(
            db, replies, platform=PLATFORM, tenant=TENANT, settings=settings, now=inbound.at, out=out
        )
        if followups:
            out("")
