"""A 500-message incident channel, written by hand around a handful of messages that matter,
and what a reader should propose from it (also by hand: never computed by the code under test).

The messages that matter, at fixed times on 2026-11-19 (UTC):
21:41:00 Alice joins (a join: left out)
21:41:10 Datadog (an integration): "[FIRING] checkout 5xx rate above 5%" in an attachment
21:42:30 Alice: "seeing 502s on checkout for EU users"           (thread: Bob's step below)
21:44:00 Bob, in that thread: "checked the LB: all targets equally bad"
21:45:00 Carol: "<!channel> checkout is down for everyone"       (a broadcast)
21:47:00 Dana: "<@UBOB> can you look at the db latency"           (a mention)
21:50:00 Carol shares p99.png: "p99 latency graph for checkout"  (a file)
21:55:00 Carol: "rolled back 4.12, no change"                     (tried, did not work: a step)
22:05:00 Bob: "should we fail over to us-east?"                   (a question: not the mitigation)
22:10:00 Dana: "failed over to us-east, error rate dropping"      (the mitigation)
22:40:00 Alice, edited: "all clear, checkout p99 back to normal"  (the resolution)
and Casebook's own messages, a deploy bot, topic changes, more joins, and chatter in between.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.slack.history_support import ChannelData

CHANNEL_ID = "C0INCIDENTS"  # the harness's channel: an interview started there reads it
NAME = "inc-checkout-502"
DAY = dt.datetime(2026, 11, 19, tzinfo=dt.UTC)
CREATED = DAY.replace(hour=21, minute=40)
SIZE = 500
CHATTER = ("ok", "on it", "+1", "thanks", "ack", "brb", "joining the bridge", "following along", "I'm here")


def at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return DAY.replace(hour=hour, minute=minute, second=second)


def ts(when: dt.datetime, n: int = 0) -> str:
    return f"{when.timestamp():.0f}.{n:06d}"


def link(when: dt.datetime, thread: dt.datetime | None = None) -> str:
    base = f"https://t/archives/{CHANNEL_ID}/p{ts(when).replace('.', '')}"  # auth.test's url is https://t/
    return base + (f"?thread_ts={ts(thread)}&cid={CHANNEL_ID}" if thread else "")


def _said(user: str, when: dt.datetime, text: str, **more: Any) -> dict[str, Any]:
    return {"user": user, "ts": ts(when), "text": text, **more}


def messages() -> list[dict[str, Any]]:
    parent = at(21, 42, 30)
    found: list[dict[str, Any]] = [
        {"subtype": "channel_join", "user": "UALICE", "ts": ts(at(21, 41)), "text": "<@UALICE> has joined"},
        {
            "subtype": "bot_message",
            "bot_id": "BDATADOG",
            "username": "Datadog",
            "ts": ts(at(21, 41, 10)),
            "text": "",
            "attachments": [{"fallback": "[FIRING] checkout 5xx rate above 5%"}],
        },
        _said("UALICE", parent, "seeing 502s on checkout for EU users", thread_ts=ts(parent), reply_count=1),
        _said("UBOB", at(21, 44), "checked the LB: all targets equally bad", thread_ts=ts(parent)),
        _said("UCAROL", at(21, 45), "<!channel> checkout is down for everyone"),
        _said("UDANA", at(21, 47), "<@UBOB> can you look at the db latency"),
        _said(
            "UCAROL",
            at(21, 50),
            "p99 latency graph for checkout",
            subtype="file_share",
            files=[{"id": "F1", "name": "p99.png"}],
        ),
        _said("UCAROL", at(21, 55), "rolled back 4.12, no change"),
        _said("UBOB", at(22, 5), "should we fail over to us-east?"),
        _said("UDANA", at(22, 10), "failed over to us-east, error rate dropping"),
        _said(
            "UALICE",
            at(22, 40),
            "all clear, checkout p99 back to normal",
            edited={"user": "UALICE", "ts": ts(at(22, 41))},
        ),
        # Casebook's own message (auth.test says UBOT / BBOT): left out, alert word and all
        {"user": "UBOT", "bot_id": "BBOT", "ts": ts(at(21, 43)), "text": "Postmortem started; alert me"},
        {"bot_id": "BDEPLOY", "username": "deploys", "ts": ts(at(21, 48)), "text": "web 4.13 deployed"},
        {"subtype": "channel_topic", "user": "UDANA", "ts": ts(at(21, 46)), "text": "set the topic"},
    ]
    noise = ["channel_join", "channel_leave", "pinned_item"]
    minute = dt.timedelta(seconds=6)
    n = 0
    while len(found) < SIZE:  # chatter and noise between 21:43 and 22:39, none of it a candidate
        when = at(21, 43, 5) + minute * n
        n += 1
        if n % 25 == 0:
            found.append(
                {"subtype": noise[n % 3], "user": "UBOB", "ts": ts(when, 1), "text": "<@UBOB> came and went"}
            )
        else:
            found.append(_said(("UALICE", "UBOB", "UCAROL", "UDANA")[n % 4], when, CHATTER[n % len(CHATTER)]))
    return found


def channel() -> ChannelData:
    return ChannelData(id=CHANNEL_ID, name=NAME, created=int(CREATED.timestamp()), messages=messages())


# What a reader should propose: (label, point, time, author, text, link), by hand.
TIMELINE = [
    (
        "first alert",
        "detected",
        at(21, 41, 10),
        "Datadog",
        "[FIRING] checkout 5xx rate above 5%",
        link(at(21, 41, 10)),
    ),
    (
        "first human message",
        None,
        at(21, 42, 30),
        "Alice",
        "seeing 502s on checkout for EU users",
        link(at(21, 42, 30)),
    ),
    (
        "mitigation",
        "mitigated",
        at(22, 10),
        "Dana",
        "failed over to us-east, error rate dropping",
        link(at(22, 10)),
    ),
    (
        "resolution",
        "resolved",
        at(22, 40),
        "Alice",
        "all clear, checkout p99 back to normal",
        link(at(22, 40)),
    ),
]
SYMPTOMS = [
    "seeing 502s on checkout for EU users",
    "@channel checkout is down for everyone",
    "@Bob can you look at the db latency",
    "p99 latency graph for checkout [file: p99.png]",
]
STEPS = [
    ("checked the LB: all targets equally bad", "Bob", link(at(21, 44), at(21, 42, 30))),
    ("rolled back 4.12, no change", "Carol", link(at(21, 55))),
]
# Left out: the 21:41 join, the topic change, Casebook's message, and the 19 joins, leaves and
# pins among the chatter (every 25th of the 486 filler messages). Read: the other 478.
SKIPPED = 22
READ = 478
