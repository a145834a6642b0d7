"""The interview's values: where it stands, what one message brings, what comes out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.case import CaseDraft
from bot.messages import Choice, Mention, Reply


@dataclass(frozen=True)
class State:
    step: str
    history: tuple[tuple[str, int | None], ...] = ()
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


Parser = Callable[[str, CaseDraft, State, Context], Any]
Storer = Callable[[CaseDraft, State, Any, Context], CaseDraft]
Question = Callable[[CaseDraft, State, Context], str]


@dataclass(frozen=True)
class Step:
    key: str
    question: Question
    parse: Parser
    store: Storer
    skippable: bool = True
    collects: bool = False  # several messages until `done`
    choices: tuple[Choice, ...] = ()
    help: str = ""
