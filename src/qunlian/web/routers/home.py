"""驾驶舱: what the store holds, as far as the user may see."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from qunlian.accounts.service import describe_scope
from qunlian.store.models import User
from qunlian.store.scoping import Principal, overview
from qunlian.web.deps import get_db, render, require_user

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    scope = describe_scope(db, db.get(User, user.id))
    return render(request, "home.html", {"data": overview(db, user), "scope": scope})
