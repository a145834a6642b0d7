"""An issue closed in the tracker closes its action, with the issue as evidence.

Webhooks and the periodic pull both end here. The close goes through the lifecycle
function chat uses (bot.lifecycle.close_action), acted by the workspace's tracker as a
person of its own; the owner and the case lead are told through the notifier port once
the close is committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot import lifecycle
from bot.messages import Reply, ReplyKind
from bot.notify import Notifier
from bot.trackers.port import LABELS, Issue
from storage import repo
from storage import trackers as store
from storage.db import Database
from storage.models import ActionStatus, Person, Tenant
from storage.trackers import Synced

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Closed:
    tenant: str
    ref: str
    url: str


@dataclass(frozen=True)
class _Notice:
    platform: str
    tenant: str
    user_ids: tuple[str, ...]
    reply: Reply


async def apply_closed(
    db: Database,
    *,
    kind: str,
    issues: Sequence[Issue],
    notifiers: Mapping[str, Notifier],
    now: dt.datetime,
    tenant_id: int | None = None,
) -> list[Closed]:
    """Close the open actions of these closed issues; what was closed (already closed: nothing)."""
    closed_issues = {i.key: i for i in issues if i.closed}
    async with db.transaction() as session:
        rows = await store.rows_by_issue(session, kind=kind, issue_keys=list(closed_issues))
    outcomes, notices = [], []
    for row in rows:
        if tenant_id is not None and row.tenant_id != tenant_id:
            continue
        issue = closed_issues[row.issue_key or ""]
        done = await _close_one(
            db, row_id=row.id or 0, kind=kind, url=issue.url or row.issue_url or "", now=now
        )
        if done is not None:
            outcomes.append(done[0])
            notices.append(done[1])
    for notice in notices:
        await _tell(notifiers, notice)
    return outcomes


async def _close_one(
    db: Database, *, row_id: int, kind: str, url: str, now: dt.datetime
) -> tuple[Closed, _Notice] | None:
    label = LABELS.get(kind, kind)
    async with db.transaction() as session:
        items = await store.work_items(session, ids=[row_id])
        if not items:
            return None
        item = items[0]
        action, case = item.action, item.case
        tenant = await session.get(Tenant, action.tenant_id)
        assert tenant is not None and tenant.id is not None
        ref = f"{case.number}.{action.number}"
        if action.status != ActionStatus.OPEN:
            # Closed on both sides already (or closed here first): nothing to push back.
            synced = Synced(action.status, item.row.synced_due, item.row.synced_owner_id)
            await store.record_pushed(session, row_id=row_id, synced=synced, now=now)
            return None
        actor = await tracker_person(session, tenant_id=tenant.id, kind=kind, now=now)
        found = lifecycle.Located(case, action)
        try:
            await lifecycle.close_action(session, actor=actor, found=found, evidence=url, now=now)
        except lifecycle.LifecycleError as error:
            log.info("action %s was not closed from %s: %s", ref, label, error)
            return None
        synced = Synced(ActionStatus.DONE, item.row.synced_due, item.row.synced_owner_id)
        await store.record_pushed(session, row_id=row_id, synced=synced, now=now)
        told = tuple(
            dict.fromkeys(
                p.platform_user_id for p in (item.person(action.owner_id), item.person(case.lead_id)) if p
            )
        )
    log.info("action %s of %s/%s closed from %s (%s)", ref, tenant.platform, tenant.external_id, label, url)
    reply = Reply(
        f"✅ `{ref}` ({action.description}) of case #{case.number} was closed in {label}: {url}",
        ReplyKind.NOTICE,
        case_number=case.number,
    )
    closed = Closed(f"{tenant.platform}/{tenant.external_id}", ref, url)
    return closed, _Notice(tenant.platform, tenant.external_id, told, reply)


async def tracker_person(
    session: store.AsyncSession, *, tenant_id: int, kind: str, now: dt.datetime
) -> Person:
    """The tracker as the workspace's integration: it may close actions (an admin picked it).

    Its id (`tracker:<kind>`) cannot be a chat user's: Slack ids are U…/W…, Teams ids 29:….
    """
    return await repo.person(
        session,
        tenant_id=tenant_id,
        user_id=f"tracker:{kind}",
        display_name=LABELS.get(kind, kind),
        is_admin=True,
        now=now,
    )


async def _tell(notifiers: Mapping[str, Notifier], notice: _Notice) -> None:
    notifier = notifiers.get(notice.platform)
    if notifier is None:
        log.info(
            "no notifier for %s here: the owner and lead of a tracker-closed action are not told",
            notice.platform,
        )
        return
    for user_id in notice.user_ids:
        reply = Reply(
            notice.reply.text, notice.reply.kind, case_number=notice.reply.case_number, to_user=user_id
        )
        result = await notifier.send_direct(tenant=notice.tenant, user_id=user_id, replies=[reply])
        if not result.ok:
            log.warning("could not tell %s that an action closed in the tracker: %s", user_id, result.error)
