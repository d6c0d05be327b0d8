"""Request dependencies: database session, the signed-in principal, rendering with the catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from qunlian.accounts.service import ROLE_NAMES, authenticate
from qunlian.store.db import audit
from qunlian.store.models import User
from qunlian.store.scoping import Principal
from qunlian.web import i18n
from qunlian.web.security import client_address, csrf_token

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


class NotAuthenticated(Exception):
    """Raised by page dependencies; the app answers with a redirect to the login page."""


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def _principal_for(db: Session, user_id: Any) -> Principal | None:
    if not isinstance(user_id, int):
        return None
    user = db.get(User, user_id)
    if user is None or user.disabled:
        return None
    return Principal.from_user(user, db)


def optional_user(request: Request, db: Session = Depends(get_db)) -> Principal | None:
    """The user of the session cookie, re-read from the store on every request (a disabled user is out)."""
    user_id = request.session.get("uid")
    principal = _principal_for(db, user_id)
    if principal is None and user_id is not None:
        request.session.pop("uid", None)
    request.state.user = principal
    return principal


def require_user(principal: Principal | None = Depends(optional_user)) -> Principal:
    if principal is None:
        raise NotAuthenticated()
    return principal


def require_admin(principal: Principal = Depends(require_user)) -> Principal:
    if principal.role != "admin":
        raise HTTPException(403, detail="forbidden")
    return principal


_bearer = HTTPBearer(auto_error=False, description="POST /api/token 取得的令牌 / token from POST /api/token")


def api_user(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    db: Session = Depends(get_db),
) -> Principal:
    """The caller of an API route, from its bearer token (signed, expiring, user still active)."""
    uid = request.app.state.tokens.verify(credentials.credentials) if credentials else None
    principal = _principal_for(db, uid)
    if principal is None:
        raise HTTPException(401, detail="not authenticated: POST /api/token, then send Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


def attempt_login(request: Request, db: Session, username: str, password: str, via: str) -> tuple[User | None, int]:
    """Throttled, audited password check shared by the login form and POST /api/token.

    Returns (user, 0) on success, (None, 0) on a wrong password, (None, seconds) while throttled.
    Commits the audit line.
    """
    throttle = request.app.state.throttle
    client = client_address(request)
    wait = throttle.retry_after(db, username, client)
    if wait:
        audit(db, username or "?", "auth.throttled", "user", "", client=client, via=via)
        db.commit()
        return None, wait
    user = authenticate(db, username, password)
    if user is None:
        throttle.failed(db, username, client)
        audit(db, username or "?", "auth.login_failed", "user", "", client=client, via=via)
    else:
        throttle.succeeded(db, username, client)
        audit(db, user.username, "auth.login", "user", user.id, client=client, via=via)
    db.commit()
    return user, 0


# --------------------------------------------------------------------------- rendering


def lang_of(request: Request) -> str:
    lang = request.cookies.get(i18n.COOKIE)
    return lang if lang in i18n.LANGUAGES else i18n.DEFAULT


NAV = (
    ("/", "驾驶舱", None),
    # "granted": a department user holding an access grant (read-only firm data)
    ("/enterprises", "企业", ("admin", "analyst", "town", "chain", "enterprise", "granted")),
    ("/towns", "镇街道", None),
    ("/chains", "产业链", None),
    ("/targets", "规划目标", ("admin", "analyst", "department", "town")),
    ("/muni", "亩均评价", ("admin", "analyst", "town", "chain", "granted")),
    ("/imports", "数据导入", ("admin", "analyst")),
    ("/users", "用户", ("admin",)),
    ("/api/docs", "接口文档", None),
)


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200):
    lang = lang_of(request)
    user: Principal | None = getattr(request.state, "user", None)
    path = request.url.path
    nav = [
        {"href": href, "label": label, "active": path == href or (href != "/" and path.startswith(href))}
        for href, label, roles in NAV
        if user is not None and (roles is None or user.role in roles or ("granted" in roles and user.granted))
    ]
    ctx = {
        "request": request,
        "user": user,
        "lang": lang,
        "_": i18n.translator(lang),
        "csrf": csrf_token(request),
        "nav": nav,
        "vendor_ok": request.app.state.vendor_ok,
        "here": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)


def query_string(params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    return urlencode({k: 1 if v is True else v for k, v in merged.items() if v not in (None, "", False)})


def _num(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def _plain(value: Any) -> str:
    """A number for a form field: no thousands separator, no exponent, up to 6 decimals (so that
    submitting a form unchanged gives back the stored figure, not a rounded one)."""
    if value is None or value == "":
        return ""
    try:
        text = f"{float(value):.6f}"
    except (TypeError, ValueError):
        return str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


templates.env.filters["num"] = _num
templates.env.filters["plain"] = _plain
templates.env.globals["qs"] = query_string
templates.env.globals["role_names"] = ROLE_NAMES
# chain taxonomy levels and node kinds as stored (ChainNode.level / .kind) → Chinese labels (msgids)
templates.env.globals["level_names"] = {
    "system": "体系", "cluster": "集群", "chain": "产业链", "segment": "环节", "node": "节点",
}
# enterprise ownership codes as stored (Enterprise.ownership) → Chinese labels (msgids)
templates.env.globals["ownership_names"] = {
    "state": "国有", "collective": "集体", "private": "民营", "joint": "联营",
    "foreign": "外商投资", "hmt": "港澳台投资",
}
templates.env.globals["kind_names"] = {
    "key": "重点", "incubating": "孵化", "leading": "先导", "pillar": "主导", "advantage": "优势", "future": "未来",
}
