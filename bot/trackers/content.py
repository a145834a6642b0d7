"""What an action's issue says: title, body (case summary, kind, risk flags, a way back), marker."""

from __future__ import annotations

import datetime as dt

from bot import render
from bot.trackers.port import IssueUpdate, NewIssue
from storage.models import ActionStatus, Case, Person, PreventionAction

LABEL = "casebook"
RISKS = {
    "risk_complexity": "adds system complexity",
    "risk_coupling": "adds coupling",
    "risk_recovery": "makes recovery harder",
    "risk_spof": "adds a single point of failure",
    "risk_diagnosability": "makes the system harder to diagnose",
}


def marker(tenant_id: int, case_number: int, number: int) -> str:
    return f"casebook-action:{tenant_id}:{case_number}.{number}"


def effective_due(action: PreventionAction) -> dt.date | None:
    """The due date the tracker shows: a snooze past the due date moves it."""
    due, snoozed = action.due_date, action.snoozed_until
    if snoozed is not None and (due is None or snoozed > due):
        return snoozed
    return due


def title(case: Case, action: PreventionAction) -> str:
    text = " ".join(action.description.split())
    return f"[{case.number}.{action.number}] " + (text if len(text) <= 200 else text[:199] + "…")


def body(case: Case, action: PreventionAction, *, tenant_id: int, link_base: str | None) -> str:
    ref = f"{case.number}.{action.number}"
    flags = [label for column, label in RISKS.items() if getattr(action, column)]
    due = effective_due(action)
    summary = [
        f"**Case #{case.number}: {render.display_title(case.title)}**",
        f"- Severity: {case.severity or 'not set'} · area: {case.area or 'not set'}",
        f"- Services: {', '.join(case.services) if case.services else 'not recorded'}",
    ]
    if case.root_cause:
        summary.append(f"- Root cause: {_clip(case.root_cause, 600)}")
    lines = [
        f"Prevention action `{ref}` from a Casebook postmortem.",
        "",
        _clip(action.description, 4000),
        "",
        f"- Kind: {action.kind or 'prevent'}",
        "- Risk check: " + ("⚠ " + "; ".join(flags) if flags else "no added risk identified"),
        f"- Due: {due.isoformat() if due else 'no due date'}",
        "",
        *summary,
        "",
        _way_back(case.number, ref, link_base),
        "",
        marker(tenant_id, case.number, action.number),
    ]
    return "\n".join(lines)


def _way_back(case_number: int, ref: str, link_base: str | None) -> str:
    chat = f"In chat: `show #{case_number}`, `done {ref} <evidence>`. Closing this issue closes the action."
    if link_base:
        return f"[Case #{case_number} in Casebook]({link_base.rstrip('/')}/cases/{case_number}) · {chat}"
    return chat


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def new_issue(
    case: Case, action: PreventionAction, owner: Person | None, *, tenant_id: int, link_base: str | None
) -> NewIssue:
    return NewIssue(
        title=title(case, action),
        body=body(case, action, tenant_id=tenant_id, link_base=link_base),
        marker=marker(tenant_id, case.number, action.number),
        labels=(LABEL,),
        due=effective_due(action),
        assignee_email=owner.email if owner else None,
    )


def closing_comment(action: PreventionAction, closed_by: Person | None) -> str:
    who = f" by @{closed_by.display_name or closed_by.platform_user_id}" if closed_by else ""
    if action.status == ActionStatus.CANCELLED:
        return f"Cancelled in Casebook{who}: {action.evidence or 'no reason given'}"
    evidence = f"\n\nEvidence: {action.evidence}" if action.evidence else ""
    return f"Done in Casebook{who}.{evidence}"


def update_for(
    case: Case,
    action: PreventionAction,
    *,
    owner: Person | None,
    closed_by: Person | None,
    tenant_id: int,
    link_base: str | None,
    due_changed: bool,
    owner_changed: bool,
) -> IssueUpdate:
    closing = action.status in {ActionStatus.DONE, ActionStatus.CANCELLED}
    return IssueUpdate(
        body=body(case, action, tenant_id=tenant_id, link_base=link_base),
        close_comment=closing_comment(action, closed_by) if closing else None,
        cancelled=action.status == ActionStatus.CANCELLED,
        due=effective_due(action),
        due_changed=due_changed,
        assignee_email=owner.email if owner else None,
        assignee_changed=owner_changed,
    )
