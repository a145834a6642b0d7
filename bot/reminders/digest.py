"""What the weekly digest and the overdue escalation say."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.commands.actions import action_list_item
from bot.links import case_url
from bot.messages import ListItem, Reply, ReplyKind
from storage.deliveries.workload import ActionRow, OverdueRow
from storage.digests import ListedAction

MAX_ITEMS = 25  # one chat message; `actions` lists the rest


def by_due_date(actions: Sequence[ActionRow]) -> list[ActionRow]:
    """Earliest due first, so overdue ones lead; undated ones last."""
    return sorted(
        actions, key=lambda a: (a.due_date is None, a.due_date or dt.date.max, a.case_number, a.number)
    )


def digest_reply(
    actions: Sequence[ActionRow], *, today: dt.date, delivery_key: str, public_url: str | None = None
) -> Reply:
    ordered = by_due_date(actions)
    overdue = sum(1 for a in ordered if a.due_date is not None and a.due_date < today)
    counts = f"{len(ordered)} open" + (f", **{overdue} overdue**" if overdue else "")
    lines = [
        f"**Your prevention actions this week** ({counts})",
        "Each one closes a door the last incident came through. Mark it done with a link or a note, "
        "snooze it a week, or hand it to someone better placed.",
    ]
    if len(ordered) > MAX_ITEMS:
        lines.append(f"_Showing the first {MAX_ITEMS}; `actions` lists all {len(ordered)}._")
    items = tuple(_item(a, today=today, public_url=public_url) for a in ordered[:MAX_ITEMS])
    return Reply("\n".join(lines), ReplyKind.LIST, items=items, delivery_key=delivery_key)


def redrawn_digest_reply(
    listed: Sequence[ListedAction],
    *,
    owner_user_id: str,
    today: dt.date,
    delivery_key: str,
    public_url: str | None = None,
) -> Reply:
    """A digest already posted, drawn again as its actions stand now: closed, snoozed or handed
    on ones say so and lose the buttons that no longer apply; open ones keep theirs."""
    live = [a.row for a in listed if a.status == "open" and a.owner_user_id == owner_user_id]
    awake = [row for row in live if row.awake_on(today)]
    overdue = sum(1 for a in awake if a.due_date is not None and a.due_date < today)
    counts = f"{len(awake)} still open" + (f", **{overdue} overdue**" if overdue else "")
    lines = [
        f"**Your prevention actions this week** ({counts})",
        "_Updated as they change: closed, snoozed and handed-on actions say so here._",
    ]
    items = tuple(
        _redrawn_item(a, owner_user_id=owner_user_id, today=today, public_url=public_url)
        for a in listed[:MAX_ITEMS]
    )
    return Reply("\n".join(lines), ReplyKind.LIST, items=items, delivery_key=delivery_key)


def _redrawn_item(
    listed: ListedAction, *, owner_user_id: str, today: dt.date, public_url: str | None
) -> ListItem:
    action = listed.row
    item = _item(action, today=today, public_url=public_url)
    ref = item.ref or ""
    case = item.text.rpartition(" · ")[2]  # the last part names the case (linked when it can be)
    what = f"`{ref}` {action.description}"
    if listed.status != "open":
        mark = {"done": "✓", "cancelled": "✗"}.get(listed.status, "•")
        return ListItem(f"{mark} {what} — **{listed.status}** · {case}", ref=ref)
    if listed.owner_user_id != owner_user_id:
        who = f"<@{listed.owner_user_id}>" if listed.owner_user_id else "no one yet"
        return ListItem(f"→ {what} — now with {who} · {case}", ref=ref)
    if not action.awake_on(today):
        # Snoozed: Done and Reassign still apply; another snooze is for when it comes back.
        choices = tuple(c for c in item.choices if not c.value.startswith("/snooze"))
        return ListItem(item.text, choices=choices, ref=ref)
    return item


def escalation_reply(
    rows: Sequence[OverdueRow], *, today: dt.date, delivery_key: str, public_url: str | None = None
) -> Reply:
    first = rows[0].action
    title = f" {first.case_title}" if first.case_title else ""
    url = case_url(public_url, first.case_number)
    lines = [
        f"⏰ **Case #{first.case_number}{title}: prevention actions two weeks or more overdue**"
        + (f" · [open the case]({url})" if url else ""),
        "They were agreed after the incident and are still open. Owner or case lead: close, "
        "snooze or reassign each one.",
    ]
    ordered = sorted(rows, key=lambda r: (r.action.due_date or dt.date.max, r.action.number))
    items = tuple(
        _item(
            r.action,
            today=today,
            owner=f"@{r.owner_name or r.owner_user_id}" if r.owner_user_id else "unassigned",
            public_url=None,  # the case is linked once, above
        )
        for r in ordered[:MAX_ITEMS]
    )
    return Reply(
        "\n".join(lines),
        ReplyKind.NOTICE,
        items=items,
        case_number=first.case_number,
        delivery_key=delivery_key,
    )


def _item(action: ActionRow, *, today: dt.date, public_url: str | None, owner: str | None = None) -> ListItem:
    return action_list_item(
        case_number=action.case_number,
        case_title=None if owner else action.case_title,  # an escalation names its case once, above
        number=action.number,
        description=action.description,
        due=action.due_date,
        snoozed_until=action.snoozed_until,
        today=today,
        owner=owner,
        issue_url=action.issue_url,
        case_url=case_url(public_url, action.case_number),
    )
