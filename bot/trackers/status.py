"""`trackers status` / `tracker status`: what the trackers do not show as Casebook has it, and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.trackers.port import KINDS, LABELS
from bot.trackers.sync import waiting_since, wanted
from storage import trackers as store
from storage.models import ActionStatus, Case, PreventionAction, TrackerIssue
from storage.trackers import Destination, IssueState, Synced


@dataclass
class DestinationStatus:
    destination: Destination
    available: bool
    linked: int = 0
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        d = self.destination
        head = f"{d.platform}/{d.external_id} → {LABELS.get(d.kind, d.kind)} {d.target}: {self.linked} linked"
        if not self.available:
            head += " · ⚠ no credentials for it in this process (see the README's Trackers section)"
        head += f", {len(self.problems)} not synced" if self.problems else ", everything in sync"
        return "\n".join([head, *self.problems])


async def tracker_status(
    session: AsyncSession, *, available: Collection[str], now: dt.datetime, tenant_id: int | None = None
) -> list[DestinationStatus]:
    found = await store.destinations(session, kinds=KINDS, tenant_id=tenant_id)
    result = []
    for destination in found:
        status = DestinationStatus(destination, destination.kind in available)
        for action, case, row in await store.published_actions(session, destination=destination):
            if row is not None and row.state == IssueState.LINKED:
                status.linked += 1
            problem = _problem(action, row, now)
            if problem:
                status.problems.append(f"- `{case.number}.{action.number}` {problem}")
        result.append(status)
    return result


def _problem(action: PreventionAction, row: TrackerIssue | None, now: dt.datetime) -> str | None:
    if row is None:
        return (
            "waiting for its issue (the next pass creates it)" if action.status == ActionStatus.OPEN else None
        )
    retry = _when(row, now)
    if row.state != IssueState.LINKED:
        if action.status != ActionStatus.OPEN and row.state == IssueState.FAILED:
            return None  # closed before its issue existed: nothing to show in the tracker
        if row.last_error:
            return f"no issue yet: {row.last_error} ({row.attempts} attempt(s){retry})"
        return "no issue yet: a create is under way"
    if row.synced_status != ActionStatus.OPEN:
        return None
    if wanted(action) == Synced(row.synced_status, row.synced_due, row.synced_owner_id):
        return None
    if row.last_error:
        return f"change not pushed to {row.issue_url}: {row.last_error} ({row.attempts} attempt(s){retry})"
    return f"change waiting to be pushed to {row.issue_url}"


def _when(row: TrackerIssue, now: dt.datetime) -> str:
    if row.next_attempt_at is None or row.next_attempt_at <= now:
        return ", retried on the next pass"
    return f", next try after {row.next_attempt_at:%Y-%m-%d %H:%M} UTC"


def describe(statuses: list[DestinationStatus]) -> str:
    if not statuses:
        return "No workspace has a tracker: `tracker github owner/repo` (or jira, linear) picks one."
    return "\n\n".join(s.describe() for s in statuses)


async def oldest_unsynced(session: AsyncSession, *, now: dt.datetime) -> dict[str, float]:
    """Per tracker kind in use: the age in seconds of the oldest change Casebook has that its
    tracker does not show yet (0 when every destination of that kind is in sync)."""
    oldest: dict[str, float] = {}
    for destination in await store.destinations(session, kinds=KINDS):
        ages = [
            (now - since).total_seconds()
            for action, case, row in await store.published_actions(session, destination=destination)
            if (since := unsynced_since(action, case, row, destination)) is not None
        ]
        oldest[destination.kind] = max([oldest.get(destination.kind, 0.0), *ages, 0.0])
    return oldest


def unsynced_since(
    action: PreventionAction, case: Case, row: TrackerIssue | None, destination: Destination
) -> dt.datetime | None:
    """Since when the tracker has lagged behind this action, or None when it shows it as it is."""
    if row is None or row.state != IssueState.LINKED:
        return waiting_since(case, destination) if action.status == ActionStatus.OPEN else None
    if row.synced_status != ActionStatus.OPEN:
        return None
    if wanted(action) == Synced(row.synced_status, row.synced_due, row.synced_owner_id):
        return None
    return action.updated_at
