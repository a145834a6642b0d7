"""Insights on the command line: `casebook import`, `similar`, `map`, `ledger`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the rest is imported by the commands that run: `--help` stays fast
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.config import Settings
    from bot.insights.importer import Candidate
    from storage.db import Database

Job = Callable[["Database", argparse.Namespace], Awaitable[int]]


def add_commands(sub: Any) -> None:
    from adapters.cli import tenant_options

    load = sub.add_parser(
        "import",
        help="load past postmortems (Casebook JSON, or the cloud post-mortem data set)",
        description="Load past postmortems as published cases. PATH is a JSON file or a folder of them. "
        "Re-importing the same records updates them in place; nothing is duplicated.",
    )
    load.add_argument("path", metavar="PATH", help="a .json file, or a folder searched for .json files")
    load.add_argument(
        "--format",
        choices=("auto", "casebook", "cloud"),
        default="auto",
        help="casebook: the documented import format; cloud: the AWS/Azure/Google post-mortem data set",
    )
    load.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
    load.add_argument(
        "--all-or-nothing",
        action="store_true",
        help="import nothing if any record is refused (default: import the valid ones)",
    )
    tenant_options(load)
    load.set_defaults(handler=_runner(run_import))

    similar = sub.add_parser("similar", help="past cases whose symptoms resemble TEXT")
    similar.add_argument("text", metavar="TEXT", help='symptoms, e.g. "502s at checkout, db pool exhausted"')
    similar.add_argument("--limit", type=int, default=3, help="how many cases (default 3)")
    similar.add_argument("--json", action="store_true", help="print JSON instead of text")
    tenant_options(similar)
    similar.set_defaults(handler=_runner(run_similar))

    area_map = sub.add_parser("map", help="the capability map, for every area or one")
    area_map.add_argument("area", nargs="?", metavar="AREA", help="network, storage, compute, deploy, ...")
    area_map.add_argument("--json", action="store_true", help="print JSON instead of text")
    tenant_options(area_map)
    area_map.set_defaults(handler=_runner(run_map))

    ledger = sub.add_parser(
        "ledger",
        help="the value ledger: times to detect/mitigate/resolve, repeats, follow-through",
        description="PERIOD words, in any order: month|quarter, YYYY-MM|YYYY-Qn (the last period), "
        "N (how many periods). Default: the 6 months up to today.",
    )
    ledger.add_argument("period", nargs="*", metavar="PERIOD", help="e.g. quarter 2026-Q3 8")
    ledger.add_argument("--csv", metavar="FILE", help="write the figures per period as CSV")
    ledger.add_argument("--chart", metavar="FILE", help="write the trends chart as PNG")
    ledger.add_argument("--json", action="store_true", help="print JSON instead of text")
    ledger.add_argument("--today", metavar="YYYY-MM-DD", help="as-of date (default: today, UTC)")
    ledger.add_argument(
        "--person", metavar="NAME", help="one person's ledger (platform user id or display name)"
    )
    tenant_options(ledger)
    ledger.set_defaults(handler=_runner(run_ledger))


def _runner(job: Job) -> Callable[[argparse.Namespace, Settings], int]:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        from adapters.console.commands import with_database

        return with_database(settings, lambda db: job(db, args))

    return handler


class InputError(ValueError):
    """The file cannot be read as import input at all; the message says why."""


def read_documents(path: Path) -> list[tuple[str, Any]]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise InputError(f"{path}: no .json files in this folder")
        base = path
    elif path.is_file():
        files, base = [path], path.parent
    else:
        raise InputError(f"{path}: no such file or folder")
    documents = []
    for file in files:
        label = str(file.relative_to(base))
        try:
            documents.append((label, json.loads(file.read_text(encoding="utf-8"))))
        except UnicodeDecodeError as error:
            raise InputError(f"{label}: not UTF-8 text ({error.reason})") from error
        except json.JSONDecodeError as error:
            raise InputError(
                f"{label}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
            ) from error
    return documents


def candidates_from(documents: list[tuple[str, Any]], fmt: str) -> tuple[list[Candidate], list[str]]:
    from bot.insights import cloud
    from bot.insights.importer import candidates_from_document

    ours: list[tuple[str, Any]] = []
    theirs: list[tuple[str, Any]] = []
    for label, doc in documents:
        is_cloud = fmt == "cloud" or (fmt == "auto" and cloud.looks_like_cloud_document(doc))
        (theirs if is_cloud else ours).append((label, doc))
    found, notes = cloud.candidates(theirs) if theirs else ([], [])
    for label, doc in ours:
        found += candidates_from_document(doc, label=label)
    return found, notes


async def run_import(db: Database, args: argparse.Namespace) -> int:
    from bot.insights.importer import ImportFormatError, import_cases

    try:
        documents = await asyncio.to_thread(read_documents, Path(args.path))
        found, notes = candidates_from(documents, args.format)
    except (InputError, ImportFormatError) as error:
        print(f"casebook import: {error}. Nothing was imported.", file=sys.stderr)
        return 2
    report = await import_cases(
        db,
        found,
        platform=args.platform,
        tenant=args.tenant,
        dry_run=args.dry_run,
        atomic=args.all_or_nothing,
        notes=notes,
        now=dt.datetime.now(dt.UTC),
    )
    print(report.summary())
    return 1 if report.problems else 0


async def run_similar(db: Database, args: argparse.Namespace) -> int:
    from bot.insights.similar import find_similar, similar_json, similar_text

    async with db.transaction() as session:
        tenant_id = await _tenant_id(session, args)
        found = await find_similar(
            session, tenant_id=tenant_id, text=args.text, limit=max(1, min(args.limit, 20))
        )
    if args.json:
        print(json.dumps(similar_json(found), indent=2, ensure_ascii=False))
    else:
        print(similar_text(found, query=args.text))
    return 0


async def _tenant_id(session: AsyncSession, args: argparse.Namespace) -> int:
    from storage import repo

    # A read command: the tenant row is made (at the command's moment) only when it is new.
    tenant = await repo.tenant(
        session, platform=args.platform, external_id=args.tenant, now=dt.datetime.now(dt.UTC)
    )
    assert tenant.id is not None
    return tenant.id


async def run_map(db: Database, args: argparse.Namespace) -> int:
    from bot.insights.capability_map import as_json, render
    from bot.insights.reports import build_map
    from bot.parsing import ParseError, parse_area

    try:
        area = parse_area(args.area) if args.area else None
    except ParseError as error:
        print(f"casebook map: {error}", file=sys.stderr)
        return 2
    async with db.transaction() as session:
        found = await build_map(session, tenant_id=await _tenant_id(session, args), area=area)
    if args.json:
        print(json.dumps(as_json(found), indent=2, ensure_ascii=False))
    else:
        print(plain(render(found, detailed=area is not None)))
    return 0


async def run_ledger(db: Database, args: argparse.Namespace) -> int:
    from bot.insights import chart, ledger_report
    from bot.insights.ledger import parse_window
    from bot.insights.reports import build_ledger
    from bot.parsing import ParseError

    try:
        today = dt.date.fromisoformat(args.today) if args.today else dt.datetime.now(dt.UTC).date()
        window = parse_window(" ".join(args.period), today=today)
    except (ParseError, ValueError) as error:
        print(f"casebook ledger: {error}", file=sys.stderr)
        return 2
    if args.person:
        return await _run_person_ledger(db, args, today)
    async with db.transaction() as session:
        built = await build_ledger(
            session, tenant_id=await _tenant_id(session, args), window=window, today=today
        )
    if args.csv:
        await asyncio.to_thread(Path(args.csv).write_text, ledger_report.to_csv(built), encoding="utf-8")
        print(f"wrote {args.csv}", file=sys.stderr)
    if args.chart:
        png = await asyncio.to_thread(chart.render_png, built)
        await asyncio.to_thread(Path(args.chart).write_bytes, png)
        print(f"wrote {args.chart}", file=sys.stderr)
    if args.json:
        print(json.dumps(ledger_report.as_json(built), indent=2, ensure_ascii=False))
    else:
        print(plain(ledger_report.markdown(built)))
    return 0


def plain(markdown: str) -> str:
    """Chat Markdown for a terminal: no bold markers or headings."""
    return re.sub(r"^#+\s*", "", markdown.replace("**", ""), flags=re.MULTILINE)


async def _run_person_ledger(db: Database, args: argparse.Namespace, today: dt.date) -> int:
    from bot.insights import person
    from bot.insights.reports import build_person_ledger

    who = str(args.person).lstrip("@")
    async with db.transaction() as session:
        found = await build_person_ledger(
            session, tenant_id=await _tenant_id(session, args), who=who, today=today
        )
    if found is None:
        print(f"casebook ledger: nobody called {who!r} has cases, steps or actions here.", file=sys.stderr)
        return 2
    print(plain(person.markdown(found)))
    return 0
