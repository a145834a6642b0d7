"""A pasted account: the parser (examples and properties), and whole runs through the service."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from bot.capture.account import LABELS, parse_account, timeline_line
from bot.messages import ReplyKind
from storage.models import Case, RawAnswer
from tests.conftest import Chat

ACCOUNT = """\
I was on call; here is what I wrote down.
**Symptoms:**
- 502s on checkout for EU users
- p99 latency 4s on the LB dashboard
Root cause: conntrack table full on the LB nodes after the 4.12 deploy
## Misleading signals
- CPU alarm on the DB pointed at the database — cost: 15 min
Diagnostic path:
1. Checked the LB: all targets equally bad
2. Rolled back 4.12, no change
3. conntrack -S showed insert_failed climbing
Timeline:
- 13:50 first 502s (started)
- 14:02 alert fired in #alerts
- 14:40 raised nf_conntrack_max, mitigated
- 15:00 something unrelated
Actions:
- Alert on conntrack usage <@bob> by 2026-12-15 detect
"""


def test_labelled_sections_are_read_in_order_with_bullets_stripped() -> None:
    account = parse_account(ACCOUNT)
    assert account.free_text == "I was on call; here is what I wrote down."
    assert account.labelled == ("symptoms", "root_cause", "signals", "diagnostic_path", "timeline", "actions")
    assert account.lines("symptoms") == (
        "502s on checkout for EU users",
        "p99 latency 4s on the LB dashboard",
    )
    assert account.lines("diagnostic_path")[2] == "conntrack -S showed insert_failed climbing"
    assert account.lines("root_cause") == ("conntrack table full on the LB nodes after the 4.12 deploy",)


def test_labels_are_case_insensitive_and_a_sentence_with_a_colon_is_not_one() -> None:
    account = parse_account("SYMPTOMS:\n- a\nWe then noticed: the graphs were flat\nroot CAUSE: b")
    assert account.lines("symptoms") == ("a", "We then noticed: the graphs were flat")
    assert account.lines("root_cause") == ("b",)


def test_timeline_lines_give_their_time_and_point() -> None:
    first = timeline_line("13:50 first 502s (started)")
    assert first is not None and (first.when, first.point) == ("13:50", "started")
    alert = timeline_line("2026-11-20 14:02 — alert fired")
    assert alert is not None and (alert.when, alert.point) == ("2026-11-20 14:02", "detected")
    assert timeline_line("no time here (resolved)") is None
    unnamed = timeline_line("15:00 lunch")
    assert unnamed is not None and unnamed.point is None


_label = st.sampled_from(sorted(LABELS))
_line = st.text(
    alphabet=st.characters(blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=60
)


@given(st.text(max_size=2000))
def test_any_text_parses_without_error(text: str) -> None:
    account = parse_account(text)
    for name, lines in account.sections:
        assert name in set(LABELS.values())
        assert all(line == line.strip() and line for line in lines)


@given(st.lists(st.tuples(_label, st.lists(_line.filter(lambda s: s.strip()), max_size=4)), max_size=6))
def test_every_written_line_lands_in_its_own_section(blocks: list[tuple[str, list[str]]]) -> None:
    """Whatever is under a label (not itself a label) is found under that label's section."""
    text = "\n".join(
        f"{label.title()}:\n" + "\n".join(f"- {line}" for line in lines) for label, lines in blocks
    )
    account = parse_account(text)
    assert account.free_text == ""
    from bot.capture.account import SINGLE, label_of, strip_bullet

    for label, lines in blocks:
        section = LABELS[label]
        wanted = [strip_bullet(f"- {line}") for line in lines if label_of(f"- {line}") is None]
        wanted = [w for w in wanted if w]
        found = account.lines(section)
        if section in SINGLE:
            assert all(w in " ".join(found) for w in wanted)
        else:
            assert all(w in found for w in wanted)


# --- through the service -------------------------------------------------------------------


async def _case(chat: Chat) -> Case:
    async with chat.db.transaction() as session:
        return (await session.exec(select(Case))).one()


async def test_an_account_answering_the_first_question_fills_the_sections_and_the_interview_skips_them(
    chat: Chat,
) -> None:
    await chat.command("postmortem Checkout 502s")
    replies = await chat.send(ACCOUNT, user="alice")
    told = replies[0].text
    assert "symptoms (2)" in told and "root cause" in told and "diagnostic path (3)" in told
    assert "timeline (started, detected, mitigated)" in told and "1 action(s)" in told
    assert "1 timeline line(s)" in told  # the line without a point word, said
    assert replies[-1].step == "severity"  # the next question still missing

    case = await _case(chat)
    assert case.symptoms == ["502s on checkout for EU users", "p99 latency 4s on the LB dashboard"]
    assert case.started_at == dt.datetime(2026, 11, 20, 13, 50, tzinfo=dt.UTC)
    assert case.mitigated_at == dt.datetime(2026, 11, 20, 14, 40, tzinfo=dt.UTC)
    assert case.resolved_at is None
    assert [s["by"] for s in case.diagnostic_path] == ["Alice"] * 3
    assert case.misjudgments == [
        {"kind": "signal", "text": "CPU alarm on the DB pointed at the database", "cost": "15 min"}
    ]

    # Severity, area, services, then the resolution time (never given): the account's sections are not asked.
    steps = []
    for answer in ("sev2", "network", "checkout-api", "14:55"):
        steps.append((await chat.send(answer))[-1].step)
    assert steps == ["area", "services", "resolved", "hypotheses"]
    # Symptoms, signals, diagnosis and root cause came with the account; where we got lucky did not.
    steps = [(await chat.send("skip"))[-1].step for _ in range(2)]
    assert steps == ["lucky", "contributing_factors"]

    async with chat.db.transaction() as session:
        raw = (await session.exec(select(RawAnswer).where(RawAnswer.question_key == "severity"))).all()
    assert raw and raw[0].text == ACCOUNT


async def test_account_later_with_the_command_word(chat: Chat) -> None:
    await chat.command("postmortem Disk full")
    await chat.send("sev3")
    replies = await chat.send(
        "account\nRoot cause: log rotation stopped after the 2.3 upgrade\nSymptoms: disk at 100%"
    )
    assert "root cause" in replies[0].text and replies[0].records_step == "area"
    case = await _case(chat)
    assert case.root_cause == "log rotation stopped after the 2.3 upgrade"
    assert replies[-1].step == "area"


async def test_an_account_with_nothing_usable_is_refused_and_changes_nothing(chat: Chat) -> None:
    await chat.command("postmortem Disk full")
    before = await _case(chat)
    replies = await chat.send("account\njust some words without labels")
    assert replies[0].kind == ReplyKind.ERROR and "Symptoms:" in replies[0].text
    after = await _case(chat)
    assert after.updated_at == before.updated_at and after.symptoms == before.symptoms


async def test_a_bad_section_is_said_and_the_rest_taken(chat: Chat) -> None:
    await chat.command("postmortem Disk full")
    replies = await chat.send("Severity: enormous\nSymptoms:\n- disk at 100%\n- writes failing")
    assert "Not taken: severity" in replies[0].text and "symptoms (2)" in replies[0].text
    assert replies[-1].step == "severity"  # asked, since the account's value was refused
