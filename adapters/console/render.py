"""Replies as plain text for a terminal."""

from __future__ import annotations

from bot.messages import Reply, ReplyKind
from bot.parsing import MENTION_RE


def render(reply: Reply) -> str:
    text = MENTION_RE.sub(lambda m: f"@{m.group(2) or m.group(1)}", reply.text)
    if reply.kind == ReplyKind.ERROR:
        text = f"⚠ {text}"
    lines = [text]
    for item in reply.items:
        buttons = " ".join(f"[{c.label}: {c.value}]" for c in item.choices)
        lines.append(f"  - {item.text}" + (f"\n      {buttons}" if buttons else ""))
    if reply.choices:
        lines.append("  " + " ".join(f"[{c.value}]" for c in reply.choices))
    if reply.attachment is not None:
        size = len(reply.attachment.payload)
        lines.append(f"  (attached: {reply.attachment.filename}, {size:,} bytes)")
    body = "\n".join(lines)
    if reply.to_user:
        return f"→ DM to @{reply.to_user}:\n" + "\n".join("   " + line for line in body.splitlines())
    return body
