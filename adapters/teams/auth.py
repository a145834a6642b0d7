"""The Bot Framework side of the wire: the CloudAdapter and how it authenticates.

With an app id, every inbound activity must carry a Bot Framework token that
botbuilder validates (signature against the published keys, issuer, audience = our
app id, service URL claim); outbound calls get tokens for the single-tenant app.
Without one, only the explicit development flag turns authentication off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConfiguration,
    ChannelValidation,
)

from adapters.teams.config import TeamsSettings

log = logging.getLogger(__name__)


class Unauthenticated(Exception):
    """The request's Authorization header did not prove it came from the Bot Framework."""


class KeysUnavailable(Exception):
    """The Bot Framework's signing keys could not be fetched: try again later."""


@dataclass(frozen=True)
class _AppConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str | None
    APP_PASSWORD: str | None
    APP_TYPE: str
    APP_TENANTID: str | None


def build_adapter(teams: TeamsSettings) -> CloudAdapter:
    if not teams.authenticated:
        log.warning(
            "TEAMS_DEV_ALLOW_UNAUTHENTICATED is on and MICROSOFT_APP_ID is empty: Teams activities "
            "are accepted WITHOUT checking who sent them. Development only: never expose this "
            "server to the internet like this."
        )
    elif teams.dev_allow_unauthenticated:
        log.warning("TEAMS_DEV_ALLOW_UNAUTHENTICATED is ignored: MICROSOFT_APP_ID is set, tokens are checked")
    if teams.openid_metadata_url:
        # botbuilder reads the channel's key location from this class attribute.
        ChannelValidation.open_id_metadata_endpoint = teams.openid_metadata_url
    config = _AppConfig(
        APP_ID=teams.app_id,
        APP_PASSWORD=teams.app_password,
        APP_TYPE="SingleTenant" if teams.authenticated else "MultiTenant",
        APP_TENANTID=teams.app_tenant_id,
    )
    auth = ConfigurationBotFrameworkAuthentication(
        config,
        auth_configuration=AuthenticationConfiguration(tenant_id=teams.app_tenant_id),
    )
    return CloudAdapter(auth)


async def authenticate(adapter: CloudAdapter, activity: Activity, header: str) -> AuthenticateRequestResult:
    """botbuilder's verdict on the Authorization header, as two exceptions we can answer."""
    try:
        return await adapter.bot_framework_authentication.authenticate_request(activity, header)
    except requests.RequestException as error:
        raise KeysUnavailable(str(error)) from error
    except Exception as error:
        # botbuilder rejects a token with PermissionError, but also with jwt errors (unreadable
        # token), IndexError (unknown key id) and bare Exception (key not endorsed for the
        # channel): whatever fails inside token validation means "not authenticated".
        raise Unauthenticated(f"{type(error).__name__}: {error}") from error
