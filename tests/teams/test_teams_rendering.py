"""Reading Teams activities and rendering replies: pure functions, no server."""

from __future__ import annotations

import json

from botbuilder.schema import Activity

from adapters.teams import cards
from adapters.teams.inbound import read_submission, read_text, tenant_of, to_inbound, user_timezone
from adapters.teams.markdown import message_text
from bot.messages import Choice, InboundKind, ListItem, Mention, Reply, ReplyKind, Section
from bot.publish import markdown_reply
from tests.teams.activities import ALICE, BOB, TENANT, Teams


def _activity(payload: dict[str, object]) -> Activity:
    return Activity().deserialize(payload)


def _size(activity: Activity) -> int:
    return len(json.dumps(activity.serialize(), ensure_ascii=False).encode())


def test_the_bot_mention_is_stripped_and_people_mentions_become_tokens() -> None:
    teams = Teams("https://smba.trafficmanager.net/emea/")
    activity = _activity(teams.channel_post("reassign 7.1 <at>Bob Smith</at> &amp; thanks"))
    spoken = read_text(activity)
    assert spoken.text == f"reassign 7.1 <@{BOB.id}> & thanks"
    assert spoken.mentions == (Mention(BOB.id, "Bob Smith"),)
    inbound = to_inbound(activity, tenant=TENANT)
    assert inbound is not None
    assert (inbound.kind, inbound.user_id, inbound.user_name) == (
        InboundKind.COMMAND,
        ALICE.id,
        "Alice Martin",
    )
    assert inbound.conversation_key == activity.conversation.id and ";messageid=" in inbound.conversation_key
    assert inbound.at.tzinfo is not None and inbound.event_id


def test_a_reply_in_the_chain_is_an_answer_and_a_new_post_a_command() -> None:
    teams = Teams("https://smba.trafficmanager.net/emea/")
    post = teams.channel_post("postmortem Disk full")
    reply = _activity(teams.channel_reply(post["id"], "SEV2"))
    inbound = to_inbound(reply, tenant=TENANT)
    assert inbound is not None and inbound.kind == InboundKind.MESSAGE and inbound.direct
    assert inbound.conversation_key == post["conversation"]["id"]
    bare = _activity(teams.channel_post(""))
    assert to_inbound(bare, tenant=TENANT) is not None  # a bare @Casebook gets the help


def test_the_timezone_comes_from_the_activity_or_its_client_info() -> None:
    teams = Teams("https://x/")
    payload = teams.channel_post("help", user=BOB)
    assert user_timezone(_activity(payload)) == "America/New_York"
    payload.pop("localTimezone")
    payload["entities"][-1]["timezone"] = "Asia/Tokyo"
    assert user_timezone(_activity(payload)) == "Asia/Tokyo"
    payload["entities"][-1]["timezone"] = "Mars/Olympus"
    assert user_timezone(_activity(payload)) is None


def test_the_tenant_is_read_from_channel_data_or_the_conversation() -> None:
    teams = Teams("https://x/")
    payload = teams.channel_post("help")
    del payload["channelData"]["tenant"]
    assert tenant_of(_activity(payload)) == TENANT


def test_a_card_submit_carries_the_value_and_the_form_inputs() -> None:
    teams = Teams("https://x/")
    value = {
        "casebook": 1,
        "value": "/done 7.2",
        "form": "done",
        "prefix": "i1c0.",
        "i1c0.evidence": " PR 88 ",
    }
    activity = _activity(teams.submit("a:1", "bot-3", value, user=BOB))
    submission = read_submission(activity)
    assert submission is not None
    assert (submission.value, submission.form_name, submission.fields) == (
        "/done 7.2",
        "done",
        {"evidence": "PR 88"},
    )
    inbound = to_inbound(activity, tenant=TENANT, submission=submission, form={"evidence": "PR 88"})
    assert inbound is not None and inbound.kind == InboundKind.FORM and inbound.form == {"evidence": "PR 88"}
    assert read_submission(_activity(teams.submit("a:1", "bot-3", {"something": "else"}))) is None


def test_markdown_keeps_its_lines_in_a_teams_message() -> None:
    text = message_text("# Case #3\nFirst line\nSecond line\n\n- one\n- two\n1. a\n2. b")
    assert text == "**Case #3**\n\nFirst line\n\nSecond line\n\n- one\n- two\n1. a\n2. b"


def test_mentions_become_teams_mentions_with_entities() -> None:
    reply = Reply(f"Only <@{ALICE.id}> or an admin can publish this case.", ReplyKind.ERROR)
    [activity] = cards.render(reply, names={ALICE.id: "Alice Martin"})
    assert activity.text == "⚠️ Only <at>Alice Martin</at> or an admin can publish this case."
    [entity] = activity.serialize()["entities"]
    assert entity == {
        "type": "mention",
        "text": "<at>Alice Martin</at>",
        "mentioned": {"id": ALICE.id, "name": "Alice Martin"},
    }


