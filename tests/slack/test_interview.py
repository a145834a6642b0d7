"""A whole postmortem through Slack's real HTTP path: signed slash command, thread replies,
button clicks, a modal submission, to a stored case and a posted draft."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import col, select

from storage.models import CaseStatus, Person, PreventionAction, RawAnswer
from tests.slack.conftest import CHANNEL, SLACK_NOW, Harness


async def run_interview(
    h: Harness, title: str = "Checkout 502s after the payments deploy", *, lucky: str | None = None
) -> str:
    """From `/postmortem <title>` to the review step; returns the thread's root ts."""
    response = await h.sender.command(title)
    assert response.status == 200 and await response.text() == ""
    await h.settle()
    root = h.root()
    await h.click(h.last_question(root), "SEV2")
    await h.click(h.last_question(root), "deploy/config")
    await h.say(root, "checkout-api, payments, pgbouncer", user="UBOB")
    await h.say(root, "2 hours ago", "+9m", "+41m", "+1h12m")
    await h.say(root, "- 502 rate on checkout-api at 14%\n- CheckoutErrorBudgetBurn paged", user="UBOB")
    await h.click(h.last_question(root), "Done")
    await h.say(root, "Suspected the CDN — cost: 15 min", user="UCAROL")
    await h.click(h.last_question(root), "Done")
    await h.click(h.last_question(root), "Skip")
    if lucky:
        await h.say(root, lucky, user="UCAROL")
        await h.click(h.last_question(root), "Done")
    else:
        await h.click(h.last_question(root), "Skip")
    await h.say(root, "Checked pgbouncer SHOW POOLS: 400 clients waiting", user="UBOB")
    await h.click(h.last_question(root), "Done")
    await h.say(root, "A config change cut the payments pool from 200 to 20 without a capacity check.")
    await h.click(h.last_question(root), "Skip")
    return root


async def add_action_with_the_form(h: Harness, root: str) -> None:
    await h.click(h.last_question(root), "📝 Fill in a form")
    opened = h.standin.called("views.open")[-1]
    due = (SLACK_NOW.date() + dt.timedelta(days=14)).isoformat()
    response = await h.sender.submit(
        opened,
        {
            "description": {"type": "plain_text_input", "value": "Alert when cl_waiting > 50 for 5 min"},
            "owner": {"type": "users_select", "selected_user": "UBOB"},
            "due": {"type": "datepicker", "selected_date": due},
            "kind": {"type": "static_select", "selected_option": {"value": "detect"}},
        },
    )
    assert response.status == 200 and await response.text() == ""  # accepted: the modal closes
    await h.settle()


async def test_a_whole_interview_to_a_published_case(harness: Harness) -> None:
    h = harness
    root = await run_interview(h)
    await add_action_with_the_form(h, root)
    await h.click(h.last_question(root), "None of these")
    await h.say(root, "Check pool-size changes against peak connections in CI", "<@UCAROL>", "in 3 weeks")
    await h.click(h.last_question(root), "prevent")
    await h.say(root, "complexity")
    await h.click(h.last_question(root), "No more actions")
    review = h.last_question(root)
    assert "Here is the draft" in review.text() and "*Timeline*" in review.text()
    await h.click(review, "Confirm")
    await h.click(h.last_question(root), "Yes, publish")

    [case] = await h.cases()
    assert case.status == CaseStatus.PUBLISHED and case.severity == "SEV2" and case.area == "deploy"
    assert case.services == ["checkout-api", "payments", "pgbouncer"]
    assert case.diagnostic_path == [
        {"text": "Checked pgbouncer SHOW POOLS: 400 clients waiting", "by": "Bob"}
    ]
    async with h.db.transaction() as session:
        actions = (await session.exec(select(PreventionAction).order_by(col(PreventionAction.number)))).all()
        people = {p.id: p for p in (await session.exec(select(Person))).all()}
        responders = {
            people[a.responder_id].platform_user_id for a in (await session.exec(select(RawAnswer))).all()
        }
    assert [(a.description, people[a.owner_id or 0].display_name, a.kind, a.status) for a in actions] == [
        ("Alert when cl_waiting > 50 for 5 min", "Bob", "detect", "open"),
        ("Check pool-size changes against peak connections in CI", "Carol", "prevent", "open"),
    ]
    assert responders == {"UALICE", "UBOB", "UCAROL"}
    alice = next(p for p in people.values() if p.platform_user_id == "UALICE")
    assert (alice.display_name, alice.timezone) == ("Alice", "Europe/Paris")

    # The case in the thread as Block Kit, within Slack's limits, and its Markdown as a file there.
    case_posts = [c for c in h.thread(root) if c.params["blocks"][0]["type"] == "header"]
    assert case_posts and case_posts[0].params["blocks"][0]["text"]["text"].startswith(
        "Case #1: Checkout 502s"
    )
    for post in h.thread(root):
        assert len(post.params["blocks"]) <= 50
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in post.params["blocks"])
    [complete] = h.standin.called("files.completeUploadExternal")
    assert complete.params["channel_id"] == CHANNEL and complete.params["thread_ts"] == root
    [uploaded] = h.standin.uploads.values()
    assert uploaded.decode().startswith("# Case #1: Checkout 502s after the payments deploy")
    # Owners hear about their actions by DM; the root message says the case is published.
    dms = {
        c.params["channel"]: c.text() for c in h.standin.posts() if str(c.params["channel"]).startswith("D")
    }
    assert "You own 1 prevention action" in dms["DBOB"] and "You own 1 prevention action" in dms["DCAROL"]
    assert "published" in h.standin.called("chat.update", ts=root)[-1].text()


