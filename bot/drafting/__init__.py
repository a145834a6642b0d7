"""Optional model drafting: structured, grounded, and never in the way of an acknowledgement.

Publishing stores the template draft at once and names the follow-up job
`draft:<case number>` on its reply; adapters run that job after acknowledging
the platform. See bot.drafting.job for the job, bot.drafting.grounding for what
the model may and may not write.
"""

from __future__ import annotations

from bot.drafting import job as _job  # noqa: F401  (registers the "draft" follow-up job)
from bot.drafting.config import enabled_in_env


def followup_key(case_number: int) -> str | None:
    """The follow-up that drafts a case with the model, or None when no model is configured."""
    return f"draft:{case_number}" if enabled_in_env() else None


__all__ = ["enabled_in_env", "followup_key"]
