"""Text across the Slack boundary.

Inbound, Slack's message markup becomes the core's plain Markdown: user mentions
stay `<@U123>` (and are listed), links become `[label](url)`, broadcasts become
plain words, and Slack's `&amp;`/`&lt;`/`&gt;` escapes are undone.

Outbound, the core's Markdown becomes Slack mrkdwn, and anything a person typed is
defused: `&`, `<`, `>` are escaped (so `<!channel>` shows as text), `@here`-style
words get an invisible joiner so they never ping a crowd, and only our own
mention, channel and link tokens survive as markup.
"""

from __future__ import annotations

import re

from bot.markup import strip_marks

# --- inbound -------------------------------------------------------------------------------

_SLACK_TOKEN = re.compile(r"<([^<>]+)>")
# Slack user ids: U (or W, on Enterprise Grid) and upper-case letters and digits; a bot id (B…)
# or an id of another shape is not a mention.
_USER_ID = re.compile(r"^@([UW][A-Z0-9]{1,20})(?:\|[^>]*)?$")


def from_slack(text: str) -> tuple[str, tuple[str, ...]]:
    """Slack message text -> (core Markdown text, mentioned user ids in order)."""
    mentioned: list[str] = []

    def convert(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if user := _USER_ID.match(inner):
            mentioned.append(user.group(1))
            return f"<@{user.group(1)}>"
        if target.startswith("#"):
            return f"#{label}" if label else f"<{target}>"
        if target.startswith("!"):
            return _special(target, label)
        if re.match(r"^(https?|mailto):", target):
            if target.startswith("mailto:"):
                return label or target.removeprefix("mailto:")
            return f"[{label}]({target})" if label and label != target else target
        return label or target

    converted = _SLACK_TOKEN.sub(convert, text)
    plain = converted.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return plain, tuple(dict.fromkeys(mentioned))


def _special(target: str, label: str) -> str:
    name = target[1:]
    if name in {"here", "channel", "everyone"}:
        return f"@{name}"
    if name.startswith("subteam^"):
        return label or "@group"
    return label or name  # dates and the like: their fallback text


def without_mention_of(text: str, user_id: str) -> str:
    """The text of an @-mention of the bot, without the mention itself."""
    return re.sub(rf"<@{re.escape(user_id)}(?:\|[^>]*)?>", " ", text).strip()


# --- outbound ------------------------------------------------------------------------------

# Our own markup: user mentions, channel links, web links. Everything else in angle brackets
# (`<!channel>`, `<!subteam^…>`) is escaped and shows as typed.
_KEEP = re.compile(
    r"<(?:@[UW][A-Z0-9]+(?:\|[^<>]*)?|#[CG][A-Z0-9]+(?:\|[^<>]*)?|(?:https?|mailto):[^<>\s|]+(?:\|[^<>]*)?)>"
)
_BROADCAST = re.compile(r"(?<![\w@])@(channel|here|everyone)\b", re.IGNORECASE)
# A label and a URL never contain `[`: each try then stops at the next bracket, so a line of
# thousands of brackets costs linear time, not quadratic.
_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\(((?:https?|mailto):[^)\s\[]+)\)")
_FENCE = re.compile(r"(```.*?```)", re.DOTALL)
_CODE = re.compile(r"(`[^`\n]+`)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
# Only the heading's opening is matched; its closing hashes are stripped without a regex
# (a lazy group before `\s*#*\s*$` backtracks quadratically on a long run of hashes).
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?=\S)")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
WORD_JOINER = "\u2060"


def escape(text: str) -> str:
    """Plain text made safe for any Slack text field: escapes and defused broadcasts."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@" + WORD_JOINER + m.group(1), escaped)


def to_mrkdwn(markdown: str) -> str:
    """The core's standard Markdown as Slack mrkdwn, with user text defused."""
    parts = []
    for chunk in _FENCE.split(markdown):
        if chunk.startswith("```") and chunk.endswith("```") and len(chunk) >= 6:
            parts.append(escape(chunk))
        else:
            parts.append("\n".join(_line(line) for line in chunk.split("\n")))
    return "".join(parts)


def _line(line: str) -> str:
    if heading := _HEADING.match(line):
        return f"*{_inline(_heading_text(line[heading.end() :]).replace('**', ''))}*"
    if bullet := _BULLET.match(line):
        return f"{bullet.group(1)}• {_inline(line[bullet.end() :])}"
    return _inline(line)


def _heading_text(rest: str) -> str:
    title = rest.rstrip()
    return title.rstrip("#").rstrip() or title[:1]


def _inline(text: str) -> str:
    out = []
    for piece in _CODE.split(text):
        out.append(escape(piece) if piece.startswith("`") and piece.endswith("`") else _prose(piece))
    return "".join(out)


def _prose(text: str, *, formatted: bool = True) -> str:
    """Escape (and format) prose, leaving our own tokens and links as Slack markup."""
    out = []
    position = 0
    for start, end, markup in _tokens(text):
        out.append(_format(escape(text[position:start]), formatted))
        out.append(markup)
        position = end
    out.append(_format(escape(text[position:]), formatted))
    return "".join(out)


def _tokens(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for m in _MD_LINK.finditer(text):
        label = escape(m.group(1)).replace("|", "¦")
        url = m.group(2).replace("&", "&amp;").replace(">", "%3E")
        found.append((m.start(), m.end(), f"<{url}|{label}>"))
    for m in _KEEP.finditer(text):
        if not any(s <= m.start() < e for s, e, _ in found):
            # A user mention is sent as its bare id: Slack shows the person's current name.
            token = m.group(0)
            markup = token.split("|")[0].removesuffix(">") + ">" if token.startswith("<@") else token
            found.append((m.start(), m.end(), markup))
    return sorted(found)


def _format(text: str, formatted: bool = True) -> str:
    if not formatted:
        return text
    # Bold first, parked behind control characters, so that single-star italics can be found.
    parked = _BOLD.sub(lambda m: f"\x01{m.group(1)}\x02", text)
    italic = _ITALIC.sub(lambda m: f"_{m.group(1)}_", parked)
    return italic.replace("\x01", "*").replace("\x02", "*")


def plain(markdown: str, limit: int = 300) -> str:
    """A one-line, markup-free summary: notification text and fallbacks."""
    first = next((line for line in markdown.splitlines() if line.strip()), "")
    bare = strip_marks(_MD_LINK.sub(r"\1", first)).lstrip("# ").strip()
    clipped = bare if len(bare) <= limit else bare[: limit - 1] + "…"
    return _prose(clipped, formatted=False)
