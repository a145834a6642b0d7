"""Settings from the environment. Every variable is listed in the README."""

from __future__ import annotations

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(ValueError):
    """A setting has a value Casebook cannot use; the message names it."""


def env_int(name: str, default: int, *, low: int, high: int) -> int:
    """A whole-number setting: `default` when unset; a ConfigError naming the variable when it
    is not a number or lies outside [low, high]."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _zone(name: str, default: str) -> str:
    return checked_zone(os.environ.get(name) or default, source=name)


def checked_zone(value: str, *, source: str) -> str:
    """An IANA timezone name, or ConfigError saying where the bad one came from."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{source}={value!r} is not an IANA timezone (e.g. Europe/Paris)") from exc
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    default_timezone: str = "UTC"
    max_answer_chars: int = 4000
    log_level: str = "INFO"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            default_timezone=_zone("CASEBOOK_TIMEZONE", "UTC"),
            max_answer_chars=env_int("CASEBOOK_MAX_ANSWER_CHARS", 4000, low=100, high=40000),
            log_level=(os.environ.get("LOG_LEVEL") or "INFO").upper(),
        )
