"""What Teams posts to /api/messages, as a typed model checked before botbuilder reads it.

The Bot Framework token says who sent an activity, not that it is well formed. Every field the
adapter reads has a type and a length limit here; an activity that does not fit is refused with
400 and one WARNING line naming the field, before botbuilder or the core sees it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from adapters.bodies import Malformed, json_object

Id = Annotated[str, StringConstraints(max_length=512)]
Name = Annotated[str, StringConstraints(max_length=512)]
Text = Annotated[str, StringConstraints(max_length=40_000)]
Url = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://")]


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class Account(Model):
    id: Id | None = None
    name: Name | None = None
    aadObjectId: Id | None = None


class Conversation(Model):
    id: Id
    tenantId: Id | None = None
    conversationType: Name | None = None
    isGroup: bool | None = None


class Ref(Model):
    id: Id | None = None


class ChannelData(Model):
    tenant: Ref | None = None
    team: Ref | None = None
    channel: Ref | None = None


class Entity(Model):
    type: Name | None = None
    text: Text | None = None
    mentioned: Account | None = None
    timezone: Name | None = None


class Attachment(Model):
    contentType: Name | None = None
    content: Any = None


class Activity(Model):
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    id: Id | None = None
    name: Name | None = None
    timestamp: Name | None = None
    localTimezone: Name | None = None
    serviceUrl: Url
    channelId: Name
    from_: Account | None = Field(default=None, alias="from")
    recipient: Account | None = None
    conversation: Conversation
    replyToId: Id | None = None
    text: Text | None = None
    action: Name | None = None
    value: dict[str, Any] | Text | None = None
    channelData: ChannelData | None = None
    entities: Annotated[list[Entity], Field(max_length=100)] | None = None
    attachments: Annotated[list[Attachment], Field(max_length=20)] | None = None
    membersAdded: Annotated[list[Account], Field(max_length=500)] | None = None
    membersRemoved: Annotated[list[Account], Field(max_length=500)] | None = None


def read_activity(raw: bytes) -> dict[str, Any]:
    """The activity's JSON, checked; Malformed (with the field) when it does not fit."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    body = json_object(text, "the activity")
    try:
        Activity.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(the activity)"
        raise Malformed(f"{where}: {first['msg']}"[:300]) from None
    return body