async def test_buttons_give_way_to_who_chose_what(harness: Harness) -> None:
    h = harness
    await h.sender.command("DNS outage")
    await h.settle()
    root = h.root()
    question = h.last_question(root)
    await h.click(question, "SEV1", user="UBOB")

    [update] = [c for c in h.standin.called("chat.update") if c.params["ts"] == question.result["ts"]]
    assert not any(b["type"] == "actions" for b in update.params["blocks"])
    assert update.params["text"] == "✓ Severity: SEV1 (critical) · <@UBOB>"  # the question's record line
    # Pressing the same, now stale, button again changes nothing and says so to the presser only.
    await h.click(question, "SEV3", user="UBOB")
    [case] = await h.cases()
    assert case.severity == "SEV1"
    ephemeral = h.standin.called("chat.postEphemeral")[-1]
    assert ephemeral.params["user"] == "UBOB" and "already been answered" in ephemeral.text()


async def test_a_refused_form_shows_the_error_in_the_modal(harness: Harness) -> None:
    h = harness
    root = await run_interview(h)
    await h.click(h.last_question(root), "📝 Fill in a form")
    opened = h.standin.called("views.open")[-1]
    posts_before = len(h.standin.posts())

    response = await h.sender.submit(
        opened,
        {
            "description": {"type": "plain_text_input", "value": "Alert on pool saturation"},
            "owner": {"type": "users_select", "selected_user": "UBOB"},
            "due": {"type": "datepicker", "selected_date": "2020-01-01"},
            "kind": {"type": "static_select", "selected_option": {"value": "detect"}},
        },
    )
    await h.settle()

    body = json.loads(await response.text())
    assert body["response_action"] == "errors" and "in the past" in body["errors"]["due"]
    assert len(h.standin.posts()) == posts_before
    async with h.db.transaction() as session:
        assert (await session.exec(select(PreventionAction))).all() == []


async def test_a_button_of_a_finished_interview_does_nothing(harness: Harness) -> None:
    h = harness
    await h.sender.command("Short-lived")
    await h.settle()
    root = h.root()
    question = h.last_question(root)
    await h.say(root, "cancel")
    await h.click(h.last_question(root), "Yes, cancel it")

    await h.click(question, "SEV1")

    [case] = await h.cases()
    assert case.status == CaseStatus.CANCELLED and case.severity is None
    assert "conversation is over" in h.standin.called("chat.postEphemeral")[-1].text()


async def test_where_we_got_lucky_through_slack(harness: Harness) -> None:
    """The new section is asked after the misleading signals, stored, and in the published case."""
    h = harness
    lucky = "It happened at 03:10, when checkout traffic is at its lowest"
    root = await run_interview(h, lucky=lucky)
    await h.click(h.last_question(root), "No more actions")
    review = h.last_question(root)
    assert "Where we got lucky" in review.text() and lucky in review.text()
    await h.click(review, "Confirm")
    await h.click(h.last_question(root), "Yes, publish")
    [case] = await h.cases()
    assert case.status == CaseStatus.PUBLISHED
    assert case.lucky == [lucky]
    assert case.diagnostic_path[0]["text"].startswith("Checked pgbouncer")  # lucky did not swallow it
    assert "✓ Where we got lucky: 1 noted" in h.standin.everything_said()
