"""Digests that no longer tell the truth are drawn again, in place.

A digest DM lists an owner's actions with Done / Snooze / Reassign buttons. Once one of them is
closed, snoozed or handed on (from that DM, another message, chat or the web), the message is
edited to say so and the buttons that no longer apply are gone; App Home pages of the people
concerned are redrawn where the platform has them. Runs after a turn that may have changed an
action (the chat adapters) and on every clock tick (which catches changes made elsewhere).

A change marks its digests stale in its own transaction (storage.digests.mark_changed); a
message is redrawn by one process, which takes the mark off first (compare-and-set); an edit
that failed for a reason worth retrying puts it back for the next pass.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping

from bot.notify import DirectEditor, HomeRefresher, Notifier
from bot.parsing import zone
from bot.reminders.digest import redrawn_digest_reply
from storage import digests
from storage.db import Database

log = logging.getLogger(__name__)

LOOKBACK = dt.timedelta(days=35)  # older digests are left as they are (their buttons still check)
_CHANGING = frozenset({"done", "cancel", "snooze", "reassign"})


def might_change_actions(text: str) -> bool:
    """Whether a message (typed, a button's value, a form's) may close, snooze or reassign an
    action: only then is a refresh worth a query after the turn."""
    words = text.strip().lstrip("/").split(maxsplit=1)
    return bool(words) and words[0].lower() in _CHANGING


async def refresh_digests(
    db: Database,
    editors: Mapping[str, Notifier | object],
    *,
    now: dt.datetime,
    default_timezone: str = "UTC",
    public_url: str | None = None,
    platform: str | None = None,
    tenant: str | None = None,
) -> int:
    """Redraw every recent digest whose actions changed since it was drawn; how many were."""
    async with db.transaction() as session:
        found = await digests.stale(session, posted_since=now - LOOKBACK, platform=platform, tenant=tenant)
        found = [d for d in found if isinstance(editors.get(d.platform), DirectEditor)]
    homes: dict[tuple[str, str], set[str]] = defaultdict(set)
    redrawn = 0
    for digest in found:
        editor = editors[digest.platform]
        assert isinstance(editor, DirectEditor)
        async with db.transaction() as session:
            if not await digests.take(session, message_id=digest.id):
                continue  # another process redrew it a moment ago
            actions = (await digests.listed(session, message_ids=[digest.id])).get(digest.id, [])
        today = now.astimezone(zone(digest.owner_timezone or default_timezone)).date()
        reply = redrawn_digest_reply(
            actions,
            owner_user_id=digest.owner_user_id,
            today=today,
            delivery_key=digest.delivery_key,
            public_url=public_url,
        )
        result = await editor.update_direct(
            tenant=digest.tenant, user_id=digest.owner_user_id, ref=digest.ref, reply=reply
        )
        if not result.ok:
            log.warning(
                "could not redraw digest %s for %s: %s", digest.ref, digest.owner_user_id, result.error
            )
            if result.retryable:
                async with db.transaction() as session:
                    await digests.give_back(session, message_id=digest.id)
            continue
        redrawn += 1
        people = {digest.owner_user_id, *(a.owner_user_id for a in actions if a.owner_user_id)}
        homes[(digest.platform, digest.tenant)] |= people
    for (where, team), people in homes.items():
        refresher = editors.get(where)
        if isinstance(refresher, HomeRefresher):
            await refresher.refresh_homes(tenant=team, user_ids=sorted(people))
    if redrawn:
        log.info("redrew %d digest(s) whose actions changed", redrawn)
    return redrawn
