"""Who is speaking: display names, timezones, locales and admin rights from `users.info`, cached.

A memory cache with a time-to-live keeps the Web API out of the hot path; the core
stores the same facts on the person row (through `Inbound.user_name`,
`user_timezone` and `user_locale`), so a restart loses nothing that matters. A failed lookup is
logged and answered with what is known: nobody's answer waits on Slack's directory.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.payloads import USER_ID
from bot.parsing import locale_tag

log = logging.getLogger(__name__)
MAX_ENTRIES = 20_000
# A slow directory costs an answer at most this long; the person is then named by their id.
LOOKUP_SECONDS = 2.0
_USER_ID = re.compile(USER_ID)


@dataclass(frozen=True)
class Profile:
    user_id: str
    name: str | None = None
    timezone: str | None = None
    locale: str | None = None  # `en-US`: sent only when asked for (`include_locale`)
    is_admin: bool = False

    @classmethod
    def from_user(cls, user: dict[str, Any]) -> Profile:
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
        )
        return cls(
            user_id=user["id"],
            name=name or None,
            timezone=_zone(user.get("tz")),
            locale=locale_tag(user.get("locale")),
            is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
        )


def _zone(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


class Directory:
    def __init__(self, *, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[Profile]] = {}

    async def profile(self, client: AsyncWebClient, *, team: str, user_id: str) -> Profile:
        key = (team, user_id)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        if key in self._pending:  # one users.info per person, however many messages race
            return await asyncio.shield(self._pending[key])
        future: asyncio.Future[Profile] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            found = await self._fetch(client, team, user_id, stale=cached[1] if cached else None)
            future.set_result(found)
            return found
        finally:
            del self._pending[key]

    async def profiles(
        self, client: AsyncWebClient, *, team: str, user_ids: Iterable[str]
    ) -> dict[str, Profile]:
        ids = list(dict.fromkeys(user_ids))
        found = await asyncio.gather(*(self.profile(client, team=team, user_id=u) for u in ids))
        return dict(zip(ids, found, strict=True))

    def remember(self, team: str, profile: Profile) -> None:
        if len(self._cache) >= MAX_ENTRIES:
            oldest = min(self._cache, key=lambda k: self._cache[k][0])
            del self._cache[oldest]
        self._cache[(team, profile.user_id)] = (self._clock() + self._ttl, profile)

    async def _fetch(
        self, client: AsyncWebClient, team: str, user_id: str, *, stale: Profile | None
    ) -> Profile:
        if not _USER_ID.fullmatch(user_id):  # never sent to Slack: it cannot be anybody's
            return Profile(user_id[:40])
        try:
            async with asyncio.timeout(LOOKUP_SECONDS):
                response = await client.users_info(user=user_id, include_locale=True)
            profile = Profile.from_user(response["user"])
        except SlackApiError as error:
            log.warning("users.info for %s failed: %s", user_id, _reason(error))
            return stale or Profile(user_id)
        except (aiohttp.ClientError, TimeoutError, SlackClientError) as error:
            log.warning("users.info for %s did not answer: %r", user_id, error)
            return stale or Profile(user_id)
        except (KeyError, TypeError, AttributeError) as error:
            log.warning("users.info for %s answered in an unknown shape: %r", user_id, error)
            return stale or Profile(user_id)
        self.remember(team, profile)
        return profile


def _reason(error: SlackApiError) -> str:
    data = error.response.data if error.response is not None else None
    return str(data.get("error")) if isinstance(data, dict) else f"HTTP {error.response.status_code}"
