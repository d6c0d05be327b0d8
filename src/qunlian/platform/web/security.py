"""Signed session cookies, CSRF tokens, API bearer tokens, security headers (login throttling: accounts.throttle)."""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as ASGIMessage

from qunlian.core.messages import Message

SESSION_COOKIE = "qunlian_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class SessionMiddleware:
    """The session as a signed, timestamped cookie: HttpOnly, SameSite=Lax, Secure over https.

    The cookie holds only the user id and the CSRF token; it expires max_age seconds after it was
    last written (login), whatever the browser does with it.
    """

    def __init__(self, app: ASGIApp, secret_key: str, max_age: int, secure: bool | None = None) -> None:
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret_key, salt="qunlian.session")
        self.max_age = max_age
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        data: dict[str, Any] = {}
        if raw:
            try:
                loaded = self.serializer.loads(raw, max_age=self.max_age)
                data = loaded if isinstance(loaded, dict) else {}
            except BadSignature:  # tampered or expired: start afresh
                data = {}
        scope["session"] = data
        before = json.dumps(data, sort_keys=True)
        secure = self.secure if self.secure is not None else scope.get("scheme") == "https"

        async def send_wrapper(message: ASGIMessage) -> None:
            if message["type"] == "http.response.start":
                session = scope["session"]
                if json.dumps(session, sort_keys=True) != before or (raw and not session):
                    flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
                    if session:
                        value = self.serializer.dumps(session)
                        cookie = f"{SESSION_COOKIE}={value}; Max-Age={self.max_age}; {flags}"
                    else:
                        cookie = f"{SESSION_COOKIE}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; {flags}"
                    MutableHeaders(scope=message).append("Set-Cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_wrapper)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    """No external origin is ever needed (DESIGN §7): the CSP says so to the browser too. Responses
    other than static assets are not to be cached (firm data, issue #12)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: ASGIMessage) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("Content-Security-Policy", CSP)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("X-Frame-Options", "DENY")
                h.setdefault("Referrer-Policy", "same-origin")
                if not scope.get("path", "").startswith("/static/"):
                    # every page, export and API answer is the signed-in user's view of firm data:
                    # kept by no cache, shared or the browser's (the static assets may be cached)
                    h.setdefault("Cache-Control", "private, no-store")
            await send(message)

        await self.app(scope, receive, send_wrapper)


# --------------------------------------------------------------------------- CSRF


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _refuse_oversized(request: Request) -> None:
    """Refuse a body larger than the upload limit from its declared length, before reading it."""
    from qunlian.platform.tabular import max_upload_bytes

    declared = request.headers.get("content-length", "")
    limit = max_upload_bytes() + 1024 * 1024  # room for the multipart envelope and the form's other fields
    if declared.isdigit() and int(declared) > limit:
        mb = max_upload_bytes() / 1024 / 1024
        # a page's error (the JSON API is not checked here): error.html shows it as _(message)
        raise HTTPException(413, detail=Message("上传内容超过 %(mb)s MB 上限，未接收。请拆分文件后分批导入", mb=format(mb, "g")))


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: every unsafe request carries the session's token (form field or header).

    The JSON API under /api is exempt: it authenticates with a bearer token, never with the cookie.
    """
    if request.method in SAFE_METHODS or request.url.path.startswith("/api/") or request.url.path == "/api":
        return
    _refuse_oversized(request)
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, detail="csrf")


# --------------------------------------------------------------------------- API tokens


class TokenSigner:
    def __init__(self, secret_key: str, ttl_s: int) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt="qunlian.api-token")
        self.ttl_s = ttl_s

    def issue(self, user_id: int, session_version: int = 0) -> str:
        """A signed token naming the user and the user's session version (a later logout, password
        change, disable or role change moves the version on, and the token stops working)."""
        return self.serializer.dumps({"uid": user_id, "sv": session_version, "n": secrets.token_hex(4)})

    def verify(self, token: str) -> tuple[int, int] | None:
        """(user id, session version) of a well-signed token within its lifetime, else None."""
        try:
            data = self.serializer.loads(token, max_age=self.ttl_s)
        except BadSignature:
            return None
        uid = data.get("uid") if isinstance(data, dict) else None
        version = data.get("sv") if isinstance(data, dict) else None
        if not isinstance(uid, int) or not isinstance(version, int):
            return None
        return uid, version


# --------------------------------------------------------------------------- client address


def client_address(request: Request) -> str:
    """The peer's address, which is a proxy's X-Forwarded-For only where the peer is one of the
    proxies named in QUNLIAN_TRUSTED_PROXIES (``TrustedProxyHeaders``); logins are throttled by it."""
    return request.client.host if request.client else "unknown"


class TrustedProxyHeaders:
    """uvicorn's proxy-header handling, trusting only ``proxies`` (addresses or networks, from
    QUNLIAN_TRUSTED_PROXIES): from them X-Forwarded-For gives the client address and X-Forwarded-Proto
    the scheme (so a cookie behind a TLS proxy is Secure); from any other peer both headers are
    ignored. ``qunlian serve`` turns uvicorn's own handling off, which trusts 127.0.0.1 by default."""

    def __init__(self, app: ASGIApp, proxies: tuple[str, ...]) -> None:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        self.app = ProxyHeadersMiddleware(app, trusted_hosts=list(proxies))  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)  # type: ignore[arg-type]
