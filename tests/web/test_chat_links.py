"""With CASEBOOK_PUBLIC_URL set, every chat reply naming a case links to its page."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.messages import Reply, ReplyKind
from storage.db import Database
from tests.web.conftest import say, seed_demo


def test_links_are_added_to_replies_naming_a_case_only() -> None:
    from bot.links import with_case_links

    replies = [
        Reply("Case #3 is published.", ReplyKind.CASE, case_number=3),
        Reply("There is no action 3.9.", ReplyKind.ERROR, case_number=3),
        Reply("Your open actions", ReplyKind.LIST),
    ]
    linked = with_case_links(replies, "https://casebook.example.com/")
    assert linked[0].text.endswith("[Case #3 in the library](https://casebook.example.com/cases/3)")
    assert linked[1:] == replies[1:]
    assert with_case_links(replies, None) == replies


async def test_a_show_command_links_to_the_page(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    await seed_demo(db)
    monkeypatch.setenv("CASEBOOK_PUBLIC_URL", "https://casebook.example.com")
    assert Settings.from_env().public_url == "https://casebook.example.com"
    from bot.messages import Inbound, InboundKind
    from bot.service import handle
    from tests.conftest import NOW

    replies = await handle(
        db,
        Inbound("console", "local", "console:alice", "alice", "show #1", InboundKind.COMMAND, at=NOW),
        settings=Settings.from_env(),
    )
    assert any("(https://casebook.example.com/cases/1)" in r.text for r in replies)
    monkeypatch.delenv("CASEBOOK_PUBLIC_URL")
    assert "casebook.example.com" not in await say(
        db, "show #1", platform="console", tenant="local", user="alice"
    )
