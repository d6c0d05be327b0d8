"""Where a request comes from, for the audit log: every line a request writes records the client's
address (``qunlian.platform.auditlog.origin``). The address is the peer's, or behind a reverse proxy
named in QUNLIAN_TRUSTED_PROXIES the forwarded client's (``security.TrustedProxyHeaders``, which the app
factory mounts outside this middleware so that the address is already the client's here)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from qunlian.platform.auditlog import origin


class AuditOriginMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        with origin(client[0] if client else "unknown"):
            await self.app(scope, receive, send)
