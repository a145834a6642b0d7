"""The tracker port: what the core asks of GitHub Issues, Jira or Linear.

Adapters (adapters/trackers/) implement it over each tracker's documented API. Every
failure is a TrackerError saying why and whether a later try may work; the sync pass
records it and backs off, so a tracker that is down never blocks anything else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Failure(StrEnum):
    DOWN = "down"  # no answer, a timeout, a 5xx: try again later
    RATE_LIMITED = "rate limited"  # 429 (or the tracker's own signal): wait Retry-After
    CREDENTIALS = "credentials refused"  # 401/403: someone must fix the token; keep trying slowly
    REJECTED = "rejected"  # the tracker refused this request (a 404 repo, a 400 field)
    UNCERTAIN = "uncertain"  # sent, but the answer was lost: the create may have happened


class TrackerError(Exception):
    def __init__(self, message: str, *, failure: Failure, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.failure = failure
        self.retry_after = retry_after

    @property
    def stops_the_pass(self) -> bool:
        """Whether the rest of this pass should leave the tracker alone (it is not the request)."""
        return self.failure in {Failure.DOWN, Failure.RATE_LIMITED, Failure.CREDENTIALS}

    def describe(self) -> str:
        return f"{self.failure}: {self}"


@dataclass(frozen=True)
class Issue:
    key: str  # the adapter's stable id: "owner/repo#12", "OPS-12", a Linear issue id
    url: str
    closed: bool = False


@dataclass(frozen=True)
class NewIssue:
    title: str
    body: str  # Markdown, ends with the marker
    marker: str  # "casebook-action:<tenant>:<case>.<n>": looked up before a retried create
    labels: tuple[str, ...]
    due: dt.date | None
    assignee_email: str | None


@dataclass(frozen=True)
class IssueUpdate:
    """What changed in Casebook. `body` is the current rendering (GitHub has no due date field)."""

    body: str
    close_comment: str | None = None  # set: comment, then close
    cancelled: bool = False  # closed as "not planned" where the tracker can say so
    due: dt.date | None = None
    due_changed: bool = False
    assignee_email: str | None = None
    assignee_changed: bool = False


class Tracker(Protocol):
    kind: str  # github | jira | linear

    async def find(self, target: str, marker: str) -> Issue | None:
        """The issue carrying `marker` in `target`, if one exists."""
        ...

    async def create(self, target: str, issue: NewIssue) -> Issue: ...

    async def update(self, target: str, key: str, change: IssueUpdate) -> None: ...

    async def closed_since(self, target: str, since: dt.datetime) -> list[Issue]:
        """Casebook's issues in `target` closed (or changed and now closed) since then."""
        ...


Trackers = Mapping[str, Tracker]
# How the core opens the configured trackers (their HTTP sessions) for a unit of work.
TrackerOpener = Callable[[], AbstractAsyncContextManager[Trackers]]

LABELS = {"github": "GitHub", "jira": "Jira", "linear": "Linear"}
KINDS = tuple(LABELS)
