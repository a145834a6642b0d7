"""The weekly sweep: exactly one digest per owner and week, never lost, never doubled."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.notify import SendResult
from bot.reminders.config import ReminderSettings
from bot.reminders.schedule import week_key
from bot.reminders.sweep import SweepReport, sweep
from storage.db import Database, connect
from tests.reminder_fixtures import (
    MONDAY,
    BlindCrashingNotifier,
    CheckingNotifier,
    Crash,
    CrashingNotifier,
    FakeClock,
    PostingNotifier,
    RecordingNotifier,
    delivery_rows,
    press,
    seed_case,
)

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
SETTINGS = ReminderSettings(send_concurrency=2)


async def run(
    db: Database,
    notifier: RecordingNotifier,
    clock: FakeClock,
    *,
    settings: ReminderSettings = SETTINGS,
    **kwargs: Any,
) -> SweepReport:
    notifier.clock = clock
    return await sweep(db, {notifier.platform: notifier}, clock=clock, settings=settings, **kwargs)


async def test_a_month_of_weeks_one_digest_each_week_snoozed_and_done_drop_out(db: Database) -> None:
    await seed_case(
        db,
        owners=[
            ("bob", (MONDAY + 8 * D).date()),
            ("bob", (MONDAY - 20 * D).date()),  # long overdue: also escalated weekly
            ("carol", (MONDAY + 22 * D).date()),
            ("dave", None),
        ],
        thread="C0THREAD:1700000000.000100",
    )
    notifier = PostingNotifier()
    clock = FakeClock(MONDAY + 9 * H)  # ticks at 09:00, 15:00, 21:00, 03:00
    end = MONDAY + 31 * D
    while clock.now() < end:
        await run(db, notifier, clock)
        if clock.now() == MONDAY + D + 15 * H:  # Tuesday afternoon of week 1
            await press(db, "/done 1.3", user="carol", at=clock.now())
            await press(db, "/snooze 1.4 2w", user="dave", at=clock.now())
        clock.advance(hours=6)

    weeks = [week_key((MONDAY + n * 7 * D).date()) for n in range(5)]
    per_owner_week = Counter((s.user_id, week_key(s.at.date())) for s in notifier.sent)
    assert all(count == 1 for count in per_owner_week.values()), per_owner_week
    assert [s.at for s in notifier.to("bob")] == [MONDAY + n * 7 * D + 9 * H for n in range(5)]
    assert all(s.refs == ["1.2", "1.1"] for s in notifier.to("bob"))  # by due date, overdue first
    assert "**overdue**" in notifier.to("bob")[0].replies[0].items[0].text
    assert [s.at for s in notifier.to("carol")] == [MONDAY + 9 * H]  # done on Tuesday
    # dave snoozed 2 weeks on Tuesday: nothing in week 2, week 3 only once the snooze ends (Tuesday)
    assert [s.at for s in notifier.to("dave")] == [
        MONDAY + 9 * H,
        MONDAY + 15 * D + 3 * H,
        MONDAY + 21 * D + 9 * H,
        MONDAY + 28 * D + 9 * H,
    ]
    assert not notifier.to("alice")  # the lead owns nothing: no DM
    # The long-overdue action went to the case's thread once a week.
    assert [key for _, key, _ in notifier.posts] == ["C0THREAD:1700000000.000100"] * 5
    assert all(p[2][0].items[0].ref == "1.2" for p in notifier.posts)
    rows = await delivery_rows(db)
    assert {r["status"] for r in rows} == {"sent"}
    assert {str(r["week"]) for r in rows} == set(weeks)


async def test_two_clocks_against_one_database_send_one_digest_per_owner_week(db_url: str) -> None:
    owners = [(f"user{i:02d}", (MONDAY + 10 * D).date()) for i in range(30)]
    first, second = connect(db_url), connect(db_url)
    try:
        await seed_case(first, owners=owners)
        notifier = RecordingNotifier()
        for moment in (MONDAY + 9 * H, MONDAY + 9 * H + 2 * dt.timedelta(minutes=1), MONDAY + 7 * D + 10 * H):
            clock = FakeClock(moment)
            notifier.clock = clock
            reports = await asyncio.gather(
                sweep(first, {"console": notifier}, clock=clock, settings=SETTINGS, worker="clock-a"),
                sweep(second, {"console": notifier}, clock=clock, settings=SETTINGS, worker="clock-b"),
            )
            assert not [line for r in reports for line in r.lines if line.status != "sent"]
        per_owner_week = Counter((s.user_id, week_key(s.at.date())) for s in notifier.sent)
        assert len(per_owner_week) == 60 and set(per_owner_week.values()) == {1}
        rows = await delivery_rows(first)
        assert len(rows) == 60 and {r["status"] for r in rows} == {"sent"}
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_crash_after_the_claim_and_before_the_send_is_retried_not_lost(db: Database) -> None:
    await seed_case(db, owners=[("bob", None), ("carol", None)])
    notifier = CrashingNotifier()
    settings = ReminderSettings(send_concurrency=1)
    with pytest.raises(Crash):
        await run(db, notifier, FakeClock(MONDAY + 9 * H), settings=settings)
    assert {r["status"] for r in await delivery_rows(db)} == {"claimed"}
    assert notifier.sent == []

    # The claims are still alive: another clock leaves them alone...
    report = await run(db, notifier, FakeClock(MONDAY + 9 * H + dt.timedelta(minutes=5)), settings=settings)
    assert report.lines == [] and notifier.sent == []
    # ...until they expire; then each digest goes out once.
    await run(db, notifier, FakeClock(MONDAY + 9 * H + dt.timedelta(minutes=11)), settings=settings)
    await run(db, notifier, FakeClock(MONDAY + 9 * H + dt.timedelta(minutes=20)), settings=settings)
    assert sorted(s.user_id for s in notifier.sent) == ["bob", "carol"]
    rows = await delivery_rows(db)
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 2), ("sent", 2)]


async def test_a_crash_just_after_the_platform_took_the_message_is_not_sent_twice(db: Database) -> None:
    await seed_case(db, owners=[("bob", None)])
    notifier = CrashingNotifier(lands=True)  # posted, then the process died before recording it
    with pytest.raises(Crash):
        await run(db, notifier, FakeClock(MONDAY + 9 * H))
    report = await run(db, notifier, FakeClock(MONDAY + 10 * H))
    assert len(notifier.sent) == 1  # the expired claim was checked against the platform, not re-sent
    assert [line.status for line in report.lines] == ["sent"]
    assert [r["status"] for r in await delivery_rows(db)] == ["sent"]


async def test_a_crashed_claim_is_settled_at_most_once_where_history_cannot_be_read(db: Database) -> None:
    await seed_case(db, owners=[("bob", None)])
    notifier = BlindCrashingNotifier()
    with pytest.raises(Crash):
        await run(db, notifier, FakeClock(MONDAY + 9 * H))
    report = await run(db, notifier, FakeClock(MONDAY + 10 * H))  # the claim has expired
    await run(db, notifier, FakeClock(MONDAY + 11 * H))
    assert len(notifier.sent) == 1  # never sent blindly a second time
    assert [line.status for line in report.lines] == ["gave_up"]
    [row] = await delivery_rows(db)
    assert row["status"] == "gave_up"


async def test_a_failed_send_is_retried_on_a_later_tick_with_backoff(db: Database) -> None:
    await seed_case(db, owners=[("bob", None)])
    notifier = RecordingNotifier(results=[SendResult(ok=False, retryable=True, error="outage")])
    start = MONDAY + 9 * H
    await run(db, notifier, FakeClock(start))
    [row] = await delivery_rows(db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 1, "outage")
    await run(db, notifier, FakeClock(start + dt.timedelta(minutes=1)))  # backing off
    assert notifier.sent == []
    await run(db, notifier, FakeClock(start + dt.timedelta(minutes=3)))
    await run(db, notifier, FakeClock(start + dt.timedelta(minutes=10)))
    assert len(notifier.sent) == 1
    [row] = await delivery_rows(db)
    assert (row["status"], row["attempts"]) == ("sent", 2)


async def test_attempts_are_bounded_and_a_permanent_error_is_not_retried(db: Database) -> None:
    await seed_case(db, owners=[("bob", None), ("carol", None)])
    outage = SendResult(ok=False, retryable=True, error="outage")
    notifier = RecordingNotifier(results=[SendResult(ok=False, error="user_not_found")] + [outage] * 10)
    settings = ReminderSettings(send_concurrency=1, max_attempts=3)
    clock = FakeClock(MONDAY + 9 * H)
    for _ in range(12):
        await run(db, notifier, clock, settings=settings)
        clock.advance(hours=3)
    rows = {r["owner_id"]: r for r in await delivery_rows(db)}
    assert notifier.attempts == 4  # one permanent failure, three tries for the other
    assert sorted((r["status"], r["attempts"]) for r in rows.values()) == [("gave_up", 1), ("gave_up", 3)]


async def test_a_rate_limit_pauses_the_tenant_and_gives_the_attempt_back(db: Database) -> None:
    await seed_case(db, owners=[("bob", None), ("carol", None)])
    notifier = RecordingNotifier(results=[SendResult(ok=False, retryable=True, retry_after=30, error="429")])
    start = MONDAY + 9 * H
    report = await run(db, notifier, FakeClock(start), settings=ReminderSettings(send_concurrency=1))
    assert [line.status for line in report.lines] == ["deferred", "deferred"]
    assert notifier.attempts == 1  # the second was not even tried during the pause
    rows = await delivery_rows(db)
    assert [(r["status"], r["attempts"]) for r in rows] == [("failed", 0), ("failed", 0)]
    await run(db, notifier, FakeClock(start + dt.timedelta(seconds=10)))
    assert notifier.sent == []
    await run(db, notifier, FakeClock(start + dt.timedelta(seconds=31)))
    assert sorted(s.user_id for s in notifier.sent) == ["bob", "carol"]


async def test_an_uncertain_send_is_never_resent_blindly(db: Database) -> None:
    await seed_case(db, owners=[("bob", None)])
    notifier = RecordingNotifier(results=[SendResult(ok=False, uncertain=True, error="read timeout")])
    start = MONDAY + 9 * H
    for minutes in (0, 10, 60, 600):
        await run(db, notifier, FakeClock(start + dt.timedelta(minutes=minutes)))
    assert notifier.attempts == 1
    [row] = await delivery_rows(db)
    assert row["status"] == "gave_up" and "may have been delivered" in str(row["last_error"])


async def test_an_uncertain_send_is_confirmed_or_resent_after_asking_the_platform(db: Database) -> None:
    await seed_case(db, owners=[("bob", None)], tenant="T1")
    await seed_case(db, owners=[("erin", None)], tenant="T2", platform="chat")
    landed = CheckingNotifier(results=[SendResult(ok=False, uncertain=True, error="connection dropped")])
    lost = CheckingNotifier(
        platform="chat",
        results=[SendResult(ok=False, uncertain=True, error="read timeout")],
        lost_when_uncertain=True,
    )
    start = MONDAY + 9 * H
    for notifier in (landed, lost):
        for minutes in (0, 1, 5, 30):
            await run(db, notifier, FakeClock(start + dt.timedelta(minutes=minutes)))
    assert (landed.attempts, len(landed.sent)) == (1, 1)  # it was there: marked sent, not re-sent
    assert (lost.attempts, len(lost.sent)) == (2, 1)  # it was not there: sent again, once
    assert [r["status"] for r in await delivery_rows(db)] == ["sent", "sent"]


async def test_owners_in_tokyo_and_los_angeles_each_get_theirs_at_their_own_nine(db: Database) -> None:
    zones = {"kenji": "Asia/Tokyo", "lucy": "America/Los_Angeles"}
    await seed_case(db, owners=[("kenji", None), ("lucy", None)], timezones=zones)
    notifier = RecordingNotifier()
    clock = FakeClock(MONDAY - 2 * D)
    while clock.now() < MONDAY + 2 * D:
        await run(db, notifier, clock)
        clock.advance(hours=1)
    for user, zone in zones.items():
        local_monday = (MONDAY + 12 * H).astimezone(ZoneInfo(zone)).date()
        nine = dt.datetime.combine(local_monday, dt.time(9), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
        assert [s.at for s in notifier.to(user)] == [nine], user


async def test_a_week_missed_while_the_clock_was_down_is_caught_up_once(db: Database) -> None:
    await seed_case(db, owners=[("bob", None)])
    notifier = RecordingNotifier()
    await run(db, notifier, FakeClock(MONDAY + 9 * H))
    # The clock is down for three weeks and comes back on a Thursday.
    back = MONDAY + 24 * D + 14 * H
    for minutes in range(0, 180, 1 * 15):
        await run(db, notifier, FakeClock(back + dt.timedelta(minutes=minutes)))
    assert [s.at for s in notifier.to("bob")] == [MONDAY + 9 * H, back]
    assert len(await delivery_rows(db)) == 2


async def test_an_action_given_after_this_weeks_slot_waits_for_the_next(db: Database) -> None:
    await seed_case(db, owners=[("bob", None)], since=MONDAY + D)  # published on Tuesday
    notifier = RecordingNotifier()
    for moment in (MONDAY + D + H, MONDAY + 3 * D, MONDAY + 7 * D + 9 * H):
        await run(db, notifier, FakeClock(moment))
    assert [s.at for s in notifier.to("bob")] == [MONDAY + 7 * D + 9 * H]


async def test_nothing_is_sent_on_a_claim_about_to_expire(db: Database) -> None:
    await seed_case(db, owners=[("bob", None), ("carol", None), ("dave", None)])
    notifier = RecordingNotifier(advance_per_send=dt.timedelta(minutes=5))  # a very slow platform
    clock = FakeClock(MONDAY + 9 * H)
    report = await run(db, notifier, clock, settings=ReminderSettings(send_concurrency=1))
    assert [line.status for line in report.lines] == ["sent", "sent", "deferred"]
    await run(db, notifier, clock, settings=ReminderSettings(send_concurrency=1))
    assert sorted(s.user_id for s in notifier.sent) == ["bob", "carol", "dave"]
    assert [r["attempts"] for r in await delivery_rows(db)] == [1, 1, 1]


async def test_escalation_goes_to_the_lead_once_a_week_when_there_is_no_thread(db: Database) -> None:
    await seed_case(db, owners=[("bob", (MONDAY - 15 * D).date()), ("carol", (MONDAY - 8 * D).date())])
    notifier = RecordingNotifier()  # cannot post in threads: the lead is told by DM
    for moment in (MONDAY + 9 * H, MONDAY + 12 * H, MONDAY + 7 * D + 9 * H):
        await run(db, notifier, FakeClock(moment))
    to_lead = notifier.to("alice")
    assert [s.at for s in to_lead] == [MONDAY + 9 * H, MONDAY + 7 * D + 9 * H]
    assert [s.refs for s in to_lead] == [["1.1"], ["1.1", "1.2"]]  # 1.2 reached two weeks in week 2
    rows = await delivery_rows(db, "reminder_escalations")
    assert [(r["status"], r["target"]) for r in rows] == [("sent", "lead:alice")] * 2


async def test_a_published_case_is_chased_until_its_last_action_is_closed(db: Database) -> None:
    """The case's interview is long closed; digests and escalations stop only with its actions."""
    await seed_case(db, owners=[("bob", (MONDAY - 20 * D).date()), ("bob", None)])
    notifier = RecordingNotifier()  # cannot post in threads: escalations go to the lead, alice
    week = [MONDAY + n * 7 * D + 9 * H for n in range(3)]
    await run(db, notifier, FakeClock(week[0]))
    await press(db, "/done 1.1 alert added", user="bob", at=week[0] + H)  # the overdue one
    await run(db, notifier, FakeClock(week[1]))
    await press(db, "/cancel 1.2 covered by 1.1", user="bob", at=week[1] + H)  # the last one
    await run(db, notifier, FakeClock(week[2]))
    assert [(s.user_id, s.at, s.refs) for s in notifier.sent] == [
        ("bob", week[0], ["1.1", "1.2"]),
        ("alice", week[0], ["1.1"]),  # two weeks overdue: escalated
        ("bob", week[1], ["1.2"]),  # 1.1 done: no escalation either
    ]


