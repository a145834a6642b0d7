"""Local stand-ins for what Teams talks to: the Bot Framework connector (the
`serviceUrl` the bot posts to) and the Bot Framework's OpenID metadata and keys.

The connector runs on the test's event loop (botbuilder calls it with aiohttp).
The key server runs in a thread: botbuilder fetches keys with blocking `requests`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


@dataclass
class Sent:
    method: str
    path: str
    conversation_id: str
    body: dict[str, Any]
    reply_to: str | None = None
    authorization: str | None = None
    id: str = ""  # the id the connector gave the posted activity

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.body.get("attachments") or ():
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None

    @property
    def text(self) -> str:
        """Everything a person would read: the text, or the card's text blocks."""
        if self.card is None:
            return str(self.body.get("text") or "")
        return "\n".join(_card_texts(self.card))


def _card_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "TextBlock" else []
        return own + [t for key, value in node.items() if key != "card" for t in _card_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in _card_texts(item)]
    return []


@dataclass
class Connector:
    """Records every call the bot makes; answers like the Bot Framework connector."""

    sent: list[Sent] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # id or aadObjectId -> member
    failures: list[tuple[str, int, dict[str, str]]] = field(
        default_factory=list
    )  # (path part, status, headers)
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        return app

    def fail_next(self, path_part: str, status: int, headers: dict[str, str] | None = None) -> None:
        self.failures.append((path_part, status, headers or {}))

    def _failure(self, request: web.Request) -> web.Response | None:
        for index, (part, status, headers) in enumerate(self.failures):
            if part in request.path:
                del self.failures[index]
                body = {"error": {"code": "ServiceError", "message": f"stand-in failure {status}"}}
                return web.json_response(body, status=status, headers=headers)
        return None

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        updated = request.method == "PUT"
        sent = Sent(
            request.method,
            request.path,
            request.match_info["cid"],
            body,
            reply_to=None if updated else request.match_info.get("aid"),
            authorization=request.headers.get("Authorization"),
            id=request.match_info["aid"] if updated else f"bot-{next(self._ids)}",
        )
        self.sent.append(sent)
        failed = self._failure(request)
        if failed is not None:
            return failed
        return web.json_response({"id": sent.id})

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.sent.append(Sent("POST", request.path, "", body))
        failed = self._failure(request)
        if failed is not None:
            return failed
        channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        if channel:  # a new post (reply chain) in a channel, its first activity in the body
            activity_id = f"bot-{next(self._ids)}"
            return web.json_response({"id": f"{channel};messageid={activity_id}", "activityId": activity_id})
        member = body["members"][0]["id"]
        return web.json_response({"id": f"a:personal-{member}", "activityId": f"bot-{next(self._ids)}"})

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["mid"])
        if member is None:
            body = {"error": {"code": "MemberNotFoundInConversation", "message": "The member is not found"}}
            return web.json_response(body, status=404)
        return web.json_response(member)

    # --- what the tests look at ---

    def to(self, conversation_id: str) -> list[Sent]:
        return [s for s in self.sent if s.conversation_id == conversation_id and s.method == "POST"]

    def created(self) -> list[Sent]:
        return [s for s in self.sent if s.path == "/v3/conversations"]

    def updates(self) -> list[Sent]:
        return [s for s in self.sent if s.method == "PUT"]

    def since(self, mark: int) -> list[Sent]:
        return [s for s in self.sent[mark:] if s.method == "POST" and s.conversation_id]


class SigningKeys:
    """The Bot Framework's OpenID metadata and JWKS, served from a thread, and tokens signed
    with the matching private key (or, for the tests of rejection, a different one)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "standin-key-1"
        self._server: ThreadingHTTPServer | None = None

    @property
    def metadata_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1/.well-known/openidconfiguration"

    def start(self) -> None:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, use="sig", endorsements=["msteams"])
        keys = json.dumps({"keys": [jwk]}).encode()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(keys))
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True, name="openid-standin").start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def token(self, *, audience: str, service_url: str, **overrides: Any) -> str:
        # botbuilder (not ours, not configurable) checks nbf/exp against the process's clock, so
        # the stand-in token service mints on that clock; faketime shifts both alike.
        now = dt.datetime.now(dt.UTC)
        claims: dict[str, Any] = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": audience,
            "serviceurl": service_url,
            "nbf": now - dt.timedelta(minutes=1),
            "exp": now + dt.timedelta(hours=1),
        }
        claims.update(overrides)
        key = claims.pop("signing_key", self.key)
        kid = claims.pop("kid", self.kid)
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _handler(keys: bytes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            address = self.server.server_address
            assert isinstance(address, tuple)
            host, port = str(address[0]), int(address[1])
            if self.path.endswith("openidconfiguration"):
                body = json.dumps({"jwks_uri": f"http://{host!s}:{port}/v1/keys"}).encode()
            elif self.path == "/v1/keys":
                body = keys
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

    return Handler


@dataclass
class TokenService:
    """Entra's token endpoint for one app: client credentials in, a Bot Framework token out
    (or Entra's refusal). Records every request it got."""

    client_id: str
    client_secret: str
    lifetime_seconds: int = 3599
    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.requests.append({"tenant": request.match_info["tenant"], **form})
        if form.get("grant_type") != "client_credentials" or not form.get("scope"):
            return web.json_response({"error": "invalid_request"}, status=400)
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            description = "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent ..."
            return web.json_response(
                {"error": "invalid_client", "error_description": description}, status=401
            )
        token = f"standin-token-{len(self.requests)}"
        return web.json_response(
            {"token_type": "Bearer", "expires_in": self.lifetime_seconds, "access_token": token}
        )
