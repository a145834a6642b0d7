"""Ask the model, ground its answer, and say what happened: no database, no chat."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from bot.drafting.config import DraftingConfig
from bot.drafting.grounding import GroundedDraft, ground
from bot.drafting.material import Material
from bot.drafting.model import DraftFailure, ask_model
from bot.drafting.prompt import Prompt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    grounded: GroundedDraft | None  # None: the template (or the previous model draft) stands
    failure: DraftFailure | None
    meta: dict[str, Any]  # what wrote it, how long it took, what was dropped and why


async def compose(config: DraftingConfig, prompt: Prompt, material: Material, *, now: dt.datetime) -> Attempt:
    started = time.monotonic()
    meta: dict[str, Any] = {
        "model": config.model,
        "prompt": prompt.label,
        "prompt_version": prompt.version,
        "prompt_digest": prompt.digest,
        "server": config.server,
        "answers_sent": len(material.answers),
        "truncated": material.truncated,
        "at": now.isoformat(),
    }
    try:
        answer = await ask_model(config, prompt, material)
    except DraftFailure as failure:
        meta.update(error=failure.kind, note=failure.note, seconds=round(time.monotonic() - started, 2))
        log.warning(
            "model draft of case #%d failed (%s): %s [model %s at %s]",
            material.case_number,
            failure.kind,
            failure.note,
            config.model,
            config.server,
        )
        return Attempt(None, failure, meta)
    grounded = ground(answer.draft, material.sources(), material.fallback)
    meta.update(
        method="model",
        structured_output=answer.mode,
        served_by=answer.served_by,
        response_id=answer.response_id,
        usage=answer.usage,
        seconds=round(time.monotonic() - started, 2),
        dropped=[dataclasses.asdict(d) for d in grounded.dropped],
    )
    for dropped in grounded.dropped:
        log.info(
            "case #%d: dropped from the model draft (%s): %s",
            material.case_number,
            dropped.reason,
            dropped.where,
        )
    if not grounded.narrative:
        ungrounded = DraftFailure(
            "not_grounded", "nothing in the model's narrative was grounded in the answers"
        )
        meta.update(method="template", error=ungrounded.kind, note=ungrounded.note)
        return Attempt(None, ungrounded, meta)
    return Attempt(grounded, None, meta)
