"""Drafts and suggestions <-> rows. Short transactions: the model is never awaited inside one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import render
from bot.drafting.grounding import GroundedDraft
from bot.drafting.material import AnswerRecord, Material, build_material
from bot.drafting.render import SuggestionView, model_sections, render_model_markdown
from bot.messages import Reply, Section
from bot.publish import markdown_reply
from bot.store import load_case, mention_of
from storage import repo
from storage import suggestions as suggestion_rows
from storage.models import ActionSuggestion, Case, SuggestionStatus

DECIDED = (SuggestionStatus.ACCEPTED, SuggestionStatus.DROPPED)


def suggestion_ref(case_number: int, number: int) -> str:
    return f"{case_number}.S{number}"


async def load_material(session: AsyncSession, *, tenant_id: int, case: Case) -> Material:
    assert case.id is not None
    loaded = await load_case(session, tenant_id=tenant_id, case=case)
    answers = await repo.raw_answers(session, tenant_id=tenant_id, case_id=case.id)
    responders = await repo.people_by_ids(session, tenant_id=tenant_id, ids=[a.responder_id for a in answers])
    records = []
    for answer in answers:
        responder = mention_of(responders.get(answer.responder_id))
        if answer.id is not None and responder is not None:
            records.append(AnswerRecord(answer.id, answer.question_key, responder, answer.text))
    decided = await suggestion_rows.of_case(session, tenant_id=tenant_id, case_id=case.id, statuses=DECIDED)
    return build_material(loaded.draft, records, considered=[s.description for s in decided])


async def pending_views(session: AsyncSession, *, tenant_id: int, case: Case) -> list[SuggestionView]:
    assert case.id is not None
    pending = await suggestion_rows.of_case(
        session, tenant_id=tenant_id, case_id=case.id, statuses=[SuggestionStatus.PENDING]
    )
    return [
        SuggestionView(suggestion_ref(case.number, s.number), s.kind, s.description, s.gap) for s in pending
    ]


async def save_model_draft(
    session: AsyncSession,
    *,
    tenant_id: int,
    case: Case,
    grounded: GroundedDraft,
    material: Material,
    meta: dict[str, Any],
    now: dt.datetime,
) -> list[ActionSuggestion]:
    """The new draft replaces the last one; undecided suggestions give way to the new ones."""
    assert case.id is not None
    await suggestion_rows.supersede_pending(session, tenant_id=tenant_id, case_id=case.id, now=now)
    number = await suggestion_rows.next_number(session, case_id=case.id)
    added = []
    for offset, s in enumerate(grounded.suggestions):
        row = ActionSuggestion(
            tenant_id=tenant_id,
            case_id=case.id,
            number=number + offset,
            description=s.description,
            kind=s.kind,
            gap=s.gap or None,
            based_on=list(s.based_on),
            model=str(meta.get("model")),
            prompt_version=str(meta.get("prompt")),
            created_at=now,
        )
        session.add(row)
        added.append(row)
    stored = grounded.stored()
    for flag in stored["blame_flags"]:
        flag["quote"] = material.pseudonyms.reveal(flag["quote"])
    case.model_draft = stored
    case.draft_method = "model"
    case.draft_meta = meta
    case.drafted_at = now
    await session.flush()
    return added


def save_failure(case: Case, meta: dict[str, Any]) -> None:
    """Whatever draft stands stays; the attempt is recorded beside it."""
    case.draft_meta = {**(case.draft_meta or {}), "last_attempt": meta}


@dataclass(frozen=True)
class Rendered:
    markdown: str
    sections: tuple[Section, ...]


async def render_current(session: AsyncSession, *, tenant_id: int, case: Case) -> Rendered:
    """The case as it stands: the model's draft if one was kept, else the template."""
    draft = (await load_case(session, tenant_id=tenant_id, case=case)).draft
    if case.draft_method != "model" or not case.model_draft:
        return Rendered(render.render_case_markdown(draft), render.case_sections(draft))
    views = await pending_views(session, tenant_id=tenant_id, case=case)
    stored, meta = case.model_draft, case.draft_meta or {}
    return Rendered(
        render_model_markdown(draft, stored, meta, suggestions=views),
        model_sections(draft, stored, suggestions=views),
    )


async def refresh_draft_md(session: AsyncSession, *, tenant_id: int, case: Case) -> Rendered:
    """Re-render the stored draft after a change (a new draft, a decided suggestion)."""
    rendered = await render_current(session, tenant_id=tenant_id, case=case)
    case.draft_md = rendered.markdown
    session.add(case)
    return rendered


def draft_reply(case: Case, rendered: Rendered, *, intro: str) -> Reply:
    return markdown_reply(case.number, case.title, rendered.markdown, rendered.sections, intro=intro)
