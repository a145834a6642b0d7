"""One JSON-over-HTTP client for the tracker adapters: every failure becomes a TrackerError.

A create is never retried here: the sync pass decides (it looks the marker up first).
The calls made are counted, for the benchmark and the logs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.trackers.port import Failure, TrackerError

log = logging.getLogger(__name__)


class JsonClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        headers: Mapping[str, str],
        name: str,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.name = name
        self.calls = 0

    async def request(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, str] | None = None
    ) -> Any:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        self.calls += 1
        try:
            async with self.session.request(
                method, url, json=json, params=params, headers=self.headers
            ) as response:
                body = await response.text()
                if response.status >= 400:
                    raise _error(self.name, method, path, response.status, response.headers, body)
                if not body.strip():
                    return None
                try:
                    return await response.json(content_type=None)
                except ValueError as exc:
                    raise TrackerError(
                        f"{self.name} answered {method} {path} with something that is not JSON",
                        failure=Failure.UNCERTAIN if method != "GET" else Failure.DOWN,
                    ) from exc
        except (TimeoutError, aiohttp.ServerDisconnectedError) as exc:
            # The request went out: a create may have happened. The marker lookup settles it.
            failure = Failure.DOWN if method == "GET" else Failure.UNCERTAIN
            raise TrackerError(
                f"{self.name} did not answer {method} {path} in time", failure=failure
            ) from exc
        except aiohttp.ClientError as exc:
            raise TrackerError(
                f"{self.name} could not be reached ({exc.__class__.__name__})", failure=Failure.DOWN
            ) from exc


def _error(
    name: str, method: str, path: str, status: int, headers: Mapping[str, str], body: str
) -> TrackerError:
    said = f"{name} answered {method} {path} with HTTP {status}"
    detail = " ".join(body.split())[:200]
    if status == 429 or (status == 403 and headers.get("X-RateLimit-Remaining") == "0"):
        return TrackerError(
            said + " (rate limited)", failure=Failure.RATE_LIMITED, retry_after=retry_after(headers)
        )
    if status in {401, 403}:
        return TrackerError(said + " (check the token and its scopes)", failure=Failure.CREDENTIALS)
    if status >= 500:
        return TrackerError(said, failure=Failure.DOWN, retry_after=retry_after(headers))
    return TrackerError(f"{said}: {detail}" if detail else said, failure=Failure.REJECTED)


def retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return None  # an HTTP date: the backoff applies
