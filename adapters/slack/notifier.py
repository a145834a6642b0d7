"""The core's Notifier port on Slack: reminders and notices by DM, in any installed workspace.

`send_direct` never retries a post by itself (a lost response may hide a delivered
message); it reports what happened and whether a later try makes sense, and the
caller, who records deliveries, decides. Build one with `slack_notifier(db=...)`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp
from slack_sdk.errors import SlackApiError

from adapters.slack import auth
from adapters.slack.blocks import reply_messages
from adapters.slack.client import web_client
from adapters.slack.config import SlackSettings
from adapters.slack.delivery import DmChannels
from bot.messages import Reply
from bot.notify import SendResult
from storage.db import Database

log = logging.getLogger(__name__)

# Errors a later attempt cannot fix: the person, the token or the app is the problem.
PERMANENT = frozenset(
    {
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "invalid_auth",
        "is_archived",
        "missing_scope",
        "not_authed",
        "token_revoked",
        "user_disabled",
        "user_not_found",
        "user_not_visible",
    }
)


class SlackNotifier:
    platform = "slack"

    def __init__(
        self,
        *,
        slack: SlackSettings,
        tokens: auth.TokenSource,
        session: aiohttp.ClientSession | None = None,
        dms: DmChannels | None = None,
    ) -> None:
        self.slack = slack
        self.tokens = tokens
        self.session = session
        self.dms = dms or DmChannels()

    async def send_direct(self, *, tenant: str, user_id: str, replies: Sequence[Reply]) -> SendResult:
        token = await self.tokens.token_for(tenant)
        if token is None:
            return SendResult(
                ok=False, retryable=False, error=f"Casebook is not installed in workspace {tenant}"
            )
        client = web_client(self.slack, token=token, session=self.session)
        try:
            channel = await self.dms.channel(client, team=tenant, user_id=user_id)
            for reply in replies:
                for message in reply_messages(reply):
                    await client.chat_postMessage(channel=channel, unfurl_links=False, **message)
        except SlackApiError as error:
            reason = str(error.response.get("error") or "unknown_error")
            retry_after = error.response.headers.get("Retry-After") if reason == "ratelimited" else None
            log.warning("DM to %s in %s failed: %s", user_id, tenant, reason)
            return SendResult(
                ok=False,
                retryable=reason not in PERMANENT,
                error=reason,
                retry_after=float(retry_after) if retry_after else None,
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("DM to %s in %s did not go through: %r", user_id, tenant, error)
            return SendResult(ok=False, retryable=True, error=repr(error))
        return SendResult(ok=True)


def slack_notifier(*, db: Database, slack: SlackSettings | None = None) -> SlackNotifier | None:
    """The notifier for the configured Slack app, or None when Slack is off."""
    slack = slack if slack is not None else SlackSettings.from_env()
    if not slack.enabled:
        return None
    tokens: auth.TokenSource
    if slack.oauth:
        tokens = auth.InstalledTokens(auth.installation_store(db, slack))
    else:
        assert slack.bot_token is not None
        tokens = auth.StaticToken(slack.bot_token)
    return SlackNotifier(slack=slack, tokens=tokens)
