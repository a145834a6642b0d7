"""A model-written case: the narrative, then the template's sections.

The template (bot.render) stays the one renderer of sections: the model's
cleaned-up symptoms, diagnostic path and root cause are swapped into the case
before rendering, so timeline, prevention plan and risk check always come from
the stored facts, never from the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot import render
from bot.case import CaseDraft, DiagnosticStep
from bot.messages import Section


@dataclass(frozen=True)
class SuggestionView:
    ref: str  # "12.S1"
    kind: str
    description: str
    gap: str | None


def _case_with_model_sections(case: CaseDraft, stored: Mapping[str, Any]) -> CaseDraft:
    return replace(
        case,
        symptoms=tuple(stored.get("symptoms") or case.symptoms),
        diagnostic_path=tuple(DiagnosticStep(text=t) for t in stored.get("diagnostic_path") or ())
        or case.diagnostic_path,
        root_cause=stored.get("root_cause") or case.root_cause,
    )


def _suggestions_body(suggestions: Sequence[SuggestionView]) -> str:
    lines = [
        f"- `{s.ref}` ({s.kind}) {s.description}" + (f" — _gap: {s.gap}_" if s.gap else "")
        for s in suggestions
    ]
    lines.append(
        "_Suggested by the model, not yet actions: the case lead accepts one with an owner and a due "
        "date (`suggestion accept <ref> @owner <due>`) or drops it._"
    )
    return "\n".join(lines)


def _flags_body(flags: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(f"- “{f['quote']}” → _{f['rewrite']}_" for f in flags)


def model_sections(
    case: CaseDraft,
    stored: Mapping[str, Any],
    *,
    suggestions: Sequence[SuggestionView] = (),
) -> tuple[Section, ...]:
    sections: list[Section] = []
    if stored.get("narrative"):
        sections.append(Section("Narrative", str(stored["narrative"])))
    for section in render.case_sections(_case_with_model_sections(case, stored)):
        sections.append(section)
        if section.title == "Prevention plan" and suggestions:
            sections.append(Section("Suggested actions", _suggestions_body(suggestions)))
    if stored.get("blame_flags"):
        sections.append(Section("Language check", _flags_body(stored["blame_flags"])))
    return tuple(sections)


def provenance(meta: Mapping[str, Any]) -> str:
    return (
        f"_Drafted by {meta.get('model', 'a model')} with prompt {meta.get('prompt', '?')}. "
        "Times, owners, due dates and statuses come from the interview, not from the model._"
    )


def render_model_markdown(
    case: CaseDraft,
    stored: Mapping[str, Any],
    meta: Mapping[str, Any],
    *,
    suggestions: Sequence[SuggestionView] = (),
) -> str:
    parts = [render.case_heading(case)]
    for section in model_sections(case, stored, suggestions=suggestions):
        parts.append(f"## {section.title}\n{section.body}")
    parts.append(provenance(meta))
    return "\n\n".join(parts) + "\n"
