"""Shared pieces of the drafting tests: a published case, running follow-ups, reading rows."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import Settings
from bot.jobs import run_followup
from bot.messages import Reply
from storage import repo
from storage.db import Database
from storage.models import Case
from tests.conftest import NOW, Chat

ROOT_CAUSE = (
    "A config change cut the pgbouncer pool for payments from 200 to 20; the deploy pipeline "
    "applied it without a capacity check."
)
MODEL = "casebook-test-model"


def interview(
    *, symptoms: Sequence[tuple[str, str]] = (), root_cause: str = ROOT_CAUSE
) -> list[tuple[str, str]]:
    """(user, text) for a complete interview that ends published."""
    return [
        ("alice", "SEV2"),
        ("alice", "deploy/config"),
        ("bob", "checkout-api, payments, pgbouncer"),
        ("alice", "2026-11-20 13:00"),
        ("bob", "+9m"),
        ("alice", "+41m"),
        ("alice", "+1h12m"),
        ("bob", "502 rate on checkout-api rose to 14%"),
        ("bob", "PagerDuty: CheckoutErrorBudgetBurn fired"),
        *symptoms,
        ("bob", "done"),
        ("carol", "Suspected the CDN edge in eu-west — cost: 15 min"),
        ("carol", "done"),
        ("bob", "skip"),
        ("bob", "skip"),  # where we got lucky
        ("bob", "Checked the checkout error dashboard: 502s only on requests that call payments"),
        ("carol", "pgbouncer SHOW POOLS: cl_waiting 400, pool_size 20"),
        ("bob", "done"),
        ("alice", root_cause),
        ("alice", "No alert on connection-pool saturation"),
        ("alice", "done"),
        ("alice", "Alert when pgbouncer cl_waiting > 50 for 5 minutes"),
        ("alice", "<@bob>"),
        ("alice", "in 2 weeks"),
        ("alice", "detect"),
        ("alice", "none"),
        ("alice", "done"),
        ("alice", "confirm"),
        ("alice", "yes"),
    ]


async def publish(
    chat: Chat, *, title: str = "Checkout 502s after the pool change", **answers: object
) -> Reply:
    """Run a whole interview through the service; the publication reply."""
    await chat.command(f"postmortem {title}")
    replies: list[Reply] = []
    for user, text in interview(**answers):  # type: ignore[arg-type]
        replies = await chat.send(text, user=user)
    published = next((r for r in replies if r.text.startswith("Case #")), None)
    assert published is not None, [r.text for r in replies]
    return published


async def run_job(chat: Chat, key: str) -> list[Reply]:
    return await run_followup(
        chat.db, key, now=NOW, platform=chat.platform, tenant=chat.tenant, settings=Settings()
    )


async def case_row(db: Database, *, tenant: str = "T1", number: int = 1) -> Case:
    async with db.transaction() as session:
        t = await repo.tenant(session, now=NOW, platform="console", external_id=tenant)
        assert t.id is not None
        case = await repo.case_by_number(session, tenant_id=t.id, number=number)
        assert case is not None
        return case
