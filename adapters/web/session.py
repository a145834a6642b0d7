"""Signed session cookies: who is signed in (tenant, person), until when, and the CSRF token.

The cookie is `base64(json).base64(HMAC-SHA256)` under CASEBOOK_SESSION_SECRET: a forged or
altered cookie fails the signature and an expired one its `exp`; either reads as no session.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, replace

from aiohttp import web

COOKIE = "casebook_session"
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Session:
    csrf: str
    exp: int
    tenant_id: int | None = None
    person_id: int | None = None
    flash: str | None = None
    flash_kind: str | None = None  # "info" | "error"

    @property
    def signed_in(self) -> bool:
        return self.tenant_id is not None and self.person_id is not None


def new_session(*, hours: int, tenant_id: int | None = None, person_id: int | None = None) -> Session:
    return Session(
        csrf=secrets.token_urlsafe(24),
        exp=int(time.time()) + hours * 3600,
        tenant_id=tenant_id,
        person_id=person_id,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: dict[str, object], secret: bytes) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(value: str, secret: bytes) -> dict[str, object] | None:
    """The payload of a value `sign` made with this secret and not yet expired, else None."""
    body, _, mac = value.partition(".")
    try:
        expected = hmac.new(secret, body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        return None
    return payload if payload["exp"] > time.time() else None


def read(request: web.Request, secret: bytes) -> Session | None:
    raw = request.cookies.get(COOKIE)
    payload = unsign(raw, secret) if raw else None
    if payload is None:
        return None
    try:
        return Session(**payload)  # type: ignore[arg-type]
    except TypeError:
        return None


def write(response: web.StreamResponse, session: Session, secret: bytes, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        sign(asdict(session), secret),
        max_age=max(0, session.exp - int(time.time())),
        httponly=True,
        samesite="Lax",  # Lax, not Strict: the sign-in provider's redirect back must carry it
        secure=secure,
        path="/",
    )


def with_flash(session: Session, message: str, kind: str = "info") -> Session:
    return replace(session, flash=message[:500], flash_kind=kind)


def without_flash(session: Session) -> Session:
    return replace(session, flash=None, flash_kind=None)


def csrf_ok(session: Session | None, submitted: str | None) -> bool:
    return bool(session and submitted and hmac.compare_digest(session.csrf, submitted))
