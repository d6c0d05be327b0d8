"""User administration for admins: list, add, disable, change role, reset password, unlock, and
department access grants (every write audited by the service)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from qunlian.accounts.grants import SCOPES, grant_access, list_grants, revoke_grant
from qunlian.accounts.policy import load_policy
from qunlian.accounts.service import (
    AccountError,
    add_user,
    describe_scope,
    scope_choices,
    disable_user,
    list_users,
    reset_password,
    set_role,
    unlock_user,
)
from qunlian.platform.permissions import ROLES
from qunlian.platform.permissions import Principal
from qunlian.platform.web.deps import get_db, render, require

router = APIRouter(include_in_schema=False)


def _page(request: Request, db: Session, message: str = "", is_error: bool = False, status_code: int = 200):
    users = list_users(db)
    ctx = {"users": users, "roles": ROLES, "message": message, "is_error": is_error, "grants": list_grants(db),
           "grant_scopes": SCOPES, "departments": [u["username"] for u in users if u["role"] == "department"],
           "min_length": load_policy().password.min_length, "choices": scope_choices(db)}
    return render(request, "accounts/users.html", ctx, status_code=status_code)


@router.get("/users")
def users_page(request: Request, db: Session = Depends(get_db), admin: Principal = Depends(require("users.manage"))):
    return _page(request, db, message=request.session.pop("flash", ""))


def _write(request: Request, db: Session, action: Callable[[], str], back: str, error_status: int = 400):
    """Run one audited write: commit and go back with a flash line, or roll back and show why."""
    try:
        flash = action()
    except AccountError as exc:
        db.rollback()
        return _page(request, db, str(exc), is_error=True, status_code=error_status)
    db.commit()
    request.session["flash"] = flash
    return RedirectResponse(back, status_code=303)


@router.post("/users")
def users_add(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    role: str = Form(...),
    town: str = Form(""),
    chain: str = Form(""),
    uscc: str = Form(""),
    department: str = Form(""),
    db: Session = Depends(get_db),
    admin: Principal = Depends(require("users.manage")),
):
    def act() -> str:
        # the administrator knows this password: its owner replaces it at first sign-in
        user = add_user(db, username=username, password=password, role=role, town=town or None, chain=chain or None,
                        uscc=uscc or None, department=department or None, actor=admin.username,
                        must_change_password=True)
        return f"+ {user.username}"

    return _write(request, db, act, "/users")


@router.post("/users/{username}/disable")
def users_disable(request: Request, username: str, db: Session = Depends(get_db),
                  admin: Principal = Depends(require("users.manage"))):
    def act() -> str:
        disable_user(db, username, actor=admin.username)
        return f"− {username}"

    return _write(request, db, act, "/users", error_status=404)


@router.post("/users/{username}/unlock")
def users_unlock(request: Request, username: str, db: Session = Depends(get_db),
                 admin: Principal = Depends(require("users.manage"))):
    def act() -> str:
        unlock_user(db, username, actor=admin.username)
        return f"{username}: 已解锁 unlocked"

    return _write(request, db, act, "/users", error_status=404)


@router.post("/users/password")
def users_reset_password(request: Request, username: str = Form(..., max_length=80),
                         password: str = Form(..., max_length=1024),
                         db: Session = Depends(get_db), admin: Principal = Depends(require("users.manage"))):
    def act() -> str:
        reset_password(db, username, password, actor=admin.username, must_change_password=True)
        return f"{username}: 已重设密码，首次登录须修改 password reset"

    return _write(request, db, act, "/users")


@router.post("/users/role")
def users_set_role(
    request: Request,
    username: str = Form(..., max_length=80),
    role: str = Form(..., max_length=20),
    town: str = Form("", max_length=80),
    chain: str = Form("", max_length=200),
    uscc: str = Form("", max_length=18),
    department: str = Form("", max_length=120),
    db: Session = Depends(get_db),
    admin: Principal = Depends(require("users.manage")),
):
    def act() -> str:
        user = set_role(db, username, role=role, town=town.strip() or None, chain=chain.strip() or None,
                        uscc=uscc.strip() or None, department=department.strip() or None, actor=admin.username)
        return f"{user.username} → {user.role}（{describe_scope(db, user)}）"

    return _write(request, db, act, "/users")


@router.post("/users/grants")
def grants_add(
    request: Request,
    username: str = Form(..., max_length=80),
    scope: str = Form(..., max_length=10),
    reason: str = Form("", max_length=300),
    town: str = Form("", max_length=80),
    chain: str = Form("", max_length=200),
    expires_on: str = Form("", max_length=10),
    db: Session = Depends(get_db),
    admin: Principal = Depends(require("users.manage")),
):
    def act() -> str:
        try:
            until = dt.date.fromisoformat(expires_on) if expires_on.strip() else None
        except ValueError:
            raise AccountError(f"到期日 {expires_on!r} 不是日期：请写成 YYYY-MM-DD") from None
        grant = grant_access(db, username=username, scope=scope, reason=reason, town=town.strip() or None,
                             chain=chain.strip() or None, expires_on=until, actor=admin.username)
        return f"+ #{grant.id} {username}"

    return _write(request, db, act, "/users#grants")


@router.post("/users/grants/{grant_id}/revoke")
def grants_revoke(request: Request, grant_id: int, db: Session = Depends(get_db),
                  admin: Principal = Depends(require("users.manage"))):
    def act() -> str:
        revoke_grant(db, grant_id, actor=admin.username)
        return f"− #{grant_id}"

    return _write(request, db, act, "/users#grants", error_status=404)
