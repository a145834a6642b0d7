"""The interview: one table of steps (`table`, with the action and review sub-flows in
`actions` and `review`) and a pure transition function (`machine`) that walks it, over small
immutable values (`state`).
"""

from bot.interview.machine import CONTROLS, advance, ask, cancel, start
from bot.interview.state import STEP_NAMES, Context, Outcome, State, Step, StepName, step_name
from bot.interview.table import ACTION_STEPS, FLOW, ORDER, STEPS, TERMINALS, label_of

__all__ = [
    "ACTION_STEPS",
    "CONTROLS",
    "FLOW",
    "ORDER",
    "STEPS",
    "STEP_NAMES",
    "TERMINALS",
    "Context",
    "Outcome",
    "State",
    "Step",
    "StepName",
    "advance",
    "ask",
    "cancel",
    "label_of",
    "start",
    "step_name",
]
