"""Settings from the environment. Every variable is listed in the README.

Each feature has one settings model (a pydantic-settings class on `EnvSettings`): its fields
name their environment variable (`validation_alias`), their default and their checks.
`Model.from_env()` reads the environment and turns any invalid value into one ConfigError
naming the variable; constructing a model directly (`Settings(max_answer_chars=200)`) never
reads the environment, so tests and tools choose every value themselves.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """A setting has a value Casebook cannot use; the message names it."""


class Invalid(ValueError):
    """A field check's complaint; `{name}` in the message becomes the variable's name."""


_READING_ENV: ContextVar[bool] = ContextVar("reading_env", default=False)


class EnvSettings(BaseSettings):
    """One feature's settings: read from the environment by `from_env`, and only there."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        populate_by_name=True,
        case_sensitive=True,
        env_ignore_empty=True,
        str_strip_whitespace=True,
        validate_default=False,  # the defaults are ours; only given values need checking
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings) if _READING_ENV.get() else (init_settings,)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """From the process environment, or from `env` alone when given."""
        token = _READING_ENV.set(True)
        try:
            return cls() if env is None else cls.model_validate(dict(env))
        except ValidationError as error:
            raise ConfigError(describe(error)) from None
        finally:
            _READING_ENV.reset(token)


def describe(error: ValidationError) -> str:
    """The first problem, as a sentence naming the variable (never echoing a secret)."""
    problem = error.errors(include_url=False)[0]
    name = ".".join(str(part) for part in problem["loc"]) or "a setting"
    cause = (problem.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigError):
        return str(cause)
    if isinstance(cause, Invalid):
        return str(cause).replace("{name}", name)
    shown = "" if "SECRET" in name or "TOKEN" in name or "KEY" in name else f", not {problem['input']!r}"
    return f"{name}: {problem['msg'].removeprefix('Value error, ').lower()}{shown}"


def whole(low: int, high: int) -> Callable[[Any], Any]:
    """A whole number in [low, high] from the environment, with the message people have always seen."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # chosen by code (a test's 0.05 s tick), not read from the environment
        try:
            number = int(value.strip())
        except ValueError:
            raise Invalid(f"{{name}} must be a whole number, not {value!r}") from None
        if not low <= number <= high:
            raise Invalid(f"{{name}} must be between {low} and {high}, not {number}")
        return number

    return check


def seconds(low: float, high: float) -> Callable[[Any], Any]:
    """A number of seconds in [low, high] ("30" or "30s")."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # chosen by code, not read from the environment
        raw = value.strip()
        try:
            number = float(raw.removesuffix("s"))
        except ValueError:
            raise Invalid(f"{{name}} must be a number of seconds, e.g. 30, not {raw!r}") from None
        if not low <= number <= high:
            raise Invalid(f"{{name}} must be between {low:g} and {high:g} seconds, not {number:g}")
        return number

    return check


def env_int(name: str, default: int, *, low: int, high: int) -> int:
    """A whole-number setting read on its own: `default` when unset; a ConfigError naming the
    variable when it is not a number or lies outside [low, high]."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(whole(low, high)(raw))
    except Invalid as problem:
        raise ConfigError(str(problem).replace("{name}", name)) from None


def _zone(value: Any) -> Any:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"{{name}}={value!r} is not an IANA timezone (e.g. Europe/Paris)") from None
    return value


def checked_zone(value: str, *, source: str) -> str:
    """An IANA timezone name, or ConfigError saying where the bad one came from."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{source}={value!r} is not an IANA timezone (e.g. Europe/Paris)") from exc
    return value


class Settings(EnvSettings):
    """The core's settings (every process)."""

    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    default_timezone: Annotated[str, BeforeValidator(_zone)] = Field(
        "UTC", validation_alias="CASEBOOK_TIMEZONE"
    )
    max_answer_chars: Annotated[int, BeforeValidator(whole(100, 40000))] = Field(
        4000, validation_alias="CASEBOOK_MAX_ANSWER_CHARS"
    )
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    log_format: Literal["text", "json"] = Field("text", validation_alias="LOG_FORMAT")
    # Keys for secrets at rest (Slack bot tokens, tracker credentials): newest first.
    secret_keys: SecretStr | None = Field(None, validation_alias="CASEBOOK_SECRET_KEY")
    # The web case library's address, for links from chat.
    public_url: str | None = Field(None, validation_alias="CASEBOOK_PUBLIC_URL")

    @field_validator("public_url", mode="before")
    @classmethod
    def _bare_url(cls, value: Any) -> Any:
        return str(value).strip().rstrip("/") or None if value is not None else None

    @field_validator("database_url", mode="before")
    @classmethod
    def _usable_url(cls, value: Any) -> Any:
        from sqlalchemy.exc import ArgumentError

        from storage.db import DatabaseURLError, async_url

        try:
            async_url(str(value).strip())
        except DatabaseURLError as problem:
            raise Invalid(str(problem)) from None
        except ArgumentError:
            raise Invalid(
                "{name} is not a database URL: use sqlite:///casebook.db or "
                "postgresql://user:password@host:5432/casebook"
            ) from None
        return str(value).strip()

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: Any) -> Any:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise Invalid(f"{{name}} must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return level

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: Any) -> Any:
        fmt = str(value).strip().lower()
        if fmt not in {"text", "json"}:
            raise Invalid(f"{{name}} must be text or json, not {value!r}")
        return fmt

    @field_validator("secret_keys", mode="before")
    @classmethod
    def _usable_keys(cls, value: Any) -> Any:
        from storage.secrets import SecretKeyError, parse_keys

        raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        try:
            parse_keys(raw)
        except SecretKeyError as problem:
            raise Invalid(f"{{name}}: {problem}") from None
        return value
