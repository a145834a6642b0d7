"""Web API clients with a retry policy that never posts a message twice.

slack_sdk's default handler retries any call once on a dropped connection. For
`chat.postMessage` that is a duplicate whenever Slack applied the first attempt and
only the response was lost. So connection errors are retried only for methods that
are safe to repeat (reads, updates, opens); rate limits (429: nothing was applied)
are retried for every method, after the `Retry-After` Slack asks for.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackSettings

# Calls whose repetition changes nothing that anyone sees.
SAFE_TO_REPEAT = frozenset(
    {
        "auth.test",
        "users.info",
        "conversations.open",
        "conversations.join",
        "conversations.info",
        "chat.update",
        "views.publish",
        "views.update",
        "files.getUploadURLExternal",
        "apps.connections.open",
    }
)
TIMEOUT_SECONDS = 15


def api_method(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


class SafeConnectionRetry(AsyncConnectionErrorRetryHandler):
    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if api_method(request.url) not in SAFE_TO_REPEAT:
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def retry_handlers() -> list[AsyncRetryHandler]:
    return [SafeConnectionRetry(max_retry_count=1), AsyncRateLimitErrorRetryHandler(max_retry_count=2)]


def web_client(settings: SlackSettings, *, token: str | None = None, **kwargs: Any) -> AsyncWebClient:
    options: dict[str, Any] = {"timeout": TIMEOUT_SECONDS, "retry_handlers": retry_handlers(), **kwargs}
    if settings.api_url:
        options["base_url"] = settings.api_url
    return AsyncWebClient(token=token, **options)
