"""Login, logout, the own password change (first sign-in included) and the language switch."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from qunlian.accounts.models import User
from qunlian.accounts.policy import load_policy
from qunlian.accounts.service import AccountError, change_password, end_sessions, sign_in, user_count
from qunlian.platform.db import audit
from qunlian.platform import i18n
from qunlian.platform.permissions import Principal
from qunlian.platform.web.deps import NotAuthenticated, get_db, lang_of, optional_user, render
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
    user, wait, locked = attempt_login(request, db, username, password, via="web")
    if wait:
        ctx["error"] = _("登录失败次数过多，请 {m} 分钟后再试。").format(m=-(-wait // 60))
        response = render(request, "accounts/login.html", ctx, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    if locked:
        ctx["error"] = _("账号已锁定（登录失败次数过多），输入正确的密码也不能登录。请联系系统管理员在“用户”页解锁"
                         "（或在服务器上运行 qunlian users unlock 用户名）。")
        return render(request, "accounts/login.html", ctx, status_code=403)
    if user is None:
        ctx["error"] = _("用户名或密码错误，或账号已停用。")
        return render(request, "accounts/login.html", ctx, status_code=401)
    start_session(request, user)
    if user.must_change_password:
        return RedirectResponse(f"/account/password?next={quote(safe_next(next), safe='')}", status_code=303)
    return RedirectResponse(safe_next(next), status_code=303)


def start_session(request: Request, user: User) -> None:
    """A fresh session (and CSRF token) for the user, carrying its current session version."""
    request.session.clear()
    request.session["uid"] = user.id
    request.session["sv"] = user.session_version or 0
    csrf_token(request)


@router.post("/logout")
def logout(request: Request, db: Session = Depends(get_db), user=Depends(optional_user)):
    """Ends this session and every other session and API token of the user (its session version moves on)."""
    if user is not None:
        row = db.get(User, user.id)
        if row is not None:
            end_sessions(row)
        audit(db, user.username, "auth.logout", "user", user.id, client=client_address(request))
        db.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _signed_in(user: Principal | None = Depends(optional_user)) -> Principal:
    """The signed-in user, whether or not it must change its password first (this page is where it does)."""
    if user is None:
        raise NotAuthenticated()
    return user


def _password_page(request: Request, user: Principal, next: str, error: str = "", changed: bool = False,
                   status_code: int = 200):
    rules = load_policy().password
    return render(request, "accounts/password.html", {
        "next": safe_next(next), "error": error, "changed": changed, "forced": user.must_change_password,
        "min_length": rules.min_length, "min_classes": rules.min_classes,
    }, status_code=status_code)


@router.get("/account/password")
def password_page(request: Request, next: str = "/", changed: bool = False, user: Principal = Depends(_signed_in)):
    return _password_page(request, user, next, changed=changed)


@router.post("/account/password")
def password_change(
    request: Request,
    current: str = Form("", max_length=1024),
    new: str = Form("", max_length=1024),
    confirm: str = Form("", max_length=1024),
    next: str = Form("/"),
    db: Session = Depends(get_db),
    user: Principal = Depends(_signed_in),
):
    _ = i18n.translator(lang_of(request))
    try:
        row = change_password(db, user.id, current, new, confirm)
    except AccountError as exc:
        db.rollback()
        return _password_page(request, user, next, error=exc.render(_), status_code=400)
    db.commit()
    start_session(request, row)  # this session goes on with the new version; every other one has ended
    if user.must_change_password:  # the first sign-in's change: on to where the user was going
        return RedirectResponse(safe_next(next), status_code=303)
    return RedirectResponse(f"/account/password?changed=1&next={quote(safe_next(next), safe='')}", status_code=303)


@router.post("/lang")
def switch_language(lang: str = Form(i18n.DEFAULT), next: str = Form("/")):
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


class Attempt(NamedTuple):
    user: User | None
    wait: int = 0  # seconds to wait: this username failed too often from this address
    locked: bool = False  # the account is locked (the preset's failures): refused whatever the password


def attempt_login(request: Request, db: Session, username: str, password: str, via: str) -> Attempt:
    """Throttled, audited password check shared by the login form and POST /api/token.

    Two brakes: the per-(username, address) pause of the web settings (``wait``), and the account lock
    of the account-security preset (``locked``), which holds from every address until an
    administrator unlocks it. Commits the audit line.
    """
    throttle = request.app.state.throttle
    client = client_address(request)
    wait = throttle.retry_after(db, username, client)
    if wait:
        audit(db, username or "?", "auth.throttled", "user", "", client=client, via=via)
        db.commit()
        return Attempt(None, wait=wait)
    outcome = sign_in(db, username, password, now=throttle.clock(), client=client)
    user = outcome.user
    if user is None:
        throttle.failed(db, username, client)
        action = "auth.login_locked" if outcome.locked else "auth.login_failed"
        audit(db, username or "?", action, "user", "", client=client, via=via)
    else:
        throttle.succeeded(db, username, client)
        audit(db, user.username, "auth.login", "user", user.id, client=client, via=via)
    db.commit()
    return Attempt(user, locked=outcome.locked)
