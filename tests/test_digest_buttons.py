"""The digest's buttons close, snooze and reassign, from the DM, with the permission checks.

The case is written by the real interview (`casebook demo`'s script through the
service); the digest comes from a real sweep; each button is pressed by sending
its value back through bot.service.handle, as an adapter does.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from adapters.console.demo import run as run_demo
from bot.config import Settings
from bot.messages import Choice, Reply, ReplyKind
from bot.reminders.sweep import sweep
from storage.db import Database
from storage.models import PreventionAction
from tests.reminder_fixtures import MONDAY, FakeClock, RecordingNotifier, Sent, press

H = dt.timedelta(hours=1)


def button(sent: Sent, ref: str, label: str) -> Choice:
    item = next(i for r in sent.replies for i in r.items if i.ref == ref)
    return next(c for c in item.choices if c.label == label)


async def click(
    db: Database, choice: Choice, *, user: str, at: dt.datetime, form: dict[str, str] | None = None
) -> list[Reply]:
    assert (choice.form is not None) == (form is not None), "the adapter collects the form first"
    return await press(db, choice.value, user=user, at=at, tenant="local", form=form)


async def statuses(db: Database) -> dict[int, tuple[str, str | None, dt.date | None]]:
    from storage.models import Person

    async with db.transaction() as session:
        rows = await session.exec(
            select(PreventionAction, Person).join(Person, Person.id == PreventionAction.owner_id)  # type: ignore[arg-type]
        )
        return {a.number: (a.status, p.platform_user_id, a.snoozed_until) for a, p in rows}


async def test_the_digest_buttons_close_snooze_and_reassign(db: Database) -> None:
    # The demo is written on the Saturday before, so its actions are due from Monday's slot.
    await run_demo(db, Settings(), out=lambda _: None, now=MONDAY - dt.timedelta(days=2))
    notifier = RecordingNotifier()
    clock = FakeClock(MONDAY + 9 * H)
    notifier.clock = clock
    await sweep(db, {"console": notifier}, clock=clock)
    digests = {s.user_id: s for s in notifier.sent}
    assert {u: s.refs for u, s in digests.items()} == {"bob": ["1.1"], "carol": ["1.2"], "alice": ["1.3"]}
    assert [c.value for c in digests["bob"].replies[0].items[0].choices] == [
        "/done 1.1",
        "/snooze 1.1 1w",
        "/reassign 1.1",
    ]
    at = clock.now() + dt.timedelta(minutes=3)

    # Someone who is neither owner, lead nor admin presses a forwarded button: refused, nothing moves.
    before = await statuses(db)
    refusal = await click(db, button(digests["carol"], "1.2", "Snooze a week"), user="mallory", at=at)
    assert refusal[0].kind == ReplyKind.ERROR and "Only the owner of 1.2" in refusal[0].text
    assert await statuses(db) == before

    done = await click(
        db, button(digests["bob"], "1.1", "Done"), user="bob", at=at, form={"evidence": "alert rule PR #881"}
    )
    assert done[0].kind == ReplyKind.INFO
    snoozed = await click(db, button(digests["carol"], "1.2", "Snooze a week"), user="carol", at=at)
    assert "snoozed until" in snoozed[0].text
    moved = await click(
        db, button(digests["alice"], "1.3", "Reassign"), user="alice", at=at, form={"owner": "bob"}
    )
    assert [r.to_user for r in moved if r.kind == ReplyKind.NOTICE] == ["bob"]

    week_later = MONDAY + dt.timedelta(days=7)
    assert await statuses(db) == {
        1: ("done", "bob", None),
        2: ("open", "carol", week_later.date()),
        3: ("open", "bob", None),
    }
    # Next week: bob's digest holds what he now owns; carol's snooze has run out; alice owns nothing.
    notifier.sent.clear()
    clock.current = week_later + 9 * H
    await sweep(db, {"console": notifier}, clock=clock)
    assert {s.user_id: s.refs for s in notifier.sent} == {"bob": ["1.3"], "carol": ["1.2"]}
