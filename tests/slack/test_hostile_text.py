"""Text a person (or a hostile client) can send never stalls the server: the line cutter always
advances, and every pattern applied to user text runs in linear time on bounded input."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.slack.blocks import MIN_SPLIT, _pieces, split_text, text_blocks
from adapters.slack.mrkdwn import from_slack, plain, to_mrkdwn

# Characters the cutter treats specially, mixed with anything at all.
TRICKY = st.text(alphabet=st.sampled_from(list("ab <>&;`\n")), max_size=2000)
ANY_TEXT = st.one_of(st.text(max_size=2000), TRICKY)
SQUEEZE = str.maketrans("", "", " \n")


@given(ANY_TEXT, st.integers(min_value=MIN_SPLIT - 8, max_value=3000))
def test_the_line_cutter_always_advances(text: str, limit: int) -> None:
    # Each piece is a line or consumes at least one character: more pieces than that is a loop.
    bound = len(text) + text.count("\n") + 1
    pieces = list(itertools.islice(_pieces(text, limit), bound + 1))
    assert len(pieces) <= bound
    assert all(len(p) <= limit for p in pieces)
    assert "".join(pieces).translate(SQUEEZE) == text.translate(SQUEEZE)


@given(ANY_TEXT, st.integers(min_value=MIN_SPLIT, max_value=3000))
def test_split_text_keeps_every_character_and_the_limit(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(len(chunk) <= limit for chunk in chunks)
    if "`" not in text:  # no fences to close and reopen: joined, the chunks are the text
        assert "".join(chunks).translate(SQUEEZE) == text.translate(SQUEEZE)


def test_split_text_refuses_a_limit_too_small_for_its_fences() -> None:
    with pytest.raises(ValueError, match="at least"):
        split_text("abc", MIN_SPLIT - 1)


@pytest.mark.parametrize("start", ["<", "&", "<@", "&amp", "<https://example.com/"])
def test_a_long_line_that_opens_a_token_is_cut_not_looped(start: str) -> None:
    """The case that hung the server: one long labelled link in a root cause."""
    line = start + "x" * 3300
    chunks = split_text(line)
    assert len(chunks) == 2 and "".join(chunks) == line


# Inputs built to make backtracking regexes explode (nested or overlapping quantifiers).
PATHOLOGICAL = [
    "<" * 20_000,
    "<@" + "A" * 20_000,
    "[" * 10_000 + "](" * 10_000,
    "**" + "a " * 10_000,
    "*" + "a*" * 10_000,
    "`" * 20_000,
    "```" + "a" * 20_000,
    "# " + "#" * 20_000 + " x",
    "@" * 10_000 + "here",
    "[a](http://" + "a" * 20_000,
    "&" * 20_000,
    " " * 20_000 + "x",
    "<http://" + "|" * 20_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_slack_text_patterns_stay_linear_on_pathological_input(text: str) -> None:
    started = time.perf_counter()
    core, _ = from_slack(text)
    text_blocks(to_mrkdwn(core))
    plain(core)
    assert time.perf_counter() - started < 2, "a pattern backtracks on user text"
