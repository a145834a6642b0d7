"""A message added to a case from where it was written ("Add to postmortem"): its text, author
and time go into the chosen section, and a raw answer keeps them with a link to the message.

While the interview runs the section simply gains the entry (the interview will not ask for a
section it never asked and that is now filled). After publication the case is updated the same
way and its published copy is marked as changed (`extra["amended"]`, shown in the case).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from bot.case import TIMELINE, CaseDraft, DiagnosticStep, Misjudgment
from bot.messages import Reply, ReplyKind
from bot.parsing import ParseError, split_cost
from bot.parsing import zone as zone_of
from bot.render import render_case_markdown, when_text
from storage import capture as queries
from storage import repo
from storage.db import Database
from storage.models import Case

# What the person picks, in the order the menu shows it.
SECTIONS: dict[str, str] = {
    "symptom": "Symptom",
    "diagnostic": "Diagnostic step",
    "signal": "Misleading signal",
    "started": "Timeline: started",
    "detected": "Timeline: detected",
    "mitigated": "Timeline: mitigated",
    "resolved": "Timeline: resolved",
    "root_cause": "Root cause note",
}
MAX_TEXT = 3000
PICKER_SIZE = 25


@dataclass(frozen=True)
class Clip:
    """One message, as the platform gave it."""

    text: str
    author_id: str
    author_name: str | None
    at: dt.datetime
    link: str | None


@dataclass(frozen=True)
class Picker:
    cases: tuple[tuple[int, str], ...]  # (number, label)
    preselected: int | None


async def picker(db: Database, *, platform: str, tenant: str, place: str, now: dt.datetime) -> Picker:
    """The cases to choose from, the place's running (else latest) case first and preselected."""
    async with db.sessions() as session:
        found = await repo.tenant(session, platform=platform, external_id=tenant, now=now)
        assert found.id is not None
        cases = await queries.recent_cases(session, tenant_id=found.id, limit=PICKER_SIZE)
        here = await queries.case_of_place(session, tenant_id=found.id, place=place)
    labels = [(c.number, f"#{c.number} {c.title or '(untitled)'} · {c.status}"[:75], c.id) for c in cases]
    chosen = next((number for number, _, case_id in labels if case_id == here), None)
    ordered = sorted(labels, key=lambda entry: entry[0] != chosen)
    return Picker(tuple((number, label) for number, label, _ in ordered), chosen)


def added(case: CaseDraft, section: str, clip: Clip) -> CaseDraft:
    """The case with the message in `section`; ParseError when it cannot go there."""
    text = " ".join(clip.text.split())
    if not text:
        raise ParseError("That message has no text to add.")
    if len(text) > MAX_TEXT:
        raise ParseError(f"Keep it under {MAX_TEXT:,} characters (edit the text in the form).")
    by = clip.author_name or clip.author_id
    if section == "symptom":
        return replace(case, symptoms=(*case.symptoms, text))
    if section == "diagnostic":
        return replace(case, diagnostic_path=(*case.diagnostic_path, DiagnosticStep(text, by)))
    if section == "signal":
        said, cost = split_cost(text)
        return replace(case, misjudgments=(*case.misjudgments, Misjudgment("signal", said, cost)))
    if section == "root_cause":
        return replace(case, root_cause=f"{case.root_cause}; {text}" if case.root_cause else text)
    if section in TIMELINE:
        return with_point(case, section, clip.at)
    raise ParseError("Pick one of the sections: " + ", ".join(SECTIONS.values()) + ".")


def with_point(case: CaseDraft, point: str, at: dt.datetime) -> CaseDraft:
    index = TIMELINE.index(point)
    for earlier in TIMELINE[:index]:
        other = case.time(earlier)
        if other is not None and at < other:
            raise ParseError(f"That message was sent before the {earlier} time ({when_text(other, dt.UTC)}).")
    for later in TIMELINE[index + 1 :]:
        other = case.time(later)
        if other is not None and at > other:
            raise ParseError(f"That message was sent after the {later} time ({when_text(other, dt.UTC)}).")
    return case.with_time(point, at)


def added_reply(number: int, section: str, clip: Clip, *, published: bool) -> Reply:
    where = SECTIONS[section].lower()
    text = f"Added to #{number} as a {where}: {clip.text[:150]}" + ("…" if len(clip.text) > 150 else "")
    if published:
        text += " The case was already published: its published copy is marked as changed."
    return Reply(text, ReplyKind.INFO, ephemeral=True, case_number=number)


def mark_amended(
    case: Case, updated: CaseDraft, *, section: str, link: str | None, now: dt.datetime, tz_name: str
) -> None:
    """A published case changed: the addition is listed in `extra["amended"]` and its Markdown
    says so (the caller saves the row)."""
    amended = [*case.extra.get("amended", []), {"at": now.isoformat(), "section": section, "link": link}]
    case.extra = {**case.extra, "amended": amended}
    case.draft_md = render_case_markdown(updated, tz=zone_of(tz_name))
    case.draft_md += (
        f"\n_Changed after publication ({len(amended)} addition(s), last {now:%Y-%m-%d %H:%M} UTC)._\n"
    )
