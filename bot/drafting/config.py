"""Drafting settings from the environment (the variable names the openai SDK also uses).

A model drafts when OPENAI_API_KEY or OPENAI_BASE_URL is set and CASEBOOK_DRAFTING
is not `template`; otherwise the deterministic template is the whole draft.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from bot.config import ConfigError, env_int

DEFAULT_MODEL = "gpt-4.1-mini"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 2
STRUCTURED_MODES = ("auto", "json_schema", "json_object")
# Servers such as Ollama or vLLM ignore the key, but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"


def enabled_in_env(env: Mapping[str, str] | None = None) -> bool:
    """Cheap check for the hot path (publishing): no validation, no imports."""
    env = os.environ if env is None else env
    if (env.get("CASEBOOK_DRAFTING") or "auto").strip().lower() == "template":
        return False
    return bool((env.get("OPENAI_API_KEY") or "").strip() or (env.get("OPENAI_BASE_URL") or "").strip())


def _seconds(name: str, default: float, *, low: float, high: float) -> float:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw.removesuffix("s"))
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, e.g. 30, not {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g} seconds, not {value:g}")
    return value


def _base_url() -> str | None:
    raw = (os.environ.get("OPENAI_BASE_URL") or "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ConfigError(
            f"OPENAI_BASE_URL must be an http(s) URL such as http://localhost:11434/v1, not {raw!r}"
        )
    return raw


@dataclass(frozen=True)
class DraftingConfig:
    enabled: bool
    api_key: str
    base_url: str | None  # None: api.openai.com
    model: str = DEFAULT_MODEL
    timeout: float = DEFAULT_TIMEOUT  # seconds, per request
    max_retries: int = DEFAULT_RETRIES  # on timeouts, 408/409/429 and 5xx (the SDK's backoff)
    structured: str = "auto"  # auto: json_schema, falling back to JSON mode where unsupported
    max_output_tokens: int | None = None
    azure_api_version: str | None = None  # set: Azure OpenAI's deployment-style endpoint

    @classmethod
    def from_env(cls) -> DraftingConfig:
        env = os.environ
        structured = (env.get("OPENAI_STRUCTURED_OUTPUT") or "auto").strip().lower()
        if structured not in STRUCTURED_MODES:
            raise ConfigError(
                f"OPENAI_STRUCTURED_OUTPUT must be one of {', '.join(STRUCTURED_MODES)}, not {structured!r}"
            )
        tokens = env_int("OPENAI_MAX_OUTPUT_TOKENS", 0, low=0, high=200_000)
        azure_api_version = (env.get("OPENAI_API_VERSION") or "").strip() or None
        base_url = _base_url()
        if azure_api_version and not base_url:
            raise ConfigError(
                "OPENAI_API_VERSION selects Azure OpenAI's deployment endpoint: set OPENAI_BASE_URL to "
                "https://<resource>.openai.azure.com too (or unset OPENAI_API_VERSION and use the "
                "/openai/v1/ URL)"
            )
        return cls(
            enabled=enabled_in_env(env),
            api_key=(env.get("OPENAI_API_KEY") or "").strip() or PLACEHOLDER_KEY,
            base_url=base_url,
            model=(env.get("OPENAI_MODEL") or "").strip() or DEFAULT_MODEL,
            timeout=_seconds("OPENAI_TIMEOUT", DEFAULT_TIMEOUT, low=0.1, high=600),
            max_retries=env_int("OPENAI_MAX_RETRIES", DEFAULT_RETRIES, low=0, high=5),
            structured=structured,
            max_output_tokens=tokens or None,
            azure_api_version=azure_api_version,
        )

    @property
    def server(self) -> str:
        """Where drafts go, for logs and notes (never the key)."""
        return urlparse(self.base_url).netloc if self.base_url else "api.openai.com"

    @property
    def deadline(self) -> float:
        """An outer bound on one draft: every attempt timing out, plus the SDK's backoff between them."""
        return self.timeout * (self.max_retries + 1) + 10.0 * self.max_retries + 5.0
