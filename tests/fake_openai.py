"""A stand-in for an OpenAI-compatible chat-completions server, for tests, benches and the demo.

It speaks enough of the API for the real `openai.AsyncOpenAI` client: POST
`/v1/chat/completions` (or `/chat/completions`), answers in the API's JSON shape,
and records every request. What it answers is scripted per request
(`server.then(...)`); unscripted requests go to a deterministic "writer" that
drafts a grounded case from the case data in the prompt, like a well-behaved model.

Run it on its own for `casebook demo`:

    PYTHONPATH=. python -m tests.fake_openai --port 8765 [--latency 2] [--no-json-schema]
    OPENAI_BASE_URL=http://127.0.0.1:8765/v1 PYTHONPATH=. python -m bot demo
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.drafting.prompt import extract_case_data


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    query: dict[str, str] = field(default_factory=dict)

    @property
    def response_format(self) -> str | None:
        fmt = self.body.get("response_format")
        return fmt.get("type") if isinstance(fmt, dict) else None

    def message(self, role: str) -> str:
        return next((m["content"] for m in self.body.get("messages", []) if m.get("role") == role), "")

    @property
    def case_data(self) -> dict[str, Any] | None:
        return extract_case_data(self.message("user"))


Behaviour = Callable[["FakeOpenAI", Recorded], Awaitable[web.Response]]
_ids = itertools.count(1)


def completion(
    request: Recorded, content: str | None, *, finish_reason: str = "stop", refusal: str | None = None
) -> web.Response:
    body = {
        "id": f"chatcmpl-fake-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": len(json.dumps(request.body)) // 4,
            "completion_tokens": len(content or "") // 4,
            "total_tokens": (len(json.dumps(request.body)) + len(content or "")) // 4,
        },
    }
    return web.json_response(body)


def error(status: int, message: str, *, headers: dict[str, str] | None = None) -> web.Response:
    kind = (
        "rate_limit_error" if status == 429 else "invalid_request_error" if status < 500 else "server_error"
    )
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.json_response(body, status=status, headers=headers)


# --- behaviours ----------------------------------------------------------------------------------


def writer(extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> Behaviour:
    """The stand-in model: a grounded draft of the case in the request (`extra` may alter it)."""

    async def behave(server: FakeOpenAI, request: Recorded) -> web.Response:
        data = request.case_data
        if data is None:
            return error(400, "no case data in the prompt")
        draft = write_draft(data)
        if extra is not None:
            draft = extra(draft)
        return completion(request, json.dumps(draft, ensure_ascii=False))

    return behave


def answer(content: str | None, *, finish_reason: str = "stop", refusal: str | None = None) -> Behaviour:
    async def behave(server: FakeOpenAI, request: Recorded) -> web.Response:
        return completion(request, content, finish_reason=finish_reason, refusal=refusal)

    return behave


def status(code: int, message: str = "fake failure", *, retry_after_ms: int | None = 1) -> Behaviour:
    async def behave(server: FakeOpenAI, request: Recorded) -> web.Response:
        headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else None
        return error(code, message, headers=headers)

    return behave


def slow(seconds: float, then: Behaviour | None = None) -> Behaviour:
    async def behave(server: FakeOpenAI, request: Recorded) -> web.Response:
        await server.pause(seconds)
        return await (then or writer())(server, request)

    return behave


def gated(gate: asyncio.Event, then: Behaviour | None = None) -> Behaviour:
    """Hold the answer until the test opens the gate: a model as slow as the test needs."""

    async def behave(server: FakeOpenAI, request: Recorded) -> web.Response:
        server.waiting.set()
        await gate.wait()
        return await (then or writer())(server, request)

    return behave


# --- the writer ------------------------------------------------------------------------------------


def _sentence(text: str) -> str:
    text = " ".join(str(text).split()).rstrip(".;: ")
    return text + "." if text else ""


_BLAME = re.compile(
    r"\b(person-\d+)\s+(?:forgot|should have|messed up|broke|pushed a bad|didn't|failed to)\b[^.;\n]*",
    re.IGNORECASE,
)


def write_draft(data: dict[str, Any]) -> dict[str, Any]:
    """A plausible, grounded draft: every fact is copied from the data, as a careful model would."""
    case = data.get("case", {})
    answers = data.get("answers", [])
    durations = case.get("durations", {})
    timeline = case.get("timeline", {})
    symptoms = [s for s in case.get("symptoms", []) if s]
    path = [s for s in case.get("diagnostic_path", []) if s]
    narrative = []
    services = ", ".join(case.get("services", [])) or "several services"
    narrative.append(
        _sentence(f"{case.get('title') or 'An incident'} was a {case.get('severity')} incident in {services}")
    )
    if "started" in timeline and "time_to_detect" in durations:
        started = timeline["started"].split(" (")[0]
        narrative.append(
            _sentence(f"It began at {started} and was detected {durations['time_to_detect']} later")
        )
    if symptoms:
        narrative.append(_sentence(f"The first sign was this: {symptoms[0]}"))
    for wrong in case.get("wrong_hypotheses", [])[:1]:
        narrative.append(_sentence(f"An early lead proved wrong: {wrong['text']}"))
    if path:
        narrative.append(_sentence(f"The decisive check: {path[-1]}"))
    if "time_to_mitigate" in durations:
        narrative.append(_sentence(f"Impact was mitigated {durations['time_to_mitigate']} after the start"))
    kinds = {a.get("kind") for a in data.get("existing_actions", [])}
    cited = [
        a["id"] for a in answers if a["question"] in {"root_cause", "diagnostic_path", "contributing_factors"}
    ]
    suggestions = []
    if "mitigate" not in kinds and cited:
        suggestions.append(
            {
                "description": f"Write and rehearse a rollback procedure for changes to {services}",
                "kind": "mitigate",
                "gap": "No existing action shortens recovery; mitigation relied on diagnosis first.",
                "based_on": cited[:2],
            }
        )
    if "detect" not in kinds and symptoms and cited:
        suggestions.append(
            {
                "description": f"Alert on the first symptom before users report it: {symptoms[0]}",
                "kind": "detect",
                "gap": "Detection depended on a symptom no alert watched.",
                "based_on": cited[:1],
            }
        )
    flags = [
        {
            "answer_id": a["id"],
            "quote": m.group(0).strip(),
            "rewrite": "The process relied on a manual step without a safeguard.",
        }
        for a in answers
        for m in _BLAME.finditer(a["text"])
    ]
    return {
        "narrative": " ".join(narrative),
        "symptoms": [_sentence(s) for s in symptoms],
        "diagnostic_path": [_sentence(s) for s in path],
        "root_cause": case.get("root_cause") or "",
        "suggested_actions": suggestions,
        "blame_flags": flags,
    }


# --- the server ------------------------------------------------------------------------------------


class FakeOpenAI:
    def __init__(self, *, json_schema_supported: bool = True, default: Behaviour | None = None) -> None:
        self.json_schema_supported = json_schema_supported
        self.default = default or writer()
        self.script: deque[Behaviour] = deque()
        self.requests: list[Recorded] = []
        self.waiting = asyncio.Event()  # set when a gated answer is being held
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def then(self, *behaviours: Behaviour) -> FakeOpenAI:
        self.script.extend(behaviours)
        return self

    async def pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return error(400, "the body is not JSON")
        recorded = Recorded(request.path, dict(request.headers), body, dict(request.query))
        self.requests.append(recorded)
        if recorded.response_format == "json_schema" and not self.json_schema_supported:
            return error(400, "response_format type 'json_schema' is not supported; use 'json_object'")
        behaviour = self.script.popleft() if self.script else self.default
        return await behaviour(self, recorded)

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/chat/completions", self._handle)
        # Azure OpenAI's deployment-style route (AsyncAzureOpenAI with an api-version).
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{bound}/v1"
        return self.base_url

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _serve(port: int, latency: float, json_schema: bool) -> None:
    server = FakeOpenAI(json_schema_supported=json_schema, default=slow(latency) if latency else writer())
    url = await server.start(port)
    print(f"fake OpenAI-compatible server at {url} (latency {latency:g} s); Ctrl-C stops it", flush=True)
    print(f"  OPENAI_BASE_URL={url} PYTHONPATH=. python -m bot demo", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--no-json-schema", action="store_true", help="refuse json_schema (JSON mode only)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.latency, not args.no_json_schema))


if __name__ == "__main__":
    main()
