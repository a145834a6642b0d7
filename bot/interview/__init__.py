"""The interview: an explicit table of steps (`steps`) and a pure transition function
(`machine`) over small immutable values (`state`).
"""

from bot.interview.machine import CONTROLS, advance, ask, cancel, start
from bot.interview.state import Context, Outcome, State, Step
from bot.interview.steps import ACTION_STEPS, ORDER, SECTIONS, STEPS, label_of

__all__ = [
    "ACTION_STEPS",
    "CONTROLS",
    "ORDER",
    "SECTIONS",
    "STEPS",
    "Context",
    "Outcome",
    "State",
    "Step",
    "advance",
    "ask",
    "cancel",
    "label_of",
    "start",
]
