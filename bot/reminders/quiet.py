"""Why a sweep sent nothing, in words an operator can act on.

`casebook remind --now` that prints only "0 sent" leaves the on-call guessing whether the bot is
broken; the reasons are in the data: who has open actions, when each became theirs, snoozes, and
this week's deliveries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from bot.reminders.schedule import WeeklySlot, last_due, next_slot
from storage.deliveries.workload import OwnerRow, awake


def explain_quiet(
    owners: Iterable[OwnerRow],
    *,
    now: dt.datetime,
    zone_of: Mapping[int, dt.tzinfo],
    slot_of: Mapping[int, WeeklySlot],
    had_digest: int,
) -> str:
    """One sentence per reason; `zone_of` by owner id, `slot_of` by tenant id."""
    owners = list(owners)
    if not owners:
        return "Nothing due: nobody has an open prevention action."
    snoozed, late, first_due = 0, 0, []
    for owner in owners:
        tz, slot = zone_of[owner.owner_id], slot_of[owner.tenant_id]
        due = last_due(now, tz, slot)
        awake_groups = [g for g in owner.groups if awake(g.snoozed_until, due.local_today)]
        if not awake_groups:
            snoozed += 1
        elif all(g.since > due.slot_at for g in awake_groups):
            late += 1
            first_due.append(next_slot(now, tz, slot).astimezone(tz))
    reasons = []
    if late:
        first = min(first_due)
        reasons.append(
            f"{_owners(late)} actions arrived after this week's slot; their first digest is due "
            f"{first:%A %H:%M} ({first:%Y-%m-%d}, their time)"
        )
    if snoozed:
        reasons.append(f"{_owners(snoozed)} open actions are all snoozed")
    if had_digest:
        reasons.append(f"{_owners(had_digest)} already had this week's digest")
    if not reasons:
        return "Nothing due right now."
    return "Nothing sent: " + "; ".join(reasons) + "."


def _owners(n: int) -> str:
    return f"{n} owner's" if n == 1 else f"{n} owners'"
