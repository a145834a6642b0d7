"""The "Add to postmortem" message shortcut through the real Slack path: the signed shortcut,
the modal opened with views.open, its submission, the case updated, during and after the interview."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import select

from storage.models import Case, RawAnswer
from tests.slack.conftest import CHANNEL, Harness

MESSAGE_TS = "1795000000.000200"  # 2026-11-18 ... UTC: before the harness's now


def shortcut(message_text: str, *, user: str = "UBOB", author: str = "UCAROL") -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "add_to_postmortem",
        "trigger_id": "trigger-shortcut-1",
        "team": {"id": "T0TEAM", "domain": "acme"},
        "user": {"id": user, "team_id": "T0TEAM"},
        "channel": {"id": CHANNEL, "name": "incidents"},
        "message": {"type": "message", "user": author, "ts": MESSAGE_TS, "text": message_text},
        "response_url": "https://hooks.slack.com/x",
        "api_app_id": "A0APP",
    }


def chosen(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


async def add(harness: Harness, text: str, section: str, case: str | None = None) -> dict[str, Any]:
    before = len(harness.standin.called("views.open"))
    assert (await harness.sender.interaction(shortcut(text))).status == 200
    await harness.settle()
    opened = harness.standin.called("views.open")[before]
    blocks = opened.params["view"]["blocks"]
    preselected = blocks[0]["element"].get("initial_option", {}).get("value")
    values = {
        "case": chosen(case or preselected),
        "section": chosen(section),
        "text": {"type": "plain_text_input", "value": blocks[2]["element"].get("initial_value")},
    }
    assert (await harness.sender.submit(opened, values, user="UBOB")).status == 200
    await harness.settle()
    return {"preselected": preselected, "view": opened.params["view"]}


async def test_a_message_goes_into_the_running_case_with_author_time_and_link(harness: Harness) -> None:
    assert (await harness.sender.command("Checkout 502s")).status == 200
    await harness.settle()
    shown = await add(harness, "checked the LB: all targets equally bad", "diagnostic")
    assert shown["preselected"] == "1"
    [case] = await harness.cases()
    assert case.diagnostic_path == [{"text": "checked the LB: all targets equally bad", "by": "Carol"}]
    async with harness.db.transaction() as session:
        [raw] = (
            await session.exec(select(RawAnswer).where(RawAnswer.question_key == "clip:diagnostic"))
        ).all()
    assert raw.at == dt.datetime.fromtimestamp(1795000000.0002, dt.UTC).replace(
        microsecond=raw.at.microsecond
    )
    assert "https://acme.slack.com/archives/C0INCIDENTS/p1795000000000200" in raw.text
    told = harness.standin.called("chat.postEphemeral")[-1]
    assert "Added to #1 as a diagnostic step" in told.text() and told.params["user"] == "UBOB"


async def test_after_publication_the_case_changes_and_says_so(harness: Harness) -> None:
    assert (await harness.sender.command("Checkout 502s")).status == 200
    await harness.settle()
    async with harness.db.transaction() as session:
        [case] = (await session.exec(select(Case))).all()
        case.status = "published"
        session.add(case)
    await add(harness, "502s for EU users only", "symptom")
    [case] = await harness.cases()
    assert case.symptoms == ["502s for EU users only"]
    assert case.extra["amended"][0]["section"] == "symptom"
    assert case.draft_md and "Changed after publication" in case.draft_md
    assert "published copy is marked as changed" in harness.standin.called("chat.postEphemeral")[-1].text()


async def test_without_a_case_the_modal_says_how_to_start_one(harness: Harness) -> None:
    assert (await harness.sender.interaction(shortcut("anything"))).status == 200
    await harness.settle()
    view = harness.standin.called("views.open")[-1].params["view"]
    assert "There is no case yet" in str(view["blocks"]) and "submit" not in view
