"""Login, logout and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from qunlian.accounts.service import user_count
from qunlian.store.db import audit
from qunlian.web import i18n
from qunlian.web.deps import attempt_login, get_db, lang_of, optional_user, render
from qunlian.web.security import client_address, csrf_token

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
    return render(request, "login.html", {"next": safe_next(next), "username": "", "no_users": user_count(db) == 0})


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
        response = render(request, "login.html", ctx, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    if user is None:
        ctx["error"] = _("用户名或密码错误，或账号已停用。")
        return render(request, "login.html", ctx, status_code=401)
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
