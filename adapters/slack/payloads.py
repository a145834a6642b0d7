"""What Slack sends, as typed models: the adapter's boundary for inbound payloads.

A signed request is from Slack, not necessarily well formed (shapes change, other apps post odd
events, a signing secret can leak). So every body is checked twice before anything acts on it:

1. `read_body` (the events route, before bolt): size, UTF-8, JSON nesting depth, and the
   `Envelope` fields bolt itself reads to route and authorize (team, enterprise, user, channel,
   authorizations...). A body that is not JSON is a 400; a JSON body of the wrong shape is a 200
   with nothing done (Slack would only retry it).
2. At the top of each listener, the model of its kind (`SlashCommand`, `MessageEvent`,
   `BlockAction`, `ViewSubmission`, `HomeOpened`): ids in Slack's shapes, every string bounded,
   our own `private_metadata` checked. A payload that does not fit is acknowledged as Slack
   expects, with nothing done, and one WARNING line naming the field.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from adapters.bodies import Malformed, json_object
from bot.forms import FORMS

log = logging.getLogger(__name__)

# Slack's id shapes (real ids are 9-11 characters; the bound keeps a crafted one out of
# users.info and the database).
USER_ID = r"[UWB][A-Z0-9]{1,20}"
UserId = Annotated[str, StringConstraints(pattern=rf"^{USER_ID}$")]
ChannelId = Annotated[str, StringConstraints(pattern=r"^[CDG][A-Z0-9]{1,20}$")]
TeamId = Annotated[str, StringConstraints(pattern=r"^[TE][A-Z0-9]{1,20}$")]
EnterpriseId = Annotated[str, StringConstraints(pattern=r"^(E[A-Z0-9]{1,20})?$")]  # Slack may send it empty
Ts = Annotated[str, StringConstraints(pattern=r"^\d{1,12}\.\d{1,8}$")]
Token = Annotated[str, StringConstraints(max_length=255)]  # trigger ids, event ids, action ids
Name = Annotated[str, StringConstraints(max_length=255)]
Url = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://")]
MAX_TEXT = 40_000  # Slack's own limit for a message's text
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
Value = Annotated[str, StringConstraints(max_length=3000)]

MAX_BODY_BYTES = 1024 * 1024  # aiohttp's default too; Slack's largest payloads are far below


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class Ref(Model):
    id: Name | None = None


class TeamRef(Model):
    id: TeamId | None = None
    domain: Name | None = None
    enterprise_id: EnterpriseId | None = None


class UserRef(Model):
    id: UserId | None = None
    team_id: TeamId | None = None


class Authorization(Model):
    team_id: TeamId | None = None
    enterprise_id: EnterpriseId | None = None
    user_id: UserId | None = None
    is_enterprise_install: bool | None = None
    is_bot: bool | None = None


class Inner(Model):
    """The parts of an event, message or view that bolt reads while routing."""

    type: Name | None = None
    subtype: Name | None = None
    user: UserId | UserRef | None = None
    channel: ChannelId | Ref | None = None
    team: TeamId | None = None
    user_team: TeamId | None = None
    team_id: TeamId | None = None
    enterprise: EnterpriseId | None = None
    thread_ts: Ts | None = None
    callback_id: Name | None = None
    bot_access_token: Name | None = None
    function_execution_id: Name | None = None
    inputs: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    previous_message: dict[str, Any] | None = None
    item: dict[str, Any] | None = None
    assistant_thread: dict[str, Any] | None = None
    workflow_step: dict[str, Any] | None = None


class Action(Model):
    action_id: Name
    block_id: Name | None = None
    type: Name | None = None


class Envelope(Model):
    """Everything bolt reads before a listener runs, in the shape bolt assumes."""

    type: Name | None = None
    token: Name | None = None
    team_id: TeamId | None = None
    enterprise_id: EnterpriseId | None = None
    api_app_id: Name | None = None
    team: TeamRef | None = None
    enterprise: EnterpriseId | Ref | None = None
    is_enterprise_install: bool | Literal["true", "false"] | None = None
    authorizations: Annotated[list[Authorization], Field(max_length=20)] | None = None
    user: UserId | UserRef | None = None
    user_id: UserId | None = None
    channel: ChannelId | Ref | None = None
    channel_id: ChannelId | None = None
    event: Inner | None = None
    message: Inner | None = None
    previous_message: Inner | None = None
    view: Inner | None = None
    actions: Annotated[list[Action], Field(min_length=1, max_length=30)] | None = None
    command: Name | None = None
    callback_id: Name | None = None
    thread_ts: Ts | None = None
    is_ext_shared_channel: bool | None = None
    response_url: Url | None = None
    trigger_id: Token | None = None
    function_data: dict[str, Any] | None = None
    workflow_step: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _what_bolt_indexes(self) -> Envelope:
        """bolt indexes these without looking (KeyError): a view's type, a workflow step."""
        if self.view is not None and self.view.callback_id is not None and self.view.type is None:
            raise ValueError("view.type is required")
        if self.type == "workflow_step_edit" and self.callback_id is not None and self.workflow_step is None:
            raise ValueError("workflow_step is required")
        event = self.event
        if event is not None and event.type == "workflow_step_execute" and event.workflow_step is None:
            raise ValueError("event.workflow_step is required")
        return self


# --- the body, before bolt --------------------------------------------------------------------


