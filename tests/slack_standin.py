"""A local stand-in for the Slack Web API: answers like Slack and records every call.

`script[method]` queues behaviours for the next calls of a method:
"ratelimit" (429 + Retry-After), "drop" (accept, store, then cut the connection
before answering), "slow" (accept, store, answer too late), "500", or
"error:<code>" (ok=false with that error).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class SlackStandIn:
    team_id: str = "T1"
    bot_user: str = "UBOT"
    retry_after: int = 7
    slow_seconds: float = 2.0
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    script: dict[str, list[str]] = field(default_factory=dict)
    now: Callable[[], float] = time.time  # stamps messages (a test's clock may run ahead)
    url: str = ""  # the Web API base URL, once started
    _runner: web.AppRunner | None = None
    _seq: int = 0

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)  # conversations.history is a GET
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/api/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            params.update(dict(await request.post()))
        return params

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        self.calls.append(Call(method, params, auth.removeprefix("Bearer ") or None))
        queued = self.script.get(method) or []
        behaviour = queued.pop(0) if queued else ""
        if behaviour == "ratelimit":
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        if behaviour == "500":
            return web.Response(status=500, text="upstream error", content_type="text/html")
        if behaviour.startswith("error:"):
            return web.json_response({"ok": False, "error": behaviour.removeprefix("error:")})
        body = self._answer(method, params)
        if behaviour == "drop":
            assert request.transport is not None
            request.transport.close()  # Slack took it; the answer never arrives
            return web.Response(status=200)
        if behaviour == "slow":
            await asyncio.sleep(self.slow_seconds)
        return web.json_response(body)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "team_id": self.team_id, "user_id": self.bot_user, "bot_id": "B1"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params["users"]).upper()}}
        if method == "chat.postMessage":
            self._seq += 1
            message = {
                "ts": f"{int(self.now())}.{self._seq:06d}",
                "bot_id": "B1",
                "user": self.bot_user,
                "text": params.get("text"),
                "blocks": _json(params.get("blocks")),
                "metadata": _json(params.get("metadata")),
                "thread_ts": params.get("thread_ts"),
            }
            self.messages.setdefault(str(params["channel"]), []).append(message)
            return {"ok": True, "channel": params["channel"], "ts": message["ts"]}
        if method == "conversations.history":
            oldest = float(params.get("oldest") or 0)
            found = [
                {k: v for k, v in m.items() if k != "metadata" or params.get("include_all_metadata")}
                for m in self.messages.get(str(params["channel"]), [])
                if float(m["ts"]) >= oldest
            ]
            return {"ok": True, "messages": list(reversed(found)), "has_more": False}
        return {"ok": False, "error": "unknown_method"}


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
