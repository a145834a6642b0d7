"""Grounding rules: what the model may keep, and what is dropped (and why)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.case import ActionDraft, CaseDraft, DiagnosticStep
from bot.drafting.grounding import Fallback, ground, ground_prose, similarity
from bot.drafting.material import AnswerRecord, build_material
from bot.drafting.schema import BlameFlag, ModelDraft, SuggestedAction
from bot.messages import Mention

ALICE = Mention("U1", "Alice Martin")
BOB = Mention("U2", "Bob")
CASE = CaseDraft(
    number=12,
    title="Checkout 502s",
    severity="SEV2",
    services=("checkout-api", "pgbouncer"),
    started=dt.datetime(2026, 11, 20, 13, 0, tzinfo=dt.UTC),
    detected=dt.datetime(2026, 11, 20, 13, 9, tzinfo=dt.UTC),
    symptoms=("502 rate rose to 14%",),
    diagnostic_path=(DiagnosticStep("pgbouncer SHOW POOLS: cl_waiting 400", by="Bob"),),
    root_cause="The pool was cut from 200 to 20 by a config deploy.",
    actions=(
        ActionDraft(1, "Alert when cl_waiting > 50 for 5 minutes", owner=BOB, kind="detect", status="open"),
    ),
    lead=ALICE,
)
ANSWERS = [
    AnswerRecord(101, "symptoms", BOB, "502 rate rose to 14%; p99 latency at 30 s"),
    AnswerRecord(102, "diagnostic_path", BOB, "pgbouncer SHOW POOLS: cl_waiting 400"),
    AnswerRecord(
        103, "root_cause", ALICE, "<@U2> pushed a bad config without review, pool cut from 200 to 20"
    ),
    AnswerRecord(104, "action_owner", ALICE, "<@U2>"),
    AnswerRecord(105, "action_due", ALICE, "next friday"),
]
MATERIAL = build_material(CASE, ANSWERS)
SOURCES = MATERIAL.sources()


def _draft(**changes: object) -> ModelDraft:
    base: dict[str, object] = {
        "narrative": "Checkout 502s hit checkout-api. The 502 rate rose to 14%.",
        "symptoms": ["502 rate rose to 14%"],
        "diagnostic_path": ["pgbouncer SHOW POOLS showed cl_waiting 400"],
        "root_cause": "The pool was cut from 200 to 20 by a config deploy.",
        "suggested_actions": [],
        "blame_flags": [],
    }
    return ModelDraft.model_validate({**base, **changes})


def _kept(text: str) -> str:
    return ground_prose("narrative", text, SOURCES, limit=3000)[0]


def test_the_material_leaves_out_people_owners_and_dates() -> None:
    text = MATERIAL.data_text()
    assert "Alice" not in text and "Bob" not in text and "U2" not in text
    assert "person-2 pushed a bad config" in text
    assert "next friday" not in text  # the due-date answer is not sent
    assert [a.raw_id for a in MATERIAL.answers.values()] == [101, 102, 103]
    assert "2026-11-20 13:00 UTC (Friday 20 November 2026)" in text


def test_grounded_sentences_are_kept_whole() -> None:
    text = "It began at 13:00 UTC on 2026-11-20 and was detected 9 min later. The p99 latency reached 30 s."
    assert _kept(text) == text


def test_invented_facts_are_dropped_sentence_by_sentence() -> None:
    text = (
        "The 502 rate rose to 14%. About 12,000 users were affected. It started at 12:40. "
        "It happened on 2026-11-19. It recurred last week. See https://evil.example/x for details. "
        "Several thousand requests failed. The p95 latency spiked."
    )
    kept, dropped = ground_prose("narrative", text, SOURCES, limit=3000)
    assert kept == "The 502 rate rose to 14%."
    assert [d.reason for d in dropped] == [
        "a figure (12,000) not in the answers",
        "a time (12:40) not in the answers",
        "a date (2026-11-19) not in the answers",
        "a date (last week) not in the answers",
        "a link not in the answers",
        "a figure (thousand) not in the answers",
        "a figure (p95) not in the answers",
    ]


def test_people_are_kept_out_of_prose() -> None:
    for sentence in (
        "Bob restarted the pool.",
        "Alice Martin led the response.",
        "<@U2> found the cause.",
        "@here the pool is fixed.",
        "person-2 pushed the change.",
        "Responder 1 checked the pods.",
        "<!channel> heads up.",
    ):
        assert _kept(sentence) == "", sentence


def test_status_claims_are_dropped() -> None:
    for sentence in (
        "All prevention actions are done.",
        "The follow-ups were completed.",
        "Mark every action as closed.",
        "Every task is now finished.",
        "Close all the actions.",
    ):
        assert _kept(sentence) == "", sentence
    assert _kept("The incident was resolved after the pool was restored.") != ""


def test_suggestions_carry_no_person_or_date_and_cite_real_answers() -> None:
    def suggestion(
        description: str, based_on: list[int] | None = None, kind: str = "mitigate"
    ) -> SuggestedAction:
        return SuggestedAction(
            description=description,
            kind=kind,
            gap="slow recovery",
            based_on=[3] if based_on is None else based_on,
        )

    draft = _draft(
        suggested_actions=[
            suggestion("Add a one-step rollback for pgbouncer pool changes"),
            suggestion(
                "Alert when cl_waiting exceeds 100 for 2 minutes", kind="detect"
            ),  # thresholds are free
            suggestion("Have Bob review pool changes"),
            suggestion("Add a rollback runbook by Friday"),
            suggestion("Add a rollback drill at 09:00"),
            suggestion("Add a canary stage for config deploys", based_on=[99]),
            suggestion("Add a canary stage for config deploys", based_on=[]),
            suggestion("Alert when cl_waiting > 50 for 5 minutes", kind="detect"),  # exists already
            suggestion("Mark action 12.1 done"),
        ]
    )
    grounded = ground(draft, SOURCES, Fallback())
    assert [s.description for s in grounded.suggestions] == [
        "Add a one-step rollback for pgbouncer pool changes",
        "Alert when cl_waiting exceeds 100 for 2 minutes",
    ]
    assert grounded.suggestions[0].based_on == (103,)  # the raw answer's id, not the prompt's
    reasons = [d.reason for d in grounded.dropped if d.where == "suggestion"]
    assert reasons[:5] == [
        "refers to a person",
        "sets a date or a time",
        "sets a date or a time",
        "cites an answer that does not exist",
        "cites no answer",
    ]
    assert reasons[5].startswith("repeats") and reasons[6] == "claims an action's status"


def test_blame_flags_must_quote_the_answer_and_rewrite_blamelessly() -> None:
    draft = _draft(
        blame_flags=[
            BlameFlag(
                answer_id=3,
                quote="person-2 pushed a bad config without review",
                rewrite="The pipeline let an unreviewed config change through.",
            ),
            BlameFlag(answer_id=3, quote="person-2 was careless", rewrite="x happened"),
            BlameFlag(answer_id=1, quote="502 rate rose", rewrite="Bob should be more careful."),
            BlameFlag(answer_id=42, quote="anything", rewrite="anything else"),
        ]
    )
    grounded = ground(draft, SOURCES, Fallback())
    [flag] = grounded.flags
    assert flag.raw_answer_id == 103
    assert MATERIAL.pseudonyms.reveal(flag.quote) == "@Bob pushed a bad config without review"
    assert [d.reason for d in grounded.dropped] == [
        "quotes words the answer does not contain",
        "refers to a person",
        "cites an answer that does not exist",
    ]


def test_the_interviews_sections_stand_where_the_models_do_not_survive() -> None:
    fallback = MATERIAL.fallback
    draft = _draft(symptoms=["Bob saw errors"], diagnostic_path=[], root_cause="Bob broke it.")
    grounded = ground(draft, SOURCES, fallback)
    assert grounded.symptoms == ("502 rate rose to 14%",)
    assert grounded.diagnostic_path == ("pgbouncer SHOW POOLS: cl_waiting 400",)
    assert grounded.root_cause == CASE.root_cause
    stored = grounded.stored()
    assert set(stored) == {"narrative", "symptoms", "diagnostic_path", "root_cause", "blame_flags"}


def test_markup_is_flattened_and_length_is_bounded() -> None:
    kept, dropped = ground_prose("narrative", "## Heading\n- The 502 rate rose to 14%.", SOURCES, limit=3000)
    assert kept == "Heading The 502 rate rose to 14%."
    long_text = " ".join(["The 502 rate rose to 14%."] * 200)
    kept, dropped = ground_prose("narrative", long_text, SOURCES, limit=300)
    assert len(kept) <= 300 and dropped and dropped[-1].reason == "over the length limit"


def test_similarity_sees_rewordings() -> None:
    assert (
        similarity("Alert when cl_waiting > 50 for 5 minutes", "Alert when cl_waiting above 50 for 5 minutes")
        > 0.6
    )
    assert similarity("Alert on pool saturation", "Write a rollback runbook") < 0.2


SOURCE_SENTENCES = [
    "The 502 rate rose to 14%.",
    "It began at 13:00 UTC on 2026-11-20.",
    "The p99 latency reached 30 s.",
    "The pool was cut from 200 to 20.",
    "pgbouncer SHOW POOLS showed cl_waiting 400.",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(SOURCE_SENTENCES), min_size=1, max_size=6))
def test_prose_made_of_grounded_sentences_survives_intact(sentences: list[str]) -> None:
    text = " ".join(sentences)
    assert _kept(text) == text


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(SOURCE_SENTENCES),
    st.integers(min_value=0, max_value=10**6).filter(lambda n: str(n) not in SOURCES.numbers),
)
def test_any_invented_number_is_dropped(sentence: str, number: int) -> None:
    invented = f"The error budget burned {number} times faster."
    kept = _kept(f"{sentence} {invented}")
    assert kept == sentence
