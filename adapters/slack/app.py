"""The Slack side of `casebook serve`: a bolt AsyncApp mounted on the shared aiohttp server.

HTTP mode: POST /slack/events (events, slash commands and interactions alike); the signature
is checked first (a forged or stale request gets 401 before any listener runs); messages,
mentions and the slash command go straight to their listener (adapters/slack/direct.py), the
rest through bolt.
Socket Mode, when SLACK_APP_TOKEN is set: the same app over a WebSocket, no public URL.
OAuth: GET /slack/install and /slack/oauth_redirect.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from adapters.slack import auth, listeners, payloads
from adapters.slack.applier import SlackApplier
from adapters.slack.client import web_client
from adapters.slack.config import EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH, SlackSettings
from adapters.slack.direct import DirectEvents
from adapters.slack.history import SlackHistory
from adapters.slack.home import SlackSurfaces
from adapters.slack.runtime import PLATFORM, Runtime
from bot.capture.reading import PORTS, register_port
from bot.config import ConfigError, Settings
from storage.db import Database

log = logging.getLogger(__name__)
bolt_log = logging.getLogger("adapters.slack.bolt")
SHUTDOWN_GRACE_SECONDS = 20
SIGNATURE_MAX_AGE = 60 * 5  # as slack_sdk's SignatureVerifier


class _TokenNotices(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment itself, then warns that it ignores it in
    favour of our client and authorize; both are by design here, and would only puzzle on call."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token`" not in record.getMessage()


bolt_log.addFilter(_TokenNotices())


class SlackService:
    def __init__(self, *, db: Database, settings: Settings, slack: SlackSettings) -> None:
        self.slack = slack
        self.runtime = Runtime.create(db=db, core=settings, slack=slack)
        client = web_client(slack)
        self.single: auth.SingleWorkspace | None = None
        oauth: AsyncOAuthSettings | None = None
        authorize: AsyncAuthorize
        if slack.oauth:
            store = auth.installation_store(db, slack)
            oauth = auth.oauth_settings(db, slack, store)
            authorize = auth.installation_authorize(slack, store, client)
            self.runtime.tokens = auth.InstalledTokens(store)
        else:
            assert slack.bot_token is not None
            self.single = authorize = auth.SingleWorkspace(token=slack.bot_token, client=client)
            self.runtime.tokens = auth.StaticToken(slack.bot_token)
        self.runtime.base_client = client
        self.applier = SlackApplier(self.runtime)
        self.bolt = AsyncApp(
            client=client,
            signing_secret=slack.signing_secret or "",
            # `events` checks the signature on the raw body before it dispatches (401 otherwise),
            # and Socket Mode has none: bolt checking it again cost every request a second HMAC.
            request_verification_enabled=False,
            oauth_settings=oauth,
            # bolt takes an AsyncAuthorize instance as is; its type hint names only callables
            authorize=authorize,  # type: ignore[arg-type]
            logger=bolt_log,
            name="casebook",
            # Slack's 200 waits until the listener has stored the request (the inbox): an
            # acknowledged answer survives a crash. Listeners do nothing slow before that.
            process_before_response=True,
        )
        if slack.oauth:
            self.bolt.enable_token_revocation_listeners()
        conversations = listeners.Listeners(self.runtime)
        interactions = listeners.register(self.bolt, self.runtime, conversations)
        self.direct = DirectEvents(
            authorize=authorize, listeners=conversations, client=client, command=slack.command
        )
        self.applier.home = interactions.publish_home
        self.applier.surfaces = SlackSurfaces(self.runtime.client_for, interactions.homes)
        self.socket: AsyncSocketModeHandler | None = None
        # (Socket Mode has no signing secret, and no events route to check it on)
        self.verifier = SignatureVerifier(slack.signing_secret) if slack.signing_secret else None

    # --- lifecycle (aiohttp signals) ----------------------------------------------------------

    async def start(self, app: web.Application) -> None:
        session = aiohttp.ClientSession()
        self.runtime.session = session
        self.bolt.client.session = session  # every per-request client copies it: one connection pool
        await self._check_token()
        await self.applier.conveyor.recover()
        register_port(PLATFORM, SlackHistory(self.runtime))  # channel history for the core's job
        if self.slack.socket_mode:
            assert self.slack.app_token is not None
            self.socket = AsyncSocketModeHandler(self.bolt, app_token=self.slack.app_token)
            await self.socket.connect_async()
            log.info("Slack connected over Socket Mode")
        log.info("Slack is on (%s), command %s", self.slack.mode, self.slack.command)

    async def _check_token(self) -> None:
        if self.single is None:
            return
        try:
            await self.single.result()
        except SlackApiError as error:
            reason = error.response.get("error")
            if reason in {"invalid_auth", "not_authed", "account_inactive", "token_revoked"}:
                raise ConfigError(
                    f"Slack refused SLACK_BOT_TOKEN ({reason}): copy it again from OAuth & Permissions."
                ) from error
            log.warning("auth.test failed (%s); will try again on the first request", reason)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning(
                "Slack's Web API did not answer auth.test (%r); will try again on the first request", error
            )

    async def stop(self, app: web.Application) -> None:
        PORTS.pop(PLATFORM, None)
        if self.socket is not None:
            await self.socket.close_async()
        if not await self.runtime.work.drain(grace_seconds=SHUTDOWN_GRACE_SECONDS):
            log.warning("shutting down with %d Slack task(s) unfinished", len(self.runtime.work))
        if self.runtime.session is not None:
            await self.runtime.session.close()

    # --- HTTP endpoints -----------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.Response:
        """The signature is checked on the raw body before anything parses it (401); then the
        body must be a Slack payload (400) in the shape bolt reads (a 200, nothing done)."""
        with self.runtime.arrivals.arriving():
            return await self._event(request)

    async def _event(self, request: web.Request) -> web.Response:
        raw = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        if self.verifier is None or not self._signed(raw, headers):
            log.warning("refused a Slack request with no valid signature (%d bytes)", len(raw))
            return web.Response(status=401, text="invalid signature")
        try:
            text, payload = payloads.decode(raw, request.content_type)
        except payloads.Malformed as error:
            log.warning("refused a signed Slack request: %s", error)
            return web.Response(status=400, text="malformed payload")
        if (problem := payloads.check_envelope(payload)) is not None:
            log.warning("ignored a signed Slack request of an unknown shape: %s", problem[:300])
            return web.Response(status=200)
        if self.direct.takes(payload):
            return web.Response(status=200, text=await self.direct.dispatch(payload))
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    def _signed(self, raw: bytes, headers: dict[str, str]) -> bool:
        assert self.verifier is not None and self.slack.signing_secret
        try:
            return self.verifier.is_valid_request(raw.decode("utf-8"), headers)
        except UnicodeDecodeError:  # SignatureVerifier reads text: a body that is not is checked as bytes
            stamp, given = headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
            base = b"v0:" + stamp.encode() + b":" + raw
            expected = "v0=" + hmac.new(self.slack.signing_secret.encode(), base, hashlib.sha256).hexdigest()
            fresh = stamp.isdigit() and abs(time.time() - int(stamp)) <= SIGNATURE_MAX_AGE
            return fresh and hmac.compare_digest(expected, given)

    async def install(self, request: web.Request) -> web.Response:
        assert self.bolt.oauth_flow is not None
        response = await self.bolt.oauth_flow.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        assert self.bolt.oauth_flow is not None
        response = await self.bolt.oauth_flow.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(response)


SLACK = web.AppKey("slack", SlackService)


def add_routes(
    app: web.Application, *, db: Database, settings: Settings, slack: SlackSettings | None = None
) -> SlackService | None:
    """Mount Slack on `app` when it is configured; None (and a log line) when it is not."""
    slack = slack if slack is not None else SlackSettings.from_env()
    if not slack.enabled:
        log.info("Slack is off: set SLACK_BOT_TOKEN or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET to turn it on")
        return None
    service = SlackService(db=db, settings=settings, slack=slack)
    if not slack.socket_mode:
        app.router.add_post(EVENTS_PATH, service.events)
    if slack.oauth:
        app.router.add_get(INSTALL_PATH, service.install)
        app.router.add_get(REDIRECT_PATH, service.oauth_redirect)
    app.on_startup.append(service.start)
    app.on_shutdown.append(service.stop)
    app[SLACK] = service
    return service
