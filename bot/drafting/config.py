"""Drafting settings from the environment (the variable names the openai SDK also uses).

A model drafts when OPENAI_API_KEY or OPENAI_BASE_URL is set and CASEBOOK_DRAFTING
is not `template`; otherwise the deterministic template is the whole draft.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Self
from urllib.parse import urlparse

from pydantic import BeforeValidator, Field, model_validator

from bot.config import ConfigError, EnvSettings, Invalid, seconds, whole

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


def _base_url(value: Any) -> Any:
    raw = str(value).strip()
    parsed = urlparse(raw)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise Invalid(f"{{name}} must be an http(s) URL such as http://localhost:11434/v1, not {raw!r}")
    return raw


def _structured(value: Any) -> Any:
    mode = str(value).strip().lower()
    if mode not in STRUCTURED_MODES:
        raise Invalid(f"{{name}} must be one of {', '.join(STRUCTURED_MODES)}, not {mode!r}")
    return mode


def _drafting(value: Any) -> Any:
    mode = str(value).strip().lower()
    if mode not in {"auto", "template"}:
        raise Invalid(f"{{name}} must be auto or template, not {value!r}")
    return mode


def _prompt_version(value: Any) -> Any:
    raw = str(value).strip().lower().removeprefix("v")
    if not raw.isdigit():
        raise Invalid(f"{{name}} must be a number such as 1, not {raw!r}")
    return int(raw)


def _tokens(value: Any) -> Any:
    count = whole(0, 200_000)(value) if value is not None else 0
    return count or None  # 0: no cap


class DraftingConfig(EnvSettings):
    drafting: Annotated[str, BeforeValidator(_drafting)] = Field("auto", validation_alias="CASEBOOK_DRAFTING")
    given_key: str | None = Field(None, validation_alias="OPENAI_API_KEY", repr=False)
    base_url: Annotated[str | None, BeforeValidator(_base_url)] = Field(
        None, validation_alias="OPENAI_BASE_URL"
    )  # None: api.openai.com
    model: str = Field(DEFAULT_MODEL, validation_alias="OPENAI_MODEL")
    # Seconds, per request.
    timeout: Annotated[float, BeforeValidator(seconds(0.1, 600))] = Field(
        DEFAULT_TIMEOUT, validation_alias="OPENAI_TIMEOUT"
    )
    # On timeouts, 408/409/429 and 5xx (the SDK's backoff).
    max_retries: Annotated[int, BeforeValidator(whole(0, 5))] = Field(
        DEFAULT_RETRIES, validation_alias="OPENAI_MAX_RETRIES"
    )
    # auto: json_schema, falling back to JSON mode where unsupported.
    structured: Annotated[str, BeforeValidator(_structured)] = Field(
        "auto", validation_alias="OPENAI_STRUCTURED_OUTPUT"
    )
    max_output_tokens: Annotated[int | None, BeforeValidator(_tokens)] = Field(
        None, validation_alias="OPENAI_MAX_OUTPUT_TOKENS"
    )
    # Set: Azure OpenAI's deployment-style endpoint.
    azure_api_version: str | None = Field(None, validation_alias="OPENAI_API_VERSION")
    # None: the newest prompts/case-draft.v<N>.md.
    prompt_version: Annotated[int | None, BeforeValidator(_prompt_version)] = Field(
        None, validation_alias="CASEBOOK_PROMPT_VERSION"
    )

    @model_validator(mode="after")
    def _azure_needs_base_url(self) -> Self:
        if self.azure_api_version and not self.base_url:
            raise ConfigError(
                "OPENAI_API_VERSION selects Azure OpenAI's deployment endpoint: set OPENAI_BASE_URL to "
                "https://<resource>.openai.azure.com too (or unset OPENAI_API_VERSION and use the "
                "/openai/v1/ URL)"
            )
        return self

    @property
    def enabled(self) -> bool:
        return self.drafting != "template" and bool(self.given_key or self.base_url)

    @property
    def api_key(self) -> str:
        return self.given_key or PLACEHOLDER_KEY

    @property
    def server(self) -> str:
        """Where drafts go, for logs and notes (never the key)."""
        return urlparse(self.base_url).netloc if self.base_url else "api.openai.com"

    @property
    def deadline(self) -> float:
        """An outer bound on one draft: every attempt timing out, plus the SDK's backoff between them."""
        return self.timeout * (self.max_retries + 1) + 10.0 * self.max_retries + 5.0
