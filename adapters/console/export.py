"""`casebook export <case> --format md|json`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot import refs
from bot.parsing import ParseError
from bot.render import case_json, render_case_markdown
from bot.store import load_case
from storage import repo
from storage.db import Database
from storage.models import utcnow


async def run(db: Database, args: argparse.Namespace) -> int:
    try:
        number = refs.parse_case_ref(args.case)
    except ParseError as error:
        print(f"casebook export: {error}", file=sys.stderr)
        return 2
    async with db.transaction() as session:
        tenant = await repo.tenant(session, platform=args.platform, external_id=args.tenant, now=utcnow())
        assert tenant.id is not None
        case = await repo.case_by_number(session, tenant_id=tenant.id, number=number)
        if case is None:
            print(
                f"casebook export: there is no case #{number} in {args.platform}/{args.tenant}.",
                file=sys.stderr,
            )
            return 1
        loaded = await load_case(session, tenant_id=tenant.id, case=case)
    if args.format == "json":
        text = json.dumps(case_json(loaded.draft), indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_case_markdown(loaded.draft)
    if args.output:
        await asyncio.to_thread(Path(args.output).write_text, text, encoding="utf-8")
        print(f"wrote case #{number} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
