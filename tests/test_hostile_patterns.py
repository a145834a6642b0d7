"""Every pattern the core applies to what people type runs in bounded time, whatever they type:
answers as long as the longest allowed (40,000 characters), built to make backtracking explode."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable

import pytest

from bot import parsing
from bot.commands import parse_command
from bot.insights.ledger import parse_window
from bot.messages import Mention
from bot.parsing import split_cost

LONGEST = 40_000
SEEDS = [" ", "1", "1 ", "a ", "+", " -", ",", "@", "<@", "#", ":", "1:", "1.", "in ", "ago ", "\n", "cost "]
INPUTS = [seed * (LONGEST // len(seed)) for seed in SEEDS] + [
    "a" + " " * LONGEST + "x",
    "1" + " " * LONGEST + "ago!",
    " " * LONGEST + "cost x\ny",
    "x" + " " * LONGEST + "cost",
]
NOW = dt.datetime(2026, 11, 20, 15, tzinfo=dt.UTC)
ME = Mention("U1", "Alice")
PARSERS: dict[str, Callable[[str], object]] = {
    "when": lambda t: parsing.parse_when(t, now=NOW, tz=dt.UTC),
    "due": lambda t: parsing.parse_due_date(t, today=NOW.date()),
    "snooze": lambda t: parsing.parse_snooze(t, today=NOW.date()),
    "duration": parsing.parse_duration,
    "owner": lambda t: parsing.parse_owner(t, mentions=(), sender=ME),
    "window": lambda t: parse_window(t, today=NOW.date()),
    "command": parse_command,
    "severity": parsing.parse_severity,
    "area": parsing.parse_area,
    "services": parsing.parse_services,
    "risks": parsing.parse_risks,
    "items": parsing.split_items,
    "clock": parsing.parse_clock,
    "weekday": parsing.parse_weekday,
    "cost": split_cost,
}


@pytest.mark.parametrize("name", PARSERS)
def test_no_parser_backtracks_on_the_longest_answer(name: str) -> None:
    parse = PARSERS[name]
    started = time.perf_counter()
    for text in INPUTS:
        with contextlib.suppress(parsing.ParseError):  # a refusal is fine; a long think is not
            parse(text)
    assert time.perf_counter() - started < 2, f"{name} backtracks on long input"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("Suspected the CDN — cost: 20 min", ("Suspected the CDN", "20 min")),
        ("Restarted the pool (cost 10 min)", ("Restarted the pool", "10 min")),
        ("CPU alarm pointed at the DB -- lost 15 min", ("CPU alarm pointed at the DB", "15 min")),
        ("Nothing about what it took", ("Nothing about what it took", None)),
    ],
)
def test_a_misjudgment_cost_is_split_off(item: str, expected: tuple[str, str | None]) -> None:
    assert split_cost(item) == expected
