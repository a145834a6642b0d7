"""The import format: one past postmortem as JSON, validated before anything is written.

It is the shape `casebook export N --format json` writes, plus a stable `id`, so a case
exported from one workspace imports into another. The README section documents it field by
field; `CaseRecord.model_json_schema()` is its machine-readable form.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from bot import parsing
from bot.case import FIELDS, TIMELINE

FORMAT_NAME = "casebook.cases/v1"

Text = Field(min_length=1, max_length=4000)


class _Strict(BaseModel):
    # Unknown fields are refused: a typo such as `symptom` must not silently drop data.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class PersonRef(_Strict):
    user_id: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=256)


class MisjudgmentRecord(_Strict):
    kind: Literal["hypothesis", "signal"]
    text: str = Text
    cost: str | None = Field(default=None, max_length=1000)


class StepRecord(_Strict):
    text: str = Text
    by: str | None = Field(default=None, max_length=256)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value


class ActionRecord(_Strict):
    description: str = Field(min_length=1, max_length=2000)
    owner: PersonRef | None = None
    due: dt.date | None = None
    kind: str | None = None
    status: Literal["open", "done", "cancelled"] = "open"
    risks: dict[str, bool] | None = None
    created: AwareDatetime | None = None  # when the action was agreed (default: the case's publication)
    closed_at: AwareDatetime | None = None
    evidence: str | None = Field(default=None, max_length=4000)
    # Written by `export`, ignored on import (numbers are given again in order).
    number: int | None = None
    ref: str | None = None
    issue: str | None = None  # its tracker issue in the exporting workspace (not another's)

    @field_validator("status", mode="before")
    @classmethod
    def _draft_is_open(cls, value: Any) -> Any:
        return "open" if value == "draft" else value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str | None) -> str | None:
        return parsing.parse_action_kind(value) if value else None

    @field_validator("risks")
    @classmethod
    def _risks(cls, value: dict[str, bool] | None) -> dict[str, bool] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - set(parsing.RISK_KEYS))
        if unknown:
            raise ValueError(f"unknown risk {', '.join(unknown)}; use {', '.join(parsing.RISK_KEYS)}")
        return {key: bool(value.get(key, False)) for key in parsing.RISK_KEYS}

    @model_validator(mode="after")
    def _closure(self) -> ActionRecord:
        if self.closed_at is not None and self.status == "open":
            raise ValueError("an open action has no closed_at; set status to done or cancelled")
        return self


class TimelineRecord(_Strict):
    started: AwareDatetime | None = None
    detected: AwareDatetime | None = None
    mitigated: AwareDatetime | None = None
    resolved: AwareDatetime | None = None

    @model_validator(mode="after")
    def _in_order(self) -> TimelineRecord:
        known = [(point, getattr(self, point)) for point in TIMELINE if getattr(self, point) is not None]
        for (earlier, a), (later, b) in itertools.pairwise(known):
            if b < a:
                raise ValueError(f"{later} ({b.isoformat()}) is before {earlier} ({a.isoformat()})")
        return self

    def utc(self, point: str) -> dt.datetime | None:
        value: dt.datetime | None = getattr(self, point)
        return value.astimezone(dt.UTC) if value else None


class _CaseRecordBase(_Strict):
    """The record's fixed parts; its written sections (bot/case.py FIELDS) are added below."""

    id: str | None = Field(default=None, min_length=1, max_length=200)
    number: int | None = None  # the case number where it came from; kept in `extra`
    title: str = Field(min_length=1, max_length=300)
    severity: str | None = None
    area: str | None = None
    services: list[str] = Field(default_factory=list, max_length=100)
    status: Literal["published"] | None = None
    lead: PersonRef | None = None
    timeline: TimelineRecord = Field(default_factory=TimelineRecord)
    minutes: dict[str, Any] | None = None  # derived figures written by `export`; recomputed
    misjudgments: list[MisjudgmentRecord] = Field(default_factory=list, max_length=200)
    diagnostic_path: list[StepRecord] = Field(default_factory=list, max_length=200)
    actions: list[ActionRecord] = Field(default_factory=list, max_length=200)
    published: AwareDatetime | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: str | None) -> str | None:
        return parsing.parse_severity(value) if value else None

    @field_validator("area")
    @classmethod
    def _area(cls, value: str | None) -> str | None:
        return parsing.parse_area(value) if value else None

    @field_validator("services")
    @classmethod
    def _services(cls, value: list[str]) -> list[str]:
        names = [" ".join(v.split()) for v in value]
        if any(not 0 < len(name) <= 80 for name in names):
            raise ValueError("service names are 1 to 80 characters")
        first_spelling: dict[str, str] = {}
        for name in names:
            first_spelling.setdefault(name.lower(), name)
        return list(first_spelling.values())

    @field_validator(*(f.key for f in FIELDS if f.kind == "list"), check_fields=False)
    @classmethod
    def _entries(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(v.split()) for v in value]
        if any(not v for v in cleaned):
            raise ValueError("entries must not be empty")
        if any(len(v) > 4000 for v in cleaned):
            raise ValueError("entries are at most 4,000 characters")
        return cleaned

    @model_validator(mode="after")
    def _has_key(self) -> _CaseRecordBase:
        if self.id is None and self.number is None:
            raise ValueError("a record needs an `id` (or the `number` written by `export`)")
        return self

    @property
    def key(self) -> str:
        """The stable identity of the record: a re-import with the same key updates the case."""
        return self.id if self.id is not None else f"case-{self.number}"

    def entered_at(self, now: dt.datetime) -> dt.datetime:
        """When the case entered the casebook: given, or the end of its timeline, or the
        import's `now` when the record says no time at all."""
        for value in (self.published, self.timeline.resolved, self.timeline.mitigated, self.timeline.started):
            if value is not None:
                return value.astimezone(dt.UTC)
        return now

    if TYPE_CHECKING:  # the written sections, added by create_model below

        def __getattr__(self, name: str) -> Any: ...


def _section_field(kind: str, max_chars: int, max_items: int) -> Any:
    if kind == "list":
        return (list[str], Field(default_factory=list, max_length=max_items))
    return (str | None, Field(default=None, max_length=max_chars))


if TYPE_CHECKING:
    CaseRecord = _CaseRecordBase
else:
    CaseRecord = create_model(
        "CaseRecord",
        __base__=_CaseRecordBase,
        __module__=__name__,
        **{f.key: _section_field(f.kind, f.max_chars, f.max_items) for f in FIELDS},
    )


def describe_error(error: ValidationError) -> str:
    """Pydantic's errors as one readable line: `timeline.started: Input should have timezone info`."""
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "record"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
