"""The interview: one table of steps (`table`, with the action and review sub-flows in
`actions` and `review`) and a pure transition function (`machine`) that walks it, over small
immutable values (`state`).
"""

from bot.interview.machine import CONTROLS, advance, ask, cancel, start
from bot.interview.state import Context, Outcome, State, Step
from bot.interview.table import (
    ACTION_STEPS,
    FLOW,
    ORDER,
    SECTIONS,
    STEP_NAMES,
    STEPS,
    TERMINALS,
    StepName,
    answered_sections,
    first_unanswered,
    is_answered,
    label_of,
    step_name,
)

__all__ = [
    "ACTION_STEPS",
    "CONTROLS",
    "FLOW",
    "ORDER",
    "SECTIONS",
    "STEPS",
    "STEP_NAMES",
    "TERMINALS",
    "Context",
    "Outcome",
    "State",
    "Step",
    "StepName",
    "advance",
    "answered_sections",
    "ask",
    "cancel",
    "first_unanswered",
    "is_answered",
    "label_of",
    "start",
    "step_name",
]
