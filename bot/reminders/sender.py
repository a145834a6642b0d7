"""Send claimed deliveries and write back what happened, in batches.

Rules that keep a digest from being lost or doubled:
- nothing is sent on a claim that may have expired (a deadline well inside the claim TTL);
- a send that may have reached the platform (`uncertain`) is never re-sent blindly: it is
  re-sent only after the notifier says the message is not there (`DeliveryCheck`), and
  given up otherwise;
- a claim left by a crashed sweep is checked the same way when the notifier can, and
  re-sent when it cannot (the crash most likely came before the send);
- a rate limit pauses that tenant for this sweep and gives the attempt back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

from bot.notify import SendResult
from bot.reminders.config import ReminderSettings
from storage.db import Database
from storage.deliveries.ledger import Claim, Ledger, Outcome, Status, record_outcomes

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


@dataclass
class Job:
    """One claimed delivery, ready to go."""

    claim: Claim
    platform: str
    tenant: str  # the platform's tenant id
    recipient: str  # for people reading the report: "@U123" or "thread C1:169..."
    action_ids: tuple[int, ...]
    send: Callable[[], Awaitable[SendResult]]
    # Asks the platform whether an earlier attempt landed; None when it cannot tell.
    check: Callable[[], Awaitable[bool | None]] | None = None
    previous_uncertain: bool = False  # the last attempt reported `uncertain`
    stale: bool = False  # taken over from a sweep that died holding it
    target: str | None = None


@dataclass(frozen=True)
class Line:
    """One line of a sweep report."""

    kind: str  # "digest" | "escalation"
    platform: str
    tenant: str
    recipient: str
    week: str
    actions: int
    status: str  # "sent", "would send", "failed", "uncertain", "gave_up", "deferred"
    error: str | None = None

    def describe(self) -> str:
        what = f"{self.kind} ({self.actions} action{'s' if self.actions != 1 else ''}, {self.week})"
        text = f"{self.status:>10}  {self.platform}/{self.tenant} {self.recipient}: {what}"
        return text + (f" — {self.error}" if self.error else "")


@dataclass
class Sender:
    db: Database
    ledger: Ledger
    token: str
    settings: ReminderSettings
    clock: Clock
    claimed_at: dt.datetime
    kind: str
    lines: list[Line] = field(default_factory=list)
    _buffer: list[Outcome] = field(default_factory=list)
    _last_flush: float = 0.0
    _paused: dict[str, dt.datetime] = field(default_factory=dict)
    _flush_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def deadline(self) -> dt.datetime:
        # Stop well before another sweep may consider our claims abandoned.
        return self.claimed_at + self.settings.claim_ttl * 0.8

    async def run(self, jobs: Sequence[Job]) -> None:
        self._last_flush = asyncio.get_running_loop().time()
        queue = iter(jobs)
        workers = max(1, min(self.settings.send_concurrency, len(jobs)))
        await asyncio.gather(*(self._worker(queue) for _ in range(workers)))
        await self.flush()

    async def give_up(self, jobs: Sequence[Job], reason: str) -> None:
        for job in jobs:
            self._record(job, Outcome(job.claim.id, Status.GAVE_UP, error=reason), "gave_up")
        await self.flush()

    async def _worker(self, queue: Iterator[Job]) -> None:
        for job in queue:
            outcome = await self._attempt(job)
            self._record(job, outcome, _line_status(outcome))
            if asyncio.get_running_loop().time() - self._last_flush >= self.settings.flush_seconds:
                await self.flush()

    def _record(self, job: Job, outcome: Outcome, status: str) -> None:
        self._buffer.append(outcome)
        self.lines.append(
            Line(
                self.kind,
                job.platform,
                job.tenant,
                job.recipient,
                job.claim.week,
                len(job.action_ids),
                status,
                outcome.error if outcome.status != Status.SENT else None,
            )
        )

    async def flush(self) -> None:
        async with self._flush_lock:
            batch, self._buffer = self._buffer, []
            self._last_flush = asyncio.get_running_loop().time()
            if not batch:
                return
            async with self.db.transaction() as session:
                written = await record_outcomes(session, self.ledger, token=self.token, outcomes=batch)
            if written != len(batch):
                log.warning(
                    "%s: %d of %d outcomes not written: their claims were taken over after expiring",
                    self.ledger.name,
                    len(batch) - written,
                    len(batch),
                )

    async def _attempt(self, job: Job) -> Outcome:
        now = self.clock()
        if now >= self.deadline:
            return self._defer(job, now, "claim about to expire before this send; next tick")
        paused_until = self._paused.get(job.tenant)
        if paused_until is not None and paused_until > now:
            return self._defer(job, paused_until, "rate limited; retried after the pause")
        if job.claim.attempts > self.settings.max_attempts:
            return Outcome(
                job.claim.id, Status.GAVE_UP, error=f"gave up after {job.claim.attempts - 1} attempts"
            )
        if job.check is not None and (job.previous_uncertain or job.stale):
            landed = await self._check(job)
            if landed:
                log.info("%s for %s had landed after all; not sending it again", self.kind, job.recipient)
                return Outcome(
                    job.claim.id, Status.SENT, sent_at=now, action_ids=job.action_ids, target=job.target
                )
            if landed is None and job.previous_uncertain:
                return self._uncertain(job, now, "still cannot tell whether the earlier attempt landed")
        if job.stale and job.check is None:
            # A sweep died holding this claim, maybe mid-send, and this notifier cannot look in
            # the DM history (Teams, the console, Slack without im:history): at-most-once.
            log.warning(
                "%s to %s: its claim was cut off by a crash and cannot be checked; not sent again",
                self.kind,
                job.recipient,
            )
            return self._uncertain(job, now, "claim cut off by a crash")
        try:
            result = await job.send()
        except Exception as error:  # the boundary: one broken send must not stop the sweep
            log.exception("%s to %s raised", self.kind, job.recipient)
            result = SendResult(ok=False, uncertain=True, error=f"{type(error).__name__}: {error}")
        return self._outcome(job, result, now)

    async def _check(self, job: Job) -> bool | None:
        assert job.check is not None
        try:
            return await job.check()
        except Exception:  # a failed check is "cannot tell", never "not delivered"
            log.exception("could not check whether the %s to %s landed", self.kind, job.recipient)
            return None

    def _outcome(self, job: Job, result: SendResult, now: dt.datetime) -> Outcome:
        claim = job.claim
        if result.ok:
            return Outcome(claim.id, Status.SENT, sent_at=now, action_ids=job.action_ids, target=job.target)
        error = result.error or "send failed"
        if result.uncertain:
            return self._uncertain(job, now, error)
        if result.retryable and result.retry_after is not None:
            pause = now + dt.timedelta(seconds=max(result.retry_after, 1.0))
            self._paused[job.tenant] = max(pause, self._paused.get(job.tenant, pause))
            return self._defer(job, pause, f"rate limited: {error}")
        if result.retryable and claim.attempts < self.settings.max_attempts:
            return Outcome(
                claim.id,
                Status.FAILED,
                error=error,
                next_attempt_at=now + self.settings.backoff(claim.attempts),
                action_ids=job.action_ids,
            )
        return Outcome(claim.id, Status.GAVE_UP, error=error, action_ids=job.action_ids)

    def _uncertain(self, job: Job, now: dt.datetime, error: str) -> Outcome:
        if job.check is None or job.claim.attempts >= self.settings.max_attempts:
            # Nothing can tell us whether it landed: better one lost reminder than a double post.
            return Outcome(
                job.claim.id,
                Status.GAVE_UP,
                error=f"may have been delivered, not sent again ({error})",
                action_ids=job.action_ids,
            )
        return Outcome(
            job.claim.id,
            Status.UNCERTAIN,
            error=error,
            next_attempt_at=now + self.settings.backoff(job.claim.attempts),
            action_ids=job.action_ids,
        )

    def _defer(self, job: Job, until: dt.datetime, reason: str) -> Outcome:
        """Hand the row back, this attempt never made; a row that may have landed keeps saying so."""
        status = Status.UNCERTAIN if job.previous_uncertain or job.stale else Status.FAILED
        return Outcome(job.claim.id, status, error=reason, next_attempt_at=until, attempts_adjust=-1)


def _line_status(outcome: Outcome) -> str:
    return "deferred" if outcome.attempts_adjust < 0 else outcome.status.value
