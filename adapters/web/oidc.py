"""Sign in with Slack or Microsoft (OpenID Connect, authorization code with PKCE).

Authlib builds the authorization request and redeems the code; joserfc (Authlib's JOSE
library) checks the ID token's signature against the provider's JWKS and its claims (issuer,
audience, expiry, nonce). The person is then mapped to the tenant and person rows the bots
already use: the Slack team id, or the Microsoft (Entra) tenant id.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from adapters.web.actions import _safe_next, check_csrf
from adapters.web.config import Provider
from adapters.web.context import WEB, BadInput, NotFound, now, set_session, state
from adapters.web.render import render
from adapters.web.session import new_session, sign, unsign
from storage import library, repo

log = logging.getLogger(__name__)

FLOW_COOKIE = "casebook_oidc"
FLOW_SECONDS = 600
SCOPES = "openid profile email"
DISCOVERY_TTL = 3600


class SignInFailed(Exception):
    """The provider's answer cannot sign anyone in; the message says why (for the log and the page)."""


@dataclass(frozen=True)
class Identity:
    platform: str
    tenant: str  # Slack team id, Entra tenant id
    user_id: str  # the id the bots know the person by
    name: str | None
    alias: str | None = None  # Entra object id, mapped to the Teams user id when the bot has seen it


