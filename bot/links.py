"""Links from chat to the web case library, when CASEBOOK_PUBLIC_URL says where it is."""

from __future__ import annotations

from dataclasses import replace

from bot.messages import Reply, ReplyKind


def case_url(public_url: str | None, number: int) -> str | None:
    return f"{public_url.rstrip('/')}/cases/{number}" if public_url else None


def with_case_links(replies: list[Reply], public_url: str | None) -> list[Reply]:
    """Every reply that names a case ends with a link to the case's page (refusals excepted)."""
    if not public_url:
        return replies
    linked = []
    for reply in replies:
        url = case_url(public_url, reply.case_number) if reply.case_number else None
        if url is None or reply.kind == ReplyKind.ERROR or url in reply.text:
            linked.append(reply)
        else:
            linked.append(
                replace(reply, text=f"{reply.text}\n\n[Case #{reply.case_number} in the library]({url})")
            )
    return linked
