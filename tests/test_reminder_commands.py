"""`reminders`: see when your digest comes; admins move the workspace's slot, and the sweep follows."""

from __future__ import annotations

import datetime as dt

from bot.messages import ReplyKind
from bot.reminders.sweep import sweep
from storage.db import Database
from tests.reminder_fixtures import MONDAY, FakeClock, RecordingNotifier, press, seed_case

H = dt.timedelta(hours=1)


async def test_admins_move_the_slot_and_the_sweep_follows(db: Database) -> None:
    await seed_case(db, owners=[("bob", None)])
    shown = await press(db, "/reminders", user="bob", at=MONDAY - 2 * H)
    assert "**Monday 09:00**" in shown[0].text and "the default" in shown[0].text
    assert "You have 1 open action(s)." in shown[0].text

    refused = await press(db, "/reminders friday 10:00", user="bob", at=MONDAY)
    assert refused[0].kind == ReplyKind.ERROR and "Only a workspace admin" in refused[0].text
    bad = await press(db, "/reminders friday teatime", user="root", admin=True, at=MONDAY)
    assert bad[0].kind == ReplyKind.ERROR and "HH:MM" in bad[0].text
    moved = await press(db, "/reminders wednesday 14:30", user="root", admin=True, at=MONDAY)
    assert "**Wednesday 14:30**" in moved[0].text and "set for this workspace" in moved[0].text

    notifier = RecordingNotifier()
    clock = FakeClock(MONDAY + 9 * H)
    notifier.clock = clock
    while clock.now() < MONDAY + 4 * 24 * H:
        await sweep(db, {"console": notifier}, clock=clock)
        clock.advance(minutes=30)
    assert [s.at for s in notifier.sent] == [MONDAY + 2 * 24 * H + 14 * H + 30 * dt.timedelta(minutes=1)]

    back = await press(db, "/reminders default", user="root", admin=True, at=MONDAY)
    assert "**Monday 09:00**" in back[0].text and "the default" in back[0].text
