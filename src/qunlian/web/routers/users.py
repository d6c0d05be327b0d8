"""User administration for admins: list, add, disable (every write audited by the service)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from qunlian.accounts.service import AccountError, add_user, disable_user, list_users
from qunlian.store.models import ROLES
from qunlian.store.scoping import Principal
from qunlian.web.deps import get_db, render, require_admin

router = APIRouter(include_in_schema=False)


def _page(request: Request, db: Session, message: str = "", is_error: bool = False, status_code: int = 200):
    ctx = {"users": list_users(db), "roles": ROLES, "message": message, "is_error": is_error}
    return render(request, "users.html", ctx, status_code=status_code)


@router.get("/users")
def users_page(request: Request, db: Session = Depends(get_db), admin: Principal = Depends(require_admin)):
    return _page(request, db, message=request.session.pop("flash", ""))


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
    admin: Principal = Depends(require_admin),
):
    try:
        user = add_user(db, username=username, password=password, role=role, town=town or None, chain=chain or None,
                        uscc=uscc or None, department=department or None, actor=admin.username)
    except AccountError as exc:
        db.rollback()
        return _page(request, db, str(exc), is_error=True, status_code=400)
    db.commit()
    request.session["flash"] = f"+ {user.username}"
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{username}/disable")
def users_disable(request: Request, username: str, db: Session = Depends(get_db),
                  admin: Principal = Depends(require_admin)):
    try:
        disable_user(db, username, actor=admin.username)
    except AccountError as exc:
        db.rollback()
        return _page(request, db, str(exc), is_error=True, status_code=404)
    db.commit()
    request.session["flash"] = f"− {username}"
    return RedirectResponse("/users", status_code=303)
