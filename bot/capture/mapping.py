"""The free text of an account, mapped to the case's sections by the configured model, then
grounded like every model draft (bot.drafting.grounding): an item is kept only if each time,
date, figure, code-like token and link in it is in what the responder wrote, and it names nobody.
Owners, dates and times never come from here: the schema has no field for them.

Runs as the follow-up job `account:<case number>`, after the platform was acknowledged; fills
only the sections still empty (what the labelled part or the interview gave stands).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from dataclasses import replace

from pydantic import BaseModel, ConfigDict

from bot.capture.account import account_text, parse_account
from bot.case import CaseDraft, DiagnosticStep, Misjudgment
from bot.config import Settings
from bot.drafting.config import DraftingConfig
from bot.drafting.grounding import Sources, ground_items
from bot.drafting.model import make_client
from bot.drafting.prompt import load_prompt
from bot.jobs import job
from bot.messages import Reply
from bot.parsing import split_cost
from bot.store import load_case, save_draft
from storage import repo
from storage.db import Database

log = logging.getLogger(__name__)
PROMPT = "account-map"


class AccountMap(BaseModel):
    model_config = ConfigDict(extra="ignore")
    symptoms: list[str] = []
    hypotheses: list[str] = []
    signals: list[str] = []
    diagnostic_path: list[str] = []
    root_cause: str = ""
    contributing_factors: list[str] = []


async def ask_for_map(config: DraftingConfig, *, case_number: int, text: str) -> AccountMap:
    prompt = load_prompt(PROMPT)
    boundary = secrets.token_hex(6)
    system = prompt.system.replace("{{boundary}}", boundary) + "\n\n" + prompt.json_mode
    user = (
        prompt.user.replace("{{case_number}}", str(case_number))
        + f"\n\nBEGIN ACCOUNT {boundary}\n{text}\nEND ACCOUNT {boundary}"
    )
    client = make_client(config)
    try:
        completion = await client.chat.completions.create(
            model=config.model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            response_format={"type": "json_object"},
        )
    finally:
        await client.close()
    content = completion.choices[0].message.content or "{}" if completion.choices else "{}"
    start, end = content.find("{"), content.rfind("}")
    if not 0 <= start < end:  # a refusal or prose: a failure to say, not an empty mapping
        raise ValueError("the model's answer holds no JSON object")
    return AccountMap.model_validate(json.loads(content[start : end + 1]))


def grounded(mapped: AccountMap, case: CaseDraft, *, text: str, by: str) -> tuple[CaseDraft, list[str], int]:
    """The case with the supported items in its empty sections; what was added; how many dropped."""
    sources = Sources.build(text)
    added: list[str] = []
    dropped = 0

    def keep(where: str, items: list[str]) -> tuple[str, ...]:
        nonlocal dropped
        kept, lost = ground_items(where, items, sources, fallback=())
        dropped += len(lost)
        if kept:
            added.append(f"{where.replace('_', ' ')} ({len(kept)})")
        return kept

    if not case.symptoms:
        case = replace(case, symptoms=keep("symptoms", mapped.symptoms))
    for kind, attr, items in (
        ("hypothesis", "hypotheses", mapped.hypotheses),
        ("signal", "signals", mapped.signals),
    ):
        if not any(m.kind == kind for m in case.misjudgments):
            entries = tuple(Misjudgment(kind, *split_cost(item)) for item in keep(attr, items))
            case = replace(case, misjudgments=(*case.misjudgments, *entries))
    if not case.diagnostic_path:
        steps = keep("diagnostic_path", mapped.diagnostic_path)
        case = replace(case, diagnostic_path=tuple(DiagnosticStep(step, by) for step in steps))
    if not case.contributing_factors:
        case = replace(case, contributing_factors=keep("contributing_factors", mapped.contributing_factors))
    if not case.root_cause and mapped.root_cause.strip():
        cause = keep("root_cause", [mapped.root_cause])
        case = replace(case, root_cause=cause[0] if cause else None)
    return case, added, dropped


@job("account")
async def account_job(
    db: Database, tenant_key: str, argument: str, settings: Settings, *, now: dt.datetime
) -> list[Reply]:
    """`account:<case>:<raw answer id>` (older keys without the id: the newest account)."""
    platform, _, tenant_id_text = tenant_key.partition(":")
    number_text, _, answer_text = argument.partition(":")
    number = int(number_text)
    async with db.sessions() as session:
        tenant = await repo.tenant(session, platform=platform, external_id=tenant_id_text, now=now)
        assert tenant.id is not None
        case_row = await repo.case_by_number(session, tenant_id=tenant.id, number=number)
        if case_row is None or case_row.id is None:
            return []
        answers = await repo.raw_answers(session, tenant_id=tenant.id, case_id=case_row.id)
    if answer_text:
        author = next((a for a in answers if str(a.id) == answer_text), None)
    else:
        author = next((a for a in reversed(answers) if account_text(a.text, "title")), None)
    written = account_text(author.text, "title") if author else None
    free = parse_account(written).free_text if written else ""
    if not free:
        return []
    try:
        mapped = await ask_for_map(DraftingConfig.from_env(), case_number=number, text=free)
    except Exception as error:  # the model is optional: say so, keep what the labels gave
        log.warning("the model could not map the account of case #%d: %r", number, error)
        return [
            Reply(
                f"The model could not sort the free text of the account of #{number}; it is kept as written."
            )
        ]
    async with db.transaction() as session:
        fresh = await repo.case_by_number(session, tenant_id=tenant.id, number=number)
        if fresh is None:
            return []
        loaded = await load_case(session, tenant_id=tenant.id, case=fresh)
        people = await repo.people_by_ids(
            session, tenant_id=tenant.id, ids=[author.responder_id] if author else []
        )
        by = next((p.display_name or p.platform_user_id for p in people.values()), None) or "responder"
        case, added, dropped = grounded(mapped, loaded.draft, text=free, by=by)
        await save_draft(session, tenant_id=tenant.id, loaded=loaded, draft=case, now=now)
    text = f"From the free text of the account (#{number}), the model added: " + (
        ", ".join(added) or "nothing new"
    )
    if dropped:
        text += f"; {dropped} item(s) dropped for saying what the account does not"
    return [Reply(text + ".", case_number=number)]
