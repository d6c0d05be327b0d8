"""Login, logout and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from qunlian.accounts.models import User
from qunlian.accounts.service import authenticate, user_count
from qunlian.platform.db import audit
from qunlian.platform import i18n
from qunlian.platform.web.deps import get_db, lang_of, optional_user, render
from qunlian.platform.web.security import client_address, csrf_token

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Only local paths: never redirect a user to another site after login."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or any(c == "\\" or c.isspace() or ord(c) < 32 for c in value)  # browsers drop tabs: "/\t/x" is "//x"
        or urlsplit(value).netloc
    ):
        return "/"
    return value


@router.get("/login")
def login_page(request: Request, next: str = "/", db: Session = Depends(get_db), user=Depends(optional_user)):
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "accounts/login.html", {"next": safe_next(next), "username": "", "no_users": user_count(db) == 0})


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    db: Session = Depends(get_db),
):
    _ = i18n.translator(lang_of(request))
    ctx = {"next": safe_next(next), "username": username, "no_users": False}
    user, wait = attempt_login(request, db, username, password, via="web")
    if wait:
        ctx["error"] = _("登录失败次数过多，请 {m} 分钟后再试。").format(m=-(-wait // 60))
        response = render(request, "accounts/login.html", ctx, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    if user is None:
        ctx["error"] = _("用户名或密码错误，或账号已停用。")
        return render(request, "accounts/login.html", ctx, status_code=401)
    request.session.clear()  # a fresh session (and CSRF token) at every login
    request.session["uid"] = user.id
    csrf_token(request)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, db: Session = Depends(get_db), user=Depends(optional_user)):
    if user is not None:
        audit(db, user.username, "auth.logout", "user", user.id, client=client_address(request))
        db.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/lang")
def switch_language(lang: str = Form(i18n.DEFAULT), next: str = Form("/")):
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


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
