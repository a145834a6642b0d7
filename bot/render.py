"""The deterministic template: a case as Markdown, as sections, and as JSON.

Blameless by construction: sections describe systems, signals and conditions;
people appear only as owners of actions and authors of diagnostic steps.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.case import FIELDS, TIMELINE, CaseDraft, CaseField, fields_in
from bot.messages import Section
from bot.parsing import AREA_LABELS, RISK_LABELS, format_duration


def when_text(value: dt.datetime, tz: dt.tzinfo = dt.UTC) -> str:
    """`2026-11-30 21:40 CET (UTC+01:00)`: the zone's name where it has one, always its offset."""
    local = value.astimezone(tz)
    offset = local.strftime("%z") or "+0000"
    shown = f"UTC{offset[:3]}:{offset[3:]}"
    name = local.tzname() or ""
    if shown == "UTC+00:00" and name in {"UTC", ""}:
        return local.strftime("%Y-%m-%d %H:%M UTC")
    if not name or name.startswith(("+", "-", "UTC")):
        return local.strftime("%Y-%m-%d %H:%M ") + shown
    return local.strftime("%Y-%m-%d %H:%M ") + f"{name} ({shown})"


def _when(value: dt.datetime | None, tz: dt.tzinfo) -> str:
    return when_text(value, tz) if value else "unknown"


def _person(mention: Any, mentions: bool) -> str:
    """A chat reply names people with `<@id|name>` tokens (adapters make them real mentions);
    a file or a page shows `@name`."""
    if mention is None:
        return "unassigned"
    name = "".join(ch for ch in (mention.display_name or "") if ch not in "<>|")
    if mentions or not name:
        return f"<@{mention.user_id}|{name}>" if name else f"<@{mention.user_id}>"
    return f"@{name}"


def _bullets(items: list[str], empty: str) -> str:
    return "\n".join(f"- {item}" for item in items) if items else f"_{empty}_"


def field_body(field: CaseField, case: CaseDraft) -> str:
    """One written section's text: a paragraph, or bullets."""
    if field.kind == "text":
        return field.value(case) or f"_{field.empty}_"
    return _bullets(field.entries(case), field.empty or "")


def _with_fields(section: str, body: str, case: CaseDraft) -> str:
    """A section's body, then each written field of the section under its own label (a field
    whose `empty` is None is left out until it has an answer)."""
    blocks = [body] if body else []
    for field in fields_in(section):
        if field.main:
            blocks.insert(0, field_body(field, case))
        elif field.present(case) or field.empty is not None:
            blocks.append(f"**{field.label}**\n" + field_body(field, case))
    return "\n\n".join(blocks)


def case_sections(case: CaseDraft, tz: dt.tzinfo = dt.UTC, *, mentions: bool = False) -> tuple[Section, ...]:
    summary = [
        f"**Severity:** {case.severity or 'not set'}",
        f"**Area:** {AREA_LABELS.get(case.area or '', case.area or 'not set')}",
        f"**Services:** {', '.join(case.services) if case.services else 'not recorded'}",
        f"**Status:** {case.status}",
    ]
    if case.lead:
        summary.append(f"**Lead:** {_person(case.lead, mentions)}")

    timeline = [f"- **{point.capitalize()}:** {_when(case.time(point), tz)}" for point in TIMELINE]
    timeline += [
        "",
        f"Time to detect: **{format_duration(case.time_to_detect)}** · "
        f"time to mitigate: **{format_duration(case.time_to_mitigate)}** · "
        f"time to resolve: **{format_duration(case.time_to_resolve)}**",
    ]

    misjudgments = []
    for label, entries in (
        ("Wrong hypotheses", case.hypotheses),
        ("Misleading signals", case.signals),
    ):
        lines = [f"- {m.text}" + (f" (cost: {m.cost})" if m.cost else "") for m in entries]
        misjudgments.append(f"**{label}**\n" + ("\n".join(lines) if lines else "_none recorded_"))

    path = "\n".join(
        f"{i}. {step.text}" + (f" _({step.by})_" if step.by else "")
        for i, step in enumerate(case.diagnostic_path, start=1)
    )

    actions = []
    for a in case.actions:
        due = a.due.isoformat() if a.due else "no due date"
        line = f"{a.number}. {a.description} — owner {_person(a.owner, mentions)}, due {due}, "
        line += f"{a.kind or 'prevent'}, {a.status}"
        actions.append(line + (f" — issue {a.issue_url}" if a.issue_url else ""))
    risk_lines = []
    for a in case.actions:
        if a.risks is None:
            risk_lines.append(f"- Action {a.number}: _not checked_")
        elif flags := a.risk_flags:
            risk_lines.append(f"- Action {a.number}: ⚠ " + "; ".join(RISK_LABELS[f] for f in flags))
        else:
            risk_lines.append(f"- Action {a.number}: no added risk identified")

    return (
        Section("Summary", "\n".join(summary)),
        Section("Timeline", "\n".join(timeline)),
        Section("Symptoms", _with_fields("Symptoms", "", case)),
        Section("Misjudgment risks", _with_fields("Misjudgment risks", "\n\n".join(misjudgments), case)),
        Section("Diagnostic path", _with_fields("Diagnostic path", path or "_not recorded_", case)),
        Section("Root cause", _with_fields("Root cause", "", case)),
        Section("Prevention plan", "\n".join(actions) if actions else "_no actions_"),
        Section(
            "Risk check",
            "Does an action add complexity, coupling, harder recovery, a single point of "
            "failure, or make the system harder to diagnose?\n" + ("\n".join(risk_lines) or "_no actions_"),
        ),
    )


def display_title(title: str | None) -> str:
    return title or "Untitled incident"


def case_heading(case: CaseDraft) -> str:
    return f"# Case #{case.number}: {display_title(case.title)}"


def render_case_markdown(case: CaseDraft, tz: dt.tzinfo = dt.UTC, *, mentions: bool = False) -> str:
    parts = [case_heading(case)]
    for section in case_sections(case, tz, mentions=mentions):
        parts.append(f"## {section.title}\n{section.body}")
    return "\n\n".join(parts) + "\n"


def case_json(case: CaseDraft) -> dict[str, Any]:
    def iso(value: dt.datetime | dt.date | None) -> str | None:
        return value.isoformat() if value else None

    def minutes(delta: dt.timedelta | None) -> float | None:
        return round(delta.total_seconds() / 60, 1) if delta else None

    def person(m: Any) -> dict[str, Any] | None:
        return {"user_id": m.user_id, "name": m.display_name} if m else None

    return {
        "number": case.number,
        "title": case.title,
        "severity": case.severity,
        "area": case.area,
        "services": list(case.services),
        "status": case.status,
        "lead": person(case.lead),
        "timeline": {point: iso(case.time(point)) for point in TIMELINE},
        "minutes": {
            "to_detect": minutes(case.time_to_detect),
            "to_mitigate": minutes(case.time_to_mitigate),
            "to_resolve": minutes(case.time_to_resolve),
        },
        "misjudgments": [{"kind": m.kind, "text": m.text, "cost": m.cost} for m in case.misjudgments],
        "diagnostic_path": [{"text": s.text, "by": s.by} for s in case.diagnostic_path],
        **{field.key: field.to_row(field.value(case)) for field in FIELDS},
        "actions": [
            {
                "number": a.number,
                "ref": f"{case.number}.{a.number}",
                "description": a.description,
                "owner": person(a.owner),
                "due": iso(a.due),
                "kind": a.kind,
                "status": a.status,
                "risks": a.risks,
                "issue": a.issue_url,
            }
            for a in case.actions
        ],
    }