def decode(raw: bytes, content_type: str) -> tuple[str, dict[str, Any]]:
    """The body as text and as the payload bolt will see; Malformed when it cannot be one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if content_type == "application/json":
        return text, json_object(text, "the body")
    form = urllib.parse.parse_qs(text, keep_blank_values=True, max_num_fields=200)
    if "payload" in form:
        return text, json_object(form["payload"][0], "payload=")
    return text, {key: values[0] for key, values in form.items()}


def check_envelope(payload: dict[str, Any]) -> str | None:
    """None when bolt can route `payload` safely; else the field that does not fit."""
    try:
        Envelope.model_validate(payload)
    except ValidationError as error:
        return field_of(error)
    return None


def field_of(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(the payload)"
    return f"{where}: {first['msg']}"


# --- each listener's payload --------------------------------------------------------------------


class SlashCommand(Model):
    team_id: TeamId
    channel_id: ChannelId
    user_id: UserId
    command: Name
    text: Text = ""
    response_url: Url | None = None
    trigger_id: Token | None = None
    team_domain: Name | None = None


class MessageEvent(Model):
    type: Literal["message", "app_mention"]
    channel: ChannelId
    user: UserId | None = None
    text: Text = ""
    ts: Ts
    thread_ts: Ts | None = None
    channel_type: Name | None = None
    subtype: Name | None = None
    bot_id: Name | None = None


class EventBody(Model):
    event_id: Token | None = None
    team_id: TeamId | None = None


class HomeOpened(Model):
    user: UserId
    tab: Name = "home"


class ButtonText(Model):
    text: Annotated[str, StringConstraints(max_length=200)]


class Button(Model):
    action_id: Annotated[
        str, StringConstraints(pattern=r"^(choice:\d{1,3}|form:[a-z_]{1,40}:(\d{1,3}|offer))$")
    ]
    block_id: Name | None = None
    value: Value | None = None
    text: ButtonText
    action_ts: Ts | None = None


class Container(Model):
    type: Name | None = None
    channel_id: ChannelId | None = None
    message_ts: Ts | None = None
    thread_ts: Ts | None = None
    is_ephemeral: bool = False


class PressedMessage(Model):
    ts: Ts | None = None
    thread_ts: Ts | None = None
    text: Text | None = None
    blocks: Annotated[list[dict[str, Any]], Field(max_length=100)] | None = None


class ViewRef(Model):
    type: Name | None = None


class ChannelRef(Model):
    id: ChannelId | None = None


class BlockAction(Model):
    user: UserRef
    actions: Annotated[list[Button], Field(min_length=1, max_length=30)]
    container: Container | None = None
    channel: ChannelRef | None = None
    message: PressedMessage | None = None
    view: ViewRef | None = None
    response_url: Url | None = None
    trigger_id: Token

    @field_validator("user")
    @classmethod
    def _has_id(cls, user: UserRef) -> UserRef:
        if user.id is None:
            raise ValueError("a user id is required")
        return user


class Selected(Model):
    value: Value


class Element(Model):
    type: Name | None = None
    value: Value | None = None
    selected_user: UserId | None = None
    selected_date: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    selected_option: Selected | None = None


FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]


class State(Model):
    values: Annotated[dict[FieldName, dict[Name, Element]], Field(max_length=30)] = {}


class PlaceModel(Model):
    """`Place.dumps()` as we wrote it into a form's metadata."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    key: Annotated[str, StringConstraints(max_length=300)]
    user: UserId
    channel: ChannelId | None = None
    thread_ts: Ts | None = None
    response_url: Url | None = None
    message_ts: Ts | None = None
    ephemeral: bool = False
    direct: bool = False
    home: bool = False


class FormMetadata(Model):
    """The `private_metadata` we put on a form (interactions._open_form)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    place: Annotated[str, StringConstraints(max_length=2900)]
    value: Value = ""
    step: Name | None = None

    @field_validator("place")
    @classmethod
    def _place(cls, place: str) -> str:
        PlaceModel.model_validate(json_object(place, "the form's place"))
        return place


class SubmittedView(Model):
    id: Token | None = None
    callback_id: Annotated[str, StringConstraints(pattern=r"^form:[a-z_]{1,40}$")]
    private_metadata: Annotated[str, StringConstraints(max_length=3000)]
    state: State = State()

    @field_validator("callback_id")
    @classmethod
    def _ours(cls, callback_id: str) -> str:
        if callback_id.split(":")[1] not in FORMS:
            raise ValueError("not a form we issued")
        return callback_id

    @field_validator("private_metadata")
    @classmethod
    def _metadata(cls, metadata: str) -> str:
        FormMetadata.model_validate(json_object(metadata, "private_metadata"))
        return metadata


class ViewSubmission(Model):
    user: UserRef
    view: SubmittedView
    trigger_id: Token | None = None

    @field_validator("user")
    @classmethod
    def _has_id(cls, user: UserRef) -> UserRef:
        if user.id is None:
            raise ValueError("a user id is required")
        return user


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], payload: Any, *, what: str) -> M | None:
    """`payload` as `model`, or None after one WARNING line naming the field that does not fit."""
    try:
        return model.model_validate(payload)
    except (ValidationError, Malformed) as error:
        reason = field_of(error) if isinstance(error, ValidationError) else str(error)
        log.warning("ignored a malformed Slack %s: %s", what, reason[:300])
        return None
