"""The monthly report: chosen by an admin, posted by the clock's sweep once per (tenant, month).

HISTORY (tests/insight_cases.py) has cases in 2026-05 and 2026-08..10; chat time is NOW,
2026-11-20. The report of October goes out from 2026-11-01; but the channel was chosen on
2026-11-20, so the first report is November's, due from 2026-12-01.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.insights import monthly
from bot.messages import Reply, ReplyKind
from bot.notify import SendResult
from storage.db import Database
from tests.conftest import Chat
from tests.insight_cases import load_history


class RecordingPoster:
    """The notifier port as a platform would serve it: records what was posted where."""

    platform = "console"

    def __init__(self, results: Sequence[SendResult] = ()) -> None:
        self.posts: list[tuple[str, str, list[Reply]]] = []
        self.results = list(results)

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        raise AssertionError("a report is never a DM")

    async def post_in_conversation(
        self, *, tenant: str, conversation_key: str, replies: Sequence[Reply]
    ) -> SendResult:
        self.posts.append((tenant, conversation_key, list(replies)))
        return self.results.pop(0) if self.results else SendResult(ok=True)

    async def post_to_channel(self, *, tenant: str, channel: str, replies: Sequence[Reply]) -> SendResult:
        return await self.post_in_conversation(
            tenant=tenant, conversation_key=f"channel:{channel}", replies=replies
        )


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


async def test_only_admins_choose_and_bad_input_is_refused(db: Database, chat: Chat) -> None:
    (refused,) = await chat.command("report <#C42|incidents> monthly")
    assert refused.kind == ReplyKind.ERROR and "Only a workspace admin" in refused.text
    (wrong,) = await chat.command("report <#C42|incidents> weekly", admin=True)
    assert wrong.kind == ReplyKind.ERROR and "report #incidents monthly" in wrong.text
    poster = RecordingPoster()
    assert await monthly.sweep(db, {"console": poster}, now=at("2026-12-02")) == []  # nothing was chosen


async def test_posted_once_a_month_by_the_clock(db: Database, chat: Chat) -> None:
    n = await load_history(db)
    (chosen,) = await chat.command("report <#C42|incidents> monthly", admin=True)
    assert (
        chosen.text
        == "The monthly report will be posted #incidents: the first, on 2026-12-01, covers 2026-11."
    )
    poster = RecordingPoster()
    clients = {"console": poster}

    assert await monthly.sweep(db, clients, now=at("2026-11-30T23:59:00")) == []  # October ended before
    first = await monthly.sweep(db, clients, now=at("2026-12-01T00:05:00"))
    again = await monthly.sweep(db, clients, now=at("2026-12-01T00:10:00"))  # a second clock, a restart
    assert [o.status for o in first] == ["sent"] and again == []
    ((tenant, key, (text, picture)),) = poster.posts
    assert (tenant, key) == ("T1", "channel:C42")
    assert text.text.startswith("**Casebook monthly report — 2026-11**\n- New cases: 0\n- Repeats: 0")
    # B.1 (due 09-30) and D.1 (due 12-01, so not yet on 12-01) are open; only B.1 is overdue.
    assert "- Overdue actions: 1 — @u_ops 1" in text.text
    assert "**Value ledger** — monthly, 2026-06 to 2026-11 (as of 2026-12-01)" in text.text
    assert f"#{n['E']}" not in text.text.split("\n\n")[0]  # October's case is not November's news
    assert picture.attachment is not None and picture.attachment.mime == "image/png"

    await monthly.sweep(db, clients, now=at("2027-01-01T00:05:00"))
    assert [p[2][0].text.splitlines()[0] for p in poster.posts[1:]] == [
        "**Casebook monthly report — 2026-12**"
    ]


async def test_a_failed_send_is_retried_an_uncertain_one_never(db: Database, chat: Chat) -> None:
    await load_history(db)
    await chat.command("report here monthly", admin=True)
    poster = RecordingPoster(
        [SendResult(ok=False, retryable=True, error="rate limited"), SendResult(ok=True)]
    )
    clients = {"console": poster}
    failed = await monthly.sweep(db, clients, now=at("2026-12-01T00:05:00"))
    retried = await monthly.sweep(db, clients, now=at("2026-12-01T00:10:00"))
    assert [o.status for o in failed] == ["failed"] and [o.status for o in retried] == ["sent"]
    assert {p[1] for p in poster.posts} == {"thread-1"}  # `here`: the conversation it was asked in

    unsure = RecordingPoster([SendResult(ok=False, uncertain=True, error="timeout")])
    assert [o.status for o in await monthly.sweep(db, {"console": unsure}, now=at("2027-01-01"))] == [
        "uncertain"
    ]
    assert await monthly.sweep(db, {"console": unsure}, now=at("2027-01-01T01:00")) == []
    cannot = RecordingPoster([SendResult(ok=False, error="cannot tell a thread from 'channel:C42'")])
    assert [o.status for o in await monthly.sweep(db, {"console": cannot}, now=at("2027-02-01"))] == [
        "refused"
    ]
    assert await monthly.sweep(db, {"console": cannot}, now=at("2027-02-01T01:00")) == []
    (off,) = await chat.command("report off", admin=True)
    assert off.text == "The monthly report is off."
