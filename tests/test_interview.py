"""The interview state machine, as a pure function: every step and control."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import interview
from bot.case import CaseDraft
from bot.interview import ORDER, STEPS, Context, Outcome, State, advance
from bot.messages import Mention, ReplyKind

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
ALICE = Mention("alice", "Alice")
BOB = Mention("bob", "Bob")


def ctx(**overrides: object) -> Context:
    base: dict[str, object] = {
        "now": NOW,
        "tz": dt.UTC,
        "tz_name": "UTC",
        "sender": ALICE,
        "mentions": (BOB,),
    }
    base.update(overrides)
    return Context(**base)  # type: ignore[arg-type]


def begin(title: str | None = None) -> Outcome:
    return interview.start(CaseDraft(number=7, title=title, lead=ALICE), ctx())


def say(outcome: Outcome, *texts: str, context: Context | None = None) -> Outcome:
    for text in texts:
        outcome = advance(outcome.state, outcome.case, text, context or ctx())
    return outcome


def test_the_table_names_every_step_once_and_in_order() -> None:
    assert ORDER[:4] == ("title", "severity", "area", "services")
    assert ORDER.index("started") < ORDER.index("resolved") < ORDER.index("symptoms")
    assert ORDER[-2:] == ("review", "confirm")
    for key, step in STEPS.items():
        assert step.key == key
        assert step.question(CaseDraft(number=1), State(step=key), ctx())


def test_start_skips_the_title_when_given() -> None:
    assert begin().state.step == "title"
    outcome = begin("DNS outage")
    assert outcome.state.step == "severity"
    assert outcome.replies[-1].kind == ReplyKind.QUESTION
    assert [c.value for c in outcome.replies[-1].choices] == ["SEV1", "SEV2", "SEV3", "SEV4"]


FULL = (
    "Checkout 502s",
    "sev2",
    "deploy",
    "checkout, payments",
    "2026-11-20 10:00",
    "+9m",
    "10:50",
    "11:30",
    "502s on checkout",
    "done",
    "Suspected the CDN — cost: 15 min",
    "done",
    "CPU alarm on the DB; cost: 10 min",
    "done",
    "skip",  # where we got lucky
    "Checked the dashboard",
    "- Looked at pgbouncer\n- Saw cl_waiting 400",
    "done",
    "Pool size cut from 200 to 20 by a config change",
    "done",
    "Alert on cl_waiting",
    "<@bob>",
    "in 2 weeks",
    "detect",
    "coupling",
    "done",
)


def test_a_whole_interview_fills_every_section() -> None:
    outcome = say(begin(), *FULL)
    case = outcome.case
    assert outcome.state.step == "review"
    assert (case.title, case.severity, case.area, case.services) == (
        "Checkout 502s",
        "SEV2",
        "deploy",
        ("checkout", "payments"),
    )
    assert case.detected == dt.datetime(2026, 11, 20, 10, 9, tzinfo=dt.UTC)
    assert case.time_to_resolve == dt.timedelta(minutes=90)
    assert case.symptoms == ("502s on checkout",)
    assert case.hypotheses[0].text == "Suspected the CDN" and case.hypotheses[0].cost == "15 min"
    assert case.signals[0].cost == "10 min"
    assert [s.text for s in case.diagnostic_path] == [
        "Checked the dashboard",
        "Looked at pgbouncer",
        "Saw cl_waiting 400",
    ]
    assert case.diagnostic_path[0].by == "Alice"
    assert case.contributing_factors == ()
    (action,) = case.actions
    assert (action.owner, action.due, action.kind) == (BOB, dt.date(2026, 12, 4), "detect")
    assert action.risk_flags == ["coupling"]
    review = outcome.replies[-1]
    assert "## Timeline" in review.text and "Time to detect: **9 min**" in review.text

    confirm = say(outcome, "confirm")
    assert confirm.state.step == "confirm"
    published = say(confirm, "yes")
    assert published.finished == "published"
    assert published.case.status == "published"
    assert published.case.actions[0].status == "open"


@pytest.mark.parametrize("index", range(len(FULL)))
def test_bad_input_at_any_step_changes_nothing(index: int) -> None:
    before = say(begin(), *FULL[:index])
    for junk in ("x" * 5000, "SEV9 in the future 99:99 ???"):
        after = advance(before.state, before.case, junk, ctx())
        if after.replies and after.replies[0].kind == ReplyKind.ERROR:
            assert after.state == before.state
            assert after.case == before.case
            assert not after.accepted


def test_over_the_length_limit_is_refused_not_cut() -> None:
    outcome = say(begin("T"), "SEV1", "network", "api", "10:00", "10:05", "10:10", "10:20")
    long_text = "y" * 4001
    after = advance(outcome.state, outcome.case, long_text, ctx())
    assert after.replies[0].kind == ReplyKind.ERROR and "limit is 4,000" in after.replies[0].text
    assert after.case.symptoms == ()


def test_timeline_out_of_order_is_refused_with_the_reason() -> None:
    outcome = say(begin("T"), "SEV1", "network", "api", "2026-11-20 10:00")
    after = say(outcome, "2026-11-20 09:50")
    assert after.state.step == "detected"
    assert "before started" in after.replies[0].text
    # editing an earlier point cannot jump past a later one either
    at_review = say(outcome, "10:05", "10:10", "10:20", *FULL[8:])
    edit = say(at_review, "edit started")
    refused = say(edit, "10:30")
    assert refused.state.step == "started" and "after detected" in refused.replies[0].text


def test_skip_at_every_step_moves_on_only_where_allowed() -> None:
    outcome = begin()
    for text in FULL:
        step = STEPS[outcome.state.step]
        skipped = say(outcome, "skip")
        if step.skippable:
            assert skipped.state.step != outcome.state.step
            assert not skipped.accepted
        else:
            assert skipped.state == outcome.state and skipped.replies[0].kind == ReplyKind.ERROR
        outcome = say(outcome, text)


def test_controls_everywhere_along_the_whole_path() -> None:
    outcome = begin()
    for text in FULL:
        for control in ("help", "status"):
            same = say(outcome, control)
            assert same.state == outcome.state and same.case == outcome.case
        pending = say(outcome, "cancel")
        assert pending.state.pending == "cancel"
        assert say(pending, "no").state.step == outcome.state.step
        if outcome.state.history:
            back = say(outcome, "back")
            assert back.state.step == outcome.state.history[-1][0]
        outcome = say(outcome, text)
    assert outcome.state.step == "review"


def test_back_returns_to_the_previous_question_and_keeps_answers() -> None:
    outcome = say(begin(), "Title", "SEV3")
    back = say(outcome, "back")
    assert back.state.step == "severity"
    assert back.case.severity == "SEV3"
    again = say(back, "SEV1")
    assert again.case.severity == "SEV1" and again.state.step == "area"
    assert say(begin(), "back").replies[0].kind == ReplyKind.ERROR


def test_cancel_needs_confirmation_and_the_lead() -> None:
    outcome = say(begin(), "Title")
    refused = advance(outcome.state, outcome.case, "cancel", ctx(sender=BOB, may_manage=False))
    assert refused.replies[0].kind == ReplyKind.ERROR and refused.state == outcome.state
    cancelled = say(outcome, "cancel", "yes")
    assert cancelled.finished == "cancelled" and cancelled.case.status == "cancelled"


def test_only_the_lead_publishes() -> None:
    at_confirm = say(begin(), *FULL, "confirm")
    refused = advance(at_confirm.state, at_confirm.case, "yes", ctx(sender=BOB, may_manage=False))
    assert refused.finished is None and "can publish" in refused.replies[0].text


def test_review_edits_return_to_the_review() -> None:
    at_review = say(begin(), *FULL)
    edited = say(at_review, "edit severity", "SEV1")
    assert edited.state.step == "review" and edited.case.severity == "SEV1"
    timeline = say(at_review, "edit timeline", "09:00", "skip", "skip", "skip")
    assert timeline.state.step == "review"
    assert timeline.case.started == dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    action = say(at_review, "edit action 1", "skip", "me", "next friday", "prevent", "none")
    assert action.state.step == "review"
    assert (
        action.case.actions[0].owner == ALICE and action.case.actions[0].description == "Alert on cl_waiting"
    )
    added = say(
        at_review, "add action", "Runbook for pool exhaustion", "me", "end of month", "process", "none"
    )
    assert added.state.step == "review" and len(added.case.actions) == 2
    unknown = say(at_review, "edit the vibe")
    assert unknown.replies[0].kind == ReplyKind.ERROR
    not_now = say(begin(), "edit title")
    assert not_now.replies[0].kind == ReplyKind.ERROR


def test_list_steps_collect_until_done_and_can_be_cleared() -> None:
    at_symptoms = say(begin("T"), "SEV4", "data", "skip", "skip", "skip", "skip", "skip")
    assert at_symptoms.state.step == "symptoms"
    two = say(at_symptoms, "one", "two")
    assert two.case.symptoms == ("one", "two") and two.state.step == "symptoms"
    cleared = say(two, "clear")
    assert cleared.case.symptoms == ()
    none = say(at_symptoms, "none")
    assert none.state.step == "hypotheses"


def test_an_incomplete_action_is_dropped_on_done() -> None:
    at_actions = say(begin(), *FULL[:20])
    assert at_actions.state.step == "action_description"
    half = say(at_actions, "Do a thing", "back")
    assert half.state.step == "action_description" and len(half.case.actions) == 1
    done = say(half, "done")
    assert done.case.actions == () and done.state.step == "review"


def test_a_form_fills_an_action_at_once() -> None:
    at_actions = say(begin(), *FULL[:20])
    form = {"description": "Add a pool alert", "owner": "bob", "due": "2026-12-01", "kind": "detect"}
    filled = advance(at_actions.state, at_actions.case, "", ctx(form=form))
    assert filled.state.step == "action_risk"
    action = filled.case.actions[0]
    assert (action.owner.user_id if action.owner else None, action.due, action.kind) == (
        "bob",
        dt.date(2026, 12, 1),
        "detect",
    )
    bad = advance(at_actions.state, at_actions.case, "", ctx(form={**form, "due": "2020-01-01"}))
    assert bad.replies[0].kind == ReplyKind.ERROR and bad.case == at_actions.case


def test_blame_language_gets_a_gentle_tip() -> None:
    at_cause = say(begin(), *FULL[:18])
    assert at_cause.state.step == "root_cause"
    noted = say(at_cause, "Human error: Dave forgot to check the pool size")
    assert noted.replies[0].records_step == "root_cause"  # the record line, then the tip
    assert "blameless" in noted.replies[1].text.lower()
