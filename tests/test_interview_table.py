"""The interview's step table is complete: every step reachable from the first, every next step
exists, the terminal states are in it, and walking it with real answers reaches them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

from bot.case import ActionDraft, CaseDraft
from bot.interview import (
    FLOW,
    SECTIONS,
    STEP_NAMES,
    STEPS,
    TERMINALS,
    Context,
    State,
    StepName,
    advance,
    start,
)
from bot.messages import Mention

NOW = dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.UTC)
ALICE = Mention("UALICE", "alice")


def _ctx() -> Context:
    return Context(now=NOW, tz=dt.UTC, tz_name="UTC", sender=ALICE, mentions=(ALICE,))


def _successors(name: StepName) -> Iterator[StepName]:
    """Every step a step can lead to: its `next` for each kind of answer, loop exits, edits."""
    step = STEPS[name]
    if callable(step.next):
        case = CaseDraft(number=1, title="t")
        state = State(step=name, current_action=1)
        answers = (
            None,
            "text",
            ActionDraft(1, "x"),
            ActionDraft(1, "x", owner=ALICE),
            ActionDraft(1, "x", owner=ALICE, due=NOW.date()),
            ActionDraft(1, "x", owner=ALICE, due=NOW.date(), kind="detect"),
        )
        yield from {step.next(answer, case, state) for answer in answers}
    else:
        yield step.next
    if step.ends_loop_at:
        yield step.ends_loop_at
    if step.commands is not None:
        for first, _last in SECTIONS.values():
            yield first


def test_every_step_name_has_a_row_and_rows_are_unique() -> None:
    keys = [step.key for step in FLOW]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(STEP_NAMES)


def test_every_next_step_exists() -> None:
    for step in FLOW:
        for target in _successors(step.key):
            assert target in STEPS, f"{step.key} leads to {target}, which has no row"


def test_every_step_is_reachable_from_the_first() -> None:
    seen: set[StepName] = set()
    todo: list[StepName] = ["title"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_successors(name))
    unreachable = set(STEP_NAMES) - seen - {"cancelled"}  # `cancel` reaches it from any step
    assert not unreachable, f"no path reaches {sorted(unreachable)}"


def test_terminal_states_are_in_the_table_and_lead_nowhere_else() -> None:
    assert set(TERMINALS) == {"published", "cancelled"}
    for name in TERMINALS:
        step = STEPS[name]
        assert step.finished == name
        assert step.next == name
    assert all(not s.terminal for s in FLOW if s.key not in TERMINALS)


def test_the_loop_of_the_action_sub_flow_closes() -> None:
    action_steps = [s for s in FLOW if s.in_action]
    assert action_steps[-1].next == action_steps[0].key  # after the risk check, the next action
    assert action_steps[0].ends_loop_at == "review"


def test_the_machine_spells_no_step_name() -> None:
    source = Path("bot/interview/machine.py").read_text(encoding="utf-8")
    literals = set(re.findall(r"\"([a-z_]+)\"", source))
    assert not literals & set(STEP_NAMES), literals & set(STEP_NAMES)


def test_walking_the_table_reaches_publication() -> None:
    ctx = _ctx()
    outcome = start(CaseDraft(number=7, title="DNS outage", lead=ALICE), ctx)
    answers = [
        "sev2", "network", "dns", "21:00", "21:10", "21:30", "21:40",
        "resolution failures", "done", "skip", "skip", "skip", "dig showed SERVFAIL", "done",
        "An expired DNSSEC key", "skip",
        "Alert on DNSSEC expiry <@UALICE> by 2026-12-15 detect", "none", "done",
        "confirm", "yes",
    ]  # fmt: skip
    visited = [outcome.state.step]
    for text in answers:
        outcome = advance(outcome.state, outcome.case, text, ctx)
        visited.append(outcome.state.step)
    assert outcome.finished == "published"
    assert outcome.state.step == "published"
    assert outcome.case.actions[0].kind == "detect"
    assert visited[-3:] == ["review", "confirm", "published"]
