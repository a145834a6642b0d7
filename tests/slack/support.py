"""A local stand-in for Slack, for the tests and the benchmark.

`SlackStandIn` is an aiohttp server on 127.0.0.1 that answers the Web API methods
Casebook uses and records every call (method, parameters, token). Methods can be
slowed (`delay`), held until released (`hold`), or made to fail (`fail`).
It also receives response_url posts, file uploads, and serves a Socket Mode
WebSocket. `SlackSender` signs requests with the signing secret as Slack does
and posts them to the server under test.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

TEAM = "T0TEAM"
BOT_USER = "UBOT"
BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"

PEOPLE: dict[str, dict[str, Any]] = {
    "UALICE": {
        "name": "alice",
        "display_name": "Alice",
        "tz": "Europe/Paris",
        "is_admin": False,
        "locale": "en-GB",
    },
    "UBOB": {
        "name": "bob",
        "display_name": "Bob",
        "tz": "America/New_York",
        "is_admin": False,
        "locale": "en-US",
    },
    "UCAROL": {"name": "carol", "display_name": "Carol", "tz": "UTC", "is_admin": False},
    "UDANA": {
        "name": "dana",
        "display_name": "Dana",
        "tz": "Asia/Tokyo",
        "is_admin": True,
        "locale": "ja-JP",
    },
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    result: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """Everything a person would read in this call: text and every block's text."""
        parts = [str(self.params.get("text") or "")]
        parts += _block_texts(self.params.get("blocks") or [])
        view = self.params.get("view") or {}
        parts += _block_texts(view.get("blocks") or []) if isinstance(view, dict) else []
        return "\n".join(p for p in parts if p)


def _block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in {"mrkdwn", "plain_text"} and "text" in node:
                found.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


@dataclass
class Failure:
    error: str
    times: int
    when: Callable[[dict[str, Any]], bool] = lambda params: True