async def test_a_dry_run_claims_nothing_and_sends_nothing(db: Database) -> None:
    await seed_case(db, owners=[("bob", None), ("carol", (MONDAY - 30 * D).date())])
    notifier = RecordingNotifier()
    report = await run(db, notifier, FakeClock(MONDAY + 9 * H), dry_run=True)
    assert sorted((line.kind, line.recipient) for line in report.lines) == [
        ("digest", "@bob"),
        ("digest", "@carol"),
        ("escalation", "case #1 lead @alice"),
    ]
    assert {line.status for line in report.lines} == {"would send"}
    assert notifier.attempts == 0 and await delivery_rows(db) == []


async def test_a_quiet_sweep_says_truthfully_why_nothing_was_sent(db: Database) -> None:
    # Published on Tuesday, after this week's Monday 09:00 slot: the first digest waits a week.
    await seed_case(db, owners=[("bob", None), ("carol", None), ("dave", None)], since=MONDAY + D + 10 * H)
    notifier = PostingNotifier()
    report = await run(db, notifier, FakeClock(MONDAY + D + 11 * H))
    assert report.lines == [] and notifier.sent == []
    assert report.quiet == (
        "Nothing sent: 3 owners' actions arrived after this week's slot; their first digest is due "
        "Monday 09:00 (2026-11-30, their time)."
    )
    await press(db, "/snooze 1.1 2w", user="bob", at=MONDAY + D + 12 * H)
    report = await run(db, notifier, FakeClock(MONDAY + D + 13 * H))
    assert "1 owner's open actions are all snoozed" in report.quiet
    assert "2 owners' actions arrived after this week's slot" in report.quiet
