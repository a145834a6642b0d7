"""Prometheus metrics: requests and acknowledgement latency by platform, the core's counts,
and what the database holds (reminder deliveries by status, inbox/outbox depth, pool use, how far
each tracker lags behind Casebook).

Not public by default: /metrics is served on PORT only to `Authorization: Bearer
<CASEBOOK_METRICS_TOKEN>`, or on its own METRICS_PORT (to keep private); with neither, not at all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from adapters.ops.settings import ServeSettings
from bot import observe
from storage.db import Database

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

REQUESTS = Counter(
    "casebook_requests", "HTTP requests served, by platform and status class", ["platform", "status"]
)
ACK_SECONDS = Histogram(
    "casebook_ack_seconds",
    "Time from a request's arrival to its response (the platform's acknowledgement)",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
)
COUNTERS = {
    "interview_turn": Counter("casebook_interview_turns", "Interview turns applied", ["platform"]),
    "refusal": Counter("casebook_refusals", "Inputs refused (nothing changed)", ["platform"]),
    "followup_job": Counter("casebook_followup_jobs", "Follow-up jobs run", ["kind", "outcome"]),
    "reminder": Counter("casebook_reminders", "Reminder digests and escalations", ["kind", "outcome"]),
}
DELIVERIES = Gauge("casebook_reminder_deliveries", "Reminder delivery rows by status", ["status"])
QUEUE_DEPTH = Gauge("casebook_queue_depth", "Rows waiting in the inbox and outbox tables", ["table"])
POOL = Gauge("casebook_db_pool", "Database connections: pool size, checked out, overflow", ["state"])
TRACKER_LAG = Gauge(
    "casebook_tracker_oldest_unsynced_seconds",
    "Age of the oldest change in Casebook that the tracker does not show yet (0: in sync)",
    ["tracker"],
)
HISTOGRAMS = {
    "tracker_sync_delay": Histogram(
        "casebook_tracker_sync_delay_seconds",
        "Time from a change in Casebook (a published action, a close, snooze or reassignment) to "
        "the sync pass that showed it in the tracker",
        ["tracker"],
        buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600),
    ),
}
# What waits: inbox rows not yet applied, outbox rows (replies, jobs) not yet settled.
QUEUE_TABLES = {"inbox": "applied_at", "outbox": "settled_at"}
PLATFORM_PREFIXES = (("/slack/", "slack"), ("/api/messages", "teams"))
DB_TIMEOUT_SECONDS = 3


class PrometheusMeter:
    """The core's counts (bot.observe) as Prometheus counters."""

    def count(self, name: str, **labels: str) -> None:
        counter = COUNTERS.get(name)
        if counter is None:
            log.debug("no metric for count %r", name)
            return
        counter.labels(**labels).inc()

    def measure(self, name: str, value: float, **labels: str) -> None:
        histogram = HISTOGRAMS.get(name)
        if histogram is None:
            log.debug("no metric for measure %r", name)
            return
        histogram.labels(**labels).observe(value)


def install() -> None:
    observe.install(PrometheusMeter())


def platform_of(path: str) -> str:
    return next((name for prefix, name in PLATFORM_PREFIXES if path.startswith(prefix)), "web")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every platform request (health and metrics scrapes are left out)."""
    if request.path in {"/healthz", "/readyz", "/metrics"}:
        return await handler(request)
    platform, started = platform_of(request.path), time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        ACK_SECONDS.labels(platform=platform).observe(time.perf_counter() - started)
        REQUESTS.labels(platform=platform, status=f"{status // 100}xx").inc()


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def refresh(db: Database, now: dt.datetime) -> None:
    """Read the database's gauges; a database that does not answer leaves the last values."""
    pool = db.engine.pool
    for state, reader in (("size", "size"), ("checked_out", "checkedout"), ("overflow", "overflow")):
        if hasattr(pool, reader):
            POOL.labels(state=state).set(float(getattr(pool, reader)()))
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS), db.engine.connect() as connection:
            tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            if "reminder_deliveries" in tables:
                rows = await connection.execute(
                    text("SELECT status, COUNT(*) FROM reminder_deliveries GROUP BY status")
                )
                for status, number in rows:
                    DELIVERIES.labels(status=str(status)).set(number)
            for table, done in QUEUE_TABLES.items():
                if table in tables:
                    pending = text(f"SELECT COUNT(*) FROM {table} WHERE {done} IS NULL")
                    number = (await connection.execute(pending)).scalar_one()
                    QUEUE_DEPTH.labels(table=table).set(number)
        if "tracker_configs" in tables:
            await _tracker_lag(db, now)
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        log.warning("metrics: the database did not answer: %r", error)


async def _tracker_lag(db: Database, now: dt.datetime) -> None:
    from bot.trackers.status import oldest_unsynced

    async with asyncio.timeout(DB_TIMEOUT_SECONDS), db.transaction() as session:
        lag = await oldest_unsynced(session, now=now)
    TRACKER_LAG.clear()  # a tracker no workspace uses any more leaves the scrape
    for kind, seconds in lag.items():
        TRACKER_LAG.labels(tracker=kind).set(seconds)


def metrics_handler(db: Database, token: str | None, clock: Clock = _wall_clock) -> Handler:
    async def metrics(request: web.Request) -> web.Response:
        if token is not None:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                raise web.HTTPUnauthorized(
                    text="metrics need Authorization: Bearer <CASEBOOK_METRICS_TOKEN>",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        await refresh(db, clock())
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics


def mount(app: web.Application, *, db: Database, serve: ServeSettings) -> None:
    install()
    app.middlewares.append(measure)
    token = serve.metrics_token.get_secret_value() if serve.metrics_token else None
    if token:
        app.router.add_get("/metrics", metrics_handler(db, token))
    if serve.metrics_port is not None:
        _serve_separately(app, db=db, host=serve.host, port=serve.metrics_port)
    if not token and serve.metrics_port is None:
        log.info("metrics are off: set CASEBOOK_METRICS_TOKEN or METRICS_PORT to serve /metrics")


def _serve_separately(app: web.Application, *, db: Database, host: str, port: int) -> None:
    """/metrics alone on its own port, started and stopped with the main app."""
    metrics_app = web.Application()
    metrics_app.router.add_get("/metrics", metrics_handler(db, None))
    runner = web.AppRunner(metrics_app, access_log=None)

    async def start(_: web.Application) -> None:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("metrics on %s:%d/metrics", host, port)

    async def stop(_: web.Application) -> None:
        await runner.cleanup()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
