"""The two value types that cross the adapter boundary.

An adapter turns a platform payload into an `Inbound`, hands it to the core, and
renders the `Reply` list it gets back. Nothing platform-specific lives here:
a platform feature the core cannot express becomes a new field, not an import.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class InboundKind(StrEnum):
    COMMAND = "command"  # `/postmortem ...`, `@Casebook ...`: parsed by the command grammar
    MESSAGE = "message"  # a message in a conversation: an interview answer, if one runs there
    ACTION = "action"  # a button: `text` carries the choice's value
    FORM = "form"  # a submitted form (modal, card): `form` carries its values


@dataclass(frozen=True)
class Mention:
    user_id: str
    display_name: str | None = None


@dataclass(frozen=True)
class Inbound:
    platform: str
    tenant: str  # the workspace / Teams tenant id on that platform
    conversation_key: str  # where the exchange happens: a thread, a DM, a terminal
    user_id: str
    text: str = ""
    kind: InboundKind = InboundKind.MESSAGE
    user_name: str | None = None
    user_timezone: str | None = None  # IANA name, when the platform knows it
    user_locale: str | None = None  # e.g. "en-US", when the platform knows it: how dates are written
    user_is_admin: bool = False
    direct: bool = False  # a 1:1 conversation with the bot: plain text works as a command
    form: dict[str, str] | None = None
    mentions: tuple[Mention, ...] = ()  # the `<@id>` tokens in `text`, resolved by the adapter
    event_id: str | None = None  # the platform's id for this delivery, for deduplication
    # When it arrived, stamped once by the adapter: the turn's `now` for every write (required,
    # so a forgotten stamp fails loudly instead of reading the wall clock here).
    at: dt.datetime = field(kw_only=True)
    tenant_name: str | None = None
    # The interview step a button or form answered (the Reply.step it came with): a press
    # on a question that has since moved on is refused instead of answering the next one.
    step: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("Inbound.at must be timezone-aware")


class ReplyKind(StrEnum):
    QUESTION = "question"  # an interview question; `choices` may offer quick answers
    INFO = "info"
    ERROR = "error"  # the input was refused; nothing changed
    CASE = "case"  # a rendered case (Markdown in `text`, sections in `sections`)
    LIST = "list"  # a listing (cases, actions)
    NOTICE = "notice"  # something for another person (see `to_user`)


@dataclass(frozen=True)
class Choice:
    label: str
    value: str  # what pressing it sends back, exactly as if typed ("/..." runs a command)
    style: str | None = None  # "primary" | "danger" | None
    form: str | None = None  # collect this form first (see bot.forms), then send as FORM


@dataclass(frozen=True)
class ListItem:
    """One entry of a listing (an action, a case) with its own buttons."""

    text: str
    choices: tuple[Choice, ...] = ()
    ref: str | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str  # the file, for text files; for binary ones (`data` set) a short description
    mime: str = "text/markdown"
    data: bytes | None = None  # a binary file (e.g. a PNG chart): upload these bytes

    @property
    def payload(self) -> bytes:
        """The bytes to upload, text or binary alike."""
        return self.data if self.data is not None else self.content.encode()


@dataclass(frozen=True)
class Section:
    title: str
    body: str  # Markdown


@dataclass(frozen=True)
class Reply:
    """Text is standard Markdown (**bold**, `code`, - lists); adapters convert it."""

    text: str
    kind: ReplyKind = ReplyKind.INFO
    choices: tuple[Choice, ...] = ()
    ephemeral: bool = False  # only the caller should see it, where the platform can
    to_user: str | None = None  # deliver to this platform user id by DM instead of here
    case_number: int | None = None
    step: str | None = None  # the interview step a QUESTION belongs to
    sections: tuple[Section, ...] = ()
    attachment: Attachment | None = None
    form: str | None = None  # a form the adapter may offer for this answer: see bot.forms
    items: tuple[ListItem, ...] = ()
    # Slow work to run after this reply is sent (e.g. "draft:42"): the adapter passes it to
    # `bot.jobs.run_followup` once the platform has been acknowledged, and sends what it returns
    # to the same conversation. Keeps drafting from ever delaying an acknowledgement.
    followup: str | None = None
    # A CASE reply's parts, so adapters need not parse `text` back: the case's title (its
    # heading is "Case #<case_number>: <case_title>"), what precedes the case, and whether this
    # reply announces the case's publication (Slack then updates the thread's root message).
    case_title: str | None = None
    intro: str | None = None
    publication: bool = False
    # A proactive send's idempotency key (e.g. "digest:12:2026-W48"): a notifier may attach it to
    # the message (Slack message metadata) so that a resend can first ask whether it already landed.
    delivery_key: str | None = None
    # Quiet threads. `records_step`: this reply takes the place of the message that asked that
    # step's question (edited in place, its buttons gone); posted only where it cannot be edited.
    # `react`: acknowledge the inbound message with this reaction (an emoji name) instead of
    # posting; `text` is what a platform without reactions shows.
    records_step: str | None = None
    react: str | None = None
    # Lines a person may tick (label, value), shown with the reply's choices: a choice whose
    # value holds `{picked}` is sent with the ticked values in its place, comma-separated
    # (Slack: checkboxes; where a platform cannot, the person types the numbers).
    picks: tuple[Choice, ...] = ()
