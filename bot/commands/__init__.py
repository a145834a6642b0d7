"""The command grammar, the same for every adapter.

`postmortem [title]` (or `start [title]`) opens an interview; `<command> [args]`
runs a command; the leading `/` or `postmortem` word is optional before a
command. Anything else gets help. Modules register their commands with
`@command(...)`; the list of modules is at the bottom of this file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import refs
from bot.messages import Reply, ReplyKind
from bot.parsing import ParseError
from storage import repo
from storage.models import Case

if TYPE_CHECKING:
    from bot.turn import Turn

StartFn = Callable[["Turn", str | None], Awaitable[list[Reply]]]


@dataclass
class CommandContext:
    turn: Turn
    start: StartFn


Handler = Callable[[CommandContext, str], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    handler: Handler
    usage: str
    summary: str
    aliases: tuple[str, ...] = ()


COMMANDS: dict[str, CommandSpec] = {}
_LOOKUP: dict[str, str] = {}
START_WORDS = {"postmortem", "pm", "start", "new"}


def command(
    name: str, *, usage: str, summary: str, aliases: tuple[str, ...] = ()
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = CommandSpec(name, handler, usage, summary, aliases)
        for word in (name, *aliases):
            _LOOKUP[word] = name
        return handler

    return register


@dataclass(frozen=True)
class ParsedCommand:
    name: str  # "start", a registered command, or "unknown"
    args: str


def parse_command(text: str) -> ParsedCommand:
    words = text.strip().lstrip("/").strip().split(maxsplit=1)
    if not words:
        return ParsedCommand("help", "")
    head, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
    if head in START_WORDS:
        inner = rest.split(maxsplit=1)
        if inner and inner[0].lower() in _LOOKUP and head != "start":
            return ParsedCommand(_LOOKUP[inner[0].lower()], inner[1] if len(inner) > 1 else "")
        return ParsedCommand("start", rest.strip())
    if head in _LOOKUP:
        return ParsedCommand(_LOOKUP[head], rest.strip())
    return ParsedCommand("unknown", text.strip())


async def dispatch(ctx: CommandContext, parsed: ParsedCommand) -> list[Reply]:
    if parsed.name == "start":
        return await ctx.start(ctx.turn, parsed.args or None)
    spec = COMMANDS.get(parsed.name)
    if spec is None:
        prefix = f"I don't know `{_clip(parsed.args)}`. " if parsed.args else ""
        return [Reply(prefix + help_text(), ReplyKind.INFO, ephemeral=True)]
    try:
        return await spec.handler(ctx, parsed.args)
    except ParseError as error:  # one boundary: a refused command answers why, changes nothing
        return [Reply(str(error), ReplyKind.ERROR, ephemeral=True)]


async def find_case(ctx: CommandContext, ref_text: str) -> Case:
    """The tenant's case named `#12` (or `12`), or a ParseError saying there is none."""
    number = refs.parse_case_ref(ref_text)
    case = await repo.case_by_number(ctx.turn.session, tenant_id=ctx.turn.tenant_id, number=number)
    if case is None:
        raise ParseError(f"There is no case #{number}.")
    return case


def help_text() -> str:
    lines = [
        "**Casebook** turns an incident into a clinical case and chases its prevention actions.",
        "- `postmortem [title]`: start a postmortem interview (here, or in a new thread)",
    ]
    for spec in COMMANDS.values():
        lines.append(f"- `{spec.usage}`: {spec.summary}")
    lines.append("During an interview: `skip`, `back`, `status`, `help`, `cancel` at every question.")
    return "\n".join(lines)


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def register_all() -> Any:
    # Each module registers its commands on import; order is the order of `help`.
    from bot.capture import commands as _capture  # noqa: F401
    from bot.capture import reading as _reading  # noqa: F401  (`from #channel`, `history …`)
    from bot.commands import (  # noqa: F401
        actions,
        cases,
        drafting,
        followup,
        insights,
        invite,
    )
    from bot.trackers import commands as _trackers  # noqa: F401


register_all()
