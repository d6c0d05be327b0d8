"""FastAPI application factory: mounts the routers of the installed capabilities; no business logic here.

    from qunlian.app import create_app
    app = create_app()            # the configured store (QUNLIAN_DATABASE_URL)
    app = create_app(engine)      # a given engine (tests)
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from qunlian.accounts.service import load_principal
from qunlian.accounts.throttle import LoginThrottle
from qunlian.installed import CAPABILITIES, nav
from qunlian.platform.web.bounds import bounded_ids
from qunlian.installed import sources as installed_sources
from qunlian.platform.sources import install as install_sources
from qunlian.platform.db import make_engine, session_factory
from qunlian.platform.i18n import N_
from qunlian.platform.web.deps import NotAuthenticated, PasswordChangeRequired, optional_user, render
from qunlian.platform.permissions import Principal
from qunlian.platform.registry import NavEntry, resolve
from qunlian.platform.web import deps
from qunlian.platform.web.origin import AuditOriginMiddleware
from qunlian.platform.web.security import (
    SecurityHeadersMiddleware,
    SessionMiddleware,
    TokenSigner,
    TrustedProxyHeaders,
    csrf_protect,
)
from qunlian.platform.web.settings import WebSettings

log = logging.getLogger("qunlian.web")
STATIC = Path(deps.__file__).parent / "static"
VENDOR_FILES = ("htmx.min.js", "echarts.min.js", "swagger-ui-bundle.js", "swagger-ui.css")

ERRORS = {
    400: (N_("请求有误"), N_("请求参数不合法，请检查链接或表单。")),
    401: (N_("需要登录"), N_("请先登录。")),
    403: (N_("无权访问"), N_("您没有权限执行此操作；若是表单提交，请刷新页面后重试（安全令牌已过期）。")),
    404: (N_("未找到"), N_("没有找到该页面或记录，或它不在您的查看范围内。")),
    405: (N_("方法不允许"), N_("不支持该请求方法。")),
    413: (N_("文件过大"), N_("上传内容超过上限，未接收。请拆分文件后分批导入。")),
    429: (N_("请求过多"), N_("请求过于频繁，请稍后再试。")),
    500: (N_("系统错误"), N_("系统出现错误，已记录。请稍后再试或联系管理员。")),
}


def create_app(
    engine: Engine | None = None,
    *,
    secret_key: str | None = None,
    secure_cookies: bool | None = None,
    settings: WebSettings | None = None,
) -> FastAPI:
    settings = settings or WebSettings.from_env(secret_key=secret_key, secure_cookies=secure_cookies)
    app = FastAPI(
        title="群链 qunlian API",
        description="制造业集群与产业链治理平台的数据接口。先 POST /api/token 取得令牌，再以 "
        "`Authorization: Bearer <token>` 调用。企业数据按账号范围返回；范围外的企业一律 404。\n\n"
        "Money in 万元, land in 亩, energy in 吨标准煤, electricity in 万千瓦时.",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(csrf_protect), Depends(bounded_ids)],
    )
    app.state.engine = engine or make_engine()
    app.state.sessions = session_factory(app.state.engine)
    app.state.settings = settings
    app.state.tokens = TokenSigner(settings.secret_key, settings.token_ttl_s)
    app.state.throttle = LoginThrottle(settings.login_max_failures, settings.login_window_s)
    app.state.vendor_ok = all((STATIC / "vendor" / f).is_file() for f in VENDOR_FILES)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        max_age=settings.session_max_age_s,
        secure=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(AuditOriginMiddleware)  # audit lines record the client's address
    if settings.trusted_proxies:  # outermost: the session's Secure flag and the throttle see the client
        app.add_middleware(TrustedProxyHeaders, proxies=settings.trusted_proxies)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.load_principal = load_principal
    app.state.profile_sections = [resolve(ref) for cap in CAPABILITIES for ref in cap.profile_sections]
    install_sources(installed_sources())
    deps.install(
        template_dirs=[d for d in (cap.template_dir for cap in CAPABILITIES) if d is not None],
        nav=[*nav(), NavEntry("/api/docs", "接口文档", None, order=90)],
    )
    for cap in CAPABILITIES:
        for ref in cap.routers:
            app.include_router(resolve(ref))

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request, user: Principal | None = Depends(optional_user)):
        """Swagger UI inside the site's own page (its header, a way back), from the app's own static
        files (no CDN, no inline script)."""
        return render(request, "api_docs.html")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    _install_error_handlers(app)
    return app


def served_routes(app: FastAPI) -> list:
    """Every APIRoute the app serves, the included routers' too (FastAPI ≥ 0.16x keeps them as their
    own objects in ``app.routes``), with the path it is mounted under in ``route.mounted``: for the
    tests and benchmarks that go through every route, so a new route is covered without editing them."""
    from fastapi.routing import APIRoute

    found = []

    def walk(routes, prefix: str) -> None:
        for r in routes:
            if isinstance(r, APIRoute):
                r.mounted = prefix + r.path
                found.append(r)
            elif hasattr(r, "original_router"):
                walk(r.original_router.routes, prefix + (getattr(r.include_context, "prefix", "") or ""))
            elif hasattr(r, "routes") and not hasattr(r, "app"):
                walk(r.routes, prefix + getattr(r, "path", ""))

    walk(app.routes, "")
    return found


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") and request.url.path != "/api/docs"


def _error(request: Request, status: int, detail: str | None = None, headers: dict[str, str] | None = None):
    if _wants_json(request):
        title = ERRORS.get(status, ("", ""))[0]
        return JSONResponse({"detail": detail or title or str(status)}, status_code=status, headers=headers)
    title, message = ERRORS.get(status, (N_("错误"), N_("请求无法完成。")))
    if not hasattr(request.state, "user"):  # the error came before the page's own dependencies ran
        try:
            with request.app.state.sessions() as db:
                optional_user(request, db)
        except Exception:  # the store may be the reason for the error
            request.state.user = None
    if status == 403 and detail == "csrf":
        message = N_("安全令牌（CSRF）缺失或不匹配：请刷新页面后重新提交。")
    elif status == 413 and detail:
        message = detail  # names the limit
    # an HTMX request swaps the answer into part of a page: the message alone, not a second page
    template = "_error.html" if request.headers.get("HX-Request") else "error.html"
    response = render(request, template, {"status": status, "title": title, "message": message}, status_code=status)
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found",) else None
        return _error(request, exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        if _wants_json(request):
            errors = [{"loc": e.get("loc"), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
            return JSONResponse({"detail": errors}, status_code=422)
        return _error(request, 400)

    @app.exception_handler(NotAuthenticated)
    async def login_required(request: Request, exc: NotAuthenticated):
        # PasswordChangeRequired (a NotAuthenticated): the password an administrator set is replaced first
        where = "/account/password" if isinstance(exc, PasswordChangeRequired) else "/login"
        if request.headers.get("HX-Request"):
            return JSONResponse({"detail": "login required" if where == "/login" else "password change required"},
                                status_code=401, headers={"HX-Redirect": where})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{where}?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        try:
            return _error(request, 500)
        except Exception:  # the error page itself failed (e.g. store unreachable): plain text
            return JSONResponse({"detail": "internal error"}, status_code=500)
