"""A stand-in OpenID Connect provider (Slack's or Microsoft's): its own RSA key and JWKS, an
authorization endpoint that signs the chosen person in at once, and a token endpoint that
checks the client secret and the PKCE verifier before it signs an ID token. Records what it got."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "casebook-test-client"
CLIENT_SECRET = "casebook-test-secret"


@dataclass
class Standin:
    server: TestServer | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    signing_key: RSAKey | None = None  # set to another key to sign tokens the JWKS cannot verify
    identity: dict[str, Any] = field(default_factory=dict)  # the claims of the next person to sign in
    issuer_template: str | None = None  # Microsoft's multi-tenant "{tenantid}" issuer
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    nonce_override: str | None = None

    @property
    def issuer(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/jwks", self.jwks)
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        return app

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer_template or self.issuer,
                "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token",
                "jwks_uri": self.issuer + "/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return web.Response(status=400, text="bad authorization request")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "nonce": query.get("nonce"),
            "challenge": query.get("code_challenge"),
            "redirect_uri": query.get("redirect_uri"),
            "identity": dict(self.identity),
        }
        target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
        raise web.HTTPFound(target)

    async def token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(form)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return web.json_response({"error": "invalid_grant"}, status=400)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return web.json_response({"error": "invalid_grant", "error_description": "PKCE"}, status=400)
        now = int(time.time())
        identity = grant["identity"]
        issuer = (self.issuer_template or self.issuer).replace("{tenantid}", str(identity.get("tid", "")))
        claims = {
            "iss": issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce_override or grant["nonce"],
            **identity,
        }
        key = self.signing_key or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return web.json_response(
            {"access_token": "at-" + secrets.token_hex(8), "token_type": "Bearer", "id_token": id_token}
        )


async def start_standin(**options: Any) -> Standin:
    standin = Standin(**options)
    standin.server = TestServer(standin.app(), host="127.0.0.1")
    await standin.server.start_server()
    return standin
