"""The web library's one error boundary, its session cookie and its security headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from adapters.web import session as cookies
from adapters.web.context import SESSION_KEY, PageError, SignInNeeded, state
from adapters.web.render import error_page

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# No script at all; styles and images from this origin only; never framed.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Chat platforms' endpoints and probes keep their own rules; everything else is the library's.
NOT_OURS = ("/slack/", "/api/messages", "/healthz", "/readyz", "/metrics")


def is_library_path(path: str) -> bool:
    return not path.startswith(NOT_OURS)


def is_api_path(path: str) -> bool:
    return path.startswith("/api/v1/")


@web.middleware
async def library_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_library_path(request.path):
        return await handler(request)
    config = state(request).config
    before = cookies.read(request, config.session_secret)
    request[SESSION_KEY] = before
    try:
        response = await _answer(request, handler)
    except web.HTTPException as redirect:  # redirects and aiohttp's own 404/405 carry the cookie too
        _headers(redirect, request)
        _save(request, redirect, before)
        raise
    _headers(response, request)
    _save(request, response, before)
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    api = is_api_path(request.path)
    try:
        return await handler(request)
    except PageError as error:
        if api:
            return web.json_response({"error": error.message}, status=error.status)
        return error_page(request, error.status, error.message)
    except SignInNeeded:
        if api:
            return web.json_response(
                {"error": "a bearer token is needed: Authorization: Bearer <token>"}, status=401
            )
        target = request.path_qs if request.method == "GET" else "/"
        raise web.HTTPSeeOther("/signin?next=" + quote(target, safe="")) from None
    except web.HTTPException:
        raise
    except Exception:
        log.exception("web library: %s %s failed", request.method, request.path)
        if api:
            return web.json_response({"error": "something went wrong on our side; it is logged"}, status=500)
        return error_page(
            request, 500, "Something went wrong on our side. It is logged; try again in a moment."
        )


def _headers(response: web.StreamResponse, request: web.Request) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


def _save(request: web.Request, response: web.StreamResponse, before: cookies.Session | None) -> None:
    after = request.get(SESSION_KEY)
    if after is not None and after != before:
        config = state(request).config
        cookies.write(response, after, config.session_secret, secure=config.secure_cookies)
    elif before is None and request.cookies.get(cookies.COOKIE):
        response.del_cookie(cookies.COOKIE, path="/")  # forged or expired: forget it
