"""One structured-output request to an OpenAI-compatible chat-completions API.

`chat.completions.parse` with the pydantic schema first (json_schema, strict).
A server that rejects that response format with 400/422 is asked again in JSON
mode with the schema in the prompt, and remembered for the next draft. Every
failure becomes a `DraftFailure` with a short note for people and a kind for
logs and metadata; nothing here raises anything else.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pydantic

from bot.drafting.config import DraftingConfig
from bot.drafting.material import Material
from bot.drafting.prompt import Prompt, build_messages
from bot.drafting.schema import ModelDraft

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionMessageParam

log = logging.getLogger(__name__)

# (base URL, model) pairs that refused json_schema: ask them in JSON mode straight away.
_JSON_MODE_ONLY: set[tuple[str | None, str]] = set()


class DraftFailure(Exception):
    """The model gave no usable draft. `note` is for people; `kind` for logs and metadata."""

    def __init__(self, kind: str, note: str) -> None:
        super().__init__(note)
        self.kind = kind
        self.note = note


@dataclass(frozen=True)
class ModelAnswer:
    draft: ModelDraft
    mode: str  # "json_schema" | "json_object"
    served_by: str | None  # the model name the server reports
    response_id: str | None
    usage: dict[str, Any] | None


def make_client(config: DraftingConfig) -> AsyncOpenAI:
    from openai import AsyncAzureOpenAI, AsyncOpenAI

    if config.azure_api_version and config.base_url:
        return AsyncAzureOpenAI(
            azure_endpoint=config.base_url,
            api_version=config.azure_api_version,
            api_key=config.api_key,
            timeout=config.timeout,
            max_retries=config.max_retries,
        )
    return AsyncOpenAI(
        api_key=config.api_key,
        base_url=config.base_url,
        timeout=config.timeout,
        max_retries=config.max_retries,
    )


async def ask_model(config: DraftingConfig, prompt: Prompt, material: Material) -> ModelAnswer:
    client = make_client(config)
    try:
        async with asyncio.timeout(config.deadline):
            return await _ask(client, config, prompt, material)
    except TimeoutError as error:
        raise DraftFailure("timeout", f"the model did not answer within {config.deadline:g} s") from error
    except DraftFailure:
        raise
    except Exception as error:
        raise _failure(error, config) from error
    finally:
        await client.close()


def _messages(prompt: Prompt, material: Material, schema: dict[str, Any] | None = None) -> Any:
    messages: list[ChatCompletionMessageParam] = build_messages(  # type: ignore[assignment]
        prompt, material, json_schema=schema
    )
    return messages


async def _ask(
    client: AsyncOpenAI, config: DraftingConfig, prompt: Prompt, material: Material
) -> ModelAnswer:
    import openai

    key = (config.base_url, config.model)
    if config.structured != "json_object" and key not in _JSON_MODE_ONLY:
        try:
            parsed = await client.chat.completions.parse(
                model=config.model,
                messages=_messages(prompt, material),
                response_format=ModelDraft,
                max_completion_tokens=config.max_output_tokens or openai.omit,
            )
            return _from_parsed(parsed)
        except (openai.BadRequestError, openai.UnprocessableEntityError) as error:
            if config.structured == "json_schema":
                raise
            log.warning(
                "%s refused a json_schema response format (HTTP %s); asking again in JSON mode",
                config.server,
                error.status_code,
            )
    schema = ModelDraft.model_json_schema()
    completion = await client.chat.completions.create(
        model=config.model,
        messages=_messages(prompt, material, schema),
        response_format={"type": "json_object"},
        max_completion_tokens=config.max_output_tokens or openai.omit,
    )
    answer = _from_json_mode(completion)
    if config.structured == "auto" and key not in _JSON_MODE_ONLY:
        _JSON_MODE_ONLY.add(key)
        log.info("%s (%s) drafts in JSON mode from now on", config.server, config.model)
    return answer


def _usage(completion: Any) -> dict[str, Any] | None:
    usage = getattr(completion, "usage", None)
    if usage is None:
        return None
    return {
        "prompt_tokens": getattr(usage, "prompt_tokens", None),
        "completion_tokens": getattr(usage, "completion_tokens", None),
    }


def _first_choice(completion: Any) -> Any:
    if not completion.choices:
        raise DraftFailure("invalid_output", "the model service returned no answer")
    return completion.choices[0]


def _from_parsed(completion: Any) -> ModelAnswer:
    message = _first_choice(completion).message
    if message.refusal:
        raise DraftFailure("refusal", "the model declined to draft this case")
    if message.parsed is None:
        raise DraftFailure("invalid_output", "the model's answer was empty")
    return ModelAnswer(message.parsed, "json_schema", completion.model, completion.id, _usage(completion))


def _json_object_text(content: str) -> str:
    """Models in JSON mode sometimes wrap the object in a code fence or a sentence."""
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", content, re.DOTALL)
    if fenced:
        return fenced.group(1)
    start, end = content.find("{"), content.rfind("}")
    return content[start : end + 1] if 0 <= start < end else content


def _from_json_mode(completion: Any) -> ModelAnswer:
    choice = _first_choice(completion)
    if choice.finish_reason == "length":
        raise DraftFailure("length", "the model's answer was cut off by its length limit")
    if choice.finish_reason == "content_filter":
        raise DraftFailure("content_filter", "the model service's content filter withheld the answer")
    message = choice.message
    if getattr(message, "refusal", None):
        raise DraftFailure("refusal", "the model declined to draft this case")
    draft = ModelDraft.model_validate_json(_json_object_text(message.content or ""))
    return ModelAnswer(draft, "json_object", completion.model, completion.id, _usage(completion))


def _failure(error: Exception, config: DraftingConfig) -> DraftFailure:
    import openai

    tries = f" ({config.max_retries + 1} tries)" if config.max_retries else ""
    if isinstance(error, openai.APITimeoutError):
        return DraftFailure("timeout", f"the model did not answer within {config.timeout:g} s{tries}")
    if isinstance(error, openai.APIConnectionError):
        return DraftFailure("unreachable", f"could not reach the model service at {config.server}{tries}")
    if isinstance(error, openai.RateLimitError):
        return DraftFailure("rate_limited", f"the model service kept rate-limiting us (HTTP 429){tries}")
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return DraftFailure(
            "auth",
            f"the model service refused our credentials (HTTP {error.status_code}): check OPENAI_API_KEY",
        )
    if isinstance(error, openai.NotFoundError):
        return DraftFailure(
            "not_found", f"the model service has no model {config.model!r}: check OPENAI_MODEL"
        )
    if isinstance(error, openai.APIStatusError):
        if error.status_code >= 500:
            return DraftFailure("server_error", f"the model service failed (HTTP {error.status_code}){tries}")
        return DraftFailure(
            "bad_request", f"the model service rejected the request (HTTP {error.status_code})"
        )
    if isinstance(error, openai.LengthFinishReasonError):
        return DraftFailure("length", "the model's answer was cut off by its length limit")
    if isinstance(error, openai.ContentFilterFinishReasonError):
        return DraftFailure("content_filter", "the model service's content filter withheld the answer")
    if isinstance(error, pydantic.ValidationError | json.JSONDecodeError):
        return DraftFailure("invalid_output", "the model's answer did not match the case schema")
    log.exception("unexpected error from the model client")
    return DraftFailure("error", f"the model client failed ({type(error).__name__})")
