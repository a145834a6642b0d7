"""The follow-up job `draft:<case number>`: runs after the platform was acknowledged.

Read what the model needs in one short transaction, ask the model with no
transaction open, then store the result in a second one. On any failure the
draft that stands (the template, or an earlier model draft) stays as it is.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import refs
from bot.config import ConfigError, Settings
from bot.drafting.compose import Attempt, compose
from bot.drafting.config import DraftingConfig
from bot.drafting.material import Material
from bot.drafting.prompt import configured_prompt
from bot.drafting.store import (
    draft_reply,
    load_material,
    refresh_draft_md,
    save_failure,
    save_model_draft,
    suggestion_ref,
)
from bot.jobs import job
from bot.messages import Choice, ListItem, Reply, ReplyKind
from bot.parsing import ParseError
from storage import repo
from storage.db import Database
from storage.models import ActionSuggestion, Case, CaseStatus

log = logging.getLogger(__name__)


def failure_note(case_number: int, note: str, *, model_draft_stands: bool) -> Reply:
    stands = "The previous model draft stands" if model_draft_stands else "The template draft stands"
    return Reply(
        f"ℹ️ No model draft for case #{case_number}: {note}. {stands} and nothing is lost; "
        f"`redraft #{case_number}` tries again.",
        ReplyKind.INFO,
        case_number=case_number,
    )


@job("draft")
async def draft_job(
    db: Database, tenant_key: str, argument: str, settings: Settings, *, now: dt.datetime
) -> list[Reply]:
    platform, _, external_id = tenant_key.partition(":")
    try:
        number = refs.parse_case_ref(argument)
    except ParseError:
        log.error("draft job needs a case number, got %r", argument)
        return []
    try:
        config = DraftingConfig.from_env()
        prompt = configured_prompt(config.prompt_version)
    except ConfigError as error:
        log.error("drafting is misconfigured: %s", error)
        return [
            failure_note(number, f"the drafting settings are invalid ({error})", model_draft_stands=False)
        ]
    if not config.enabled:
        return []
    loaded = await _material(db, platform, external_id, number, now=now)
    if loaded is None:
        return []
    tenant_id, case_id, material = loaded
    attempt = await compose(config, prompt, material, now=now)
    try:
        return await _store(db, tenant_id, case_id, material, attempt, now=now)
    except IntegrityError:
        # Two drafts of one case finished together and took the same suggestion numbers: the
        # first is stored; store this one after it (it supersedes the other's suggestions).
        log.info("case #%d was drafted twice at once; storing the later draft again", number)
        return await _store(db, tenant_id, case_id, material, attempt, now=now)


async def _store(
    db: Database, tenant_id: int, case_id: int, material: Material, attempt: Attempt, *, now: dt.datetime
) -> list[Reply]:
    async with db.transaction() as session:
        # Locked: two drafts of one case at once must not both see no pending suggestion.
        case = await repo.case_by_id(session, tenant_id=tenant_id, case_id=case_id, lock=True)
        if case is None or case.status != CaseStatus.PUBLISHED:
            log.info(
                "case #%d changed while the model drafted it; the draft is discarded", material.case_number
            )
            return []
        if attempt.grounded is None:
            save_failure(case, attempt.meta)
            session.add(case)
            note = attempt.failure.note if attempt.failure else "no usable answer"
            return [failure_note(case.number, note, model_draft_stands=case.draft_method == "model")]
        added = await save_model_draft(
            session,
            tenant_id=tenant_id,
            case=case,
            grounded=attempt.grounded,
            material=material,
            meta=attempt.meta,
            now=now,
        )
        log.info(
            "case #%d drafted by %s in %.1f s (%d suggestion(s), %d statement(s) dropped)",
            case.number,
            attempt.meta.get("model"),
            attempt.meta.get("seconds", 0.0),
            len(added),
            len(attempt.meta.get("dropped") or ()),
        )
        return await _draft_replies(session, tenant_id, case, attempt, added)


async def _material(
    db: Database, platform: str, external_id: str, number: int, *, now: dt.datetime
) -> tuple[int, int, Material] | None:
    async with db.transaction() as session:
        tenant = await repo.tenant(session, platform=platform, external_id=external_id, now=now)
        assert tenant.id is not None
        case = await repo.case_by_number(session, tenant_id=tenant.id, number=number)
        if case is None or case.id is None or case.status != CaseStatus.PUBLISHED:
            log.info("no published case #%d in %s:%s to draft", number, platform, external_id)
            return None
        return tenant.id, case.id, await load_material(session, tenant_id=tenant.id, case=case)


def suggestion_item(case_number: int, suggestion: ActionSuggestion) -> ListItem:
    ref = suggestion_ref(case_number, suggestion.number)
    text = f"`{ref}` ({suggestion.kind}) {suggestion.description}"
    if suggestion.gap:
        text += f"\n_gap: {suggestion.gap}_"
    return ListItem(
        text,
        choices=(
            Choice("Accept", f"/suggestion accept {ref}", "primary", form="accept_suggestion"),
            Choice("Drop", f"/suggestion drop {ref}", "danger"),
        ),
        ref=ref,
    )


def suggestions_reply(case_number: int, suggestions: list[ActionSuggestion]) -> Reply:
    return Reply(
        f"**The model suggests {len(suggestions)} more action(s) for case #{case_number}.** A suggestion "
        "becomes an action only when the case lead accepts it and gives it an owner and a due date.",
        ReplyKind.LIST,
        case_number=case_number,
        items=tuple(suggestion_item(case_number, s) for s in suggestions),
    )


async def _draft_replies(
    session: AsyncSession, tenant_id: int, case: Case, attempt: Attempt, added: list[ActionSuggestion]
) -> list[Reply]:
    rendered = await refresh_draft_md(session, tenant_id=tenant_id, case=case)
    dropped = len(attempt.meta.get("dropped") or ())
    intro = (
        f"✍️ Case #{case.number}, as drafted by {attempt.meta['model']} (prompt {attempt.meta['prompt']}). "
        "It replaces the template draft; the facts are unchanged."
    )
    if dropped:
        intro += f" {dropped} statement(s) not grounded in the answers were left out."
    replies = [draft_reply(case, rendered, intro=intro)]
    if added:
        replies.append(suggestions_reply(case.number, added))
    return replies
