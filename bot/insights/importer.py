"""`casebook import`: past postmortems into a tenant's casebook, each record all or nothing.

Every record is validated first (bot.insights.records); a record that fails validation is
reported and never written. Valid records are written one savepoint each, so a database
refusal (say, a constraint) undoes that record alone; with `atomic=True` any problem undoes
the whole import. A record is known by its `id`: importing it again leaves the case as it is
when nothing changed, or updates it in place (same case number) when the record did.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.case import FIELDS
from bot.insights.meaning import is_detection_text
from bot.insights.records import FORMAT_NAME, CaseRecord, describe_error
from bot.render import render_case_markdown
from bot.store import draft_from_rows, risk_columns
from storage import repo
from storage.db import Database
from storage.models import (
    ActionStatus,
    Case,
    CaseImport,
    CaseStatus,
    Person,
    PreventionAction,
    Tenant,
)

log = logging.getLogger(__name__)

BATCH = 500  # records per transaction when records stand alone (keeps SQLite's write lock short)


class ImportFormatError(ValueError):
    """The document is not an import file at all (as opposed to one bad record in it)."""


@dataclass(frozen=True)
class Candidate:
    """One raw record, before validation, with where it came from for the messages."""

    label: str
    data: Any
    source_format: str = "casebook"


@dataclass(frozen=True)
class Problem:
    label: str
    message: str


@dataclass
class ImportReport:
    created: list[tuple[str, int]] = field(default_factory=list)  # (record id, case number)
    updated: list[tuple[str, int]] = field(default_factory=list)
    unchanged: list[tuple[str, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    atomic: bool = False

    @property
    def written(self) -> bool:
        return not self.dry_run and not (self.atomic and self.problems)

    def summary(self) -> str:
        verb = "would be" if not self.written else "were"
        lines = [
            f"{len(self.created)} case(s) {verb} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged; {len(self.problems)} record(s) refused."
        ]
        if self.atomic and self.problems and not self.dry_run:
            lines.append("Nothing was imported: --all-or-nothing and some records were refused.")
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        lines += [f"  refused {p.label}: {p.message}" for p in self.problems]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def candidates_from_document(document: Any, *, label: str) -> list[Candidate]:
    """The records of a Casebook import document: `{"format", "cases": [...]}`, a list, or one case."""
    if isinstance(document, dict) and "cases" in document:
        declared = document.get("format", FORMAT_NAME)
        if declared != FORMAT_NAME:
            raise ImportFormatError(f"{label}: format {declared!r} is not {FORMAT_NAME!r}")
        document = document["cases"]
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise ImportFormatError(f"{label}: expected a list of cases or {{'cases': [...]}}")
    return [Candidate(f"{label} record {i}", item) for i, item in enumerate(document, start=1)]


def validate(candidates: Iterable[Candidate]) -> tuple[list[tuple[Candidate, CaseRecord]], list[Problem]]:
    valid: list[tuple[Candidate, CaseRecord]] = []
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for candidate in candidates:
        try:
            record = CaseRecord.model_validate(candidate.data)
        except ValidationError as error:
            problems.append(Problem(_label(candidate), describe_error(error)))
            continue
        if record.key in first_seen:
            problems.append(
                Problem(_label(candidate), f"id {record.key!r} already appears at {first_seen[record.key]}")
            )
            continue
        first_seen[record.key] = candidate.label
        valid.append((candidate, record))
    return valid, problems


def _label(candidate: Candidate) -> str:
    data = candidate.data
    key = data.get("id") if isinstance(data, dict) else None
    return f"{candidate.label} (id {key})" if isinstance(key, str) else candidate.label


class _Rollback(Exception):
    """Raised inside the transaction to undo it (dry run, or an atomic import with problems)."""


async def import_cases(
    db: Database,
    candidates: Sequence[Candidate],
    *,
    platform: str,
    tenant: str,
    dry_run: bool = False,
    atomic: bool = False,
    notes: Sequence[str] = (),
    now: dt.datetime,
) -> ImportReport:
    valid, problems = validate(candidates)
    report = ImportReport(problems=problems, notes=list(notes), dry_run=dry_run, atomic=atomic)
    # Oldest first, so case numbers follow the order the incidents happened.
    valid.sort(key=lambda pair: (pair[1].entered_at(now), pair[1].key))
    if dry_run or atomic:
        try:
            async with db.transaction() as session:
                owner = await repo.tenant(session, platform=platform, external_id=tenant, now=now)
                await _write_batch(session, owner, valid, report, now=now)
                if dry_run or report.problems:
                    raise _Rollback
        except _Rollback:
            pass
    else:
        for start in range(0, len(valid), BATCH):
            async with db.transaction() as session:
                owner = await repo.tenant(session, platform=platform, external_id=tenant, now=now)
                await _write_batch(session, owner, valid[start : start + BATCH], report, now=now)
    log.info("import into %s/%s: %s", platform, tenant, report.summary().splitlines()[0])
    return report


async def _write_batch(
    session: AsyncSession,
    tenant: Tenant,
    batch: Sequence[tuple[Candidate, CaseRecord]],
    report: ImportReport,
    *,
    now: dt.datetime,
) -> None:
    assert tenant.id is not None
    keys = [record.key for _, record in batch]
    known = await repo.imports_by_key(session, tenant_id=tenant.id, keys=keys)
    for candidate, record in batch:
        try:
            async with session.begin_nested():
                outcome, number = await _write_record(
                    session, tenant.id, candidate, record, known.get(record.key), now=now
                )
        except SQLAlchemyError as error:
            log.warning("import of %s refused by the database: %s", candidate.label, error)
            report.problems.append(Problem(_label(candidate), f"the database refused it ({_short(error)})"))
            continue
        getattr(report, outcome).append((record.key, number))


def _short(error: SQLAlchemyError) -> str:
    cause = getattr(error, "orig", None) or error
    return (str(cause).splitlines() or [type(cause).__name__])[0][:200]


def digest(record: CaseRecord, source_format: str) -> str:
    return hashlib.sha256(f"{source_format}\n{record.model_dump_json()}".encode()).hexdigest()


async def _write_record(
    session: AsyncSession,
    tenant_id: int,
    candidate: Candidate,
    record: CaseRecord,
    existing: CaseImport | None,
    *,
    now: dt.datetime,
) -> tuple[str, int]:
    fingerprint = digest(record, candidate.source_format)
    held_since: dict[tuple[int, int], dt.datetime] = {}
    if existing is not None:
        case = await repo.case_by_id(session, tenant_id=tenant_id, case_id=existing.case_id)
        assert case is not None  # the import row references it
        if existing.digest == fingerprint:
            return "unchanged", case.number
        held_since = await _assignments(session, tenant_id, existing.case_id)
        await repo.delete_actions_of_case(session, tenant_id=tenant_id, case_id=existing.case_id)
        existing.digest, existing.updated_at = fingerprint, now
        session.add(existing)
    else:
        number = await repo.next_case_number(session, tenant_id=tenant_id)
        case = Case(
            tenant_id=tenant_id,
            number=number,
            source="import",
            created_at=record.entered_at(now),
            updated_at=now,
        )
    people: dict[int, Person] = {}
    await _fill_case(session, case, record, candidate.source_format, people, now=now)
    session.add(case)
    await session.flush()
    assert case.id is not None
    actions = await _add_actions(session, tenant_id, case, record, people, held_since=held_since, now=now)
    case.draft_md = render_case_markdown(draft_from_rows(case, actions, people))
    session.add(case)
    if existing is None:
        session.add(
            CaseImport(
                tenant_id=tenant_id,
                case_id=case.id,
                external_id=record.key,
                source_format=candidate.source_format,
                digest=fingerprint,
                imported_at=now,
                updated_at=now,
            )
        )
    await session.flush()
    return ("updated" if existing is not None else "created"), case.number


async def _person(
    session: AsyncSession, tenant_id: int, ref: Any, people: dict[int, Person], *, now: dt.datetime
) -> int | None:
    if ref is None:
        return None
    found = await repo.person(
        session, tenant_id=tenant_id, user_id=ref.user_id, display_name=ref.name, now=now
    )
    assert found.id is not None
    people[found.id] = found
    return found.id


async def _fill_case(
    session: AsyncSession,
    case: Case,
    record: CaseRecord,
    source_format: str,
    people: dict[int, Person],
    *,
    now: dt.datetime,
) -> None:
    timeline = record.timeline
    case.title = record.title
    case.severity = record.severity
    case.area = record.area
    case.services = list(record.services)
    case.started_at = timeline.utc("started")
    case.detected_at = timeline.utc("detected")
    case.mitigated_at = timeline.utc("mitigated")
    case.resolved_at = timeline.utc("resolved")
    case.misjudgments = [m.model_dump() for m in record.misjudgments]
    case.diagnostic_path = [s.model_dump() for s in record.diagnostic_path]
    for written in FIELDS:  # the written sections, one column each
        setattr(case, written.key, written.to_row(getattr(record, written.key)))
    # "Detected by a customer report" says how the incident was noticed, not what was seen: it
    # goes to the detection dimension, so neither the map nor search counts it as a symptom.
    noticed = [s for s in record.symptoms if is_detection_text(s)]
    case.symptoms = [s for s in record.symptoms if not is_detection_text(s)]
    case.lead_id = await _person(session, case.tenant_id, record.lead, people, now=now)
    case.status = CaseStatus.PUBLISHED
    case.source = "import"
    case.published_at = record.entered_at(now)
    case.draft_method = "import"
    case.drafted_at = now
    case.updated_at = now
    case.extra = {
        **record.extra,
        **_detection_noted(record.extra, noticed),
        "import": {"id": record.key, "format": source_format, "original_number": record.number},
    }


def _detection_noted(extra: dict[str, Any], noticed: list[str]) -> dict[str, Any]:
    """extra["detection"] with the record's detection sentences under `noted`."""
    if not noticed:
        return {}
    recorded = extra.get("detection")
    detection = dict(recorded) if isinstance(recorded, dict) else {}
    detection["noted"] = [*(detection.get("noted") or []), *noticed]
    return {"detection": detection}


