"""Answers kept exactly as given: costs split only at a marker, word-internal marks kept,
channel mentions by name, choices echoed, no internal step key in a message."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from botbuilder.schema import Activity
from hypothesis import given
from hypothesis import strategies as st

from adapters.slack.mrkdwn import plain
from adapters.teams import cards
from adapters.teams.inbound import read_text
from adapters.teams.markdown import card_lines
from bot.case import CaseDraft
from bot.interview import ORDER, STEPS, Context, State, advance
from bot.markup import strip_marks
from bot.messages import Mention, Reply
from bot.parsing import split_cost
from bot.render import render_case_markdown, when_text
from tests.teams.activities import Teams

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
ALICE = Mention("U0ALICE", "alice")


def ctx(tz: str = "UTC") -> Context:
    return Context(now=NOW, tz=ZoneInfo(tz), tz_name=tz, sender=ALICE)


def test_a_cost_is_split_only_at_an_explicit_marker() -> None:
    assert split_cost("Suspected the CDN — cost: 20 min purging caches") == (
        "Suspected the CDN",
        "20 min purging caches",
    )
    assert split_cost("CPU alarm on the DB (cost: 15 min)") == ("CPU alarm on the DB", "15 min")
    assert split_cost("DNS cache; cost: 5 min") == ("DNS cache", "5 min")
    assert split_cost("Thought it was DNS -- lost 10 min") == ("Thought it was DNS", "10 min")
    for whole in (
        "Restarted the pods, which cost 15 minutes",
        "Blamed the cost-saving change",
        "Blamed the lost packets on the switch",
        "cost: 5 min",  # nothing before the marker: the whole answer is the text
    ):
        assert split_cost(whole) == (whole, None)


_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz _-,.'", min_size=1, max_size=60)


@given(_WORDS)
def test_a_sentence_without_a_colon_or_dash_marker_is_never_split(text: str) -> None:
    sentence = f"Blamed the {text} which cost us time"
    assert split_cost(sentence) == (sentence.strip(), None)


@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_ ", min_size=1, max_size=60),
    st.sampled_from([" — cost: ", "; cost: ", " -- cost ", " (cost: "]),
)
def test_text_and_cost_together_are_the_answer(text: str, marker: str) -> None:
    head = f"Suspected {text}".strip()
    closing = ")" if "(" in marker else ""
    assert split_cost(f"{head}{marker}12 min{closing}") == (head, "12 min")


def test_the_interview_stores_both_misjudgments_exactly() -> None:
    case = CaseDraft(number=3, lead=ALICE)
    outcome = advance(State(step="hypotheses"), case, "Restarted the pods, which cost 15 minutes", ctx())
    outcome = advance(outcome.state, outcome.case, "Blamed the cost-saving change — cost: 20 min", ctx())
    texts = [(m.text, m.cost) for m in outcome.case.hypotheses]
    assert texts == [
        ("Restarted the pods, which cost 15 minutes", None),
        ("Blamed the cost-saving change", "20 min"),
    ]


def test_notification_text_keeps_marks_inside_words() -> None:
    assert plain("Raised `nf_conntrack_max` to 262144 on **all** nodes") == (
        "Raised nf_conntrack_max to 262144 on all nodes"
    )
    assert strip_marks("snake_case and 2*3*4 stay, _this_ and *that* lose theirs") == (
        "snake_case and 2*3*4 stay, this and that lose theirs"
    )
    [activity] = cards.render(Reply("Is **nf_conntrack_max** too low? it was *tuned*"), names={})
    assert "nf_conntrack_max" in (activity.summary or activity.text or "")


def test_teams_text_blocks_carry_no_code_spans() -> None:
    blocks = card_lines("Say `done` when finished, or set `nf_conntrack_max`.")
    assert all("`" not in block["text"] for block in blocks)
    assert "“nf_conntrack_max”" in blocks[0]["text"]


def test_a_teams_channel_mention_is_shown_by_its_name() -> None:
    teams = Teams("https://x/")
    payload = teams.channel_post("Paged about it")
    payload["text"] = payload["text"].replace("Paged", "Paged <at>SRE On-call</at>")
    payload["entities"].append(
        {
            "type": "mention",
            "text": "<at>SRE On-call</at>",
            "mentioned": {"id": "19:abc123@thread.tacv2", "name": "SRE On-call"},
        }
    )
    spoken = read_text(Activity().deserialize(payload))
    assert spoken.text == "Paged SRE On-call about it"
    assert spoken.mentions == ()


def test_choices_are_echoed_in_words() -> None:
    outcome = advance(State(step="severity"), CaseDraft(number=3), "high", ctx())
    record = outcome.replies[0]
    assert record.text == "✓ Severity: SEV2 (major) · <@U0ALICE>" and record.records_step == "severity"
    outcome = advance(outcome.state, outcome.case, "dns", ctx())
    assert outcome.replies[0].text == "✓ Area: network · <@U0ALICE>"


def test_no_internal_step_key_appears_in_a_status() -> None:
    for key in ORDER:
        outcome = advance(State(step=key), CaseDraft(number=3), "status", ctx())
        assert "_" not in outcome.replies[0].text.split("·")[-1], key


def test_times_are_confirmed_and_drafted_in_one_zone_with_its_offset() -> None:
    case = CaseDraft(number=3, lead=ALICE)
    outcome = advance(State(step="started"), case, "2026-11-20 14:05", ctx("Europe/Paris"))
    assert outcome.replies[0].text == "✓ Started: 2026-11-20 14:05 CET (UTC+01:00) · <@U0ALICE>"
    assert "14:05 CET (UTC+01:00)" in render_case_markdown(outcome.case, ZoneInfo("Europe/Paris"))
    assert "(UTC+01:00)" in STEPS["detected"].question(outcome.case, outcome.state, ctx("Europe/Paris"))
    assert when_text(NOW) == "2026-11-20 15:00 UTC"
    refused = advance(outcome.state, outcome.case, "2026-11-20 13:00", ctx("Europe/Paris"))
    assert "back` to fix the start time" in refused.replies[0].text


def test_owners_and_the_lead_are_real_mentions_in_chat_and_names_in_the_file() -> None:
    from adapters.slack.mrkdwn import from_slack, to_mrkdwn
    from bot.case import ActionDraft
    from bot.publish import case_reply

    owner = Mention("U0BOB", "bob")
    case = CaseDraft(
        number=4,
        title="Conntrack",
        lead=ALICE,
        actions=(ActionDraft(1, "Alert on conntrack usage", owner=owner, due=dt.date(2026, 12, 15)),),
    )
    reply = case_reply(case)
    slack_text = to_mrkdwn(reply.text)
    assert "**Lead:** " not in slack_text and "<@U0ALICE>" in slack_text and "owner <@U0BOB>" in slack_text
    [activity, *_] = cards.render(reply, names={"U0BOB": "Bob Smith"})
    card = cards.card_of(activity)
    assert card is not None
    mentioned = {e["mentioned"]["id"] for e in card["msteams"]["entities"]}
    assert "<at>Bob Smith</at>" in json.dumps(card, ensure_ascii=False)
    assert {"U0ALICE", "U0BOB"} <= mentioned
    assert reply.attachment is not None and "owner @bob" in reply.attachment.content
    assert "<@" not in reply.attachment.content
    # Slack ids are U… or W…: a bot id or a typed token is not a person.
    assert from_slack("<@W0GRID> and <@B0BOT>")[1] == ("W0GRID",)


def _reviewing_with_two_actions() -> tuple[State, CaseDraft]:
    from bot.case import ActionDraft

    bob = Mention("U0BOB", "bob")
    actions = tuple(
        ActionDraft(n, f"Action {n}", owner=bob, due=dt.date(2026, 12, 15), kind="detect", risks={})
        for n in (1, 2)
    )
    return State(step="review"), CaseDraft(number=4, lead=ALICE, actions=actions)


def test_review_deletes_an_action_and_lists_the_sections() -> None:
    state, case = _reviewing_with_two_actions()
    outcome = advance(state, case, "delete action 1", ctx())
    assert [a.number for a in outcome.case.actions] == [2] and outcome.state.step == "review"
    assert outcome.replies[0].text == "Deleted action 1."
    refused = advance(state, case, "delete action 9", ctx())
    assert refused.case == case and "no action 9" in refused.replies[0].text
    listed = advance(state, case, "edit", ctx())
    assert "`timeline`" in listed.replies[0].text and "`delete action N`" in listed.replies[0].text
    assert listed.case == case


def test_skip_keeps_every_field_of_an_edited_action_and_says_so() -> None:
    state, case = _reviewing_with_two_actions()
    outcome = advance(state, case, "edit action 2", ctx())
    notes = []
    for _ in range(5):
        outcome = advance(outcome.state, outcome.case, "skip", ctx())
        notes.append(outcome.replies[0].text)
    assert notes == [  # each skipped question's record line says what was kept
        "✓ Action description: Kept the description · <@U0ALICE>",
        "✓ Action owner: Kept the owner (bob) · <@U0ALICE>",
        "✓ Action due: Kept the due date (2026-12-15) · <@U0ALICE>",
        "✓ Action kind: Kept the kind (detect) · <@U0ALICE>",
        "✓ Action risk: Kept the risk check · <@U0ALICE>",
    ]
    assert outcome.state.step == "review" and outcome.case == case


def test_the_risk_check_asks_each_criterion_as_a_question() -> None:
    _, case = _reviewing_with_two_actions()
    question = STEPS["action_risk"].question(case, State(step="action_risk", current_action=1), ctx())
    assert question.count("?") == 5 and "Does it add a single point of failure" in question


def test_a_teams_channel_message_without_a_mention_is_only_an_answer_never_a_command() -> None:
    from adapters.teams.inbound import to_inbound
    from bot.messages import InboundKind

    teams = Teams("https://x/")
    post = teams.channel_post("postmortem Conntrack")
    reply = teams.channel_reply(post["id"], "SEV2")
    for payload in (post, reply):  # as Teams sends them with the RSC consent: no bot mention
        payload["text"] = payload["text"].replace("<at>Casebook</at>", "").strip()
        payload["entities"] = [e for e in payload["entities"] if e.get("type") != "mention"]
    assert to_inbound(Activity().deserialize(post), tenant="t") is None
    overheard = to_inbound(Activity().deserialize(reply), tenant="t")
    assert overheard is not None and overheard.kind == InboundKind.MESSAGE and not overheard.direct
    assert overheard.text == "SEV2"


def test_an_action_s_three_questions_can_be_answered_in_one_line() -> None:
    alice = Mention("U0ALICE", "alice")
    context = Context(now=NOW, tz=dt.UTC, tz_name="UTC", sender=ALICE, mentions=(alice,))
    state = State(step="action_description")
    outcome = advance(
        state, CaseDraft(number=4), "Alert on conntrack usage <@U0ALICE> by 2026-12-15 detect", context
    )
    [action] = outcome.case.actions
    assert (action.description, action.owner, action.due, action.kind) == (
        "Alert on conntrack usage",
        alice,
        dt.date(2026, 12, 15),
        "detect",
    )
    assert outcome.state.step == "action_risk"
    # Part of it in the line: the rest is asked, one at a time.
    partial = advance(state, CaseDraft(number=4), "Raise nf_conntrack_max <@U0ALICE>", context)
    assert partial.state.step == "action_due" and partial.case.actions[0].owner == alice
    # No owner named: a plain description, kept exactly, even with "by" in it.
    plain_one = advance(state, CaseDraft(number=4), "Cut retries by 50% detect", context)
    assert plain_one.case.actions[0].description == "Cut retries by 50% detect"
    assert plain_one.state.step == "action_owner"
