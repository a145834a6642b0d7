"""`casebook import`: validation, per-record and all-or-nothing writes, idempotent re-import."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.insights.importer import Candidate, import_cases
from bot.insights.meaning import detection_method
from bot.render import case_json
from bot.store import load_case
from storage import repo
from storage.db import Database
from storage.models import Case, CaseImport, Person, PreventionAction
from tests.conftest import Chat
from tests.insight_cases import HISTORY, NOW, import_records, load_history, run_cli


async def _count(db: Database, model: type, **where: object) -> int:
    async with db.transaction() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int((await session.exec(query)).one())


async def _case(db: Database, number: int, tenant: str = "T1") -> tuple[Case, list[PreventionAction]]:
    async with db.transaction() as session:
        owner = await repo.tenant(session, now=NOW, platform="console", external_id=tenant)
        assert owner.id is not None
        case = await repo.case_by_number(session, tenant_id=owner.id, number=number)
        assert case is not None and case.id is not None
        return case, await repo.actions_of_case(session, tenant_id=owner.id, case_id=case.id)


async def test_import_maps_every_field_and_publishes(db: Database) -> None:
    numbers = await load_history(db)
    assert numbers == {"F": 1, "A": 2, "B": 3, "C": 4, "D": 5, "E": 6}  # in the order they happened
    case, actions = await _case(db, numbers["A"])
    assert (case.status, case.source, case.severity, case.area) == ("published", "import", "SEV2", "network")
    assert case.title == "Checkout 502s: expired certificate at the edge"
    assert case.started_at == dt.datetime(2026, 8, 3, 10, 0, tzinfo=dt.UTC)
    assert case.resolved_at == dt.datetime(2026, 8, 3, 12, 0, tzinfo=dt.UTC)
    assert case.published_at == case.resolved_at
    assert case.symptoms == ["TLS handshake errors at the edge", "502s from checkout"]
    assert case.misjudgments[0] == {"kind": "signal", "text": "CPU alarm on the LB", "cost": "15 min"}
    assert case.diagnostic_path[0]["text"] == "Checked the edge error dashboard"
    assert case.extra["import"] == {"id": "A", "format": "casebook", "original_number": None}
    assert case.draft_md and "## Root cause\nExpired TLS certificate" in case.draft_md
    assert [(a.number, a.status, a.due_date) for a in actions] == [
        (1, "done", dt.date(2026, 8, 31)),
        (2, "done", dt.date(2026, 9, 15)),
    ]
    assert actions[0].closed_at == dt.datetime(2026, 8, 25, 12, tzinfo=dt.UTC)
    assert actions[0].created_at == dt.datetime(2026, 8, 4, 12, tzinfo=dt.UTC)
    assert await _count(db, Person, platform_user_id="U_OPS") == 1


async def test_a_detection_sentence_is_the_detection_dimension_not_a_symptom(db: Database) -> None:
    record = copy.deepcopy(HISTORY[0])
    record["id"] = "detected-by"
    record["symptoms"] = ["Detected by a customer report", "502s from checkout"]
    report = await import_records(db, [record])
    assert len(report.created) == 1 and not report.problems
    async with db.transaction() as session:
        case = (await session.exec(select(Case).where(col(Case.title) == record["title"]))).one()
    assert case.symptoms == ["502s from checkout"]
    assert case.extra["detection"]["noted"] == ["Detected by a customer report"]
    assert detection_method(case) == "customer"


async def test_reimport_is_idempotent_and_updates_in_place(db: Database) -> None:
    await load_history(db)
    again = await import_records(db, HISTORY)
    assert (len(again.created), len(again.updated), len(again.unchanged)) == (0, 0, 6)
    assert await _count(db, Case) == 6
    assert await _count(db, CaseImport) == 6

    changed = copy.deepcopy(HISTORY)
    changed[1]["root_cause"] = "Certificate renewal job silently failing"
    changed[1]["actions"] = changed[1]["actions"][:1]
    third = await import_records(db, changed)
    assert third.updated == [("A", 2)] and len(third.unchanged) == 5
    case, actions = await _case(db, 2)
    assert case.root_cause == "Certificate renewal job silently failing"
    assert len(actions) == 1
    assert await _count(db, Case) == 6 and await _count(db, PreventionAction) == 5  # 6 before, one dropped


async def test_bad_records_are_refused_with_reasons_and_leave_nothing(db: Database) -> None:
    bad = [
        {"id": "bad-1", "title": "No zone", "timeline": {"started": "2026-03-01T10:00:00"}},
        {
            "id": "bad-2",
            "title": "Backwards",
            "timeline": {"started": "2026-03-01T10:00:00Z", "resolved": "2026-03-01T09:00:00Z"},
        },
        {"id": "bad-3", "title": "Typo", "symptom": ["x"]},
        {"id": "bad-4", "title": "Severity", "severity": "catastrophic"},
        {"title": "No id"},
        {
            "id": "ok",
            "title": "Fine",
            "actions": [{"description": "x", "status": "open", "closed_at": "2026-03-02T00:00:00Z"}],
        },
        "not an object",
        {
            "id": "A",
            "title": "Duplicate id",
            **{k: v for k, v in HISTORY[1].items() if k not in {"id", "title"}},
        },
        {"id": "A", "title": "Same id twice"},
    ]
    report = await import_records(db, bad)
    messages = {p.label: p.message for p in report.problems}
    assert report.created == [("A", 1)]
    assert "timeline.started: Input should have timezone info" in messages["record 1 (id bad-1)"]
    assert "resolved (2026-03-01T09:00:00+00:00) is before started" in messages["record 2 (id bad-2)"]
    assert "symptom: Extra inputs are not permitted" in messages["record 3 (id bad-3)"]
    assert "Severity is one of SEV1" in messages["record 4 (id bad-4)"]
    assert "needs an `id`" in messages["record 5"]
    assert "an open action has no closed_at" in messages["record 6 (id ok)"]
    assert "valid dictionary" in messages["record 7"]
    assert "id 'A' already appears at record 8" in messages["record 9 (id A)"]
    assert await _count(db, Case) == 1 and await _count(db, PreventionAction) == 2


async def test_all_or_nothing_and_dry_run_write_nothing(db: Database) -> None:
    strict = await import_records(db, [*HISTORY, {"id": "x"}], atomic=True)
    assert len(strict.problems) == 1 and not strict.written
    assert "Nothing was imported" in strict.summary()
    dry = await import_records(db, HISTORY, dry_run=True)
    assert len(dry.created) == 6 and not dry.written
    assert await _count(db, Case) == 0 and await _count(db, CaseImport) == 0
    assert await _count(db, Person) == 0


async def test_a_record_the_database_refuses_is_undone_alone(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL refuses NUL in JSON; SQLite stores it")
    refused = {
        **HISTORY[2],
        "id": "nul",
        "extra": {"note": "a\u0000b"},
        "actions": [action | {"owner": {"user_id": "U_NUL"}} for action in HISTORY[2]["actions"]],
    }
    report = await import_records(db, [HISTORY[1], refused, HISTORY[5]])
    assert [key for key, _ in report.created] == ["A", "E"]
    assert report.problems[0].label == "record 2 (id nul)"
    assert "the database refused it" in report.problems[0].message
    assert await _count(db, Case) == 2 and await _count(db, CaseImport) == 2
    assert await _count(db, Person, platform_user_id="U_NUL") == 0  # no half rows


async def test_exported_json_imports_into_another_workspace(db: Database, chat: Chat) -> None:
    await load_history(db)
    case, _ = await _case(db, 2)
    async with db.transaction() as session:
        exported = case_json((await load_case(session, tenant_id=case.tenant_id, case=case)).draft)
    report = await import_records(db, [json.loads(json.dumps(exported))], tenant="T2")
    assert report.created == [("case-2", 1)]
    copy_of, actions = await _case(db, 1, tenant="T2")
    assert (copy_of.title, copy_of.symptoms, copy_of.root_cause) == (
        case.title,
        case.symptoms,
        case.root_cause,
    )
    assert copy_of.extra["import"]["original_number"] == 2
    assert [a.description for a in actions] == [
        "Alert 14 days before certificate expiry",
        "Automate certificate renewal",
    ]


def test_cli_import_reports_and_exits_by_outcome(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "history.json"
    good.write_text(json.dumps({"format": "casebook.cases/v1", "cases": HISTORY}))
    assert run_cli(["import", str(good), "--tenant", "T9"], db_url, monkeypatch) == 0
    assert "6 case(s) were created, 0 updated, 0 unchanged; 0 record(s) refused." in capsys.readouterr().out
    assert run_cli(["import", str(good), "--tenant", "T9"], db_url, monkeypatch) == 0
    assert "0 case(s) were created, 0 updated, 6 unchanged" in capsys.readouterr().out

    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps([{"id": "z", "title": ""}]))
    assert run_cli(["import", str(mixed), "--tenant", "T9"], db_url, monkeypatch) == 1
    assert "refused mixed.json record 1 (id z): title: String should have at least 1 character" in (
        capsys.readouterr().out
    )

    broken = tmp_path / "broken.json"
    broken.write_text('{"cases": [')
    assert run_cli(["import", str(broken)], db_url, monkeypatch) == 2
    assert "broken.json: not valid JSON (line 1, column 12" in capsys.readouterr().err

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"format": "other/v9", "cases": []}))
    assert run_cli(["import", str(wrong)], db_url, monkeypatch) == 2
    assert "format 'other/v9' is not 'casebook.cases/v1'" in capsys.readouterr().err
    assert run_cli(["import", str(tmp_path / "absent.json")], db_url, monkeypatch) == 2


async def test_imported_cases_are_ordinary_cases_in_chat(db: Database, chat: Chat) -> None:
    await load_history(db)
    shown = await chat.command("show #2")
    assert "Expired TLS certificate on the edge load balancer" in shown[0].text
    listed = await chat.command("actions")
    assert listed  # the command runs over imported actions without error
    [everyone] = await chat.command("actions all")
    # The open ones of B (#3, overdue) and D (#5), with their buttons; done and cancelled ones are not.
    assert [item.ref for item in everyone.items] == ["3.1", "5.1"]
    assert "overdue" in everyone.items[0].text and everyone.items[0].choices[0].value == "/done 3.1"
    [done] = await chat.command("done 3.1 retries capped in the client", user="U_OPS")
    assert "`3.1` is done" in done.text
    async with db.transaction() as session:
        ids = (await session.exec(select(Case.number).where(col(Case.source) == "import"))).all()
    assert sorted(ids) == [1, 2, 3, 4, 5, 6]


async def test_a_reimport_keeps_when_each_owner_got_their_action(db: Database) -> None:
    """Ownership times decide when a digest is due: a re-import a week later must not reset them."""
    await load_history(db)
    async with db.transaction() as session:
        before = {
            (a.case_id, a.number): a.assigned_at for a in (await session.exec(select(PreventionAction))).all()
        }
    assert any(before.values())
    changed = copy.deepcopy(HISTORY)
    changed[1]["root_cause"] = "Certificate renewal job silently failing"
    candidates = [Candidate(f"record {i}", r) for i, r in enumerate(changed, start=1)]
    later = await import_cases(
        db, candidates, platform="console", tenant="T1", now=NOW + dt.timedelta(days=7)
    )
    assert later.updated == [("A", 2)]
    async with db.transaction() as session:
        after = {
            (a.case_id, a.number): a.assigned_at for a in (await session.exec(select(PreventionAction))).all()
        }
    assert after == before
