"""驾驶舱: what the store holds, the plans' key indicators with status lights, this year's 亩均 class
mix, chain strength and overdue tasks — each as far as the user may see."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from qunlian.accounts.service import describe_scope
from qunlian.analytics.targets import list_tasks, plan_status, status_summary
from qunlian.analytics.targets.common import TargetsError
from qunlian.analytics.targets.service import chain_strength, latest_period, muni_class_mix
from qunlian.store.models import User
from qunlian.store.scoping import Principal, overview
from qunlian.web.deps import get_db, render, require_user
from qunlian.web.routers.targets import KEY_PLANS, LIGHTS, TARGET_ROLES

router = APIRouter(include_in_schema=False)

MUNI_ROLES = ("admin", "analyst", "town", "chain")
FIRM_ROLES = ("admin", "analyst", "town", "chain", "enterprise")


def _key_indicators(db: Session) -> list[dict[str, Any]]:
    out = []
    for code, table in KEY_PLANS:
        try:
            period = latest_period(db, code)
            rows = [r for r in plan_status(db, code, as_of=period) if r["table"] == table] if period else []
        except TargetsError:  # plan not loaded
            continue
        out.append({"plan": code, "table": table, "period": period, "rows": rows, "summary": status_summary(rows)})
    return out


def _overdue(db: Session, user: Principal) -> dict[str, Any] | None:
    for code, _table in KEY_PLANS:
        try:
            tasks = list_tasks(db, code)
        except TargetsError:
            continue
        if not tasks:
            continue
        if user.role == "department" and user.department:
            tasks = [t for t in tasks if t["lead_unit"] == user.department]
        overdue = [t for t in tasks if any(w["kind"] == "overdue" for w in t["warnings"])]
        return {"plan": code, "count": len(overdue), "total": len(tasks),
                "unit": user.department if user.role == "department" else None}
    return None


@router.get("/")
def home(request: Request, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    scope = describe_scope(db, db.get(User, user.id))
    ctx: dict[str, Any] = {"data": overview(db, user), "scope": scope, "lights": LIGHTS,
                           "key": None, "mix": None, "chains": None, "overdue": None}
    if user.role in TARGET_ROLES:
        ctx["key"] = _key_indicators(db)
        ctx["overdue"] = _overdue(db, user)
    if user.role in MUNI_ROLES:
        ctx["mix"] = muni_class_mix(db, user)
    if user.role in FIRM_ROLES:
        ctx["chains"] = chain_strength(db, user)
    return render(request, "home.html", ctx)
