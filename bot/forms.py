"""Forms the core understands. An adapter may render one (a Slack modal, an
Adaptive Card) and send its values back as an `Inbound` of kind FORM whose
`text` is the choice's value and whose `form` holds the fields by name.
Typed answers always work too; forms are a convenience.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.parsing import ACTION_KINDS


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type: str  # "text" | "long_text" | "user" | "date" | "choice"
    required: bool = True
    options: tuple[str, ...] = ()


FORMS: dict[str, tuple[str, tuple[FormField, ...]]] = {
    "action": (
        "Add a prevention action",
        (
            FormField("description", "What should change?", "long_text"),
            FormField("owner", "Owner", "user"),
            FormField("due", "Due date", "date"),
            FormField("kind", "Kind", "choice", options=ACTION_KINDS),
        ),
    ),
    "done": (
        "Close the action",
        (FormField("evidence", "Evidence (a link or a note)", "long_text", required=False),),
    ),
    "reassign": ("Reassign the action", (FormField("owner", "New owner", "user"),)),
    "accept_suggestion": (
        "Accept the suggested action",
        (
            FormField("owner", "Owner", "user"),
            FormField("due", "Due date", "date"),
        ),
    ),
    "snooze": ("Snooze the action", (FormField("until", "Until", "date"),)),
    "cancel": (
        "Cancel the action",
        (FormField("reason", "Why is it no longer needed?", "long_text"),),
    ),
}
