"""What a published case says, and to whom."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from bot import render
from bot.case import CaseDraft
from bot.messages import Attachment, Reply, ReplyKind, Section


def markdown_reply(
    number: int,
    title: str | None,
    markdown: str,
    sections: tuple[Section, ...],
    *,
    intro: str | None = None,
    file_markdown: str | None = None,
) -> Reply:
    """A drafted case as a reply: its Markdown, its sections for rich rendering, and the file
    (`file_markdown`, names instead of mention tokens, when the chat text has mentions)."""
    return Reply(
        (intro + "\n\n" if intro else "") + markdown,
        ReplyKind.CASE,
        case_number=number,
        sections=sections,
        attachment=Attachment(filename=f"case-{number}.md", content=file_markdown or markdown),
        case_title=render.display_title(title),
        intro=intro,
    )


def case_reply(case: CaseDraft, *, intro: str | None = None, tz: dt.tzinfo = dt.UTC) -> Reply:
    """The case drafted by the template, its times in `tz`."""
    return markdown_reply(
        case.number,
        case.title,
        render.render_case_markdown(case, tz, mentions=True),
        render.case_sections(case, tz, mentions=True),
        intro=intro,
        file_markdown=render.render_case_markdown(case, tz),
    )


def publication_replies(
    case: CaseDraft, *, followup: str | None = None, tz: dt.tzinfo = dt.UTC
) -> list[Reply]:
    """`followup` (e.g. "draft:12") rides on the case reply: adapters run it after the acknowledgement."""
    published = case_reply(case, intro=f"Case #{case.number} is published. Thank you, everyone.", tz=tz)
    replies = [replace(published, followup=followup, publication=True)]
    by_owner: dict[str, list[str]] = {}
    for action in case.actions:
        if action.owner is None or action.status != "open":
            continue
        due = action.due.isoformat() if action.due else "no due date"
        by_owner.setdefault(action.owner.user_id, []).append(
            f"- `{case.number}.{action.number}` {action.description} (due {due})"
        )
    for user_id, lines in by_owner.items():
        replies.append(
            Reply(
                f"You own {len(lines)} prevention action(s) from case #{case.number}"
                + (f" ({case.title})" if case.title else "")
                + ":\n"
                + "\n".join(lines)
                + "\nI'll remind you weekly until each is done. "
                "Close one with `done <ref> <evidence>`.",
                ReplyKind.NOTICE,
                to_user=user_id,
                case_number=case.number,
            )
        )
    return replies
