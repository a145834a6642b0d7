"""`casebook demo`: a complete, realistic interview through the real service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from adapters.console.followups import run_followups
from adapters.console.render import render
from adapters.console.session import PLATFORM, TENANT, inbound_for
from bot.config import Settings
from bot.service import handle
from storage import repo
from storage.db import Database

# (who, what they type). Three responders answer in one conversation, as in a thread.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("alice", "postmortem Checkout 502s after the payments pool change"),
    ("alice", "SEV2"),
    ("alice", "deploy/config"),
    ("bob", "checkout-api, payments, pgbouncer"),
    ("alice", "3 hours ago"),
    ("bob", "+9m"),
    ("alice", "+41m"),
    ("alice", "+1h12m"),
    ("bob", "- 502 rate on checkout-api rose to 14% (Grafana: Checkout overview)\n"
            "- PagerDuty: CheckoutErrorBudgetBurn fired\n"
            "- Customers reported failed card payments on the status page"),
    ("bob", "done"),
    ("carol", "Suspected the CDN edge in eu-west — cost: 15 min purging caches and reading edge logs"),
    ("carol", "done"),
    ("bob", "The payments-db CPU alarm pointed at the database, which was in fact idle — cost: 10 min"),
    ("bob", "done"),
    ("carol", "It peaked at 14:00 on a Tuesday, hours before the evening sale traffic"),
    ("carol", "done"),
    ("bob", "Checked the checkout error dashboard: 502s only on requests that call payments"),
    ("carol", "Payments pods healthy, but p99 latency at 30 s, all of it waiting for a DB connection"),
    ("bob", "pgbouncer SHOW POOLS: cl_waiting 400, pool_size 20 since the 13:50 config deploy"),
    ("bob", "done"),
    ("alice", "A config change cut the pgbouncer pool for payments from 200 to 20. The deploy "
              "pipeline applied it without a capacity check, and at peak traffic payment requests "
              "queued for connections until checkout's 30 s upstream timeout returned 502s."),
    ("alice", "No alert on connection-pool saturation"),
    ("bob", "The pool size lived in a shared config file with no owning team"),
    ("alice", "done"),
    ("alice", "Alert when pgbouncer cl_waiting > 50 for 5 minutes"),
    ("alice", "@bob"),
    ("alice", "in 2 weeks"),
    ("alice", "detect"),
    ("alice", "none"),
    ("alice", "Check pool-size changes against peak connection counts in CI"),
    ("alice", "@carol"),
    ("alice", "end of month"),
    ("alice", "prevent"),
    ("alice", "complexity"),
    ("alice", "Add pgbouncer pool checks to the payments runbook"),
    ("alice", "me"),
    ("alice", "next friday"),
    ("alice", "process"),
    ("alice", "none"),
    ("alice", "done"),
    ("alice", "confirm"),
    ("alice", "yes"),
)  # fmt: skip


# Seconds between two lines of the script, as if typed.
TYPING = dt.timedelta(seconds=20)


async def run(
    db: Database,
    settings: Settings,
    *,
    out: Callable[[str], None] = print,
    now: dt.datetime | None = None,
) -> int:
    """Play the script as if its first line were typed at `now` (the wall clock by default)."""
    start = now or dt.datetime.now(dt.UTC)
    key = f"console:demo-{start:%Y%m%d%H%M%S%f}"
    out("Casebook demo: three responders write a postmortem in one conversation.\n")
    case_number = None
    for index, (who, text) in enumerate(SCRIPT):
        at = start + index * TYPING
        inbound = inbound_for(text, user=who, timezone="Europe/Paris", conversation_key=key, at=at)
        out(_indent(f"{who}> ", text))
        replies = await handle(db, inbound, settings=settings)
        for reply in replies:
            case_number = reply.case_number or case_number
            out(_indent("   casebook: ", render(reply)))
        # With a model configured, publishing names the drafting job: run it, as an adapter would.
        await run_followups(
            db,
            replies,
            platform=PLATFORM,
            tenant=TENANT,
            settings=settings,
            now=at,
            out=out,
            prefix="   casebook: ",
        )
        out("")
    out("=" * 72)
    out("Open prevention actions, per owner:")
    async with db.transaction() as session:
        tenant = await repo.tenant(session, platform=PLATFORM, external_id=TENANT, now=start)
        assert tenant.id is not None
        rows = await repo.open_actions(session, tenant_id=tenant.id)
        owners = await repo.people_by_ids(
            session, tenant_id=tenant.id, ids=[a.owner_id for _, a in rows if a.owner_id]
        )
    per_owner: dict[str, list[str]] = {}
    for case, action in rows:
        owner = owners.get(action.owner_id or 0)
        name = f"@{owner.display_name or owner.platform_user_id}" if owner else "unassigned"
        per_owner.setdefault(name, []).append(
            f"{case.number}.{action.number} {action.description} (due {action.due_date}, {action.kind})"
        )
    for name, lines in sorted(per_owner.items()):
        out(f"{name}:")
        for line in lines:
            out(f"  - {line}")
    if case_number is not None:
        out(
            f"\nThe case is stored in the demo database named above: `casebook export {case_number}` "
            "with DATABASE_URL set to it prints it again."
        )
    return 0


def _indent(prefix: str, text: str) -> str:
    pad = " " * len(prefix)
    lines = text.splitlines() or [""]
    return "\n".join([prefix + lines[0], *(pad + line for line in lines[1:])])
