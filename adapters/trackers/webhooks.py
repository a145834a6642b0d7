"""Tracker webhooks on `casebook serve`: /trackers/github, /trackers/jira, /trackers/linear.

Each is mounted when its secret is set and verified with its platform's scheme before
anything is read: GitHub `X-Hub-Signature-256` and Jira Cloud `X-Hub-Signature` (both
`sha256=<hex HMAC-SHA256 of the body>`), Linear `Linear-Signature` (hex HMAC-SHA256 of
the body, plus `webhookTimestamp` within a minute). A forged request gets 401 and changes
nothing; a body that is not what the platform sends gets 400 and one WARNING line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from aiohttp import web

from adapters.trackers.config import TrackerSettings, revealed
from bot.config import Settings
from bot.notify import Notifier
from bot.trackers.inbound import apply_closed
from bot.trackers.port import Issue
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)

NOTIFIERS: web.AppKey[Mapping[str, Notifier]] = web.AppKey("tracker_notifiers")
TRACKER_DB = web.AppKey("tracker_database", Database)
LINEAR_TOLERANCE_SECONDS = 60


class Malformed(ValueError):
    """The body is not what the platform sends."""


def add_routes(app: web.Application, *, db: Database, settings: Settings) -> bool:
    from adapters.trackers import install

    trackers = TrackerSettings.from_env()
    install(trackers)  # the nudge jobs this process runs after a publish can reach the trackers
    routes = {
        "github": (revealed(trackers.github_webhook_secret), _github),
        "jira": (revealed(trackers.jira_webhook_secret), _jira(trackers.jira_url or "")),
        "linear": (revealed(trackers.linear_webhook_secret), _linear),
    }
    mounted = [kind for kind, (secret, _) in routes.items() if secret]
    if not mounted:
        return False
    app[TRACKER_DB] = db
    for kind in mounted:
        secret, parse = routes[kind]
        assert secret is not None
        app.router.add_post(f"/trackers/{kind}", _handler(kind, secret.encode(), parse))
    app.cleanup_ctx.append(_notifiers)
    log.info("tracker webhooks at %s", ", ".join(f"/trackers/{k}" for k in mounted))
    return True


async def _notifiers(app: web.Application) -> AsyncIterator[None]:
    """The owner and lead of a tracker-closed action are told through the configured notifiers."""
    if NOTIFIERS in app:  # given by whoever built the app (tests)
        yield
        return
    from adapters.notifiers import configured_notifiers

    async with configured_notifiers(app[TRACKER_DB]) as notifiers:
        app[NOTIFIERS] = notifiers
        yield


Parse = Callable[[web.Request, Any], list[Issue]]


def _handler(kind: str, secret: bytes, parse: Parse) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if not _verified(kind, secret, request, body):
            log.warning("refused a %s webhook: the signature does not match (from %s)", kind, request.remote)
            return web.json_response({"error": "bad signature"}, status=401)
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise Malformed("not a JSON object")
            if kind == "linear" and not _fresh(payload):
                return web.json_response({"error": "stale webhookTimestamp"}, status=401)
            issues = parse(request, payload)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning(
                "ignored a malformed %s webhook: %s", kind, str(error)[:200] or error.__class__.__name__
            )
            return web.json_response({"error": "malformed body"}, status=400)
        closed = await apply_closed(
            request.app[TRACKER_DB],
            kind=kind,
            issues=issues,
            notifiers=request.app.get(NOTIFIERS, {}),
            now=utcnow(),  # the request's one moment
        )
        return web.json_response({"closed": [c.ref for c in closed]})

    return handle


def _verified(kind: str, secret: bytes, request: web.Request, body: bytes) -> bool:
    header = {"github": "X-Hub-Signature-256", "jira": "X-Hub-Signature", "linear": "Linear-Signature"}[kind]
    given = request.headers.get(header, "")
    digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
    expected = digest if kind == "linear" else f"sha256={digest}"
    return bool(given) and hmac.compare_digest(given.strip(), expected)


def _fresh(payload: dict[str, Any]) -> bool:
    """Linear's replay guard: the signed timestamp (ms) is within a minute of our clock."""
    stamp = payload.get("webhookTimestamp")
    if stamp is None:
        return True
    if not isinstance(stamp, int | float):
        raise Malformed("webhookTimestamp is not a number")
    return abs(time.time() - stamp / 1000) <= LINEAR_TOLERANCE_SECONDS


def _github(request: web.Request, payload: dict[str, Any]) -> list[Issue]:
    event = request.headers.get("X-GitHub-Event", "")
    if event != "issues":
        return []  # ping and every other event: nothing to do
    issue, repo = payload["issue"], payload["repository"]["full_name"]
    if not isinstance(issue, dict) or not isinstance(repo, str):
        raise Malformed("issue or repository missing")
    if payload.get("action") != "closed":
        return []
    return [Issue(key=f"{repo}#{int(issue['number'])}", url=str(issue["html_url"]), closed=True)]


def _jira(site_url: str) -> Parse:
    def parse(request: web.Request, payload: dict[str, Any]) -> list[Issue]:
        event = str(payload.get("webhookEvent", ""))
        if not event.startswith("jira:issue_"):
            return []
        issue = payload["issue"]
        key = str(issue["key"])
        category = ((issue.get("fields") or {}).get("status") or {}).get("statusCategory") or {}
        if category.get("key") != "done":
            return []
        return [Issue(key=key, url=f"{site_url.rstrip('/')}/browse/{key}", closed=True)]

    return parse


def _linear(request: web.Request, payload: dict[str, Any]) -> list[Issue]:
    if payload.get("type") != "Issue":
        return []
    data = payload["data"]
    state = (data.get("state") or {}).get("type")
    if state not in {"completed", "canceled"}:
        return []
    return [Issue(key=str(data["id"]), url=str(data.get("url") or ""), closed=True)]
