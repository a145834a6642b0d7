"""What the model must return: validated by pydantic, then grounded (bot.drafting.grounding).

Deliberately, nothing here can carry an owner, a due date, a timeline point or a
status: those come from people through the interview, never from the model.
Length limits are enforced while grounding, not in the schema, because several
OpenAI-compatible servers reject `maxLength` in a strict JSON schema.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ActionKind = Literal["detect", "mitigate", "prevent", "process"]


class _Strict(BaseModel):
    # Unknown keys are ignored, never read: a rogue "status" field has nowhere to go.
    model_config = ConfigDict(extra="ignore")


class SuggestedAction(_Strict):
    description: str = Field(description="A specific, checkable prevention action, without owner or date.")
    kind: ActionKind = Field(description="detect, mitigate, prevent or process.")
    gap: str = Field(description="The gap in detection or mitigation it closes, as the answers show it.")
    based_on: list[int] = Field(description="Ids of the answers that show the gap (at least one).")


class BlameFlag(_Strict):
    answer_id: int = Field(description="Id of the answer that contains the wording.")
    quote: str = Field(description="The exact words from that answer that blame a person.")
    rewrite: str = Field(description="A blameless rewrite: systems and conditions, not people.")


class ModelDraft(_Strict):
    narrative: str = Field(description="A short narrative of the incident for engineers, in plain prose.")
    symptoms: list[str] = Field(description="What was observed, cleaned up: one item per symptom.")
    diagnostic_path: list[str] = Field(
        description="The diagnosis in order: what was checked, what it showed."
    )
    root_cause: str = Field(description="The root cause, blameless: systems and conditions.")
    suggested_actions: list[SuggestedAction] = Field(
        description="Missing actions: gaps in detection or mitigation the answers reveal. May be empty."
    )
    blame_flags: list[BlameFlag] = Field(
        description="Wording in the answers that blames people. May be empty."
    )