def test_many_choices_become_a_drop_down_and_few_become_buttons() -> None:
    few = Reply(
        "Severity?",
        ReplyKind.QUESTION,
        choices=tuple(Choice(s, s) for s in ("SEV1", "SEV2")),
        step="severity",
    )
    card = cards.card_of(cards.render(few, names={})[0])
    assert card is not None and [a["title"] for a in card["actions"]] == ["SEV1", "SEV2"]
    assert card["actions"][0]["data"] == {
        "casebook": 1,
        "value": "SEV1",
        "label": "SEV1",
        "step": "severity",
        "question": "Severity?",
    }
    many = Reply("Area?", ReplyKind.QUESTION, choices=tuple(Choice(a, a) for a in "abcdefgh"), step="area")
    card = cards.card_of(cards.render(many, names={})[0])
    assert card is not None and card["body"][-1]["type"] == "Input.ChoiceSet"
    assert [a["title"] for a in card["actions"]] == ["Answer"]


def test_forms_become_card_inputs_with_a_people_picker() -> None:
    reply = Reply(
        "Action 1: what should change?", ReplyKind.QUESTION, form="action", step="action_description"
    )
    card = cards.card_of(cards.render(reply, names={})[0])
    assert card is not None
    show = card["actions"][0]
    inputs = {i["id"]: i for i in show["card"]["body"] if "id" in i}
    assert inputs["f.owner"]["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    assert inputs["f.due"]["type"] == "Input.Date"
    assert [c["value"] for c in inputs["f.kind"]["choices"]] == ["prevent", "detect", "mitigate", "process"]
    assert inputs["f.description"]["isMultiline"] is True


def test_a_long_listing_is_split_into_cards_under_the_size_limit() -> None:
    items = tuple(
        ListItem(
            f"`{n}.1` " + "Replace the connection pooler configuration " * 8,
            (Choice("Done", f"/done {n}.1", form="done"),),
        )
        for n in range(1, 121)
    )
    activities = cards.render(Reply("**Open actions** (120)", ReplyKind.LIST, items=items), names={})
    assert len(activities) > 1
    assert all(_size(a) < 28_000 for a in activities)
    refs = [
        t["text"].split("“")[1].split("”")[0]
        for a in activities
        for c in (cards.card_of(a) or {})["body"]
        if c["type"] == "Container"
        for t in c["items"][:1]
    ]
    assert refs == [f"{n}.1" for n in range(1, 121)]


def test_a_huge_case_is_split_and_its_markdown_still_delivered() -> None:
    body = "\n".join(f"- symptom {n}: " + "latency rose on the checkout path " * 6 for n in range(400))
    markdown = f"# Case #9: Big\n\n## Symptoms\n{body}\n"
    reply = markdown_reply(9, "Big", markdown, (Section("Symptoms", body),))
    activities = cards.render(reply, names={})
    card_parts = [a for a in activities if cards.card_of(a)]
    text_parts = [a for a in activities if not cards.card_of(a)]
    assert len(card_parts) > 1 and len(text_parts) > 1
    assert all(_size(a) < 28_000 for a in activities)
    joined = "".join(a.text.split("```\n", 1)[1].rsplit("\n```", 1)[0] + "\n" for a in text_parts)
    assert joined == markdown


def test_a_normal_case_is_one_card_with_its_markdown() -> None:
    markdown = "# Case #2: Small\n\n## Summary\n**Severity:** SEV3\n"
    reply = markdown_reply(
        2, "Small", markdown, (Section("Summary", "**Severity:** SEV3"),), intro="Case #2 is published."
    )
    [activity] = cards.render(reply, names={})
    card = cards.card_of(activity)
    assert card is not None
    assert [b["text"] for b in card["body"]][:3] == ["Case #2 is published.", "Case #2: Small", "Summary"]
    assert card["actions"][0]["card"]["body"][1]["value"] == markdown


def test_configured_admins_are_admins() -> None:
    activity = _activity(Teams("https://x/").channel_post("cancel", user=BOB))
    assert not to_inbound(activity, tenant=TENANT).user_is_admin  # type: ignore[union-attr]
    inbound = to_inbound(activity, tenant=TENANT, admins=frozenset({BOB.aad}))
    assert inbound is not None and inbound.user_is_admin


def test_a_typed_mention_token_is_not_a_mention() -> None:
    teams = Teams("https://x/")
    activity = _activity(teams.channel_post("reassign 7.1 &lt;@29:someone-else&gt; <at>Bob Smith</at>"))
    spoken = read_text(activity)
    assert spoken.text == f"reassign 7.1 <\u200b@29:someone-else> <@{BOB.id}>"
    assert [m.user_id for m in spoken.mentions] == [BOB.id]