@dataclass
class SlackStandIn:
    team: str = TEAM
    people: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(PEOPLE))
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # response_url posts
    uploads: dict[str, bytes] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    holds: dict[str, asyncio.Event] = field(default_factory=dict)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    http_errors: dict[str, int] = field(default_factory=dict)  # method -> how many HTTP 500s to answer
    rate_limited: dict[str, int] = field(default_factory=dict)  # method -> how many 429s (Retry-After: 1)
    tokens: dict[str, str] = field(default_factory=lambda: {BOT_TOKEN: TEAM})  # token -> team
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    record: bool = True  # keep every call (tests); the benchmark only counts
    counts: Counter[str] = field(default_factory=Counter)
    reactions: set[tuple[str, str, str]] = field(default_factory=set)  # (channel, message ts, name)
    edited: dict[tuple[str, str], str] = field(default_factory=dict)  # (channel, ts): its newest text

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._sockets: list[web.WebSocketResponse] = []
        self.socket_connected = asyncio.Event()

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> SlackStandIn:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base}/respond/{name}"

    # --- steering ----------------------------------------------------------------------

    def hold(self, method: str) -> asyncio.Event:
        """Calls to `method` wait until the returned event is set."""
        self.holds[method] = asyncio.Event()
        return self.holds[method]

    def fail(
        self, method: str, error: str, *, times: int = 1, when: Callable[[dict[str, Any]], bool] | None = None
    ) -> None:
        self.failures.setdefault(method, []).append(Failure(error, times, when or (lambda p: True)))

    # --- reading what was sent ------------------------------------------------------------

    def called(self, method: str, **match: Any) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and all(c.params.get(k) == v for k, v in match.items())
        ]

    def posts(self, *, thread_ts: str | None = None, channel: str | None = None) -> list[Call]:
        match: dict[str, Any] = {}
        if thread_ts is not None:
            match["thread_ts"] = thread_ts
        if channel is not None:
            match["channel"] = channel
        return self.called("chat.postMessage", **match)

    def everything_said(self) -> str:
        said = [c.text() for c in self.calls]
        said += [json.dumps(r) for r in self.responses]
        return "\n".join(said)

    # --- handlers --------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        for key in ("blocks", "view", "files", "attachments"):
            value = params.get(key)
            if isinstance(value, str) and value[:1] in "[{":
                params[key] = json.loads(value)
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        call = Call(method, params, token)
        self.counts[method] += 1
        if method == "chat.postMessage" and params.get("thread_ts"):
            self.counts["thread posts"] += 1
        if method == "chat.update":
            self.edited[(str(params.get("channel")), str(params.get("ts")))] = call.text()
        if self.record:
            self.calls.append(call)
        if method in self.holds:
            await self.holds[method].wait()
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        if self.rate_limited.get(method, 0) > 0:
            self.rate_limited[method] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        if self.http_errors.get(method, 0) > 0:
            self.http_errors[method] -= 1
            return web.Response(
                status=500, text="<html>Internal Server Error</html>", content_type="text/html"
            )
        for failure in self.failures.get(method, []):
            if failure.times > 0 and failure.when(params):
                failure.times -= 1
                return web.json_response({"ok": False, "error": failure.error})
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        if answer is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        body: dict[str, Any] = answer(params, token)
        call.result = body
        return web.json_response({"ok": True, **body} if "ok" not in body else body)

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _auth_test(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        team = self.tokens.get(token or "")
        if team is None:
            return {"ok": False, "error": "invalid_auth"}
        return {
            "user_id": BOT_USER,
            "bot_id": "BBOT",
            "team_id": team,
            "team": "Test team",
            "url": "https://t/",
            "user": "casebook",
        }

    def _chat_postMessage(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        ts = self._next_ts()
        return {"channel": params.get("channel"), "ts": ts, "message": {"ts": ts, "text": params.get("text")}}

    def _chat_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"channel": params.get("channel"), "ts": params.get("ts")}

    def _reactions_add(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not (params.get("channel") and params.get("timestamp") and params.get("name")):
            return {"ok": False, "error": "invalid_arguments"}
        reaction = (str(params["channel"]), str(params["timestamp"]), str(params["name"]))
        if reaction in self.reactions:  # as Slack: a message shows a reaction of the bot once
            return {"ok": False, "error": "already_reacted"}
        self.reactions.add(reaction)
        return {}

    def _chat_delete(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"channel": params.get("channel"), "ts": params.get("ts")}

    def _chat_postEphemeral(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _conversations_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"channel": {"id": "D" + str(params.get("users", "")).lstrip("U")}}

    def _conversations_list(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """The workspace's channels, one page (the report's channel is found by name)."""
        names = {"C0INCIDENTS": "incidents", "C0REPORTS": "sre-reports"}
        return {
            "channels": [{"id": cid, "name": name} for cid, name in names.items()],
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_join(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"channel": {"id": params.get("channel")}}

    def _users_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        user_id = str(params.get("user"))
        person = self.people.get(user_id)
        if person is None:
            return {"ok": False, "error": "user_not_found"}
        user = {
            "id": user_id,
            "team_id": self.team,
            "name": person["name"],
            "tz": person["tz"],
            "is_admin": person["is_admin"],
            "profile": {"display_name": person["display_name"], "real_name": person["display_name"]},
        }
        # As Slack does: the locale only when asked for, and only for people who have one.
        if str(params.get("include_locale")).lower() in {"1", "true"} and person.get("locale"):
            user["locale"] = person["locale"]
        return {"user": user}

    def _views_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"view": {"id": f"V{next(self._ts)}", **(params.get("view") or {})}}

    def _chat_getPermalink(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel, ts = params.get("channel"), str(params.get("message_ts") or "")
        return {
            "channel": channel,
            "permalink": f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    _views_publish = _views_open
    _views_update = _views_open

    def _files_getUploadURLExternal(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        file_id = f"F{next(self._ts)}"
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"files": [{"id": f["id"], "title": f.get("title")} for f in params.get("files") or []]}

    def _files_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"file": {"id": params.get("file")}}

    def _apps_connections_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/socket"}

    def _oauth_v2_access(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        installed = "xoxb-installed-" + str(params.get("code"))
        self.tokens[installed] = "T0SECOND"
        return {
            "app_id": "A0APP",
            "authed_user": {"id": "UALICE"},
            "scope": "commands,chat:write",
            "token_type": "bot",
            "access_token": installed,
            "bot_user_id": BOT_USER,
            "team": {"id": "T0SECOND", "name": "Second team"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"name": request.match_info["name"], **body})
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0APP"}})
        self.socket_connected.set()
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return ws

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the connected app."""
        await self.socket_connected.wait()
        await self._sockets[-1].send_json(envelope)


# --- signed requests ---------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    """Posts what Slack would post to /slack/events, signed with the signing secret."""

    def __init__(
        self, session: aiohttp.ClientSession, url: str, standin: SlackStandIn, secret: str = SIGNING_SECRET
    ):
        self.session = session
        self.url = url
        self.standin = standin
        self.secret = secret
        self._n = itertools.count(1)

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        secret: str | None = None,
        age_seconds: int = 0,
        retry: int | None = None,
    ) -> aiohttp.ClientResponse:
        timestamp = str(int(time.time()) - age_seconds)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(secret or self.secret, timestamp, body),
        }
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        async with self.session.post(self.url, data=body, headers=headers) as response:
            await response.read()
            return response

    def command_body(self, text: str, *, user: str = "UALICE", channel: str = "C0INCIDENTS") -> bytes:
        n = next(self._n)
        form = {
            "token": "legacy",
            "team_id": self.standin.team,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "incidents",
            "user_id": user,
            "user_name": PEOPLE.get(user, {}).get("name", user),
            "command": "/postmortem",
            "text": text,
            "api_app_id": "A0APP",
            "response_url": self.standin.response_url(f"cmd{n}"),
            "trigger_id": f"trigger-cmd-{n}-{uuid.uuid4().hex[:6]}",
        }
        return urllib.parse.urlencode(form).encode()

    async def command(self, text: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.post(self.command_body(text, **kwargs), "application/x-www-form-urlencoded")

    def event_body(self, event: dict[str, Any], *, event_id: str | None = None) -> bytes:
        envelope = {
            "token": "legacy",
            "team_id": self.standin.team,
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._n):06d}{uuid.uuid4().hex[:4]}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.standin.team, "user_id": BOT_USER, "is_bot": True}],
        }
        return json.dumps(envelope).encode()

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> aiohttp.ClientResponse:
        return await self.post(self.event_body(event, event_id=event_id), "application/json", retry=retry)

    def reply_event(
        self, text: str, *, thread_ts: str, user: str = "UALICE", channel: str = "C0INCIDENTS"
    ) -> dict[str, Any]:
        return {
            "type": "message",
            "channel": channel,
            "channel_type": "im" if channel.startswith("D") else "channel",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "thread_ts": thread_ts,
            "event_ts": f"{time.time():.6f}",
        }

    async def say(self, text: str, *, thread_ts: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.event(self.reply_event(text, thread_ts=thread_ts, **kwargs))

    async def dm(self, text: str, *, user: str) -> aiohttp.ClientResponse:
        event = self.reply_event(text, thread_ts="", user=user, channel="D" + user.lstrip("U"))
        del event["thread_ts"]
        return await self.event(event)

    async def interaction(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded")

    def click_payload(
        self, call: Call, label: str, *, user: str = "UALICE", ephemeral: bool = False
    ) -> dict[str, Any]:
        """Press the button labelled `label` in a message the bot really sent."""
        blocks = call.params.get("blocks") or (call.params.get("view") or {}).get("blocks") or []
        for block in blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("type") == "button" and element["text"]["text"] == label:
                    return self._action_payload(call, block, element, user=user, ephemeral=ephemeral)
        raise AssertionError(f"no button {label!r} in {call.method}: {call.text()[:300]}")

    def _action_payload(
        self, call: Call, block: dict[str, Any], element: dict[str, Any], *, user: str, ephemeral: bool
    ) -> dict[str, Any]:
        n = next(self._n)
        action = {
            "type": "button",
            "action_id": element["action_id"],
            "block_id": block["block_id"],
            "value": element.get("value", ""),
            "text": element["text"],
            "action_ts": f"{time.time():.6f}",
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.standin.team, "domain": "acme"},
            "user": {"id": user, "team_id": self.standin.team},
            "api_app_id": "A0APP",
            "trigger_id": f"trigger-act-{n}-{uuid.uuid4().hex[:6]}",
            "actions": [action],
        }
        if call.method == "views.publish":
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home", **call.params["view"]}
            return payload
        channel = call.params.get("channel") or ""
        ts = str(call.params.get("ts") or call.result.get("ts") or call.result.get("message_ts"))
        thread_ts = call.params.get("thread_ts")
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
            **({"thread_ts": thread_ts} if thread_ts else {}),
        }
        payload["channel"] = {"id": channel}
        payload["message"] = {"ts": ts, "text": call.params.get("text"), "blocks": call.params.get("blocks")}
        if thread_ts:
            payload["message"]["thread_ts"] = thread_ts
        payload["response_url"] = self.standin.response_url(f"act{n}")
        return payload

    async def click(self, call: Call, label: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.interaction(self.click_payload(call, label, **kwargs))

    def submission_payload(
        self, opened: Call, values: dict[str, Any], *, user: str = "UALICE"
    ) -> dict[str, Any]:
        """Submit the modal the bot opened (`opened` is its views.open call) with `values`:
        field name -> the element's state (e.g. {"type": "datepicker", "selected_date": ...})."""
        view = opened.params["view"]
        n = next(self._n)
        return {
            "type": "view_submission",
            "team": {"id": self.standin.team, "domain": "acme"},
            "user": {"id": user, "team_id": self.standin.team},
            "api_app_id": "A0APP",
            "trigger_id": f"trigger-view-{n}-{uuid.uuid4().hex[:6]}",
            "view": {
                "id": f"VMODAL{n}",
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "hash": f"h{n}",
                "state": {"values": {name: {"value": state} for name, state in values.items()}},
                "blocks": view["blocks"],
            },
        }

    async def submit(self, opened: Call, values: dict[str, Any], **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.interaction(self.submission_payload(opened, values, **kwargs))