async def _assignments(
    session: AsyncSession, tenant_id: int, case_id: int
) -> dict[tuple[int, int], dt.datetime]:
    """(action number, owner) -> since when they held it, kept across a re-import."""
    held: dict[tuple[int, int], dt.datetime] = {}
    for action in await repo.actions_of_case(session, tenant_id=tenant_id, case_id=case_id):
        if action.owner_id is not None and action.assigned_at is not None:
            held[(action.number, action.owner_id)] = action.assigned_at
    return held


async def _add_actions(
    session: AsyncSession,
    tenant_id: int,
    case: Case,
    record: CaseRecord,
    people: dict[int, Person],
    *,
    held_since: dict[tuple[int, int], dt.datetime],
    now: dt.datetime,
) -> list[PreventionAction]:
    assert case.id is not None
    rows = []
    for number, action in enumerate(record.actions, start=1):
        owner_id = await _person(session, tenant_id, action.owner, people, now=now)
        created = (action.created or record.entered_at(now)).astimezone(dt.UTC)
        # An imported open action is its owner's from when the source says it was made; a
        # re-import keeps what the previous import recorded for the same owner.
        assigned = held_since.get((number, owner_id), created) if owner_id is not None else None
        row = PreventionAction(
            tenant_id=tenant_id,
            case_id=case.id,
            number=number,
            description=action.description,
            kind=action.kind,
            owner_id=owner_id,
            due_date=action.due,
            status=ActionStatus(action.status),
            closed_at=action.closed_at.astimezone(dt.UTC) if action.closed_at else None,
            evidence=action.evidence,
            created_at=created,
            updated_at=now,
            assigned_at=assigned if action.status == "open" else None,
        )
        row.sqlmodel_update(risk_columns(action.risks))
        session.add(row)
        rows.append(row)
    return rows
