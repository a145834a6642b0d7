from __future__ import annotations

from tests.conftest import Chat


async def test_start_interview_stores_case(chat: Chat) -> None:
    replies = await chat.command("postmortem Checkout down")
    assert replies[0].case_number == 1
    assert replies[-1].step == "severity"
