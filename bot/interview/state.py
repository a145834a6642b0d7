"""The interview's values: where it stands, what one message brings, what comes out, and the
shape of one row of the step table (`Step`; the names of the steps are the table's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from bot.case import CaseDraft
from bot.messages import Choice, Mention, Reply, ReplyKind

if TYPE_CHECKING:
    from bot.interview.table import StepName


@dataclass(frozen=True)
class State:
    step: StepName
    history: tuple[tuple[StepName, int | None], ...] = ()
    current_action: int | None = None
    # "review|resolved": after the step `resolved`, go back to `review` (an edit).
    return_to: str | None = None
    pending: str | None = None  # "cancel" while a cancellation awaits confirmation


@dataclass(frozen=True)
class Context:
    now: dt.datetime
    tz: dt.tzinfo
    tz_name: str
    sender: Mention
    mentions: tuple[Mention, ...] = ()
    may_manage: bool = True  # the case lead or an admin: may publish or cancel
    max_chars: int = 4000
    form: dict[str, str] | None = None
    month_first: bool = False  # the speaker's locale writes `11/30` for 30 November

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()


@dataclass(frozen=True)
class Outcome:
    state: State
    case: CaseDraft
    replies: tuple[Reply, ...]
    accepted: bool = False  # an answer was stored: the service keeps the raw text
    finished: str | None = None  # "published" | "cancelled"


@dataclass(frozen=True)
class Go:
    """A sub-flow's decision: move to `to` (after these changes to the state and the case)."""

    to: StepName
    state: State | None = None
    case: CaseDraft | None = None
    note: str | None = None  # said before the next question
    accepted: bool = False
    returning: bool = False  # an edit is over: forget where it was to return


@dataclass(frozen=True)
class Stay:
    """A sub-flow's decision: say this and stay where the interview is."""

    text: str
    kind: ReplyKind = ReplyKind.INFO


Decision = Go | Stay
Parser = Callable[[str, CaseDraft, State, Context], Any]
Storer = Callable[[CaseDraft, State, Any, Context], CaseDraft]
Question = Callable[[CaseDraft, State, Context], str]
Next: TypeAlias = "StepName | Callable[[Any, CaseDraft, State], StepName]"
Echo = Callable[[Any, Context, str], str | None]  # (value, context, the text as typed)
# A sub-flow's own reading of a message (review, confirm): ParseError refuses it.
Reaction = Callable[[State, CaseDraft, str, Context], Decision]
# Commands only a sub-flow takes (`edit ...` at the review); None: not one of them.
Commands = Callable[[State, CaseDraft, str, Context], Decision | None]


def _keep(case: CaseDraft, state: State, value: Any, ctx: Context) -> CaseDraft:
    return case


def _same(text: str, case: CaseDraft, state: State, ctx: Context) -> str:
    return text


@dataclass(frozen=True)
class Step:
    """One row of the table: what is asked, how an answer is read and kept, what comes next."""

    key: StepName
    question: Question
    next: Next
    parse: Parser = _same
    store: Storer = _keep
    skippable: bool = True
    collects: bool = False  # several messages until `done`
    choices: tuple[Choice, ...] = ()
    help: str = ""
    # A collecting step: its entries so far, and the case with them cleared.
    items: Callable[[CaseDraft], list[str]] | None = None
    clear: Callable[[CaseDraft], CaseDraft] | None = None
    # `done` (or `skip`) ends a loop here: tidy the case, then go on to `ends_loop_at`.
    ends_loop_at: StepName | None = None
    tidy: Callable[[CaseDraft, State], CaseDraft] | None = None
    done_note: str = "skipped"  # the record line when it is skipped or finished
    echo: Echo | None = None  # how an accepted value is recorded ("Severity: SEV2 (major)")
    tip: Callable[[Any], str | None] | None = None  # advice after an accepted answer
    # The action sub-flow: its steps work on `state.current_action`.
    in_action: bool = False
    opens_action: bool = False  # an answer here creates or picks the current action
    closes_action: bool = False  # after this step the next action is a new one
    keeps: Callable[[CaseDraft, State], str | None] | None = None  # `skip` while editing keeps
    form: str | None = None  # the adapter may offer this form instead of a typed answer
    react: Reaction | None = None  # a sub-flow reads the message itself (no parse/store)
    commands: Commands | None = None  # `edit`, `add action`, ... are taken here
    finished: str | None = None  # a terminal state: the interview ends here

    @property
    def terminal(self) -> bool:
        return self.finished is not None

    def next_after(self, value: Any, case: CaseDraft, state: State) -> StepName:
        return self.next(value, case, state) if callable(self.next) else self.next
