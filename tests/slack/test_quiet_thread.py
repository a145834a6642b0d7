"""The conntrack-502 incident, typed and clicked through Slack's real HTTP path, measured:
how many bot posts the thread gets per question asked, how many of them are acknowledgements,
and how many live buttons are left on answered questions once the case is published.

Run with `-s` to see the figures. The answers must be kept exactly, and the goal of issue 11
holds: at most one post per question, no acknowledgement posts, no stale live button (each
answered question is edited in place into its record line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.slack.conftest import Harness
from tests.slack.support import Call

# (how the question is answered, the answers): one entry per question the interview asks.
CONNTRACK_502: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("click", ("SEV2",)),
    ("click", ("network",)),
    ("say", ("edge-proxy, checkout-api",)),
    ("say", ("21:40 yesterday",)),
    ("say", ("+6m",)),
    ("say", ("about an hour later",)),
    ("say", ("+20m",)),
    ("say", ("502s from edge-proxy at 8%", "nf_conntrack: table full, dropping packet in dmesg", "done")),
    ("say", ("Blamed the cost-saving change to the LB pool — cost: 25 min", "done")),
    ("say", ("CPU on the proxies looked normal, which cost us 15 minutes", "done")),
    ("say", ("It hit at 21:40 on a Sunday, when checkout traffic is lowest", "done")),
    (
        "say",
        ("Checked the LB health checks: all green", "dmesg on edge-proxy-3: conntrack table full", "done"),
    ),
    ("say", ("nf_conntrack_max stayed at the kernel default after the node image upgrade",)),
    ("click", ("Skip",)),
    ("say", ("Alert on conntrack usage <@UBOB> by in 2 weeks detect",)),
    ("click", ("None of these",)),
    ("click", ("No more actions",)),
    ("click", ("Confirm",)),
    ("click", ("Yes, publish",)),
)


@dataclass
class Figures:
    questions: int
    posts: int
    acknowledgements: int
    stale_buttons: int
    thread: list[Call]


def _final(thread: list[Call], updates: list[Call]) -> list[dict[str, Any]]:
    """Each thread message as it reads now: its last chat.update, else the post itself."""
    latest = {str(u.params.get("ts")): u.params for u in updates}
    return [latest.get(str(post.result.get("ts")), post.params) for post in thread]


async def measure(h: Harness) -> Figures:
    await h.sender.command("Checkout 502s at the edge: conntrack table full")
    await h.settle()
    root = h.root()
    for how, answers in CONNTRACK_502:
        if how == "click":
            for label in answers:
                await h.click(h.last_question(root), label)
        else:
            await h.say(root, *answers)
    [case] = await h.cases()
    assert case.status == "published"
    thread = h.thread(root)
    messages = _final(thread, h.standin.called("chat.update"))
    live = [m for m in messages if any(b.get("type") == "actions" for b in m.get("blocks") or [])]
    return Figures(
        questions=len(CONNTRACK_502) + 1,  # and the title, given with the command
        posts=len(thread),
        acknowledgements=sum("Noted (" in str(m.get("text")) for m in messages),
        stale_buttons=len(live),
        thread=thread,
    )


async def test_the_conntrack_interview_keeps_answers_exactly_and_counts_its_posts(harness: Harness) -> None:
    figures = await measure(harness)
    print(
        f"\nconntrack-502 on Slack: {figures.posts} bot posts for {figures.questions} questions, "
        f"{figures.acknowledgements} acknowledgement posts, {figures.stale_buttons} live stale buttons"
    )
    [case] = await harness.cases()
    assert [(m["text"], m["cost"]) for m in case.misjudgments] == [
        ("Blamed the cost-saving change to the LB pool", "25 min"),
        ("CPU on the proxies looked normal, which cost us 15 minutes", None),
    ]
    assert case.root_cause == "nf_conntrack_max stayed at the kernel default after the node image upgrade"
    assert case.lucky == ["It hit at 21:40 on a Sunday, when checkout traffic is lowest"]
    published = next(c for c in reversed(figures.thread) if "Case #1 is published" in c.text())
    assert "nf_conntrack_max stayed at the kernel default" in published.text()
    assert (
        "<@UBOB>" in published.text() and "<@UALICE>" in published.text() and "@Alice" not in published.text()
    )
    assert figures.acknowledgements == 0
    assert figures.posts <= figures.questions
    assert figures.stale_buttons == 0
    # each line of a multi-message step is acknowledged by a reaction on it, not by a post
    reactions = harness.standin.called("reactions.add")
    assert len(reactions) == 7 and {r.params["name"] for r in reactions} == {"white_check_mark"}
    assert all(r.params["channel"] and r.params["timestamp"] for r in reactions)