@dataclass
class Client:
    provider: Provider
    metadata: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, Any] = field(default_factory=dict)
    fetched_at: float = 0.0

    async def discover(self, *, refresh: bool = False) -> dict[str, Any]:
        if self.metadata and not refresh and time.monotonic() - self.fetched_at < DISCOVERY_TTL:
            return self.metadata
        url = self.provider.issuer + "/.well-known/openid-configuration"
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.get(url) as response:
                response.raise_for_status()
                self.metadata = await response.json()
            async with http.get(self.metadata["jwks_uri"]) as response:
                response.raise_for_status()
                self.keys = await response.json()
        self.fetched_at = time.monotonic()
        return self.metadata

    def session(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.provider.client_id,
            client_secret=self.provider.client_secret,
            scope=SCOPES,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post",
        )

    async def authorization_url(self, *, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        metadata = await self.discover()
        with self.session(redirect_uri) as oauth:
            url, _ = oauth.create_authorization_url(
                metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
            )
        return str(url)

    async def redeem(self, *, redirect_uri: str, code: str, verifier: str) -> str:
        metadata = await self.discover()

        def fetch() -> dict[str, Any]:
            with self.session(redirect_uri) as oauth:
                return dict(
                    oauth.fetch_token(
                        metadata["token_endpoint"], code=code, code_verifier=verifier, timeout=10
                    )
                )

        try:
            token = await asyncio.to_thread(fetch)
        except Exception as error:  # authlib raises OAuthError, requests its own: both mean "no token"
            raise SignInFailed(f"the token endpoint refused the code ({error})") from error
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("the token endpoint gave no ID token")
        return id_token

    async def verify(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        metadata = await self.discover()
        try:
            claims = self._decode(id_token)
        except JoseError:
            # The provider may have rotated its keys since we fetched them: once more, fresh.
            metadata = await self.discover(refresh=True)
            try:
                claims = self._decode(id_token)
            except JoseError as error:
                raise SignInFailed(f"the ID token's signature is not valid ({error})") from error
        issuer = str(metadata["issuer"]).replace("{tenantid}", str(claims.get("tid", "")))
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": self.provider.client_id},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise SignInFailed(f"the ID token's claims are not valid ({error})") from error
        return claims

    def _decode(self, id_token: str) -> dict[str, Any]:
        return dict(jwt.decode(id_token, KeySet.import_key_set(self.keys)).claims)  # type: ignore[arg-type]


def identity_of(provider: Provider, claims: dict[str, Any]) -> Identity:
    name = claims.get("name") or claims.get("preferred_username")
    if provider.name == "slack":
        team = claims.get("https://slack.com/team_id")
        user = claims.get("https://slack.com/user_id") or claims.get("sub")
        if not team or not user:
            raise SignInFailed("the Slack ID token names no team or user")
        return Identity("slack", str(team), str(user), name)
    tenant, oid = claims.get("tid"), claims.get("oid")
    if not tenant or not oid:
        raise SignInFailed("the Microsoft ID token names no tenant (tid) or user (oid)")
    return Identity("teams", str(tenant), str(oid), name, alias=str(oid))


def add_routes(app: web.Application) -> None:
    app[CLIENTS] = {name: Client(p) for name, p in app[WEB].config.providers.items()}
    app.router.add_get("/signin", signin_page)
    app.router.add_post("/signout", signout)
    app.router.add_get("/auth/{provider}/login", login)
    app.router.add_get("/auth/{provider}/callback", callback)


CLIENTS: web.AppKey[dict[str, Client]] = web.AppKey("casebook_oidc_clients")


async def signin_page(request: web.Request) -> web.Response:
    if state(request).config.local:
        raise web.HTTPSeeOther("/")
    next_url = _safe_next(request.query.get("next") or "/")
    return render(request, "signin.html", viewer=None, next_url=next_url, error=None)


async def signout(request: web.Request) -> web.Response:
    await check_csrf(request)
    set_session(request, new_session(hours=state(request).config.session_hours))
    raise web.HTTPSeeOther("/signin")


def _client(request: web.Request) -> Client:
    found = request.app[CLIENTS].get(request.match_info["provider"])
    if found is None:
        raise NotFound("That sign-in is not configured here.")
    return found


def _redirect_uri(request: web.Request, client: Client) -> str:
    base = state(request).config.public_url or f"{request.scheme}://{request.host}"
    return f"{base}/auth/{client.provider.name}/callback"


async def login(request: web.Request) -> web.Response:
    client = _client(request)
    config = state(request).config
    state_value, nonce, verifier = (secrets.token_urlsafe(n) for n in (24, 24, 48))
    flow: dict[str, object] = {
        "provider": client.provider.name,
        "state": state_value,
        "nonce": nonce,
        "verifier": verifier,
        "next": _safe_next(request.query.get("next") or "/"),
        "exp": int(time.time()) + FLOW_SECONDS,
    }
    try:
        url = await client.authorization_url(
            redirect_uri=_redirect_uri(request, client),
            state=state_value,
            nonce=nonce,
            verifier=verifier,
        )
    except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as error:
        log.warning(
            "sign-in with %s: the provider did not answer its discovery: %r", client.provider.name, error
        )
        raise BadInput(
            f"{client.provider.label} is not reachable right now; try again in a moment."
        ) from error
    response = web.HTTPSeeOther(url)
    response.set_cookie(
        FLOW_COOKIE,
        sign(flow, config.session_secret),
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=config.secure_cookies,
        path="/auth/",
    )
    raise response


async def callback(request: web.Request) -> web.Response:
    client = _client(request)
    config = state(request).config
    flow = unsign(request.cookies.get(FLOW_COOKIE, ""), config.session_secret)
    if request.query.get("error"):
        return _refused(request, f"{client.provider.label} said: {request.query['error'][:100]}")
    if (
        flow is None
        or flow.get("provider") != client.provider.name
        or flow.get("state") != request.query.get("state")
    ):
        return _refused(request, "This sign-in link has expired or was not started here. Start again.")
    code = request.query.get("code", "")
    try:
        id_token = await client.redeem(
            redirect_uri=_redirect_uri(request, client), code=code, verifier=str(flow["verifier"])
        )
        claims = await client.verify(id_token, nonce=str(flow["nonce"]))
        who = identity_of(client.provider, claims)
    except SignInFailed as error:
        log.warning("sign-in with %s refused: %s", client.provider.name, error)
        return _refused(request, f"{client.provider.label} did not confirm who you are. Try again.")
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("sign-in with %s: the provider did not answer: %r", client.provider.name, error)
        return _refused(
            request, f"{client.provider.label} is not reachable right now; try again in a moment."
        )
    async with state(request).db.transaction() as session:
        tenant = await library.tenant_by_external_id(session, platform=who.platform, external_id=who.tenant)
        if tenant is None or tenant.id is None:
            log.info("sign-in: %s workspace %s has no Casebook", who.platform, who.tenant)
            return _refused(
                request, "Casebook is not installed in your workspace yet, so there is nothing to show."
            )
        user_id = who.user_id
        if who.alias:
            user_id = (
                await library.user_id_for_alias(session, tenant_id=tenant.id, alias=who.alias) or user_id
            )
        person = await repo.person(
            session, tenant_id=tenant.id, user_id=user_id, display_name=who.name, now=now()
        )
    log.info("sign-in: %s user %s of %s", who.platform, user_id, who.tenant)
    set_session(request, new_session(hours=config.session_hours, tenant_id=tenant.id, person_id=person.id))
    response = web.HTTPSeeOther(str(flow.get("next") or "/"))
    response.del_cookie(FLOW_COOKIE, path="/auth/")
    raise response


def _refused(request: web.Request, message: str) -> web.Response:
    response = render(request, "signin.html", viewer=None, status=403, next_url="/", error=message)
    response.del_cookie(FLOW_COOKIE, path="/auth/")
    return response


def login_link(provider: Provider, next_url: str) -> str:
    return f"/auth/{provider.name}/login?next={quote(next_url, safe='')}"
