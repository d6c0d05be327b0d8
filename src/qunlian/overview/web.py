"""驾驶舱: what the store holds, the plans' key indicators with status lights, this year's 亩均 class
mix, chain strength and overdue tasks — each as far as the user may see. The figures are computed by
qunlian.overview.dashboard, which keeps them per scope until the data under them changes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from qunlian.accounts.service import describe_scope
from qunlian.overview.dashboard import home_figures
from qunlian.accounts.models import User
from qunlian.platform.permissions import Principal
from qunlian.platform.web.deps import get_db, render, require_user
from qunlian.platform.permissions import can
from qunlian.targets.service import LIGHTS, key_plans

router = APIRouter(include_in_schema=False)



@router.get("/")
def home(request: Request, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    scope = describe_scope(db, db.get(User, user.id))
    figures = home_figures(db, user, key_plans(), targets=can(user, "targets.read"),
                           muni=can(user, "overview.per_mu_mix"), firms=can(user, "overview.firm_figures"))
    ctx: dict[str, Any] = {**figures, "scope": scope, "lights": LIGHTS}
    return render(request, "overview/home.html", ctx)
